//===- Q4Kernels.cpp - int4 group-wise linear layers (float or int8 acts) -===//
//
// Weights quantized to 4 bits in groups of g consecutive inputs
// (docs/passes.md §4.4):
//
//   w[o,k] = (q[o,k] − z[o,k/g]) · d[o,k/g],   q ∈ [0, 15]
//   y[r,o] = Σ_k x[r,k] · w[o,k] + b[o]
//
// Q4_0 is the symmetric case z = 8; the min/max variant stores z per group.
// Activations are float (act = none), or W4A8 (act = dynamic, the default;
// prefill and decode steps alike): each row quantized
// to int8 as the int8 path does (x ≈ s_r · x_q), and per group the int32
// sums I = Σ q · x_q by vpdpbusd (the nibbles are its unsigned operand, the
// activations its signed one), then
//
//   y[r,o] = s_r · Σ_g d · (I − 8·S)          (Q4_0, S = Σ_{k∈g} x_q)
//   y[r,o] = s_r · Σ_g (d · I − z·d · S)      (min/max)
//
// GPT-2-small's four prefill shapes at 128 rows, 1 thread: 28.6 ms with
// float activations, 10.1 ms W4A8 (g32; the int8 W8A8 kernel 6.4 ms).
//
// Packed weight (packQ4Weight): a 64-byte header (out, in, group, whether
// zero points are stored, whether the scales are bfloat16), then tiles of
// 32 outputs. Per tile, per run of
// 8 inputs, 128 bytes: two vectors of 16 32-bit words, word l of vector h
// holding output 16h + l's 8 nibbles for those inputs (input 8m + j at
// bits 4j … 4j+3) — one 64-byte load gives 8 inputs × 16 outputs, and
// vpermps, which reads the low 4 bits of each word, turns word >> 4j into
// the floats of q. Then, per tile and group, d for the 32 outputs and, for
// the min/max variant only, z·d (floats). Q4_0's d are bfloat16s
// (quantizeQ4 rounds them away from zero) and are stored so: 4.5 bits per
// weight in groups of 32, as llama.cpp's Q4_0 (5 with float scales; the
// min/max variant 6); each tile's are widened to floats once per call
// (exact: the high half of a float). A decode step streams every weight
// once, so the bytes are its time: GPT-2-small's 48 one-row shapes at 1
// thread 3.76 → 3.15 ms. Outputs are padded to a multiple of 32 with zero
// weights; `in` is a multiple of the group, so of 8.
//
// The kernel (AVX-512): per tile, blocks of up to 8 rows share each weight
// vector, dequantized once with a fused multiply-subtract (w = q·d − z·d;
// 16 accumulators). A single row (a decode step) does not dequantize: per
// group it sums q·x in 2 accumulator pairs (the reduction split so it is
// not bound by the multiply-add latency) and then adds d·Σq·x − z·d·Σx, Σx
// the group's sum of x. Per input and 32 weights that is two shifts (none
// for the first of 8), two vpermps and two multiply-adds — one 16-byte row
// of nibbles per input had taken a zero-extension more: GPT-2-small's 48
// one-row shapes with the weights in L3, 1 thread, 3.48 → 3.07 ms; with
// 128 rows 204 → 186 ms. Tasks on the runtime's pool take runs of tiles,
// one per thread (one task per tile, the tiles dealt out in turn, left
// each thread's stream jumping: at 2 threads GPT-2's one-row shapes ran at
// 18 GB/s where int8's reached 30). Without AVX-512
// the same formula runs in plain loops.
//
// W4A8's register block is 5 rows × 32 outputs: 10 int32 accumulators for
// the group, 10 float totals, the 4 unpacked vectors (4 rows: 158 G
// multiply-adds/s, 5: 173; 8 rows × 16 outputs, which loads each row's
// activations twice: 143). Q4_0 starts the group's sums at −8·S, so its
// epilogue is one conversion and one fma per vector. A decode step (one
// row) runs W4A8 too: per 8 inputs and 32 outputs two ands, a shift and
// four vpdpbusd instead of the float path's 16 shifts, vpermps and fmas;
// GPT-2-small's one-row shapes 3.45 → 2.78 ms at 1 thread, 1.65 → 1.32 at
// 2 (slim-qlinear-bench), where the float path was bound by instructions,
// not bytes. The float path's one-row loop (below) serves act = none.
// With AMX-INT8 (16 rows and more) the sums come from tile products
// instead (rowsAmx below): GPT-2-small's shapes at 128 rows, 1 thread,
// g32 63 → 38 ms, g128 32 → 26 ms.
//
// Built for AVX2 without AVX-512 (slimc --target=x86-64-v3): W4A8 takes
// each run's 8 words of 8 outputs, masks out the even and the odd nibbles
// (bytes 0 … 15, unsigned) and multiplies them with the even and the odd
// activations by vpmaddubsw (|pair sum| ≤ 2 · 15 · 128: no saturation),
// then vpmaddwd by ones — or, where cpuid shows AVX-VNNI, by 256-bit
// vpdpbusd directly; the same integers and float operations as the plain
// loops. Float activations dequantize 8 outputs × 1 input per
// vector (shift, mask, convert, one fused multiply-subtract) for up to 4
// rows at a time. On aarch64 (NEON) the same two forms 4 outputs wide:
// W4A8 by vmull_s8 / vpadalq_s16 (the group's float terms as the plain
// loops compute them), float activations dequantized per input.
//
//===----------------------------------------------------------------------===//

#include "runtime/Cpuid.h"
#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#define SLIM_HAVE_AVX512 1
#if defined(__AVX512VNNI__)
#define SLIM_HAVE_VNNI 1
#endif
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SLIM_HAVE_AVX2 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define SLIM_HAVE_NEON 1
#endif

namespace slim::rt {

namespace {

constexpr int64_t kTile = 32; // outputs per tile (2 vectors of 16)
constexpr int64_t kHeader = 64;
[[maybe_unused]] constexpr int64_t kPrefetch = 4096; // bytes ahead in a tile's nibbles

int64_t tiles(int64_t out) { return (out + kTile - 1) / kTile; }

/// Bytes of the nibbles of one tile (all inputs).
int64_t tileNibbleBytes(int64_t in) { return in * 16; }

/// Where weight (o, k)'s nibble is among the packed nibbles: its byte, and
/// 0 (low nibble) or 4 (high).
int64_t nibbleByte(int64_t o, int64_t k, int64_t in) {
  return (o / kTile) * tileNibbleBytes(in) + (k / 8) * 128 +
         ((o % kTile) / 16) * 64 + (o % 16) * 4 + (k % 8) / 2;
}
int nibbleShift(int64_t k) { return int(k % 2) * 4; }

/// f(std::integral_constant<int, j>) for j = 0 … N−1, unrolled: the nibble
/// shifts 4j are immediates (a shift by a register count costs a second
/// uop on the shuffle port).
template <int N, typename F> inline void forEachConstant(F &&f) {
  if constexpr (N > 0) {
    forEachConstant<N - 1>(f);
    f(std::integral_constant<int, N - 1>{});
  }
}

struct Q4Header {
  int64_t magic, out, in, group, asymmetric, bf16Scales;
};
constexpr int64_t kMagic = 0x333451534c494d53; // "SMILSQ43" (layout 3)

/// Floats per tile and group: d, and z·d when zero points are stored.
int64_t scaleFloats(bool asymmetric) { return (asymmetric ? 2 : 1) * kTile; }

/// Whether the scales are stored as bfloat16: Q4_0's d as quantizeQ4
/// rounds them (every one a bfloat16), not the min/max variant's z·d.
bool bf16Scales(const float *scales, int64_t n, bool asymmetric) {
  if (asymmetric)
    return false;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, &scales[i], 4);
    if (b & 0xffffu)
      return false;
  }
  return true;
}

/// The bfloat16 of tile scales, widened to floats (exact: the high 16 bits).
void widenBf16(const uint16_t *s, float *f, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_si512(
        f + i, _mm512_slli_epi32(
                   _mm512_cvtepu16_epi32(_mm256_loadu_si256(
                       reinterpret_cast<const __m256i *>(s + i))),
                   16));
#elif defined(__AVX2__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i *>(f + i),
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(
                              reinterpret_cast<const __m128i *>(s + i))),
                          16));
#elif defined(__aarch64__) && defined(__ARM_NEON)
  for (; i + 4 <= n; i += 4)
    vst1q_u32(reinterpret_cast<uint32_t *>(f + i),
              vshll_n_u16(vld1_u16(s + i), 16));
#endif
  for (; i < n; ++i) {
    uint32_t b = uint32_t(s[i]) << 16;
    std::memcpy(f + i, &b, 4);
  }
}

/// The floats of the tile this thread multiplies, when they are stored as
/// bfloat16 (widened once per tile by Q4Gemm::tile / tileW4A8).
thread_local std::vector<float> tileScalesBuf;

} // namespace

void quantizeQ4(const float *w, int64_t out, int64_t in, int64_t group,
                bool symmetric, uint8_t *q, float *scales, uint8_t *zeros) {
  const int64_t groups = in / group;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t g = 0; g < groups; ++g) {
      const float *x = w + o * in + g * group;
      uint8_t *qg = q + o * in + g * group;
      if (symmetric) {
        // Q4_0: d = m / −8 with m the element of largest magnitude (q =
        // 0), q = min(15, trunc(x/d + 8.5)).
        float m = 0.0f;
        for (int64_t i = 0; i < group; ++i)
          if (std::fabs(x[i]) > std::fabs(m))
            m = x[i];
        // d is rounded away from zero to a bfloat16 (|d| ≥ |m|/8, so the
        // error bound below holds with that d; packed in half the bytes).
        float d = m / -8.0f;
        uint32_t bits;
        std::memcpy(&bits, &d, 4);
        if (bits & 0xffffu)
          bits = (bits & 0xffff0000u) + 0x10000u;
        std::memcpy(&d, &bits, 4);
        const float inv = d != 0.0f ? 1.0f / d : 0.0f;
        for (int64_t i = 0; i < group; ++i)
          qg[i] = uint8_t(std::min(15, int(std::trunc(x[i] * inv + 8.5f))));
        scales[o * groups + g] = d;
        continue;
      }
      // Min/max: the range widened to include 0, s = (max − min) / 15,
      // z = round(−min / s) ∈ [0, 15], q = clamp(round(x/s) + z, 0, 15).
      float lo = 0.0f, hi = 0.0f;
      for (int64_t i = 0; i < group; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      float s = (hi - lo) / 15.0f;
      int z = s > 0.0f ? int(std::nearbyint(-lo / s)) : 0;
      z = std::min(15, std::max(0, z));
      float inv = s > 0.0f ? 1.0f / s : 0.0f;
      for (int64_t i = 0; i < group; ++i)
        qg[i] = uint8_t(std::min(
            15, std::max(0, int(std::nearbyint(x[i] * inv)) + z)));
      scales[o * groups + g] = s;
      zeros[o * groups + g] = uint8_t(z);
    }
}

int64_t packedQ4Bytes(int64_t out, int64_t in, int64_t group,
                      const float *scales, const uint8_t *zeros) {
  const int64_t groups = in / group;
  const bool asym = zeros != nullptr;
  const int64_t scaleBytes =
      bf16Scales(scales, out * groups, asym) ? 2 : int64_t(sizeof(float));
  return kHeader + tiles(out) * (tileNibbleBytes(in) +
                                 groups * scaleFloats(asym) * scaleBytes);
}

void packQ4Weight(const uint8_t *q, const float *scales, const uint8_t *zeros,
                  int64_t out, int64_t in, int64_t group, uint8_t *packed) {
  const int64_t groups = in / group, nt = tiles(out);
  const bool asym = zeros != nullptr;
  const bool bf16 = bf16Scales(scales, out * groups, asym);
  const int64_t sf = scaleFloats(asym);
  std::memset(packed, 0, size_t(packedQ4Bytes(out, in, group, scales, zeros)));
  Q4Header h{kMagic, out, in, group, asym, bf16};
  std::memcpy(packed, &h, sizeof h);
  uint8_t *nib = packed + kHeader;
  uint8_t *dz = nib + nt * tileNibbleBytes(in);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t t = o / kTile;
    for (int64_t k = 0; k < in; ++k)
      nib[nibbleByte(o, k, in)] |=
          uint8_t((q[o * in + k] & 15) << nibbleShift(k));
    for (int64_t g = 0; g < groups; ++g) {
      float d = scales[o * groups + g];
      const int64_t at = (t * groups + g) * sf + o % kTile;
      if (bf16) {
        uint32_t bits;
        std::memcpy(&bits, &d, 4);
        const uint16_t high = uint16_t(bits >> 16); // exact: checked above
        std::memcpy(dz + at * 2, &high, 2);
        continue;
      }
      std::memcpy(dz + at * 4, &d, 4);
      if (asym) {
        const float zd = float(zeros[o * groups + g]) * d;
        std::memcpy(dz + (at + kTile) * 4, &zd, 4);
      }
    }
  }
}

void unpackQ4Weight(const uint8_t *packed, int64_t out, int64_t in,
                    uint8_t *q) {
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < in; ++k)
      q[o * in + k] =
          (packed[kHeader + nibbleByte(o, k, in)] >> nibbleShift(k)) & 15;
}

namespace {

struct Q4Gemm {
  const float *x;
  int64_t rows, in, out, group;
  const uint8_t *packed; // past the header
  bool asym;
  const float *bias;
  float *y;
  const float *groupSums; // Σx per row and group (one-row path)
  int64_t perTask = 1;     // tiles per task (one run per thread)
  // W4A8 (when xq is set): the rows as int8, each run of 8 inputs stored
  // as its even inputs then its odd ones; their scales; Σ xq per row and
  // group.
  const int8_t *xq = nullptr;
  const float *xs = nullptr;
  const int32_t *qsums = nullptr;
  bool useAmx = false; // W4A8 blocks of 16 rows on AMX tiles
  bool bf16 = false; // scales stored as bfloat16
  /// Tile t's scales as floats: [group][d…, (z·d…)], scaleFloats(asym)
  /// per group — in place, or (bfloat16) the copy tile() / tileW4A8()
  /// widened for this thread.
  const float *scalesOf(int64_t t) const {
    if (bf16)
      return tileScalesBuf.data();
    return reinterpret_cast<const float *>(packed +
                                           tiles(out) * tileNibbleBytes(in)) +
           t * (in / group) * scaleFloats(asym);
  }
  void widenScales(int64_t t) const {
    if (!bf16)
      return;
    const int64_t n = (in / group) * scaleFloats(asym);
    widenBf16(reinterpret_cast<const uint16_t *>(
                  packed + tiles(out) * tileNibbleBytes(in)) +
                  t * n,
              growScratch(tileScalesBuf, size_t(n)), n);
  }
  void tile(int64_t t) const;
  void tileW4A8(int64_t t) const;
  /// Row r of a W4A8 tile from its per-group sums, y = (Σ_g d·(I_g −
  /// 8·S_g))·s_r + b for Q4_0 and (Σ_g d·I_g − z·d·S_g)·s_r + b with zero
  /// points, each term one fma in that order on every path.
  void storeW4A8(int64_t t, int64_t r, const float *total) const {
    for (int64_t l = 0; l < kTile && t * kTile + l < out; ++l) {
      int64_t o = t * kTile + l;
      y[r * out + o] = std::fma(total[l], xs[r], bias ? bias[o] : 0.0f);
    }
  }
#ifdef SLIM_HAVE_AVX512
  template <int R> void rowsBlock(int64_t t, int64_t r) const;
  void oneRow(int64_t t, int64_t r) const;
#endif
#ifdef SLIM_HAVE_VNNI
  template <int R> void rowsBlockW4A8(int64_t t, int64_t r) const;
  void unpackTileAmx(int64_t t, uint8_t *b) const;
  int64_t rowsAmx(int64_t t, const uint8_t *b) const;
#endif
#ifdef SLIM_HAVE_AVX2
  template <int R> void rowsW4A8Avx2(int64_t t, int64_t r) const;
  template <int R>
  void groupW4A8AvxVnni(const uint8_t *nib, int64_t r, int64_t g, int half,
                        __m256i (&acc)[R][2]) const;
  template <int R> void rowsAvx2(int64_t t, int64_t r) const;
#endif
#ifdef SLIM_HAVE_NEON
  void rowW4A8Neon(int64_t t, int64_t r) const;
  template <int R> void rowsNeon(int64_t t, int64_t r) const;
#endif
  void store(int64_t t, int64_t r, const float *acc) const {
    for (int64_t l = 0; l < kTile && t * kTile + l < out; ++l) {
      int64_t o = t * kTile + l;
      y[r * out + o] = acc[l] + (bias ? bias[o] : 0.0f);
    }
  }
};

#ifdef SLIM_HAVE_AVX512
/// Rows r … r+R−1 of tile t: each unpacked weight vector feeds R rows.
template <int R> void Q4Gemm::rowsBlock(int64_t t, int64_t r) const {
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const __m512 values = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                       12, 13, 14, 15);
  const __m512 eight = _mm512_set1_ps(8.0f);
  __m512 acc[R][2];
  for (int i = 0; i < R; ++i)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const float *p = dz + g * sf;
    __m512 d0 = _mm512_loadu_ps(p), d1 = _mm512_loadu_ps(p + 16);
    __m512 z0 = asym ? _mm512_loadu_ps(p + 32) : _mm512_mul_ps(d0, eight);
    __m512 z1 = asym ? _mm512_loadu_ps(p + 48) : _mm512_mul_ps(d1, eight);
    for (int64_t k8 = g * group / 8; k8 < (g + 1) * group / 8; ++k8) {
      const __m512i v0 = _mm512_loadu_si512(nib + k8 * 128),
                    v1 = _mm512_loadu_si512(nib + k8 * 128 + 64);
      forEachConstant<8>([&](auto jc) {
        constexpr int j = decltype(jc)::value;
        // q as float by a table lookup (vpermps reads the low 4 bits).
        __m512 w0 = _mm512_fmsub_ps(
            _mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4 * j), values), d0,
            z0);
        __m512 w1 = _mm512_fmsub_ps(
            _mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4 * j), values), d1,
            z1);
        for (int i = 0; i < R; ++i) {
          __m512 xb = _mm512_set1_ps(x[(r + i) * in + k8 * 8 + j]);
          acc[i][0] = _mm512_fmadd_ps(xb, w0, acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(xb, w1, acc[i][1]);
        }
      });
    }
  }
  for (int i = 0; i < R; ++i) {
    alignas(64) float tmp[kTile];
    _mm512_store_ps(tmp, acc[i][0]);
    _mm512_store_ps(tmp + 16, acc[i][1]);
    store(t, r + i, tmp);
  }
}

/// One row (a decode step): no dequantization per weight: per group Σ q·x
/// in 2 independent accumulator pairs, then d·Σq·x − z·d·Σx.
void Q4Gemm::oneRow(int64_t t, int64_t r) const {
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const float *xr = x + r * in;
  const float *sums = groupSums + r * groups;
  const __m512 values = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                       12, 13, 14, 15);
  const __m512 eight = _mm512_set1_ps(8.0f);
  __m512 total0 = _mm512_setzero_ps(), total1 = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    __m512 acc[2][2];
    for (auto &a : acc)
      a[0] = a[1] = _mm512_setzero_ps();
    for (int64_t k8 = g * group / 8; k8 < (g + 1) * group / 8; ++k8) {
      // The nibbles stream from memory at 128 bytes per 256 multiply-adds:
      // fetch ahead, or the loads' latency bounds the loop.
      const uint8_t *n = nib + k8 * 128;
      _mm_prefetch(reinterpret_cast<const char *>(n + kPrefetch), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(n + kPrefetch + 64),
                   _MM_HINT_T0);
      const __m512i v0 = _mm512_loadu_si512(n), v1 = _mm512_loadu_si512(n + 64);
      const float *xk = xr + k8 * 8;
      forEachConstant<8>([&](auto jc) {
        constexpr int j = decltype(jc)::value;
        __m512 xb = _mm512_set1_ps(xk[j]);
        acc[j & 1][0] = _mm512_fmadd_ps(
            xb, _mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4 * j), values),
            acc[j & 1][0]);
        acc[j & 1][1] = _mm512_fmadd_ps(
            xb, _mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4 * j), values),
            acc[j & 1][1]);
      });
    }
    const float *p = dz + g * sf;
    __m512 d0 = _mm512_loadu_ps(p), d1 = _mm512_loadu_ps(p + 16);
    __m512 z0 = asym ? _mm512_loadu_ps(p + 32) : _mm512_mul_ps(d0, eight);
    __m512 z1 = asym ? _mm512_loadu_ps(p + 48) : _mm512_mul_ps(d1, eight);
    __m512 sx = _mm512_set1_ps(sums[g]);
    __m512 a0 = _mm512_add_ps(acc[0][0], acc[1][0]);
    __m512 a1 = _mm512_add_ps(acc[0][1], acc[1][1]);
    total0 = _mm512_fnmadd_ps(z0, sx, _mm512_fmadd_ps(d0, a0, total0));
    total1 = _mm512_fnmadd_ps(z1, sx, _mm512_fmadd_ps(d1, a1, total1));
  }
  alignas(64) float tmp[kTile];
  _mm512_store_ps(tmp, total0);
  _mm512_store_ps(tmp + 16, total1);
  store(t, r, tmp);
}
#endif

#ifdef SLIM_HAVE_VNNI
/// W4A8, rows r … r+R−1 of tile t. Per run of 8 inputs the two 64-byte
/// loads give 16 outputs × 8 nibbles each; masking the low nibbles of
/// each byte gives, per output, its even inputs as 4 unsigned bytes — one
/// vpdpbusd operand against the row's 4 even int8 inputs broadcast — and
/// shifting by 4 first its odd ones. The int32 sums of a group (|I| ≤
/// 15·127·128) are scaled once per group.
template <int R> void Q4Gemm::rowsBlockW4A8(int64_t t, int64_t r) const {
  constexpr int V = kTile / 16; // vectors of 16 outputs
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const __m512i low = _mm512_set1_epi8(0x0F);
  __m512 total[R][V];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < V; ++v)
      total[i][v] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    // Q4_0 (z = 8) starts the sums at −8·S: I − 8·S exactly, in integers.
    __m512i acc[R][V];
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < V; ++v)
        acc[i][v] = asym ? _mm512_setzero_si512()
                         : _mm512_set1_epi32(-8 * qsums[(r + i) * groups + g]);
    for (int64_t k8 = g * group / 8; k8 < (g + 1) * group / 8; ++k8) {
      if (R <= 2) {
        // A decode step streams the nibbles at 128 bytes per 8 × 32 × R
        // multiply-adds: fetch ahead, as the float one-row loop does.
        const char *n = reinterpret_cast<const char *>(nib + k8 * 128);
        _mm_prefetch(n + kPrefetch, _MM_HINT_T0);
        _mm_prefetch(n + kPrefetch + 64, _MM_HINT_T0);
      }
      __m512i e[V], o[V];
      for (int v = 0; v < V; ++v) {
        const __m512i w = _mm512_loadu_si512(nib + k8 * 128 + v * 64);
        e[v] = _mm512_and_si512(w, low);
        o[v] = _mm512_and_si512(_mm512_srli_epi32(w, 4), low);
      }
      for (int i = 0; i < R; ++i) {
        const int8_t *xr = xq + (r + i) * in + k8 * 8;
        int32_t even, odd;
        std::memcpy(&even, xr, 4);
        std::memcpy(&odd, xr + 4, 4);
        const __m512i xe = _mm512_set1_epi32(even), xo = _mm512_set1_epi32(odd);
        for (int v = 0; v < V; ++v)
          acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], e[v], xe);
        for (int v = 0; v < V; ++v)
          acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], o[v], xo);
      }
    }
    const float *p = dz + g * sf;
    for (int v = 0; v < V; ++v) {
      const __m512 d = _mm512_loadu_ps(p + 16 * v);
      for (int i = 0; i < R; ++i)
        total[i][v] =
            _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc[i][v]), total[i][v]);
    }
    if (asym)
      for (int v = 0; v < V; ++v) {
        const __m512 z = _mm512_loadu_ps(p + kTile + 16 * v);
        for (int i = 0; i < R; ++i)
          total[i][v] = _mm512_fnmadd_ps(
              z, _mm512_set1_ps(float(qsums[(r + i) * groups + g])),
              total[i][v]);
      }
  }
  for (int i = 0; i < R; ++i) {
    alignas(64) float tmp[kTile];
    for (int v = 0; v < V; ++v)
      _mm512_store_ps(tmp + 16 * v, total[i][v]);
    storeW4A8(t, r + i, tmp);
  }
}
#endif

#ifdef SLIM_HAVE_AVX2
/// A run's nibbles for 16 outputs (`w`: 64 bytes, two vectors of 8 words):
/// each word's even inputs 0, 2, 4, 6 (low nibbles) and odd ones as bytes.
__attribute__((always_inline)) inline void
nibblesAvx2(const uint8_t *w, __m256i (&lo)[2], __m256i (&hi)[2]) {
  const __m256i low = _mm256_set1_epi8(0x0F);
  for (int v = 0; v < 2; ++v) {
    const __m256i wv =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + 32 * v));
    lo[v] = _mm256_and_si256(wv, low);
    hi[v] = _mm256_and_si256(_mm256_srli_epi16(wv, 4), low);
  }
}

/// W4A8, rows r … r+R−1 of tile t, 16 outputs (two vectors of 8) at a
/// time: per group 2R int32 sums, then total += d · sum (and − z·d · S).
template <int R>
void Q4Gemm::rowsW4A8Avx2(int64_t t, int64_t r) const {
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const __m256i ones = _mm256_set1_epi16(1);
  const bool avxVnni = cpu::hasAvxVnni();
  alignas(32) float total[R][kTile];
  for (int half = 0; half < 2; ++half) {
    __m256 tot[R][2];
    for (auto &row : tot)
      row[0] = row[1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
      __m256i acc[R][2];
      for (int i = 0; i < R; ++i) {
        const __m256i start =
            _mm256_set1_epi32(asym ? 0 : -8 * qsums[(r + i) * groups + g]);
        acc[i][0] = acc[i][1] = start;
      }
      if (avxVnni) {
        groupW4A8AvxVnni<R>(nib, r, g, half, acc);
      } else {
      for (int64_t k = g * group; k < (g + 1) * group; k += 8) {
        __m256i lo[2], hi[2];
        nibblesAvx2(nib + (k / 8) * 128 + half * 64, lo, hi);
        for (int i = 0; i < R; ++i) {
          int32_t ev, od;
          std::memcpy(&ev, xq + (r + i) * in + k, 4);
          std::memcpy(&od, xq + (r + i) * in + k + 4, 4);
          const __m256i xe = _mm256_set1_epi32(ev), xo = _mm256_set1_epi32(od);
          for (int v = 0; v < 2; ++v) {
            const __m256i p16 =
                _mm256_add_epi16(_mm256_maddubs_epi16(lo[v], xe),
                                 _mm256_maddubs_epi16(hi[v], xo));
            acc[i][v] =
                _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(p16, ones));
          }
        }
      }
      }
      const float *p = dz + g * sf + half * 16;
      for (int i = 0; i < R; ++i) {
        const __m256 sv = _mm256_set1_ps(float(qsums[(r + i) * groups + g]));
        for (int v = 0; v < 2; ++v) {
          tot[i][v] = _mm256_fmadd_ps(_mm256_loadu_ps(p + 8 * v),
                                      _mm256_cvtepi32_ps(acc[i][v]),
                                      tot[i][v]);
          if (asym)
            tot[i][v] = _mm256_fnmadd_ps(_mm256_loadu_ps(p + kTile + 8 * v),
                                         sv, tot[i][v]);
        }
      }
    }
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < 2; ++v)
        _mm256_store_ps(total[i] + half * 16 + 8 * v, tot[i][v]);
  }
  for (int i = 0; i < R; ++i)
    storeW4A8(t, r + i, total[i]);
}

/// With AVX-VNNI (picked at run time by cpuid, as QKernels.cpp's int8
/// block): group g's sums for half `half` of the tile, added to `acc`,
/// by 256-bit vpdpbusd of the nibbles (unsigned) and the activations
/// (signed) — vpmaddubsw's pair sums stay far from saturation (≤ 2 · 15 ·
/// 128), so both give the same integers. Never inlined: the VNNI
/// instructions stay in this function.
template <int R>
__attribute__((target("avxvnni"), noinline)) void
Q4Gemm::groupW4A8AvxVnni(const uint8_t *nib, int64_t r, int64_t g, int half,
                         __m256i (&acc)[R][2]) const {
  for (int64_t k = g * group; k < (g + 1) * group; k += 8) {
    __m256i lo[2], hi[2];
    nibblesAvx2(nib + (k / 8) * 128 + half * 64, lo, hi);
    for (int i = 0; i < R; ++i) {
      int32_t ev, od;
      std::memcpy(&ev, xq + (r + i) * in + k, 4);
      std::memcpy(&od, xq + (r + i) * in + k + 4, 4);
      const __m256i xe = _mm256_set1_epi32(ev), xo = _mm256_set1_epi32(od);
      for (int v = 0; v < 2; ++v)
        acc[i][v] = _mm256_dpbusd_avx_epi32(
            _mm256_dpbusd_avx_epi32(acc[i][v], lo[v], xe), hi[v], xo);
    }
  }
}

/// Float activations, rows r … r+R−1 of tile t, 8 outputs at a time: each
/// input's 8 weights dequantized once (q·d − z·d) for the R rows.
template <int R>
void Q4Gemm::rowsAvx2(int64_t t, int64_t r) const {
  const int64_t sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const __m256i low = _mm256_set1_epi32(15);
  alignas(32) float accOut[R][kTile];
  for (int v = 0; v < kTile / 8; ++v) {
    __m256 acc[R];
    for (auto &a : acc)
      a = _mm256_setzero_ps();
    for (int64_t g = 0; g < in / group; ++g) {
      const float *p = dz + g * sf + 8 * v;
      const __m256 d = _mm256_loadu_ps(p);
      const __m256 zd = asym ? _mm256_loadu_ps(p + kTile)
                             : _mm256_mul_ps(_mm256_set1_ps(8.0f), d);
      for (int64_t k = g * group; k < (g + 1) * group; k += 8) {
        const __m256i wv = _mm256_loadu_si256(
            reinterpret_cast<const __m256i *>(nib + (k / 8) * 128 + 32 * v));
        forEachConstant<8>([&](auto j) {
          const __m256 q = _mm256_cvtepi32_ps(
              _mm256_and_si256(_mm256_srli_epi32(wv, 4 * j.value), low));
          const __m256 wf = _mm256_fmsub_ps(q, d, zd);
          for (int i = 0; i < R; ++i)
            acc[i] = _mm256_fmadd_ps(
                _mm256_broadcast_ss(x + (r + i) * in + k + j.value), wf,
                acc[i]);
        });
      }
    }
    for (int i = 0; i < R; ++i)
      _mm256_store_ps(accOut[i] + 8 * v, acc[i]);
  }
  for (int i = 0; i < R; ++i)
    store(t, r + i, accOut[i]);
}
#endif

#ifdef SLIM_HAVE_NEON
/// W4A8, row r of tile t, 4 outputs at a time: per group the int32 sums
/// by vmull_s8 / vpadalq_s16, then the plain loops' float terms.
void Q4Gemm::rowW4A8Neon(int64_t t, int64_t r) const {
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  const uint8x16_t low = vdupq_n_u8(0x0F);
  float total[kTile] = {};
  for (int64_t o = 0; o < kTile; o += 4) {
    for (int64_t g = 0; g < groups; ++g) {
      int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
      for (int64_t k = g * group; k < (g + 1) * group; k += 8) {
        // Outputs o … o+3: their words of 8 nibbles (16 bytes).
        const uint8x16_t w = vld1q_u8(nib + (k / 8) * 128 + o * 4);
        const int8x16_t ev = vreinterpretq_s8_u8(vandq_u8(w, low)),
                        od = vreinterpretq_s8_u8(vshrq_n_u8(w, 4));
        int32_t e, d;
        std::memcpy(&e, xq + r * in + k, 4);
        std::memcpy(&d, xq + r * in + k + 4, 4);
        const int8x16_t xe = vreinterpretq_s8_s32(vdupq_n_s32(e)),
                        xo = vreinterpretq_s8_s32(vdupq_n_s32(d));
        lo = vpadalq_s16(lo, vaddq_s16(vmull_s8(vget_low_s8(ev), vget_low_s8(xe)),
                                       vmull_s8(vget_low_s8(od), vget_low_s8(xo))));
        hi = vpadalq_s16(hi, vaddq_s16(vmull_s8(vget_high_s8(ev), vget_high_s8(xe)),
                                       vmull_s8(vget_high_s8(od), vget_high_s8(xo))));
      }
      int32_t sums[4];
      vst1q_s32(sums, vpaddq_s32(lo, hi));
      const float *p = dz + g * sf;
      const int32_t qs = qsums[r * groups + g];
      for (int64_t l = o; l < o + 4; ++l) {
        const int32_t acc = sums[l - o] + (asym ? 0 : -8 * qs);
        total[l] = std::fma(p[l], float(acc), total[l]);
        if (asym)
          total[l] = std::fma(-p[kTile + l], float(qs), total[l]);
      }
    }
  }
  storeW4A8(t, r, total);
}

/// Float activations, rows r … r+R−1 of tile t, 4 outputs at a time: each
/// input's 4 weights dequantized once (q·d − z·d) for the R rows.
template <int R>
void Q4Gemm::rowsNeon(int64_t t, int64_t r) const {
  const int64_t sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  float accOut[R][kTile];
  for (int64_t o = 0; o < kTile; o += 4) {
    float32x4_t acc[R];
    for (auto &a : acc)
      a = vdupq_n_f32(0.0f);
    for (int64_t g = 0; g < in / group; ++g) {
      const float *p = dz + g * sf + o;
      const float32x4_t d = vld1q_f32(p);
      const float32x4_t zd =
          asym ? vld1q_f32(p + kTile) : vmulq_n_f32(d, 8.0f);
      for (int64_t k = g * group; k < (g + 1) * group; k += 8) {
        const uint32x4_t w = vld1q_u32(
            reinterpret_cast<const uint32_t *>(nib + (k / 8) * 128 + o * 4));
        for (int j = 0; j < 8; ++j) {
          const float32x4_t q = vcvtq_f32_u32(
              vandq_u32(vshlq_u32(w, vdupq_n_s32(-4 * j)), vdupq_n_u32(15)));
          const float32x4_t wf = vsubq_f32(vmulq_f32(q, d), zd);
          for (int i = 0; i < R; ++i)
            acc[i] = vfmaq_n_f32(acc[i], wf, x[(r + i) * in + k + j]);
        }
      }
    }
    for (int i = 0; i < R; ++i)
      vst1q_f32(accOut[i] + o, acc[i]);
  }
  for (int i = 0; i < R; ++i)
    store(t, r + i, accOut[i]);
}
#endif

#ifdef SLIM_HAVE_VNNI
/// W4A8 with AMX (rows ≥ 16): tile t's nibbles unpacked once into B
/// tiles — per 32 inputs and vector of 16 outputs, 8 rows of 64 bytes, row
/// 2m holding each output's inputs 8m+0, 2, 4, 6 and row 2m+1 its 8m+1,
/// 3, 5, 7 (the even and odd nibbles, the order the activations are
/// stored in). Q4_0's nibbles are stored as q − 8 (signed: tdpbssd then
/// sums I − 8·S directly); with zero points as q (unsigned: tdpbsud).
void Q4Gemm::unpackTileAmx(int64_t t, uint8_t *b) const {
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const __m512i low = _mm512_set1_epi8(0x0F);
  const __m512i bias = _mm512_set1_epi8(asym ? 0 : 8);
  for (int64_t k8 = 0; k8 < in / 8; ++k8)
    for (int v = 0; v < 2; ++v) {
      const __m512i w = _mm512_loadu_si512(nib + k8 * 128 + v * 64);
      uint8_t *rows = b + ((k8 / 4) * 2 + v) * 512 + (k8 % 4) * 128;
      _mm512_storeu_si512(rows, _mm512_sub_epi8(_mm512_and_si512(w, low), bias));
      _mm512_storeu_si512(
          rows + 64,
          _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi32(w, 4), low), bias));
    }
}

namespace {
/// Group g's products of 16 rows (from xq's row r0) and 16 outputs into
/// tile C: one tdpbssd (Q4_0) or tdpbsud (zero points) per 32 inputs, A in
/// tile A, B in tile B. Tile numbers are immediates, hence the template.
template <int A, int B, int C>
__attribute__((target("amx-tile,amx-int8"), always_inline)) inline void
groupProducts(const int8_t *xq, int64_t in, const uint8_t *b, int v,
              int64_t k0, int64_t k1, bool asym) {
  _tile_zero(C);
  for (int64_t k = k0; k < k1; k += 32) {
    _tile_loadd(A, xq + k, in);
    _tile_loadd(B, b + (k / 32) * 1024 + v * 512, 64);
    if (asym)
      _tile_dpbsud(C, A, B);
    else
      _tile_dpbssd(C, A, B);
  }
}

/// Group sums of C tile 4 (slot 0) or 5 into 16 rows' totals: total +=
/// d · float(sum), then with zero points − z·d · S (S: the row's Σ xq of
/// the group, qs[i · stride]).
__attribute__((target("amx-tile,amx-int8,avx512f"), always_inline)) inline void
scaleGroup(int slot, const float *p, bool asym, const int32_t *qs,
           int64_t stride, __m512 (&total)[16]) {
  alignas(64) int32_t c[16][16];
  if (slot == 0)
    _tile_stored(4, c, 64);
  else
    _tile_stored(5, c, 64);
  const __m512 d = _mm512_loadu_ps(p);
  for (int i = 0; i < 16; ++i)
    total[i] =
        _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_load_si512(c[i])), total[i]);
  if (asym) {
    const __m512 z = _mm512_loadu_ps(p + kTile);
    for (int i = 0; i < 16; ++i)
      total[i] = _mm512_fnmadd_ps(z, _mm512_set1_ps(float(qs[i * stride])),
                                  total[i]);
  }
}
} // namespace

/// The blocks of 16 rows of tile t from the unpacked nibbles `b`; returns
/// the rows done. Per block and vector of 16 outputs the float totals
/// stay in 16 registers; the groups' int32 sums go through two C tiles in
/// turn, so group g+1's products run while group g's sums are scaled
/// (total += d · float(I − 8·S), then − z·d·S with zero points: the VNNI
/// kernel's integers and float operations, so the two give equal outputs
/// bit for bit). Groups of 32 still leave the tiles once per 32 inputs,
/// but at one tile store and 16 conversions and fmas per 8192
/// multiply-adds. Loads its own tile shapes (A 16 × 32 bytes, B 8 × 64, C
/// 16 × 64) and puts the shared configuration back (Cpuid.h).
__attribute__((target("amx-tile,amx-int8"), noinline)) int64_t
Q4Gemm::rowsAmx(int64_t t, const uint8_t *b) const {
  cpu::TileConfig cfg;
  for (int i : {0, 1}) {
    cfg.colsb[i] = 32;
    cfg.rows[i] = 16; // A: 16 rows' 32 activations
  }
  for (int i : {2, 3}) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 8; // B: 32 inputs × 16 outputs
  }
  for (int i : {4, 5}) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16; // C: 16 rows × 16 outputs
  }
  _tile_loadconfig(&cfg);
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const float *dz = scalesOf(t);
  int64_t r = 0;
  for (; r + 16 <= rows; r += 16) {
    const int8_t *a = xq + r * in;
    for (int v = 0; v < 2; ++v) {
      __m512 total[16];
      for (auto &tv : total)
        tv = _mm512_setzero_ps();
      const int32_t *qs = qsums + r * groups;
      groupProducts<0, 2, 4>(a, in, b, v, 0, group, asym);
      for (int64_t g = 0; g < groups; g += 2) {
        if (g + 1 < groups)
          groupProducts<1, 3, 5>(a, in, b, v, (g + 1) * group,
                                 (g + 2) * group, asym);
        scaleGroup(0, dz + g * sf + 16 * v, asym, qs + g, groups, total);
        if (g + 1 < groups) {
          if (g + 2 < groups)
            groupProducts<0, 2, 4>(a, in, b, v, (g + 2) * group,
                                   (g + 3) * group, asym);
          scaleGroup(1, dz + (g + 1) * sf + 16 * v, asym, qs + g + 1, groups,
                     total);
        }
      }
      const int64_t o0 = t * kTile + 16 * v;
      if (o0 >= out)
        continue;
      const __mmask16 m = out - o0 >= 16 ? __mmask16(0xFFFF)
                                          : __mmask16((1u << (out - o0)) - 1);
      const __m512 bv =
          bias ? _mm512_maskz_loadu_ps(m, bias + o0) : _mm512_setzero_ps();
      for (int i = 0; i < 16; ++i)
        _mm512_mask_storeu_ps(
            y + (r + i) * out + o0, m,
            _mm512_fmadd_ps(total[i], _mm512_set1_ps(xs[r + i]), bv));
    }
  }
  cpu::loadStandardTiles();
  return r;
}
#endif

void Q4Gemm::tileW4A8(int64_t t) const {
#if defined(SLIM_HAVE_AVX2)
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2)
    rowsW4A8Avx2<2>(t, r);
  if (r < rows)
    rowsW4A8Avx2<1>(t, r);
#elif defined(SLIM_HAVE_NEON)
  for (int64_t r = 0; r < rows; ++r)
    rowW4A8Neon(t, r);
#elif defined(SLIM_HAVE_VNNI)
  int64_t r = 0;
  if (rows >= 16 && group % 32 == 0 && useAmx) {
    thread_local std::vector<uint8_t> unpacked;
    uint8_t *b = growScratch(unpacked, size_t(in * 32));
    unpackTileAmx(t, b);
    r = rowsAmx(t, b);
  }
  for (; r + 5 <= rows; r += 5)
    rowsBlockW4A8<5>(t, r);
  switch (rows - r) {
  case 4: rowsBlockW4A8<4>(t, r); break;
  case 3: rowsBlockW4A8<3>(t, r); break;
  case 2: rowsBlockW4A8<2>(t, r); break;
  case 1: rowsBlockW4A8<1>(t, r); break;
  default: break;
  }
#else
  // The same integers, and the same float operations in the same order.
  const int64_t groups = in / group, sf = scaleFloats(asym);
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  for (int64_t r = 0; r < rows; ++r) {
    float total[kTile] = {};
    for (int64_t g = 0; g < groups; ++g) {
      const float *p = dz + g * sf;
      const float s = float(qsums[r * groups + g]);
      for (int64_t l = 0; l < kTile; ++l) {
        int32_t acc = asym ? 0 : -8 * qsums[r * groups + g];
        for (int64_t k = g * group; k < (g + 1) * group; ++k) {
          int q = (nib[nibbleByte(l, k, in)] >> nibbleShift(k)) & 15;
          // Input k's place among its run's even-then-odd bytes.
          int64_t j = k % 8, at = k - j + (j % 2) * 4 + j / 2;
          acc += q * int32_t(xq[r * in + at]);
        }
        total[l] = std::fma(p[l], float(acc), total[l]);
        if (asym)
          total[l] = std::fma(-p[kTile + l], s, total[l]);
      }
    }
    storeW4A8(t, r, total);
  }
#endif
}

void Q4Gemm::tile(int64_t t) const {
  widenScales(t);
  if (xq)
    return tileW4A8(t);
#ifdef SLIM_HAVE_AVX512
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8)
    rowsBlock<8>(t, r);
  switch (rows - r) {
  case 7: rowsBlock<7>(t, r); break;
  case 6: rowsBlock<6>(t, r); break;
  case 5: rowsBlock<5>(t, r); break;
  case 4: rowsBlock<4>(t, r); break;
  case 3: rowsBlock<3>(t, r); break;
  case 2: rowsBlock<2>(t, r); break;
  case 1: oneRow(t, r); break;
  default: break;
  }
#elif defined(SLIM_HAVE_NEON)
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    rowsNeon<4>(t, r);
  switch (rows - r) {
  case 3: rowsNeon<3>(t, r); break;
  case 2: rowsNeon<2>(t, r); break;
  case 1: rowsNeon<1>(t, r); break;
  default: break;
  }
#elif defined(SLIM_HAVE_AVX2)
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    rowsAvx2<4>(t, r);
  switch (rows - r) {
  case 3: rowsAvx2<3>(t, r); break;
  case 2: rowsAvx2<2>(t, r); break;
  case 1: rowsAvx2<1>(t, r); break;
  default: break;
  }
#else
  const uint8_t *nib = packed + t * tileNibbleBytes(in);
  const float *dz = scalesOf(t);
  for (int64_t r = 0; r < rows; ++r) {
    float acc[kTile] = {};
    for (int64_t k = 0; k < in; ++k) {
      const float *p = dz + (k / group) * scaleFloats(asym);
      for (int64_t l = 0; l < kTile; ++l) {
        int q = (nib[nibbleByte(l, k, in)] >> nibbleShift(k)) & 15;
        float zd = asym ? p[kTile + l] : 8.0f * p[l];
        acc[l] += x[r * in + k] * (float(q) * p[l] - zd);
      }
    }
    store(t, r, acc);
  }
#endif
}

/// Task i: the run of tiles [i·perTask, (i+1)·perTask) — contiguous
/// memory, so each thread's nibbles stream in order (and the prefetch
/// ahead of one tile's end lands in the next).
int q4Task(void *, int i, uint8_t *closure) {
  const Q4Gemm *job = reinterpret_cast<const Q4Gemm *>(closure);
  const int64_t end = std::min(tiles(job->out), (i + 1) * job->perTask);
  for (int64_t t = i * job->perTask; t < end; ++t)
    job->tile(t);
  return 0;
}

} // namespace

void quantizeRowsW4A8(const float *x, int64_t rows, int64_t in,
                      int64_t group, int8_t *xq, float *scales,
                      int32_t *sums) {
  SLIM_V4(quantizeRowsW4A8, x, rows, in, group, xq, scales, sums);
  // quantizeRows' values (q + 128 as bytes), reordered and made signed.
  const int64_t groups = in / group;
  thread_local std::vector<uint8_t> biasedBuf;
  uint8_t *biased = growScratch(biasedBuf, size_t(in));
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *b = biased;
    quantizeRows(x + r * in, 1, in, biased, scales + r);
    int8_t *q = xq + r * in;
    int64_t k = 0;
#ifdef SLIM_HAVE_AVX512
    // 32 bytes at a time (groups are multiples of 32): a byte shuffle
    // within each 8, the top bit flipped (−128), and Σ (q + 128) of each
    // 8 by vpsadbw.
    const __m256i order = _mm256_setr_epi8(
        0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15, 0, 2, 4, 6, 1, 3,
        5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
    const __m256i top = _mm256_set1_epi8(char(0x80));
    for (int64_t g = 0; g < groups; ++g) {
      __m256i sum = _mm256_setzero_si256();
      for (; k < (g + 1) * group; k += 32) {
        __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + k));
        sum = _mm256_add_epi64(sum, _mm256_sad_epu8(v, _mm256_setzero_si256()));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + k),
                            _mm256_xor_si256(_mm256_shuffle_epi8(v, order), top));
      }
      alignas(32) int64_t lanes[4];
      _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), sum);
      sums[r * groups + g] =
          int32_t(lanes[0] + lanes[1] + lanes[2] + lanes[3] - 128 * group);
    }
#else
    for (; k < in; k += 8)
      for (int j = 0; j < 8; ++j)
        q[k + (j % 2) * 4 + j / 2] = int8_t(int(b[k + j]) - 128);
    for (int64_t g = 0; g < groups; ++g) {
      int32_t s = 0;
      for (int64_t i = g * group; i < (g + 1) * group; ++i)
        s += q[i];
      sums[r * groups + g] = s;
    }
#endif
  }
}

bool q4linear(const float *x, int64_t rows, int64_t in, const uint8_t *packed,
              int64_t group, const float *bias, int64_t out, float *y,
              std::string &error, LinearAct act, bool int8Acts) {
  SLIM_V4(q4linear, x, rows, in, packed, group, bias, out, y, error, act,
          int8Acts);
  Q4Header h;
  std::memcpy(&h, packed, sizeof h);
  if (h.magic != kMagic || h.out != out || h.in != in || h.group != group ||
      group % 8 != 0) {
    error = "q4linear: the packed weight is not [" + std::to_string(out) +
            ", " + std::to_string(in) + "] in groups of " +
            std::to_string(group);
    return false;
  }
  // Σx per row and group, for the one-row path (a single row, or the last
  // of 8k + 1).
  const int64_t groups = in / group;
  thread_local std::vector<float> sumsBuf;
  const int64_t nSums = rows % 8 == 1 && !int8Acts ? rows * groups : 0;
  float *sums = growScratch(sumsBuf, size_t(nSums));
  for (int64_t i = 0; i < nSums; ++i) {
    const float *xs = x + (i / groups) * in + (i % groups) * group;
    float s = 0.0f;
    for (int64_t k = 0; k < group; ++k)
      s += xs[k];
    sums[i] = s;
  }
  Q4Gemm job{x, rows, in, out, group, packed + kHeader, h.asymmetric != 0,
             bias, y, sums};
  job.bf16 = h.bf16Scales != 0;
  if (int8Acts) {
    // Scratch kept per thread between calls, grown only (as qlinear's).
    thread_local std::vector<int8_t> xqBuf;
    thread_local std::vector<float> xsBuf;
    thread_local std::vector<int32_t> qsumsBuf;
    int8_t *xq = growScratch(xqBuf, size_t(rows * in));
    float *xs = growScratch(xsBuf, size_t(rows));
    int32_t *qsums = growScratch(qsumsBuf, size_t(rows * groups));
    // The rows quantized in parallel too, as qlinear's.
    struct Quantize {
      const float *x;
      int64_t rows, in, group, per;
      int8_t *xq;
      float *xs;
      int32_t *sums;
    } qj{x, rows, in, group, runLength(rows), xq, xs, qsums};
    halide_do_par_for(
        nullptr,
        [](void *, int i, uint8_t *closure) {
          const Quantize *j = reinterpret_cast<const Quantize *>(closure);
          const int64_t r0 = i * j->per, n = std::min(j->per, j->rows - r0);
          quantizeRowsW4A8(j->x + r0 * j->in, n, j->in, j->group,
                           j->xq + r0 * j->in, j->xs + r0,
                           j->sums + r0 * (j->in / j->group));
          return 0;
        },
        0, int((rows + qj.per - 1) / qj.per), reinterpret_cast<uint8_t *>(&qj));
    job.xq = xq;
    job.xs = xs;
    job.qsums = qsums;
#ifdef SLIM_HAVE_VNNI
    job.useAmx = cpu::useAmx();
#endif
  }
  job.perTask = runLength(tiles(out));
  halide_do_par_for(nullptr, q4Task, 0,
                    int((tiles(out) + job.perTask - 1) / job.perTask),
                    reinterpret_cast<uint8_t *>(&job));
  applyLinearAct(act, y, rows * out);
  return true;
}

} // namespace slim::rt
