//===- VecMath.h - AVX-512 exp and activations for the C++ kernels -*- C++ -*-===//
//
// 16 lanes at a time, for the kernels that apply them while the values are
// still in registers (the attention's softmax, the int8 linear's epilogue):
//
//   exp512:      e^x, Cody–Waite range reduction (ln 2 split in two) and a
//                degree-6 polynomial, 2^n by vscalefps; relative error
//                ~1e-7 for x ≤ 88 (callers clamp above); x < −87 gives
//                e^−87 (the callers that need exact zeros mask them).
//   geluErf512:  x/2 · (1 + erf(x/√2)), erf by Abramowitz & Stegun 7.1.28
//                (1 − (1 + a₁z + … + a₆z⁶)^−16, |error| ≤ 3e-7), the
//                reciprocal by vrcp14ps and a Newton step, as max(x, 0) −
//                |x| · (1 − Φ(|x|)) (16 operations); |error| ≤ 1e-6 ·
//                max(1, |x|) (unit test against a double reference).
//   geluTanh512: x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))), tanh(u) =
//                1 − 2/(e^{2u} + 1) with u clamped to ±9 (±1 in float).
//   silu512:     x / (1 + e^{−x}), −x clamped to 80.
//   activate512: one of those by the linear kernels' LinearAct.
//   exp256 … activate256: the same, 8 lanes, in AVX2 builds.
//
// Only with AVX-512F (SLIM_HAVE_VECMATH); the callers keep scalar paths.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_VECMATH_H
#define RUNTIME_VECMATH_H

#include "runtime/Kernels.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#define SLIM_HAVE_VECMATH 1

namespace slim::rt::vec {

inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  f = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), f);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

/// 1/d for d ≥ 1: vrcp14ps (14 bits) and one Newton step (~1e-7 relative).
inline __m512 recip512(__m512 d) {
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

inline __m512 geluErf512(__m512 x) {
  // p = k · (1 + a1 z + … + a6 z^6) with z = |x|/√2 (the 1/√2 folded into
  // the coefficients: c_i = a_i / √2^i) and k = 2^(1/16), so that p^16 =
  // 2 (1 + …)^16 and h = 1/p^16 = (1 − erf(z))/2 = 1 − Φ(|x|). |x| is
  // clamped to 6√2 (erf = 1 in float from z = 3.9; p^16 stays finite).
  const __m512 ax = _mm512_min_ps(_mm512_set1_ps(8.4852813742385702f),
                                  _mm512_abs_ps(x));
  constexpr float k = 1.0442737824274138f; // 2^(1/16)
  __m512 p = _mm512_set1_ps(k * 0.0000430638f * 0.125f);
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k * 0.0002765672f * 0.17677669529663688f));
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k * 0.0001520143f * 0.25f));
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k * 0.0092705272f * 0.35355339059327376f));
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k * 0.0422820123f * 0.5f));
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k * 0.0705230784f * 0.70710678118654752f));
  p = _mm512_fmadd_ps(p, ax, _mm512_set1_ps(k));
  p = _mm512_mul_ps(p, p); // ^2
  p = _mm512_mul_ps(p, p); // ^4
  p = _mm512_mul_ps(p, p); // ^8
  p = _mm512_mul_ps(p, p); // ^16, ≤ 6.4e15
  // h = 1/p: vrcp14ps and a Newton step.
  const __m512 r0 = _mm512_rcp14_ps(p);
  const __m512 h = _mm512_fmadd_ps(
      r0, _mm512_fnmadd_ps(p, r0, _mm512_set1_ps(1.0f)), r0);
  // x Φ(x) = x (1 − h) for x ≥ 0 and x h = −|x| h below: max(x, 0) − |x| h
  // (|x| clamped: past it h < 1e-17).
  return _mm512_fnmadd_ps(ax, h, _mm512_max_ps(x, _mm512_setzero_ps()));
}

inline __m512 geluTanh512(__m512 x) {
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  __m512 u = _mm512_mul_ps(
      _mm512_set1_ps(0.7978845608028654f),
      _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  u = _mm512_min_ps(_mm512_set1_ps(9.0f),
                    _mm512_max_ps(_mm512_set1_ps(-9.0f), u));
  // 1 + tanh(u) = 2 − 2/(e^{2u} + 1)
  const __m512 d = _mm512_add_ps(
      exp512(_mm512_add_ps(u, u)), _mm512_set1_ps(1.0f));
  const __m512 onePlusTanh = _mm512_fnmadd_ps(
      _mm512_set1_ps(2.0f), recip512(d), _mm512_set1_ps(2.0f));
  return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), onePlusTanh);
}

inline __m512 silu512(__m512 x) {
  // e^−x with −x ≤ 80: 1 + e^80 keeps its reciprocal a normal float.
  const __m512 d = _mm512_add_ps(
      exp512(_mm512_min_ps(_mm512_set1_ps(80.0f),
                           _mm512_sub_ps(_mm512_setzero_ps(), x))),
      _mm512_set1_ps(1.0f));
  return _mm512_mul_ps(x, recip512(d));
}

/// dst[e·dstStride + i] = src[i·srcStride + e] for i, e < 16: four rounds
/// of 16 shuffles (32-bit, 64-bit, then two of 128-bit lanes).
inline void transpose16(const float *src, int64_t srcStride, float *dst,
                        int64_t dstStride) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(src + i * srcStride);
  // Per 128-bit lane L (elements 4L … 4L+3 of each row): rows a, b → t
  // = [a0 b0 a1 b1], [a2 b2 a3 b3] (lane-relative element numbers).
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // r[4g + k], lane L: element 4L + k of rows 4g … 4g+3.
  for (int g = 0; g < 4; ++g) {
    r[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  // Element e = 4L + k gathers lane L of r[k], r[4+k], r[8+k], r[12+k].
  for (int k = 0; k < 4; ++k) {
    const __m512 a0 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88),
                 a1 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xDD),
                 b0 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88),
                 b1 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xDD);
    _mm512_storeu_ps(dst + k * dstStride, _mm512_shuffle_f32x4(a0, b0, 0x88));
    _mm512_storeu_ps(dst + (8 + k) * dstStride,
                     _mm512_shuffle_f32x4(a0, b0, 0xDD));
    _mm512_storeu_ps(dst + (4 + k) * dstStride,
                     _mm512_shuffle_f32x4(a1, b1, 0x88));
    _mm512_storeu_ps(dst + (12 + k) * dstStride,
                     _mm512_shuffle_f32x4(a1, b1, 0xDD));
  }
}

/// The linear kernels' epilogue activation.
inline __m512 activate512(LinearAct act, __m512 v) {
  switch (act) {
  case LinearAct::None: return v;
  case LinearAct::GeluExact: return geluErf512(v);
  case LinearAct::GeluTanh: return geluTanh512(v);
  case LinearAct::Silu: return silu512(v);
  case LinearAct::Relu: return _mm512_max_ps(v, _mm512_setzero_ps());
  case LinearAct::Relu6: // operands in this order: a NaN stays NaN
    return _mm512_min_ps(_mm512_set1_ps(6.0f),
                         _mm512_max_ps(_mm512_setzero_ps(), v));
  case LinearAct::HardSwish: { // x · clamp(x · (1/6) + 1/2, 0, 1)
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.0f / 6.0f)),
                                   _mm512_set1_ps(0.5f));
    return _mm512_mul_ps(
        v, _mm512_min_ps(_mm512_set1_ps(1.0f),
                         _mm512_max_ps(_mm512_setzero_ps(), t)));
  }
  }
  return v;
}

} // namespace slim::rt::vec

#endif // __AVX512F__

// The same functions 8 lanes wide for AVX2 builds (slimc --target=x86-64-v3),
// same formulas; 2^n through the exponent bits (no vscalefps) and the
// reciprocal by vrcpps (12 bits) and a Newton step (~1e-7 relative).
#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define SLIM_HAVE_VECMATH256 1

namespace slim::rt::vec {

inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)),
                    _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(
      _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 f = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  f = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), f);
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  // n ∈ [−126, 127]: a normal power of two.
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 recip256(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

inline __m256 geluErf256(__m256 x) {
  const __m256 ax = _mm256_min_ps(
      _mm256_set1_ps(8.4852813742385702f),
      _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x));
  constexpr float k = 1.0442737824274138f; // 2^(1/16)
  __m256 p = _mm256_set1_ps(k * 0.0000430638f * 0.125f);
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k * 0.0002765672f * 0.17677669529663688f));
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k * 0.0001520143f * 0.25f));
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k * 0.0092705272f * 0.35355339059327376f));
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k * 0.0422820123f * 0.5f));
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k * 0.0705230784f * 0.70710678118654752f));
  p = _mm256_fmadd_ps(p, ax, _mm256_set1_ps(k));
  p = _mm256_mul_ps(p, p);
  p = _mm256_mul_ps(p, p);
  p = _mm256_mul_ps(p, p);
  p = _mm256_mul_ps(p, p); // ^16, ≤ 6.4e15
  const __m256 r0 = _mm256_rcp_ps(p);
  const __m256 h = _mm256_fmadd_ps(
      r0, _mm256_fnmadd_ps(p, r0, _mm256_set1_ps(1.0f)), r0);
  return _mm256_fnmadd_ps(ax, h, _mm256_max_ps(x, _mm256_setzero_ps()));
}

inline __m256 geluTanh256(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  __m256 u = _mm256_mul_ps(
      _mm256_set1_ps(0.7978845608028654f),
      _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
  u = _mm256_min_ps(_mm256_set1_ps(9.0f),
                    _mm256_max_ps(_mm256_set1_ps(-9.0f), u));
  const __m256 d =
      _mm256_add_ps(exp256(_mm256_add_ps(u, u)), _mm256_set1_ps(1.0f));
  const __m256 onePlusTanh = _mm256_fnmadd_ps(
      _mm256_set1_ps(2.0f), recip256(d), _mm256_set1_ps(2.0f));
  return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), onePlusTanh);
}

inline __m256 silu256(__m256 x) {
  const __m256 d = _mm256_add_ps(
      exp256(_mm256_min_ps(_mm256_set1_ps(80.0f),
                           _mm256_sub_ps(_mm256_setzero_ps(), x))),
      _mm256_set1_ps(1.0f));
  return _mm256_mul_ps(x, recip256(d));
}

inline __m256 activate256(LinearAct act, __m256 v) {
  switch (act) {
  case LinearAct::None: return v;
  case LinearAct::GeluExact: return geluErf256(v);
  case LinearAct::GeluTanh: return geluTanh256(v);
  case LinearAct::Silu: return silu256(v);
  case LinearAct::Relu: return _mm256_max_ps(v, _mm256_setzero_ps());
  case LinearAct::Relu6: // operands in this order: a NaN stays NaN
    return _mm256_min_ps(_mm256_set1_ps(6.0f),
                         _mm256_max_ps(_mm256_setzero_ps(), v));
  case LinearAct::HardSwish: {
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.0f / 6.0f)),
                                   _mm256_set1_ps(0.5f));
    return _mm256_mul_ps(
        v, _mm256_min_ps(_mm256_set1_ps(1.0f),
                         _mm256_max_ps(_mm256_setzero_ps(), t)));
  }
  }
  return v;
}

} // namespace slim::rt::vec

#endif // AVX2 without AVX-512
#endif // RUNTIME_VECMATH_H
