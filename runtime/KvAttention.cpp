//===- KvAttention.cpp - attention of a few queries over the KV cache -----===//
//
// Generation's attention: the step's keys and values are appended to the
// cache slot, then each query attends to the cached positions it may see.
//
// The cache holds float32, or IEEE float16 (slimc --kv-cache=f16: rows
// rounded to nearest even when stored, widened again when read; vcvtps2ph
// / vcvtph2ps on x86, vcvt_f16_f32 / vcvt_f32_f16 on aarch64, Half.h
// elsewhere). A decode step reads the whole cache once per layer, so at
// long contexts the cache, not the weights, is what it streams; float16
// halves it (llama.cpp's default cache is float16 too).
//
// A step of fewer than 4 queries (decoding) runs the loops below, its
// heads split between the threads; the scores of one head are
// exponentiated 16 (or 8) at a time. Each thread streams the contiguous
// runs of its heads in every cached row, in order (head by head, the rows
// strided, ran 15% slower at 1 thread); with AVX-512 and head widths of
// 32, 64 or 128 in blocks of four rows, the scores of a head's four keys
// summed by one transposing reduction and its output kept in registers
// over the four (decode attention of the LLaMA-shaped bench model, float16
// cache, ms per token: 0.58 → 0.45 at 1 thread, 0.42 → 0.28 at 2). The
// tiled attention kernel is built for blocks of 8 queries and transposes
// every head's keys per call, which for one query costs more than the S·d
// multiply-adds themselves; a prefill step (4 queries or more) calls it,
// on float copies of the rows when the cache is float16.
//
//===----------------------------------------------------------------------===//

#include "runtime/Half.h"
#include "runtime/Kernels.h"
#include "runtime/VecMath.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace slim::rt {

namespace {

using Half = uint16_t;

// The widest float16 → float load of each instruction set.
#if defined(__AVX512F__)
__m512 halves16(const Half *p) {
  return _mm512_cvtph_ps(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
#elif defined(__F16C__)
__m256 halves8(const Half *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
#elif defined(__aarch64__)
float32x4_t halves4(const Half *p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
#endif

void storeRows(const float *x, float *y, int64_t n) {
  std::memcpy(y, x, size_t(n) * sizeof(float));
}

void storeRows(const float *x, Half *y, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i *>(y + i),
        _mm512_cvtps_ph(_mm512_loadu_ps(x + i),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#elif defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        reinterpret_cast<__m128i *>(y + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(x + i),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#elif defined(__aarch64__)
  for (; i + 4 <= n; i += 4)
    vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
#endif
  for (; i < n; ++i)
    y[i] = floatToHalf(x[i]);
}

void widen(const Half *x, float *y, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, halves16(x + i));
#elif defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, halves8(x + i));
#elif defined(__aarch64__)
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, halves4(x + i));
#endif
  for (; i < n; ++i)
    y[i] = halfToFloat(x[i]);
}

float dotRow(const float *q, const float *k, int64_t d) { return dot(q, k, d); }

float dotRow(const float *q, const Half *k, int64_t d) {
  int64_t e = 0;
  float s = 0.0f;
#if defined(__AVX512F__)
  __m512 acc = _mm512_setzero_ps();
  for (; e + 16 <= d; e += 16)
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + e), halves16(k + e), acc);
  s = _mm512_reduce_add_ps(acc);
#elif defined(__F16C__) && defined(__FMA__)
  __m256 acc = _mm256_setzero_ps();
  for (; e + 8 <= d; e += 8)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + e), halves8(k + e), acc);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc),
                        _mm256_extractf128_ps(acc, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  s = _mm_cvtss_f32(h);
#elif defined(__aarch64__)
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (; e + 4 <= d; e += 4)
    acc = vfmaq_f32(acc, vld1q_f32(q + e), halves4(k + e));
  s = vaddvq_f32(acc);
#endif
  for (; e < d; ++e)
    s += q[e] * halfToFloat(k[e]);
  return s;
}

void addRow(float a, const float *v, float *o, int64_t n) {
  for (int64_t e = 0; e < n; ++e)
    o[e] += a * v[e];
}

void addRow(float a, const Half *v, float *o, int64_t n) {
  int64_t e = 0;
#if defined(__AVX512F__)
  const __m512 av = _mm512_set1_ps(a);
  for (; e + 16 <= n; e += 16)
    _mm512_storeu_ps(o + e,
                     _mm512_fmadd_ps(av, halves16(v + e), _mm512_loadu_ps(o + e)));
#elif defined(__F16C__) && defined(__FMA__)
  const __m256 av = _mm256_set1_ps(a);
  for (; e + 8 <= n; e += 8)
    _mm256_storeu_ps(o + e,
                     _mm256_fmadd_ps(av, halves8(v + e), _mm256_loadu_ps(o + e)));
#elif defined(__aarch64__)
  for (; e + 4 <= n; e += 4)
    vst1q_f32(o + e, vfmaq_n_f32(vld1q_f32(o + e), halves4(v + e), a));
#endif
  for (; e < n; ++e)
    o[e] += a * halfToFloat(v[e]);
}

/// w[j] = e^(w[j] − max w) for j < n; returns their sum.
float softmaxNumerators(float *w, int64_t n) {
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j)
    top = std::max(top, w[j]);
  int64_t j = 0;
  float total = 0.0f;
#if defined(SLIM_HAVE_VECMATH)
  const __m512 t = _mm512_set1_ps(top);
  __m512 acc = _mm512_setzero_ps();
  for (; j + 16 <= n; j += 16) {
    __m512 e = vec::exp512(_mm512_sub_ps(_mm512_loadu_ps(w + j), t));
    _mm512_storeu_ps(w + j, e);
    acc = _mm512_add_ps(acc, e);
  }
  total = _mm512_reduce_add_ps(acc);
#elif defined(SLIM_HAVE_VECMATH256)
  const __m256 t = _mm256_set1_ps(top);
  __m256 acc = _mm256_setzero_ps();
  for (; j + 8 <= n; j += 8) {
    __m256 e = vec::exp256(_mm256_sub_ps(_mm256_loadu_ps(w + j), t));
    _mm256_storeu_ps(w + j, e);
    acc = _mm256_add_ps(acc, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  for (float l : lanes)
    total += l;
#endif
  for (; j < n; ++j)
    total += w[j] = std::exp(w[j] - top);
  return total;
}

#if defined(__AVX512F__)
__m512 load16(const float *p) { return _mm512_loadu_ps(p); }
__m512 load16(const Half *p) { return halves16(p); }

/// The lane sums of a0 … a3, in lanes 0 … 3: one transposing reduction
/// instead of four.
__m128 reduce4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  // Per 128-bit lane: [a0₀+a0₂, a1₀+a1₂, a0₁+a0₃, a1₁+a1₃], the same of a2, a3.
  const __m512 x01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1),
                                   _mm512_unpackhi_ps(a0, a1));
  const __m512 x23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3),
                                   _mm512_unpackhi_ps(a2, a3));
  // Per 128-bit lane: the partial sums of a0, a1, a2, a3.
  const __m512 y =
      _mm512_add_ps(_mm512_shuffle_ps(x01, x23, _MM_SHUFFLE(1, 0, 1, 0)),
                    _mm512_shuffle_ps(x01, x23, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(y),
                                 _mm512_extractf32x8_ps(y, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/// Scores of heads h0 … h1−1 of one query: w[h][j] = scale · q_h·k_j for
/// the `limit` cached keys, D vectors of 16 per head. Rows in order, four
/// at a time (each row's heads contiguous: the prefetchers stream them),
/// the four keys of a head summed by one transposing reduction.
template <int D, typename T>
void rowScores(const float *q, const T *keys, int64_t kw, int64_t limit,
               int64_t h0, int64_t h1, int64_t group, float scale, float *w,
               int64_t wStride) {
  auto dotKey = [&](const float *qh, const T *row) {
    __m512 a = _mm512_mul_ps(_mm512_loadu_ps(qh), load16(row));
    for (int v = 1; v < D; ++v)
      a = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * v), load16(row + 16 * v),
                          a);
    return a;
  };
  const __m128 sv = _mm_set1_ps(scale);
  int64_t j = 0;
  for (; j + 4 <= limit; j += 4)
    for (int64_t h = h0; h < h1; ++h) {
      const float *qh = q + h * D * 16;
      const T *row = keys + j * kw + (h / group) * D * 16;
      _mm_storeu_ps(w + (h - h0) * wStride + j,
                    _mm_mul_ps(reduce4(dotKey(qh, row), dotKey(qh, row + kw),
                                       dotKey(qh, row + 2 * kw),
                                       dotKey(qh, row + 3 * kw)),
                               sv));
    }
  for (; j < limit; ++j)
    for (int64_t h = h0; h < h1; ++h)
      w[(h - h0) * wStride + j] =
          _mm512_reduce_add_ps(dotKey(q + h * D * 16,
                                      keys + j * kw + (h / group) * D * 16)) *
          scale;
}

/// o_h = inv_h · Σ_j w[h][j] · v_j for heads h0 … h1−1, rows in order, four
/// at a time per head with the head's output in registers.
template <int D, typename T>
void rowValues(const float *w, int64_t wStride, const T *values, int64_t vw,
               int64_t limit, int64_t h0, int64_t h1, int64_t group,
               const float *inv, float *out) {
  for (int64_t h = h0; h < h1; ++h)
    std::fill(out + h * D * 16, out + (h + 1) * D * 16, 0.0f);
  for (int64_t j = 0; j < limit; j += 4) {
    const int64_t n = std::min<int64_t>(4, limit - j);
    for (int64_t h = h0; h < h1; ++h) {
      float *o = out + h * D * 16;
      const float *wh = w + (h - h0) * wStride + j;
      const T *row = values + j * vw + (h / group) * D * 16;
      __m512 acc[D];
      for (int v = 0; v < D; ++v)
        acc[v] = _mm512_loadu_ps(o + 16 * v);
      for (int64_t k = 0; k < n; ++k) {
        const __m512 a = _mm512_set1_ps(wh[k]);
        for (int v = 0; v < D; ++v)
          acc[v] = _mm512_fmadd_ps(a, load16(row + k * vw + 16 * v), acc[v]);
      }
      for (int v = 0; v < D; ++v)
        _mm512_storeu_ps(o + 16 * v, acc[v]);
    }
  }
  for (int64_t h = h0; h < h1; ++h) {
    const __m512 s = _mm512_set1_ps(inv[h - h0]);
    float *o = out + h * D * 16;
    for (int v = 0; v < D; ++v)
      _mm512_storeu_ps(o + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(o + 16 * v), s));
  }
}

/// rowScores / rowValues for widths of 32, 64 or 128 (nullptr else).
template <typename T>
using ScoresFn = void (*)(const float *, const T *, int64_t, int64_t, int64_t,
                          int64_t, int64_t, float, float *, int64_t);
template <typename T>
using ValuesFn = void (*)(const float *, int64_t, const T *, int64_t, int64_t,
                          int64_t, int64_t, int64_t, const float *, float *);
template <typename T> ScoresFn<T> scoresFor(int64_t d) {
  switch (d) {
  case 32: return rowScores<2, T>;
  case 64: return rowScores<4, T>;
  case 128: return rowScores<8, T>;
  default: return nullptr;
  }
}
template <typename T> ValuesFn<T> valuesFor(int64_t dv) {
  switch (dv) {
  case 32: return rowValues<2, T>;
  case 64: return rowValues<4, T>;
  case 128: return rowValues<8, T>;
  default: return nullptr;
  }
}
#endif

struct FewQueries {
  const float *q;
  const void *keys, *values;
  int64_t tokens, first, heads, kvHeads, d, dv;
  float scale;
  float *out;
};

/// Causal attention of heads h0 … h1−1 of a few queries over the cache:
/// each cached key and value row streamed once (those heads' parts of it).
template <typename T>
void fewQueryHeads(const FewQueries &j, int64_t h0, int64_t h1) {
  const int64_t group = j.heads / j.kvHeads, kw = j.kvHeads * j.d,
                vw = j.kvHeads * j.dv, keysMax = j.first + j.tokens,
                n = h1 - h0;
  const T *keys = static_cast<const T *>(j.keys);
  const T *values = static_cast<const T *>(j.values);
  thread_local std::vector<float> wBuf, invBuf;
  float *w = growScratch(wBuf, size_t(n * keysMax));
  float *inv = growScratch(invBuf, size_t(n));
#if defined(__AVX512F__)
  // Vectors of 16 with the query's products and the outputs in registers.
  const ScoresFn<T> scores = scoresFor<T>(j.d);
  const ValuesFn<T> valuesOf = valuesFor<T>(j.dv);
  if (scores && valuesOf) {
    for (int64_t t = 0; t < j.tokens; ++t) {
      const int64_t limit = j.first + t + 1;
      scores(j.q + t * j.heads * j.d, keys, kw, limit, h0, h1, group,
             j.scale, w, keysMax);
      for (int64_t h = 0; h < n; ++h)
        inv[h] = 1.0f / softmaxNumerators(w + h * keysMax, limit);
      valuesOf(w, keysMax, values, vw, limit, h0, h1, group, inv,
               j.out + t * j.heads * j.dv);
    }
    return;
  }
#endif
  for (int64_t t = 0; t < j.tokens; ++t) {
    const int64_t limit = j.first + t + 1; // keys 0 … p+t
    const float *qt = j.q + t * j.heads * j.d;
    for (int64_t s = 0; s < limit; ++s) {
      const T *row = keys + s * kw;
      for (int64_t h = h0; h < h1; ++h)
        w[(h - h0) * keysMax + s] =
            dotRow(qt + h * j.d, row + (h / group) * j.d, j.d) * j.scale;
    }
    for (int64_t h = 0; h < n; ++h)
      inv[h] = 1.0f / softmaxNumerators(w + h * keysMax, limit);
    float *ot = j.out + t * j.heads * j.dv;
    std::fill(ot + h0 * j.dv, ot + h1 * j.dv, 0.0f);
    for (int64_t s = 0; s < limit; ++s) {
      const T *row = values + s * vw;
      for (int64_t h = h0; h < h1; ++h)
        addRow(w[(h - h0) * keysMax + s], row + (h / group) * j.dv,
               ot + h * j.dv, j.dv);
    }
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t e = 0; e < j.dv; ++e)
        ot[h * j.dv + e] *= inv[h - h0];
  }
}

} // namespace

bool kvAttention(const float *q, const float *k, const float *v,
                 const int64_t *positions, int64_t tokens, int64_t heads,
                 int64_t kvHeads, int64_t headDim, int64_t valueDim,
                 int64_t capacity, void *slot, bool f16, float scale,
                 float *out, std::string &error) {
  const int64_t p = positions[0];
  for (int64_t t = 0; t < tokens; ++t)
    if (positions[t] != p + t) {
      error = "kv_attention: positions must be consecutive, got " +
              std::to_string(positions[t]) + " after " +
              std::to_string(positions[t > 0 ? t - 1 : 0]);
      return false;
    }
  if (p < 0 || p + tokens > capacity) {
    error = "the KV cache holds " + std::to_string(capacity) +
            " positions; positions " + std::to_string(p) + " to " +
            std::to_string(p + tokens - 1) + " do not fit";
    return false;
  }
  const int64_t kw = kvHeads * headDim, vw = kvHeads * valueDim,
                rows = p + tokens;
  void *keys, *values;
  if (f16) {
    Half *kc = static_cast<Half *>(slot), *vc = kc + capacity * kw;
    storeRows(k, kc + p * kw, tokens * kw);
    storeRows(v, vc + p * vw, tokens * vw);
    keys = kc;
    values = vc;
  } else {
    float *kc = static_cast<float *>(slot), *vc = kc + capacity * kw;
    storeRows(k, kc + p * kw, tokens * kw);
    storeRows(v, vc + p * vw, tokens * vw);
    keys = kc;
    values = vc;
  }
  if (tokens < 4) {
    const FewQueries job{q,       keys,    values,   tokens, p, heads,
                         kvHeads, headDim, valueDim, scale,  out};
    parallelRuns(heads, [&](int64_t h0, int64_t h1) {
      if (f16)
        fewQueryHeads<Half>(job, h0, h1);
      else
        fewQueryHeads<float>(job, h0, h1);
    });
    return true;
  }
  if (f16) {
    thread_local std::vector<float> kBuf, vBuf;
    float *kf = growScratch(kBuf, size_t(rows * kw));
    float *vf = growScratch(vBuf, size_t(rows * vw));
    widen(static_cast<const Half *>(keys), kf, rows * kw);
    widen(static_cast<const Half *>(values), vf, rows * vw);
    keys = kf;
    values = vf;
  }
  return attention(q, static_cast<const float *>(keys),
                   static_cast<const float *>(values), nullptr, nullptr,
                   nullptr, {1, tokens, rows, heads, kvHeads, headDim, valueDim},
                   /*causal=*/true, scale, out, error);
}

} // namespace slim::rt
