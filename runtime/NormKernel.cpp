//===- NormKernel.cpp - LayerNorm and RMSNorm rows, AVX-512 ---------------===//
//
//   layer_norm: y = (x − mean x) / √(mean (x − mean x)² + eps) · g + b
//   rms_norm:   y = x / √(mean x² + eps) · g + b
//
// over the last axis of [rows, d]. A row's sums run in four vector chains
// (the mean, then the squares about it: two passes over a row in L1, as the
// float64 reference), then one pass writes y. Tasks on the runtime's pool
// are runs of rows (one per thread), so each thread's rows are contiguous.
// The Halide norm kernels stay the fallback. DeiT-S's [197, 384] rms_norm,
// hot in L2: Halide 17 µs at 1 thread, 15 at 2; this 12.4 and 9.7 — about
// what L2 delivers for reading x and writing y (~28 bytes a cycle), so
// little is left beyond fusing the norm into its neighbours.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace slim::rt {

#if defined(__AVX512F__)
namespace {

/// Lanes [0, n) of a vector of 16 (n ≤ 16).
inline __mmask16 firstLanes(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
}

/// Σ_k f(x[k]) over a row of d, 16 lanes at a time in four chains;
/// f(v, mask) gives the masked-off lanes 0.
template <typename F> float rowSum(const float *x, int64_t d, F f) {
  __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                 _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t k = 0;
  for (; k + 64 <= d; k += 64)
    for (int c = 0; c < 4; ++c)
      s[c] = _mm512_add_ps(s[c], f(_mm512_loadu_ps(x + k + 16 * c),
                                   __mmask16(0xFFFF)));
  for (; k < d; k += 16) {
    const __mmask16 m = firstLanes(d - k);
    s[0] = _mm512_add_ps(s[0], f(_mm512_maskz_loadu_ps(m, x + k), m));
  }
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3])));
}

/// One row of [rows, d]: y = (x − mean) · inv · g + b (mean 0 for RMSNorm).
void normRow(bool rms, const float *xr, int64_t d, const float *scale,
             const float *bias, float eps, float *yr) {
  float mean = 0.0f;
  if (!rms)
    mean = rowSum(xr, d, [](__m512 v, __mmask16) { return v; }) / float(d);
  const __m512 mv = _mm512_set1_ps(mean);
  const float sq = rowSum(xr, d, [&](__m512 v, __mmask16 m) {
    const __m512 c = _mm512_maskz_sub_ps(m, v, mv);
    return _mm512_mul_ps(c, c);
  });
  const __m512 inv = _mm512_set1_ps(1.0f / std::sqrt(sq / float(d) + eps));
  // y = (x − mean) · inv · g + b: whole vectors, then a masked tail.
  auto out = [&](int64_t k, __mmask16 m) {
    const __m512 c =
        _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + k), mv),
                      inv);
    const __m512 b =
        bias ? _mm512_maskz_loadu_ps(m, bias + k) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(
        yr + k, m, _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(m, scale + k), b));
  };
  int64_t k = 0;
  if (bias)
    for (; k + 16 <= d; k += 16)
      _mm512_storeu_ps(
          yr + k,
          _mm512_fmadd_ps(
              _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + k), mv), inv),
              _mm512_loadu_ps(scale + k), _mm512_loadu_ps(bias + k)));
  else
    for (; k + 16 <= d; k += 16)
      _mm512_storeu_ps(
          yr + k,
          _mm512_mul_ps(
              _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + k), mv), inv),
              _mm512_loadu_ps(scale + k)));
  if (k < d)
    out(k, firstLanes(d - k));
}

struct NormJob {
  const float *x, *scale, *bias;
  float *y;
  int64_t rows, d, perTask;
  float eps;
  bool rms;
};

} // namespace

bool normAvx512(bool rms, const float *x, int64_t rows, int64_t d,
                const float *scale, const float *bias, float eps, float *y) {
  if (rows <= 0 || d <= 0)
    return rows >= 0 && d >= 0;
  NormJob job{x, scale, bias, y, rows, d, runLength(rows), eps, rms};
  halide_do_par_for(
      nullptr,
      [](void *, int i, uint8_t *closure) {
        const NormJob *j = reinterpret_cast<const NormJob *>(closure);
        const int64_t end = std::min(j->rows, (i + 1) * j->perTask);
        for (int64_t r = i * j->perTask; r < end; ++r)
          normRow(j->rms, j->x + r * j->d, j->d, j->scale, j->bias, j->eps,
                  j->y + r * j->d);
        return 0;
      },
      0, int((rows + job.perTask - 1) / job.perTask),
      reinterpret_cast<uint8_t *>(&job));
  return true;
}

bool normRowAvx512(bool rms, const float *x, int64_t d, const float *scale,
                   const float *bias, float eps, float *y) {
  normRow(rms, x, d, scale, bias, eps, y);
  return true;
}

#else

bool normAvx512(bool rms, const float *x, int64_t rows, int64_t d,
                const float *scale, const float *bias, float eps, float *y) {
  SLIM_V4(normAvx512, rms, x, rows, d, scale, bias, eps, y);
  return false; // not built for AVX-512: the Halide kernels run
}

bool normRowAvx512(bool rms, const float *x, int64_t d, const float *scale,
                   const float *bias, float eps, float *y) {
  SLIM_V4(normRowAvx512, rms, x, d, scale, bias, eps, y);
  return false;
}

#endif

} // namespace slim::rt
