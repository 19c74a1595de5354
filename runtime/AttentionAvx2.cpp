//===- AttentionAvx2.cpp - fused attention, AVX2 register tiles -----------===//
//
// The attention of AttentionKernel.cpp for binaries built for AVX2 without
// AVX-512 (slimc --target=x86-64-v3): the same quantity
//
//   out[b,t,h,:] = Σ_j p(j)·v[b,j,h/g,:] / Σ_j p(j),
//   p(j) = exp(s(j) − max s), s(j) = scale·q·k_j + log_size[b,j] + bias,
//
// with −∞ where causal masking hides key j (j > t + S − T), in 8-lane
// registers: per task (batch, head, run of query tiles) the head's keys are
// transposed into blocks [dh][8]; per tile of 4 queries the scores of 16
// keys at a time take 8 accumulators (each broadcast query element feeds
// two key vectors), the softmax runs the 4 rows side by side with
// VecMath.h's exp256 (relative error ~1e-7), and the product with V runs 16 value
// columns at a time in 8 accumulators (a last partial 16 with masked loads
// and stores). Only the tile's 4 × S scores exist.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/VecMath.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define SLIM_ATTENTION_AVX2 1
#endif

namespace slim::rt {

#ifdef SLIM_ATTENTION_AVX2
namespace {

constexpr int kRows = 4;

using vec::exp256;

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hsum(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

/// Lanes 0 … n−1 of a maskload/maskstore mask (n ≤ 8).
inline __m256i laneMask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

struct Job {
  const float *q, *k, *v, *logSize, *bias;
  float *out;
  AttentionShape s;
  bool causal;
  float scale;
  int64_t chunks; // tasks per (batch, head)

  void head(int task) const {
    const int64_t chunk = task % chunks, bh = task / chunks;
    const int64_t b = bh / s.heads, h = bh % s.heads;
    const int64_t g = h / (s.heads / s.kvHeads);
    const int64_t S = s.keys, T = s.queries, dh = s.headDim;
    const int64_t Sp = (S + 15) / 16 * 16;
    const int64_t qStride = s.heads * dh, kStride = s.kvHeads * dh,
                  vStride = s.kvHeads * s.valueDim,
                  oStride = s.heads * s.valueDim;
    // Keys transposed in blocks of 8: kt[j/8][e][j%8], zero padding.
    thread_local std::vector<float> kt, scores, ls;
    kt.assign(size_t(dh * Sp), 0.0f);
    scores.resize(size_t(kRows * Sp));
    ls.assign(size_t(Sp), 0.0f);
    const float *kb = k + b * S * kStride + g * dh;
    for (int64_t j = 0; j < S; ++j)
      for (int64_t e = 0; e < dh; ++e)
        kt[size_t(((j / 8) * dh + e) * 8 + j % 8)] = kb[j * kStride + e];
    std::copy(logSize + b * S, logSize + (b + 1) * S, ls.begin());
    const float *qb = q + b * T * qStride + h * dh;
    const float *vb = v + b * S * vStride + g * s.valueDim;
    float *ob = out + b * T * oStride + h * s.valueDim;
    const float *hb =
        bias ? bias + ((b % s.biasGroups) * s.heads + h) * T * S : nullptr;
    // Tiles of 4 rows, the last shifted inwards; fewer than 4 queries: 1.
    const int64_t tiles = T >= kRows ? (T + kRows - 1) / kRows : T;
    const int64_t per = (tiles + chunks - 1) / chunks;
    for (int64_t i = chunk * per; i < std::min(tiles, (chunk + 1) * per); ++i) {
      if (T >= kRows)
        tile<kRows>(std::min(i * kRows, T - kRows), qb, qStride, vb, vStride,
                    ob, oStride, kt.data(), Sp, ls.data(), hb, scores.data());
      else
        tile<1>(i, qb, qStride, vb, vStride, ob, oStride, kt.data(), Sp,
                ls.data(), hb, scores.data());
    }
  }

  template <int R>
  void tile(int64_t start, const float *qb, int64_t qStride, const float *vb,
            int64_t vStride, float *ob, int64_t oStride, const float *kt,
            int64_t Sp, const float *ls, const float *hb,
            float *scores) const {
    const int64_t S = s.keys, T = s.queries, dh = s.headDim, dv = s.valueDim;
    const float ninf = -std::numeric_limits<float>::infinity();
    const int64_t seen = causal ? std::min(S, start + R + S - T) : S;
    const int64_t Sp16 = std::min(Sp, (seen + 15) / 16 * 16);
    const float *qr = qb + start * qStride;
    // Scores, 16 keys at a time.
    const __m256 sc = _mm256_set1_ps(scale);
    for (int64_t j = 0; j < Sp16; j += 16) {
      __m256 acc[R][2];
      for (auto &row : acc)
        row[0] = row[1] = _mm256_setzero_ps();
      const float *k0 = kt + (j / 8) * dh * 8, *k1 = k0 + dh * 8;
      for (int64_t e = 0; e < dh; ++e) {
        const __m256 kv0 = _mm256_loadu_ps(k0 + e * 8),
                     kv1 = _mm256_loadu_ps(k1 + e * 8);
        for (int r = 0; r < R; ++r) {
          const __m256 qe = _mm256_broadcast_ss(qr + r * qStride + e);
          acc[r][0] = _mm256_fmadd_ps(qe, kv0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(qe, kv1, acc[r][1]);
        }
      }
      for (int r = 0; r < R; ++r) {
        _mm256_storeu_ps(scores + r * Sp + j,
                         _mm256_fmadd_ps(acc[r][0], sc, _mm256_loadu_ps(ls + j)));
        _mm256_storeu_ps(
            scores + r * Sp + j + 8,
            _mm256_fmadd_ps(acc[r][1], sc, _mm256_loadu_ps(ls + j + 8)));
      }
    }
    // Bias rows; then masked and padding keys get −∞.
    for (int r = 0; r < R; ++r) {
      float *srow = scores + r * Sp;
      if (hb) {
        const float *brow = hb + (start + r) * S;
        for (int64_t j = 0; j < seen; ++j)
          srow[j] += brow[j];
      }
      const int64_t visible = causal ? std::min(S, start + r + S - T + 1) : S;
      std::fill(srow + visible, srow + Sp16, ninf);
    }
    // Softmax numerators, the R rows side by side.
    __m256 mx[R], sum[R];
    for (int r = 0; r < R; ++r) {
      mx[r] = _mm256_set1_ps(ninf);
      sum[r] = _mm256_setzero_ps();
    }
    for (int64_t j = 0; j < Sp16; j += 8)
      for (int r = 0; r < R; ++r)
        mx[r] = _mm256_max_ps(mx[r], _mm256_loadu_ps(scores + r * Sp + j));
    for (int r = 0; r < R; ++r)
      mx[r] = _mm256_set1_ps(hmax(mx[r]));
    for (int64_t j = 0; j < Sp16; j += 8)
      for (int r = 0; r < R; ++r) {
        float *x = scores + r * Sp + j;
        const __m256 xv = _mm256_loadu_ps(x);
        const __m256 ok = _mm256_cmp_ps(xv, _mm256_set1_ps(ninf), _CMP_NEQ_OQ);
        const __m256 p = _mm256_and_ps(ok, exp256(_mm256_sub_ps(xv, mx[r])));
        _mm256_storeu_ps(x, p);
        sum[r] = _mm256_add_ps(sum[r], p);
      }
    float inv[R];
    for (int r = 0; r < R; ++r)
      inv[r] = 1.0f / hsum(sum[r]);
    // · V, 16 columns at a time (the last ones masked).
    float *orow = ob + start * oStride;
    for (int64_t c = 0; c < dv; c += 16) {
      const int64_t n = std::min<int64_t>(16, dv - c);
      const __m256i m0 = laneMask(std::min<int64_t>(8, n)),
                    m1 = laneMask(std::max<int64_t>(0, n - 8));
      __m256 acc[R][2];
      for (auto &row : acc)
        row[0] = row[1] = _mm256_setzero_ps();
      for (int64_t j = 0; j < seen; ++j) {
        const float *vr = vb + j * vStride + c;
        const __m256 v0 = _mm256_maskload_ps(vr, m0),
                     v1 = _mm256_maskload_ps(vr + 8, m1);
        for (int r = 0; r < R; ++r) {
          const __m256 p = _mm256_broadcast_ss(scores + r * Sp + j);
          acc[r][0] = _mm256_fmadd_ps(p, v0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(p, v1, acc[r][1]);
        }
      }
      for (int r = 0; r < R; ++r) {
        const __m256 iv = _mm256_set1_ps(inv[r]);
        float *o = orow + r * oStride + c;
        _mm256_maskstore_ps(o, m0, _mm256_mul_ps(acc[r][0], iv));
        _mm256_maskstore_ps(o + 8, m1, _mm256_mul_ps(acc[r][1], iv));
      }
    }
  }
};

} // namespace

bool attentionAvx2(const float *q, const float *k, const float *v,
                   const float *logSize, const float *bias,
                   const AttentionShape &s, bool causal, float scale,
                   float *out) {
  if (s.queries < 1 || s.keys < 1 || s.heads % s.kvHeads != 0)
    return false;
  // Runs of query tiles per head (each run transposes its head's keys
  // again).
  const int64_t bh = s.batch * s.heads;
  const int64_t chunks = attentionRuns(
      bh, s.queries >= kRows ? (s.queries + kRows - 1) / kRows : s.queries);
  Job job{q, k, v, logSize, bias, out, s, causal, scale, chunks};
  halide_do_par_for(
      nullptr,
      [](void *, int t, uint8_t *closure) {
        reinterpret_cast<const Job *>(closure)->head(t);
        return 0;
      },
      0, int(bh * chunks), reinterpret_cast<uint8_t *>(&job));
  return true;
}

#else

bool attentionAvx2(const float *, const float *, const float *, const float *,
                   const float *, const AttentionShape &, bool, float,
                   float *) {
  return false; // AVX-512 (attentionAvx512), or no AVX2: Halide
}

#endif

} // namespace slim::rt
