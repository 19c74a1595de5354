//===- AttentionKernel.cpp - fused attention, AVX-512 register tiles ------===//
//
// out[b,t,h,:] = Σ_j p(j)·v[b,j,h/g,:] / Σ_j p(j),
// p(j) = exp(s(j) − max s), s(j) = scale·q·k_j + log_size[b,j] (−∞ where
// causal masking hides key j from query t: j > t + S − T).
//
// One task per (batch, head, run of query tiles) on the runtime's thread
// pool (ThreadPool.cpp). Per task the head's keys are transposed (16 × 16
// in registers) into blocks [dh][32]; per tile of 8 queries the scores of the
// keys are computed 32 keys at a time in 16 accumulators (each broadcast
// query element times two key vectors; a last block of 16 when that
// covers the keys), the softmax runs the 8 rows side by side with a
// vectorized exp (range reduction + degree-6 polynomial + vscalefps,
// relative error ~1e-7), and the product with V runs 32 value columns at a
// time in 16 accumulators (a last 16 in 8; a head dim that is not a
// multiple of 16 ends with masked loads and stores). The tile size is a template
// constant (8, or 1 when there are fewer than 8 queries) so the register
// loops unroll whole. Only the tile's 8 × S scores exist (the T×T matrix
// never does). The Halide attention kernel, the fallback, reached ~20% of
// the FMA peak on DeiT-S. attentionReceivedAvx512 (MCTF) runs the
// same scores and softmax and sums each row's probabilities per key
// instead of multiplying by V.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"
#include "runtime/VecMath.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace slim::rt {

#if defined(__AVX512F__)
namespace {

using vec::exp512;

constexpr int kRows = 8;

struct Job {
  const float *q, *k, *v, *logSize;
  /// [G, H, T, S] or null: row b reads bias[b mod G].
  const float *bias;
  float *out;
  AttentionShape s;
  bool causal;
  float scale;

  int64_t chunks; // tasks per (batch, head), each a run of query tiles
  /// attention_received: per task, Σ over its queries of the probabilities
  /// of every key ([tasks, Sp]); then valueDim is 0 and there is no ·V.
  float *received = nullptr;

  void head(int task) const {
    const int64_t chunk = task % chunks, bh = task / chunks;
    const int64_t b = bh / s.heads, h = bh % s.heads;
    const int64_t g = h / (s.heads / s.kvHeads);
    const int64_t S = s.keys, T = s.queries, dh = s.headDim, dv = s.valueDim;
    const int64_t Sp = (S + 31) / 32 * 32;
    const int64_t qStride = s.heads * dh, kStride = s.kvHeads * dh,
                  vStride = s.kvHeads * dv, oStride = s.heads * dv;
    // Keys of this kv head, transposed in blocks of 32: kt[j/32][e][j%32]
    // (zero padding), so that a block of scores reads dh × 128 contiguous
    // bytes. Copied 16 keys at a time: the keys' rows stay in L1 while
    // each of the dh rows of the block gets 16 contiguous values.
    // Scratch kept per thread between calls (a fresh zeroed allocation per
    // task cost more than the transposition).
    thread_local std::vector<float> kt, scores, ls;
    kt.resize(dh * Sp);
    // The padding keys of the last block read as zeros (their scores are
    // masked; every other element is written below).
    if (S < Sp) {
      float *last = kt.data() + (Sp / 32 - 1) * dh * 32;
      for (int64_t e = 0; e < dh; ++e)
        std::fill(last + e * 32 + S % 32, last + e * 32 + 32, 0.0f);
    }
    scores.resize(kRows * Sp);
    ls.assign(Sp, 0.0f);
    const float *kb = k + b * S * kStride + g * dh;
    for (int64_t j0 = 0; j0 < S; j0 += 16) {
      const int64_t n = std::min<int64_t>(16, S - j0);
      float *dst = kt.data() + (j0 / 32) * dh * 32 + j0 % 32;
      int64_t e0 = 0;
      // 16 × 16 register transposes (a gather per row of the block cost
      // more: DeiT-S's 6 heads 524 → 516 µs at 1 thread), then one by one.
      if (n == 16)
        for (; e0 + 16 <= dh; e0 += 16)
          vec::transpose16(kb + j0 * kStride + e0, kStride, dst + e0 * 32, 32);
      for (int64_t e = e0; e < dh; ++e)
        for (int64_t j = 0; j < n; ++j)
          dst[e * 32 + j] = kb[(j0 + j) * kStride + e];
    }
    std::copy(logSize + b * S, logSize + (b + 1) * S, ls.begin());
    const float *qb = q + b * T * qStride + h * dh;
    const float *vb = v + b * S * vStride + g * dv;
    float *ob = out + b * T * oStride + h * dv;
    // The last tile shifts inwards (recomputing rows is harmless); fewer
    // than 8 queries take one row per tile. This task's tiles: its run.
    const int64_t tiles = T >= kRows ? (T + kRows - 1) / kRows : T;
    const int64_t per = (tiles + chunks - 1) / chunks;
    float *recv = received ? received + task * Sp : nullptr;
    const float *hb =
        bias ? bias + ((b % s.biasGroups) * s.heads + h) * T * S : nullptr;
    for (int64_t i = chunk * per; i < std::min(tiles, (chunk + 1) * per); ++i) {
      // Rows before i·8 belong to the tile before (the shifted last tile
      // recomputes some): they are not counted again in `recv`.
      if (T >= kRows)
        tile<kRows>(std::min(i * kRows, T - kRows), qb, qStride, vb, vStride,
                    ob, oStride, kt.data(), Sp, ls.data(), hb, scores.data(),
                    recv, i * kRows);
      else
        tile<1>(i, qb, qStride, vb, vStride, ob, oStride, kt.data(), Sp,
                ls.data(), hb, scores.data(), recv, i);
    }
  }

  /// Rows start … start+R−1 (R = 8, or 1 when there are fewer than 8
  /// queries): R is a constant so the register loops unroll whole.
  template <int R>
  void tile(int64_t start, const float *qb, int64_t qStride,
            const float *vb, int64_t vStride, float *ob, int64_t oStride,
            const float *kt, int64_t Sp, const float *ls, const float *hb,
            float *scores, float *recv, int64_t countFrom) const {
    const int64_t S = s.keys, T = s.queries, dh = s.headDim, dv = s.valueDim;
    const float ninf = -std::numeric_limits<float>::infinity();
    // Causal: no row of the tile sees keys past its last row's horizon.
    const int64_t seen = causal ? std::min(S, start + R + S - T) : S;
    // Scores of the keys seen, rounded up to 16 (the padding keys' rows of
    // kt are zero; their scores are masked below).
    const int64_t Sp16 = std::min(Sp, (seen + 15) / 16 * 16);
    const float *qr = qb + start * qStride;
    int64_t j = 0;
    for (; j + 32 <= Sp16; j += 32)
      scoreBlock<R, 2>(qr, qStride, kt + j * dh, Sp, ls + j, scores + j);
    if (j < Sp16) // j is a multiple of 32: the first half of a block
      scoreBlock<R, 1>(qr, qStride, kt + j * dh, Sp, ls + j, scores + j);
    // The head's bias rows (relative positions, window masks).
    if (hb)
      for (int r = 0; r < R; ++r) {
        const float *brow = hb + (start + r) * S;
        float *srow = scores + r * Sp;
        for (int64_t j = 0; j < seen; ++j)
          srow[j] += brow[j];
      }
    // Softmax numerators; masked and padding keys are 0. The rows go
    // side by side (R independent max and sum chains, not one row's
    // chain after another).
    for (int r = 0; r < R; ++r) {
      const int64_t visible =
          causal ? std::min(S, start + r + S - T + 1) : S;
      std::fill(scores + r * Sp + visible, scores + r * Sp + Sp16, ninf);
    }
    __m512 mxv[R], sum[R];
    for (int r = 0; r < R; ++r) {
      mxv[r] = _mm512_set1_ps(ninf);
      sum[r] = _mm512_setzero_ps();
    }
    for (int64_t j = 0; j < Sp16; j += 16)
      for (int r = 0; r < R; ++r)
        mxv[r] = _mm512_max_ps(mxv[r], _mm512_loadu_ps(scores + r * Sp + j));
    for (int r = 0; r < R; ++r)
      mxv[r] = _mm512_set1_ps(_mm512_reduce_max_ps(mxv[r]));
    for (int64_t j = 0; j < Sp16; j += 16)
      for (int r = 0; r < R; ++r) {
        float *x = scores + r * Sp + j;
        const __m512 xv = _mm512_loadu_ps(x);
        const __mmask16 ok =
            _mm512_cmp_ps_mask(xv, _mm512_set1_ps(ninf), _CMP_NEQ_OQ);
        const __m512 p =
            _mm512_maskz_mov_ps(ok, exp512(_mm512_sub_ps(xv, mxv[r])));
        _mm512_storeu_ps(x, p);
        sum[r] = _mm512_add_ps(sum[r], p);
      }
    float inv[R];
    for (int r = 0; r < R; ++r) {
      inv[r] = 1.0f / _mm512_reduce_add_ps(sum[r]);
      if (recv && start + r >= countFrom) {
        const float *row = scores + r * Sp;
        const __m512 iv = _mm512_set1_ps(inv[r]);
        for (int64_t j = 0; j < Sp16; j += 16)
          _mm512_storeu_ps(recv + j,
                           _mm512_fmadd_ps(_mm512_loadu_ps(row + j), iv,
                                           _mm512_loadu_ps(recv + j)));
      }
    }
    // · V, 32 value columns at a time (16 accumulators), then 16.
    float *orow = ob + start * oStride;
    int64_t c = 0;
    for (; c + 32 <= dv; c += 32)
      valueBlock<R, 2>(scores, Sp, seen, vb + c, vStride, inv, orow + c,
                       oStride);
    for (; c < dv; c += 16)
      valueBlock<R, 1>(scores, Sp, seen, vb + c, vStride, inv, orow + c,
                       oStride,
                       dv - c >= 16 ? __mmask16(0xFFFF)
                                    : __mmask16((1u << (dv - c)) - 1));
  }

  /// scores[r, 0 … 16W) = scale · q_r · kt[:, 0 … 16W) + ls for R rows,
  /// kt a block [dh][32]: each broadcast query element feeds W FMAs.
  template <int R, int W>
  void scoreBlock(const float *qr, int64_t qStride, const float *kt,
                  int64_t Sp, const float *ls, float *scores) const {
    __m512 acc[R][W];
    for (auto &row : acc)
      for (auto &a : row)
        a = _mm512_setzero_ps();
    for (int64_t e = 0; e < s.headDim; ++e) {
      __m512 kv[W];
      for (int w = 0; w < W; ++w)
        kv[w] = _mm512_loadu_ps(kt + e * 32 + 16 * w);
      for (int r = 0; r < R; ++r) {
        const __m512 qe = _mm512_set1_ps(qr[r * qStride + e]);
        for (int w = 0; w < W; ++w)
          acc[r][w] = _mm512_fmadd_ps(qe, kv[w], acc[r][w]);
      }
    }
    const __m512 sc = _mm512_set1_ps(scale);
    for (int w = 0; w < W; ++w) {
      const __m512 l = _mm512_loadu_ps(ls + 16 * w);
      for (int r = 0; r < R; ++r)
        _mm512_storeu_ps(scores + r * Sp + 16 * w,
                         _mm512_fmadd_ps(acc[r][w], sc, l));
    }
  }

  /// out[r, 0 … 16W) = inv[r] · Σ_j scores[r, j] · v[j, 0 … 16W) for R
  /// rows; of the last 16 columns only those in `last` (a head dim that is
  /// not a multiple of 16: the masked lanes are neither read nor written).
  template <int R, int W>
  void valueBlock(const float *scores, int64_t Sp, int64_t seen,
                  const float *v, int64_t vStride, const float *inv,
                  float *out, int64_t oStride,
                  __mmask16 last = 0xFFFF) const {
    __m512 acc[R][W];
    for (auto &row : acc)
      for (auto &a : row)
        a = _mm512_setzero_ps();
    for (int64_t j = 0; j < seen; ++j) {
      __m512 vv[W];
      for (int w = 0; w < W; ++w)
        vv[w] = _mm512_maskz_loadu_ps(w == W - 1 ? last : __mmask16(0xFFFF),
                                      v + j * vStride + 16 * w);
      for (int r = 0; r < R; ++r) {
        const __m512 p = _mm512_set1_ps(scores[r * Sp + j]);
        for (int w = 0; w < W; ++w)
          acc[r][w] = _mm512_fmadd_ps(p, vv[w], acc[r][w]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m512 iv = _mm512_set1_ps(inv[r]);
      for (int w = 0; w < W; ++w)
        _mm512_mask_storeu_ps(out + r * oStride + 16 * w,
                              w == W - 1 ? last : __mmask16(0xFFFF),
                              _mm512_mul_ps(acc[r][w], iv));
    }
  }
};

/// Runs of query tiles per head (attentionRuns); each run transposes its
/// head's keys again (dh × S copies next to T/runs × S × dh
/// multiply-adds).
int64_t runsPerHead(const AttentionShape &s) {
  return attentionRuns(s.batch * s.heads, s.queries >= kRows
                                              ? (s.queries + kRows - 1) / kRows
                                              : s.queries);
}

int task(void *, int t, uint8_t *closure) {
  reinterpret_cast<const Job *>(closure)->head(t);
  return 0;
}

} // namespace

bool attentionAvx512(const float *q, const float *k, const float *v,
                     const float *logSize, const float *bias,
                     const AttentionShape &s, bool causal, float scale,
                     float *out) {
  if (s.queries < 1 || s.keys < 1 || s.heads % s.kvHeads != 0)
    return false;
  const int64_t chunks = runsPerHead(s);
  Job job{q, k, v, logSize, bias, out, s, causal, scale, chunks};
  halide_do_par_for(nullptr, task, 0, int(s.batch * s.heads * chunks),
                    reinterpret_cast<uint8_t *>(&job));
  return true;
}

bool attentionReceivedAvx512(const float *q, const float *k,
                             const float *logSize, const AttentionShape &s,
                             float scale, float *partial) {
  if (s.queries < 1 || s.keys < 1 || s.heads % s.kvHeads != 0)
    return false;
  AttentionShape shape = s;
  shape.valueDim = 0; // no values: probabilities only
  const int64_t Sp = (s.keys + 31) / 32 * 32, bh = s.batch * s.heads;
  const int64_t chunks = runsPerHead(shape);
  std::vector<float> runs(bh * chunks * Sp, 0.0f); // per task
  Job job{q, k, nullptr, logSize, nullptr, nullptr, shape, false, scale,
          chunks, runs.data()};
  halide_do_par_for(nullptr, task, 0, int(bh * chunks),
                    reinterpret_cast<uint8_t *>(&job));
  // Each head's runs of queries added up.
  for (int64_t h = 0; h < bh; ++h)
    for (int64_t j = 0; j < s.keys; ++j) {
      float sum = 0.0f;
      for (int64_t c = 0; c < chunks; ++c)
        sum += runs[(h * chunks + c) * Sp + j];
      partial[h * s.keys + j] = sum;
    }
  return true;
}

#else

bool attentionReceivedAvx512(const float *q, const float *k,
                             const float *logSize, const AttentionShape &s,
                             float scale, float *partial) {
  SLIM_V4(attentionReceivedAvx512, q, k, logSize, s, scale, partial);
  return false;
}

bool attentionAvx512(const float *q, const float *k, const float *v,
                     const float *logSize, const float *bias,
                     const AttentionShape &s, bool causal, float scale,
                     float *out) {
  SLIM_V4(attentionAvx512, q, k, v, logSize, bias, s, causal, scale, out);
  return false;
}

#endif

} // namespace slim::rt
