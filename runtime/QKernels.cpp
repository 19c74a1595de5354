//===- QKernels.cpp - int8 linear layers (AVX-512 VNNI) -------------------===//
//
// W8A8 with dynamic per-token activation scales (docs/passes.md §4):
//
//   s_t = max_j |x[t,j]| / 127,  q_t = round(x[t] / s_t) ∈ [−127, 127]
//   y[t,o] = (Σ_k q_t[k] · W_q[o,k])_int32 · s_t · s_o + b[o]
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored
// as q + 128 (u8) and 128 · Σ_k W_q[o,k] (kept with the packed weight) is
// subtracted from the int32 sums: the result is the same integer.
//
// Packed weight (packQLinearWeight): tiles of 48 outputs; per tile and per
// group of 4 inputs, 3 vectors of 16 outputs × 4 bytes — one 64-byte load
// per vpdpbusd operand — then the int32 column sums. Inputs are padded to a
// multiple of 4 (zero weights), outputs to a multiple of 48. The register
// tile is 8 rows × 48 outputs (24 accumulators): each weight vector loaded
// feeds 8 vpdpbusd and each broadcast input 3 (8 × 32 before: GPT-2's
// prefill GEMMs 265 → 278 G multiply-adds/s, DeiT-S's 384 × 1536 one 357 →
// 323 µs at 1 thread).
//
// With many rows the threads split the rows (each does every tile for
// its run of rows, see runQGemms); otherwise the output tiles.
//
// The epilogue scales the int32 sums, adds the bias, applies the
// activation (VecMath.h) and adds the residual (when a residual sublayer's
// add is fused here) while the 16 outputs are in registers.
//
// Without AVX-512 VNNI (slimc --target=x86-64-v3) the AVX2 block computes
// the same integer sums with vpmaddubsw, which multiplies unsigned by
// signed bytes into saturating 16-bit pair sums: u8 q + 128 times 127
// could saturate, so it takes |q| (≤ 127) times the weight with q's sign
// (vpsignb), whose pair sums stay within ±32258, then vpmaddwd by ones to
// 32 bits; no column-sum correction. Where cpuid shows AVX-VNNI (Alder
// Lake and later Intel cores, Zen 5) 256-bit vpdpbusd on q + 128 and the
// column-sum correction give the same integers in one instruction
// (DeiT-S int8 built for x86-64-v3 on a Sapphire Rapids, 1 thread: 90 →
// 53 ms; SLIM_AVX_VNNI=0 picks vpmaddubsw). The activation and the residual
// follow as a second pass. On aarch64 (NEON, ARMv8.0: no dot-product
// instructions) the NEON block multiplies signed bytes into 16-bit
// products (vmull_s8; |q·w| ≤ 127²) and adds them pairwise into 32 bits
// (vpadalq_s16). Elsewhere, plain loops (bit-identical sums).
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"
#include "runtime/VecMath.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
#include "runtime/Cpuid.h"
#include <immintrin.h>
#define SLIM_HAVE_VNNI 1
#elif defined(__AVX2__)
#include "runtime/Cpuid.h"
#include <immintrin.h>
#define SLIM_HAVE_AVX2_I8 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define SLIM_HAVE_NEON_I8 1
#endif

namespace slim::rt {

namespace {

constexpr int64_t kTileO = 48; // outputs per tile (3 vectors of 16)
constexpr int kVecs = int(kTileO / 16);
[[maybe_unused]] constexpr int kRows = 8; // rows per register block (VNNI)

int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

} // namespace

int64_t packedQLinearBytes(int64_t out, int64_t in) {
  return roundUp(out, kTileO) * roundUp(in, 4) +
         roundUp(out, kTileO) * int64_t(sizeof(int32_t));
}

void packQLinearWeight(const int8_t *w, int64_t out, int64_t in,
                       uint8_t *packed) {
  const int64_t kp = roundUp(in, 4), op = roundUp(out, kTileO);
  int8_t *q = reinterpret_cast<int8_t *>(packed);
  std::memset(q, 0, size_t(op * kp));
  for (int64_t o = 0; o < out; ++o) {
    int64_t t = o / kTileO, v = (o % kTileO) / 16, lane = o % 16;
    for (int64_t k = 0; k < in; ++k) {
      int64_t k4 = k / 4, j = k % 4;
      q[((t * (kp / 4) + k4) * kVecs + v) * 64 + lane * 4 + j] =
          w[o * in + k];
    }
  }
  int32_t *colsum = reinterpret_cast<int32_t *>(packed + op * kp);
  for (int64_t o = 0; o < op; ++o) {
    int32_t s = 0;
    for (int64_t k = 0; o < out && k < in; ++k)
      s += w[o * in + k];
    colsum[o] = s;
  }
}

void quantizeRows(const float *x, int64_t rows, int64_t in, uint8_t *xq,
                  float *scales, float staticScale) {
  SLIM_V4(quantizeRows, x, rows, in, xq, scales, staticScale);
  const int64_t kp = roundUp(in, 4);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x + r * in;
    float amax = 0.0f;
    int64_t k = 0;
#ifdef SLIM_HAVE_VNNI
    // 16 at a time (the same values as the scalar loops: max is exact), in
    // four chains (one chain waits on max's latency every vector).
    __m512 m[4];
    for (auto &v : m)
      v = _mm512_setzero_ps();
    for (; k + 64 <= in; k += 64)
      for (int c = 0; c < 4; ++c)
        m[c] = _mm512_max_ps(m[c],
                             _mm512_abs_ps(_mm512_loadu_ps(row + k + 16 * c)));
    for (; k + 16 <= in; k += 16)
      m[0] = _mm512_max_ps(m[0], _mm512_abs_ps(_mm512_loadu_ps(row + k)));
    if (k < in) { // the last < 16 (a masked load reads zeros past them)
      const __mmask16 tail = __mmask16((1u << (in - k)) - 1);
      m[1] = _mm512_max_ps(
          m[1], _mm512_abs_ps(_mm512_maskz_loadu_ps(tail, row + k)));
      k = in;
    }
    amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_max_ps(m[0], m[1]), _mm512_max_ps(m[2], m[3])));
#endif
    for (; k < in; ++k)
      amax = std::max(amax, std::fabs(row[k]));
    float s = staticScale > 0.0f ? staticScale
              : amax > 0.0f    ? amax / 127.0f
                               : 1.0f;
    float inv = 1.0f / s;
    uint8_t *q = xq + r * kp;
    k = 0;
#ifdef SLIM_HAVE_VNNI
    // vcvtps2dq rounds to nearest even, as nearbyint below (the default
    // rounding mode). With the row's own scale |x · inv| ≤ 127 (+1 ulp),
    // so only a static scale needs the clamp.
    const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.0f),
                 hi = _mm512_set1_ps(127.0f);
    const __m512i bias = _mm512_set1_epi32(128);
    const bool clamp = staticScale > 0.0f;
    // 64 at a time: four conversions packed to bytes with signed saturation
    // (no effect: |q| ≤ 127) by two packs — which interleave 4-byte groups
    // of the four vectors per 128-bit lane, undone by one permutation —
    // then + 128 as a flip of the top bit. Bit-identical to the 16-wide
    // loop below, whose vpmovdb costs twice the shuffle-port work (DeiT-S's
    // 197 × 1536 rows: 39.8 → 33.7 µs).
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6,
                                            10, 14, 3, 7, 11, 15);
    const __m512i top = _mm512_set1_epi8(char(0x80));
    for (; k + 64 <= in; k += 64) {
      __m512i c[4];
      for (int j = 0; j < 4; ++j) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(row + k + 16 * j), vinv);
        if (clamp)
          v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
        c[j] = _mm512_cvtps_epi32(v);
      }
      const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(c[0], c[1]),
                                               _mm512_packs_epi32(c[2], c[3]));
      _mm512_storeu_si512(
          q + k,
          _mm512_xor_si512(_mm512_permutexvar_epi32(order, bytes), top));
    }
    for (; k + 16 <= in; k += 16) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(row + k), vinv);
      if (clamp)
        v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      _mm_storeu_si128(
          reinterpret_cast<__m128i *>(q + k),
          _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), bias)));
    }
    if (k < in) { // the last < 16 and the padding to kp (128: zero) at once
      const __mmask16 tail = __mmask16((1u << (in - k)) - 1),
                      pad = __mmask16((1u << (kp - k)) - 1);
      __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + k), vinv);
      if (clamp)
        v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      _mm512_mask_cvtepi32_storeu_epi8(
          q + k, pad, _mm512_add_epi32(_mm512_cvtps_epi32(v), bias));
      k = in;
    }
#endif
    for (; k < in; ++k) {
      float v = std::nearbyint(row[k] * inv);
      v = std::min(127.0f, std::max(-127.0f, v));
      q[k] = uint8_t(int(v) + 128);
    }
    for (int64_t k = in; k < kp; ++k)
      q[k] = 128; // × a zero weight
    scales[r] = s;
  }
}

namespace {

/// One GEMM: the int32 sums into `acc`, or (when `y` is set) straight into
/// y = sum · xs[row] · ws[o] + bias[o].
struct QGemm {
  const uint8_t *xq;
  int64_t rows, in, out;
  const uint8_t *packed;
  int32_t *acc = nullptr;
  float *y = nullptr;
  const float *xs = nullptr, *ws = nullptr, *bias = nullptr;
  LinearAct act = LinearAct::None; // applied to y in the VNNI epilogue
  const float *residual = nullptr; // then added (like y, [rows, out])
  int64_t perTask = 1; // tiles per task: a run, see qgemmTask
  void tile(int64_t t, bool nextIsOurs, int64_t r0, int64_t r1) const;
#ifdef SLIM_HAVE_VNNI
  template <int R>
  void block(const int8_t *tile, const int32_t *colsum, int64_t t, int64_t r,
             const char *prefetch) const;
  /// The epilogue of rows r … r+R−1 of tile t from their int32 sums
  /// (16 outputs per vector): − 128 · the column sums, then the scales,
  /// bias, activation and residual, or the sums themselves (acc).
  template <int R>
  void finish(const __m512i (&a)[R][kVecs], const int32_t *colsum,
              int64_t t, int64_t r) const;
  void blockAmx(const int8_t *tile, const int32_t *colsum, int64_t t,
                int64_t r) const;
#endif
#ifdef SLIM_HAVE_AVX2_I8
  template <int R>
  void blockAvx2(const int8_t *tile, const int32_t *colsum, int64_t t,
                 int64_t r) const;
  template <int R>
  void sumsAvxVnni(const int8_t *tile, const int32_t *colsum, int64_t v,
                   int64_t r, __m256i (&a)[R][2]) const;
#endif
#ifdef SLIM_HAVE_NEON_I8
  template <int R>
  void blockNeon(const int8_t *tile, int64_t t, int64_t r) const;
#endif
  void store(int64_t r, int64_t o, int32_t sum) const {
    if (y)
      y[r * out + o] = float(sum) * (xs[r] * ws[o]) + (bias ? bias[o] : 0.0f);
    else
      acc[r * out + o] = sum;
  }
};

#ifdef SLIM_HAVE_VNNI
/// Rows r … r+R−1 of tile t: R × 2 vectors of 16 outputs, 2R accumulators;
/// each 64-byte weight vector feeds R vpdpbusd.
template <int R>
void QGemm::block(const int8_t *tile, const int32_t *colsum, int64_t t,
                  int64_t r, const char *prefetch) const {
  const int64_t kp = roundUp(in, 4), k4n = kp / 4;
  __m512i a[R][kVecs];
  for (auto &row : a)
    for (auto &v : row)
      v = _mm512_setzero_si512();
  const uint8_t *xr[R];
  for (int i = 0; i < R; ++i)
    xr[i] = xq + (r + i) * kp;
  for (int64_t k4 = 0; k4 < k4n; ++k4) {
    const int8_t *w = tile + k4 * kVecs * 64;
    __m512i wv[kVecs];
    for (int v = 0; v < kVecs; ++v)
      wv[v] = _mm512_loadu_si512(w + 64 * v);
    _mm_prefetch(prefetch + k4 * 64, _MM_HINT_T1);
    for (int i = 0; i < R; ++i) {
      int32_t bytes;
      std::memcpy(&bytes, xr[i] + k4 * 4, 4);
      __m512i xb = _mm512_set1_epi32(bytes);
      for (int v = 0; v < kVecs; ++v)
        a[i][v] = _mm512_dpbusd_epi32(a[i][v], xb, wv[v]);
    }
  }
  finish<R>(a, colsum, t, r);
}

template <int R>
void QGemm::finish(const __m512i (&a)[R][kVecs], const int32_t *colsum,
                   int64_t t, int64_t r) const {
  // What the epilogue needs of each 16 outputs, loaded once for the R
  // rows: 128 · the column sums, the weight scales, the bias. Lanes past
  // `out` (the padded last tile) are neither read nor written.
  int nv = 0;
  __m512i cs128[kVecs];
  __m512 wsv[kVecs], bv[kVecs];
  __mmask16 mk[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    const int64_t o0 = t * kTileO + v * 16;
    if (o0 >= out)
      break;
    nv = v + 1;
    mk[v] = o0 + 16 <= out ? __mmask16(0xFFFF)
                           : __mmask16((1u << (out - o0)) - 1);
    cs128[v] = _mm512_slli_epi32(_mm512_loadu_si512(colsum + o0), 7);
    if (y) {
      wsv[v] = _mm512_maskz_loadu_ps(mk[v], ws + o0);
      bv[v] = bias ? _mm512_maskz_loadu_ps(mk[v], bias + o0)
                   : _mm512_setzero_ps();
    }
  }
  for (int i = 0; i < R; ++i) {
    const int64_t row = r + i;
    const __m512 xsv = y ? _mm512_set1_ps(xs[row]) : _mm512_setzero_ps();
    for (int v = 0; v < nv; ++v) {
      const int64_t o0 = t * kTileO + v * 16;
      __m512i res = _mm512_sub_epi32(a[i][v], cs128[v]);
      if (!y) {
        _mm512_mask_storeu_epi32(acc + row * out + o0, mk[v], res);
        continue;
      }
      // y = sum · (s_row · s_o) + b, then the activation while y is in
      // registers (no second pass over y), then the residual.
      __m512 yv = vec::activate512(
          act, _mm512_fmadd_ps(_mm512_cvtepi32_ps(res),
                               _mm512_mul_ps(xsv, wsv[v]), bv[v]));
      if (residual)
        yv = _mm512_add_ps(
            yv, _mm512_maskz_loadu_ps(mk[v], residual + row * out + o0));
      _mm512_mask_storeu_ps(y + row * out + o0, mk[v], yv);
    }
  }
}
#endif

#ifdef SLIM_HAVE_AVX2_I8
/// Rows r … r+R−1 of tile t, one vector of 16 outputs (two of 8 lanes) at
/// a time: 2R accumulators, each weight load feeds R rows.
template <int R>
void QGemm::blockAvx2(const int8_t *tile, const int32_t *colsum, int64_t t,
                      int64_t r) const {
  const int64_t k4n = roundUp(in, 4) / 4, kp = k4n * 4;
  const __m256i ones = _mm256_set1_epi16(1),
                top = _mm256_set1_epi8(char(0x80));
  for (int v = 0; v < kVecs; ++v) {
    const int64_t o0 = t * kTileO + v * 16;
    if (o0 >= out)
      break;
    __m256i a[R][2];
    if (cpu::hasAvxVnni()) {
      sumsAvxVnni<R>(tile, colsum + o0, v, r, a);
    } else {
      for (auto &row : a)
        row[0] = row[1] = _mm256_setzero_si256();
      for (int64_t k4 = 0; k4 < k4n; ++k4) {
        const int8_t *w = tile + (k4 * kVecs + v) * 64;
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w)),
                      w1 = _mm256_loadu_si256(
                          reinterpret_cast<const __m256i *>(w + 32));
        for (int i = 0; i < R; ++i) {
          int32_t bytes;
          std::memcpy(&bytes, xq + (r + i) * kp + k4 * 4, 4);
          // q (signed) from q + 128, and |q|.
          const __m256i q = _mm256_xor_si256(_mm256_set1_epi32(bytes), top);
          const __m256i aq = _mm256_abs_epi8(q);
          a[i][0] = _mm256_add_epi32(
              a[i][0], _mm256_madd_epi16(
                           _mm256_maddubs_epi16(aq, _mm256_sign_epi8(w0, q)),
                           ones));
          a[i][1] = _mm256_add_epi32(
              a[i][1], _mm256_madd_epi16(
                           _mm256_maddubs_epi16(aq, _mm256_sign_epi8(w1, q)),
                           ones));
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      alignas(32) int32_t sums[16];
      _mm256_store_si256(reinterpret_cast<__m256i *>(sums), a[i][0]);
      _mm256_store_si256(reinterpret_cast<__m256i *>(sums + 8), a[i][1]);
      const int64_t n = std::min<int64_t>(16, out - o0);
      if (y && n == 16) {
        // y = sum · (s_row · s_o) + b, 8 at a time.
        const __m256 xsv = _mm256_set1_ps(xs[r + i]);
        for (int h = 0; h < 2; ++h) {
          const int64_t o = o0 + 8 * h;
          const __m256 b = bias ? _mm256_loadu_ps(bias + o)
                                : _mm256_setzero_ps();
          _mm256_storeu_ps(
              y + (r + i) * out + o,
              _mm256_fmadd_ps(
                  _mm256_cvtepi32_ps(_mm256_load_si256(
                      reinterpret_cast<const __m256i *>(sums + 8 * h))),
                  _mm256_mul_ps(xsv, _mm256_loadu_ps(ws + o)), b));
        }
      } else {
        for (int64_t j = 0; j < n; ++j)
          store(r + i, o0 + j, sums[j]);
      }
    }
  }
}
#endif

#ifdef SLIM_HAVE_AVX2_I8
/// With AVX-VNNI (Alder Lake and later Intel cores, Zen 5; picked at run
/// time by cpuid): vector v's sums of rows r … r+R−1 (`colsum`: that
/// vector's 16 column sums) by 256-bit vpdpbusd
/// on the stored q + 128 (unsigned) times the weights (signed), less 128 ·
/// the column sums, as the AVX-512 VNNI block — the same integers as
/// vpmaddubsw's, in one instruction per 8 outputs × 4 inputs instead of
/// five. Never inlined: VNNI instructions stay in this function, which
/// only cpu::hasAvxVnni() reaches.
template <int R>
__attribute__((target("avxvnni"), noinline)) void
QGemm::sumsAvxVnni(const int8_t *tile, const int32_t *colsum, int64_t v,
                   int64_t r, __m256i (&a)[R][2]) const {
  const int64_t k4n = roundUp(in, 4) / 4, kp = k4n * 4;
  __m256i acc[R][2];
  for (auto &row : acc)
    row[0] = row[1] = _mm256_setzero_si256();
  for (int64_t k4 = 0; k4 < k4n; ++k4) {
    const int8_t *w = tile + (k4 * kVecs + v) * 64;
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w)),
                  w1 = _mm256_loadu_si256(
                      reinterpret_cast<const __m256i *>(w + 32));
    for (int i = 0; i < R; ++i) {
      int32_t bytes;
      std::memcpy(&bytes, xq + (r + i) * kp + k4 * 4, 4);
      const __m256i x = _mm256_set1_epi32(bytes);
      acc[i][0] = _mm256_dpbusd_avx_epi32(acc[i][0], x, w0);
      acc[i][1] = _mm256_dpbusd_avx_epi32(acc[i][1], x, w1);
    }
  }
  // colsum: the vector's 16 column sums (the packing pads them with the
  // tile).
  for (int h = 0; h < 2; ++h) {
    const __m256i c128 = _mm256_slli_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(colsum + 8 * h)),
        7);
    for (int i = 0; i < R; ++i)
      a[i][h] = _mm256_sub_epi32(acc[i][h], c128);
  }
}
#endif

#ifdef SLIM_HAVE_NEON_I8
/// Rows r … r+R−1 of tile t, 4 outputs at a time: per row two int32x4
/// accumulators, lanes (output 2i or 2i+1's inputs 0–1 and 2–3 of each
/// group of 4), added pairwise at the end.
template <int R>
void QGemm::blockNeon(const int8_t *tile, int64_t t, int64_t r) const {
  const int64_t k4n = roundUp(in, 4) / 4, kp = k4n * 4;
  const int8x16_t top = vdupq_n_s8(int8_t(-128));
  for (int64_t o0 = t * kTileO; o0 < std::min(out, (t + 1) * kTileO);
       o0 += 4) {
    const int64_t v = (o0 % kTileO) / 16, lane = o0 % 16;
    int32x4_t lo[R], hi[R];
    for (int i = 0; i < R; ++i)
      lo[i] = hi[i] = vdupq_n_s32(0);
    for (int64_t k4 = 0; k4 < k4n; ++k4) {
      // Outputs o0 … o0+3, their 4 inputs each: 16 bytes.
      const int8x16_t w = vld1q_s8(tile + (k4 * kVecs + v) * 64 + lane * 4);
      for (int i = 0; i < R; ++i) {
        int32_t bytes;
        std::memcpy(&bytes, xq + (r + i) * kp + k4 * 4, 4);
        // q (signed) from q + 128, the 4 bytes repeated.
        const int8x16_t q =
            veorq_s8(vreinterpretq_s8_s32(vdupq_n_s32(bytes)), top);
        lo[i] = vpadalq_s16(lo[i], vmull_s8(vget_low_s8(w), vget_low_s8(q)));
        hi[i] = vpadalq_s16(hi[i], vmull_s8(vget_high_s8(w), vget_high_s8(q)));
      }
    }
    for (int i = 0; i < R; ++i) {
      int32_t sums[4];
      vst1q_s32(sums, vpaddq_s32(lo[i], hi[i]));
      for (int64_t j = 0; j < 4 && o0 + j < out; ++j)
        store(r + i, o0 + j, sums[j]);
    }
  }
}
#endif

#ifdef SLIM_HAVE_VNNI
using cpu::useAmx;

/// Rows r … r+15 of tile t with AMX: per 64 inputs one tile of the 16
/// rows' bytes (A, u8) and, for each vector of 16 outputs, one tile of
/// their weights (B: 16 groups of 4 inputs × 16 outputs × 4 bytes — the
/// packed layout as it is, rows 192 bytes apart) into one int32 tile of
/// 16 × 16 sums (tdpbusd); then the VNNI kernel's epilogue. The tile
/// configuration (cpu::loadStandardTiles) is loaded once per thread:
/// every other AMX kernel puts it back before it returns.
/// Never inlined: AMX instructions stay in this function, which only
/// useAmx() reaches (test/Build/int8-kernel-asm.test).
__attribute__((target("amx-tile,amx-int8"), noinline)) void
QGemm::blockAmx(const int8_t *tile, const int32_t *colsum, int64_t t,
                int64_t r) const {
  thread_local bool configured = false;
  if (!configured) {
    cpu::loadStandardTiles();
    configured = true;
  }
  const int64_t kp = roundUp(in, 4);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  for (int64_t kk = 0; kk < kp; kk += 64) {
    _tile_loadd(3, xq + r * kp + kk, kp);
    const int8_t *w = tile + (kk / 4) * kVecs * 64;
    _tile_loadd(4, w, kVecs * 64);
    _tile_dpbusd(0, 3, 4);
    _tile_loadd(5, w + 64, kVecs * 64);
    _tile_dpbusd(1, 3, 5);
    _tile_loadd(6, w + 128, kVecs * 64);
    _tile_dpbusd(2, 3, 6);
  }
  alignas(64) int32_t c[kVecs][16][16];
  _tile_stored(0, c[0], 64);
  _tile_stored(1, c[1], 64);
  _tile_stored(2, c[2], 64);
  __m512i a[16][kVecs];
  for (int i = 0; i < 16; ++i)
    for (int v = 0; v < kVecs; ++v)
      a[i][v] = _mm512_load_si512(c[v][i]);
  finish<16>(a, colsum, t, r);
}
#endif

void QGemm::tile(int64_t t, bool nextIsOurs, int64_t r0, int64_t r1) const {
  const int64_t kp = roundUp(in, 4), k4n = kp / 4, op = roundUp(out, kTileO);
  const int8_t *wq = reinterpret_cast<const int8_t *>(packed);
  const int32_t *colsum = reinterpret_cast<const int32_t *>(packed + op * kp);
  {
    const int8_t *tile = wq + t * k4n * kVecs * 64;
    int64_t r = r0;
#ifdef SLIM_HAVE_VNNI
    // As the fp32 kernel (LinearKernel.cpp): while a row block runs, each
    // step prefetches one line of the next tile into L2 (a tile is 3 lines
    // a step; row block i takes its third i mod 3).
    const char *next = reinterpret_cast<const char *>(
        nextIsOurs ? tile + k4n * kVecs * 64 : tile);
    int64_t blockIndex = 0;
    auto prefetch = [&]() {
      return next + (blockIndex++ % kVecs) * k4n * 64;
    };
    // Blocks of 16 rows by AMX where the CPU has it (inputs a multiple of
    // 64), then blocks of 8 rows, then one block of the 1 … 7 left.
    if (r1 - r >= 16 && kp % 64 == 0 && useAmx())
      for (; r + 16 <= r1; r += 16)
        blockAmx(tile, colsum, t, r);
    for (; r + kRows <= r1; r += kRows)
      block<kRows>(tile, colsum, t, r, prefetch());
    const char *p = prefetch();
    switch (r1 - r) {
    case 7: block<7>(tile, colsum, t, r, p); break;
    case 6: block<6>(tile, colsum, t, r, p); break;
    case 5: block<5>(tile, colsum, t, r, p); break;
    case 4: block<4>(tile, colsum, t, r, p); break;
    case 3: block<3>(tile, colsum, t, r, p); break;
    case 2: block<2>(tile, colsum, t, r, p); break;
    case 1: block<1>(tile, colsum, t, r, p); break;
    default: break;
    }
    r = r1;
#elif defined(SLIM_HAVE_AVX2_I8)
    (void)nextIsOurs;
    for (; r + 4 <= r1; r += 4)
      blockAvx2<4>(tile, colsum, t, r);
    for (; r < r1; ++r)
      blockAvx2<1>(tile, colsum, t, r);
#elif defined(SLIM_HAVE_NEON_I8)
    (void)nextIsOurs;
    for (; r + 4 <= r1; r += 4)
      blockNeon<4>(tile, t, r);
    for (; r < r1; ++r)
      blockNeon<1>(tile, t, r);
#endif
    // Remaining rows (all of them without VNNI or AVX2): the same integer
    // sums.
    for (; r < r1; ++r) {
      const uint8_t *x = xq + r * kp;
      for (int64_t o = t * kTileO; o < std::min(out, (t + 1) * kTileO); ++o) {
        int64_t v = (o % kTileO) / 16, lane = o % 16;
        int32_t s = 0;
        for (int64_t k4 = 0; k4 < k4n; ++k4)
          for (int j = 0; j < 4; ++j)
            s += int32_t(x[k4 * 4 + j]) *
                 int32_t(tile[(k4 * kVecs + v) * 64 + lane * 4 + j]);
        store(r, o, s - 128 * colsum[o]);
      }
    }
  }
}

/// Task i: the run of tiles [i·perTask, (i+1)·perTask), so that the tile
/// a block prefetches is the one this task does next.
int qgemmTask(void *, int i, uint8_t *closure) {
  const QGemm *job = reinterpret_cast<const QGemm *>(closure);
  const int64_t tiles = roundUp(job->out, kTileO) / kTileO;
  const int64_t end = std::min(tiles, (i + 1) * job->perTask);
  for (int64_t t = i * job->perTask; t < end; ++t)
    job->tile(t, t + 1 < end, 0, job->rows);
  return 0;
}

/// Runs `jobs` (GEMMs of one quantized input) as one parallel loop: each
/// in runs of tiles, one run per thread per GEMM.
void runQGemms(QGemm *jobs, int n) {
  const int64_t rows = jobs[0].rows, threads = threadCount();
  if (threads > 1 && rows >= kRowSplitRowsPerThread * threads) {
    // Row split: task i does every tile of every GEMM for the run of rows
    // i — the rows task i quantized, and the rows task i of the next op
    // (a norm, the next linear's quantization) reads: the thread pool gives
    // task i to the same thread each time, so they stay in its core's
    // cache. Each thread reads all the weights (from L3) instead of half.
    // DeiT-S int8 at 2 threads 13.8 → 12.9 ms, GPT-2 prefill with an int8
    // head 35.3 → 33.8 ms (alternating runs).
    struct Rows {
      QGemm *jobs;
      int n;
      int64_t per;
    } split{jobs, n, runLength(rows)};
    halide_do_par_for(
        nullptr,
        [](void *, int i, uint8_t *closure) {
          const Rows *s = reinterpret_cast<const Rows *>(closure);
          const QGemm *jobs = s->jobs;
          const int64_t r0 = i * s->per,
                        r1 = std::min(jobs[0].rows, r0 + s->per);
          for (int p = 0; p < s->n; ++p) {
            const int64_t tiles = roundUp(jobs[p].out, kTileO) / kTileO;
            for (int64_t t = 0; t < tiles; ++t)
              jobs[p].tile(t, t + 1 < tiles, r0, r1);
          }
          return 0;
        },
        0, int((rows + split.per - 1) / split.per),
        reinterpret_cast<uint8_t *>(&split));
    return;
  }
  struct Group {
    QGemm *jobs;
    int n;
    int first[kMaxSharedQLinears + 1]; // each GEMM's first task; the total
  } group{jobs, n, {}};
  for (int p = 0; p < n; ++p) {
    const int64_t tiles = roundUp(jobs[p].out, kTileO) / kTileO;
    jobs[p].perTask = runLength(tiles);
    group.first[p + 1] =
        group.first[p] + int((tiles + jobs[p].perTask - 1) / jobs[p].perTask);
  }
  halide_do_par_for(
      nullptr,
      [](void *, int i, uint8_t *closure) {
        const Group *g = reinterpret_cast<const Group *>(closure);
        int p = 0;
        while (i >= g->first[p + 1])
          ++p;
        return qgemmTask(nullptr, i - g->first[p],
                         reinterpret_cast<uint8_t *>(&g->jobs[p]));
      },
      0, group.first[n], reinterpret_cast<uint8_t *>(&group));
}

} // namespace

void qgemmInt32(const uint8_t *xq, int64_t rows, int64_t in,
                const uint8_t *packed, int64_t out, int32_t *acc) {
  SLIM_V4(qgemmInt32, xq, rows, in, packed, out, acc);
  QGemm job{xq, rows, in, out, packed};
  job.acc = acc;
  runQGemms(&job, 1);
}

void qlinear(const float *x, int64_t rows, int64_t in, const uint8_t *packed,
             const float *wscales, const float *bias, int64_t out, float *y,
             LinearAct act, float staticScale, const float *residual) {
  SLIM_V4(qlinear, x, rows, in, packed, wscales, bias, out, y, act,
          staticScale, residual);
  const QLinearPart part{packed, wscales, bias, out, act, y, residual};
  qlinearShared(x, rows, in, staticScale, &part, 1);
}

void qlinearShared(const float *x, int64_t rows, int64_t in,
                   float staticScale, const QLinearPart *parts, int n,
                   const RowNorm *norm) {
  SLIM_V4(qlinearShared, x, rows, in, staticScale, parts, n, norm);
  if (n < 1 || n > kMaxSharedQLinears)
    std::abort(); // a caller's bug (the ABI checks the count)
  const int64_t kp = roundUp(in, 4);
  // Scratch kept per thread between calls (fresh zeroed vectors cost a
  // page-faulting allocation per call for the larger layers).
  thread_local std::vector<uint8_t> xqBuf;
  thread_local std::vector<float> xsBuf;
  uint8_t *xq = growScratch(xqBuf, size_t(rows * kp));
  float *xs = growScratch(xsBuf, size_t(rows));
#if !defined(__AVX512F__)
  // No row-at-a-time norm here: the whole norm first.
  thread_local std::vector<float> normed;
  if (norm) {
    normed.resize(size_t(rows * in));
    std::string error;
    if (!(norm->rms ? rmsNorm : layerNorm)(x, rows, in, norm->scale,
                                           norm->bias, norm->eps,
                                           normed.data(), error))
      std::abort(); // a Halide error: the error handler has reported it
    x = normed.data();
    norm = nullptr;
  }
#endif
  // The rows quantized in parallel too (serial, it was 5% of DeiT-S int8
  // at 1 thread and twice that share at 2). With a norm, each row is
  // normalized into a per-thread row buffer (in L1) and quantized from
  // there: DeiT-S int8 does not write and read back 24 normalized
  // [197, 384] tensors.
  struct Quantize {
    const float *x;
    int64_t rows, in, kp, per;
    uint8_t *xq;
    float *xs, staticScale;
    const RowNorm *norm;
  } qj{x, rows, in, kp, 0, xq, xs, staticScale, norm};
  qj.per = runLength(rows);
  halide_do_par_for(
      nullptr,
      [](void *, int i, uint8_t *closure) {
        const Quantize *j = reinterpret_cast<const Quantize *>(closure);
        const int64_t r0 = i * j->per, n = std::min(j->per, j->rows - r0);
        if (!j->norm) {
          quantizeRows(j->x + r0 * j->in, n, j->in, j->xq + r0 * j->kp,
                       j->xs + r0, j->staticScale);
          return 0;
        }
        thread_local std::vector<float> rowBuf;
        float *row = growScratch(rowBuf, size_t(j->in));
        for (int64_t r = r0; r < r0 + n; ++r) {
          normRowAvx512(j->norm->rms, j->x + r * j->in, j->in, j->norm->scale,
                        j->norm->bias, j->norm->eps, row);
          quantizeRows(row, 1, j->in, j->xq + r * j->kp, j->xs + r,
                       j->staticScale);
        }
        return 0;
      },
      0, int((rows + qj.per - 1) / qj.per), reinterpret_cast<uint8_t *>(&qj));
  // The sums go straight to floats in each tile (no int32 buffer).
  QGemm jobs[kMaxSharedQLinears];
  for (int p = 0; p < n; ++p) {
    const QLinearPart &part = parts[p];
    jobs[p] = QGemm{xq, rows, in, part.out, part.packed};
    jobs[p].y = part.y;
    jobs[p].xs = xs;
    jobs[p].ws = part.scales;
    jobs[p].bias = part.bias;
    jobs[p].act = part.act;
    jobs[p].residual = part.residual;
  }
  runQGemms(jobs, n);
#ifndef SLIM_HAVE_VNNI
  for (int p = 0; p < n; ++p) { // the plain loops store y without them
    applyLinearAct(parts[p].act, parts[p].y, rows * parts[p].out);
    if (parts[p].residual)
      addFlat(parts[p].y, parts[p].residual, rows * parts[p].out,
              parts[p].y);
  }
#endif
}

} // namespace slim::rt
