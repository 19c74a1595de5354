//===- QAttention.cpp - int8 attention (slim.attention int8) --------------===//
//
// softmax(q·kᵀ·scale + key terms + bias)·v with both products in integers,
// what `slim-quantize attention=1` asks for (Q-HyViT's setting: the
// attention's matrix products quantized as well as the linears):
//
//   q̂[t,e] = round(q[t,e]/sq[t]), sq[t] = max_e |q[t,e]| / 127 (per query
//            and head), k̂[j,e] likewise per key and kv head (sk[j]);
//   x[t,j] = float(Σ_e q̂·k̂) · (sq[t]·scale) · sk[j] + key term[j] + bias;
//   p̂[t,j] = round(255 · 2^((x[t,j] − max_j x[t,j])·log2 e)) in 0 … 255,
//            2^f a degree-3 polynomial after range reduction (relative
//            error ≤ 1.1e-4: at most 0.03 of a step of p̂);
//   v̂[j,c] = round(v[j,c]/sv[c]), sv[c] = max_j |v[j,c]| / 127 (per value
//            column over the keys);
//   out[t,c] = float(Σ_j p̂·v̂) · (sv[c] · 1/Σ_j p̂).
//
// Both sums are exact in int32 (|Σ_j p̂·v̂| ≤ 255·127·S: S ≤ 65536 keys,
// checked by the pass). Every step is written once in scalar C++ and,
// where the runtime is built with AVX-512 VNNI, again in vectors with the
// same operations in the same order (explicit FMAs, round-to-nearest-even
// conversions, exact maxima and integer sums), so the two give the same
// bits; the unit test checks it. The products run with vpdpbusd (q̂ + 128
// as u8 against k̂, minus 128·Σ_e k̂ per key; p̂ against v̂) or, where
// AMX-INT8 is usable, with tdpbssd / tdpbusd on the same layouts: a key
// block is a B tile (16 rows of 4 inputs × 16 keys), 64 keys of values
// one B tile for 16 value columns, 16 queries' q̂ or p̂ the A tile.
//
// One task per (batch, head, run of 16-query tiles) on the thread pool;
// each quantizes its head's keys and values first (O(S·d) next to the
// O(T·S·d) products). Per tile of 16 queries the sums are made 128 keys
// at a time into an 8 KiB buffer that stays in L1, made logits there
// (kept, [16, S]) and their rows' maxima; then p̂ from the logits. p̂ is
// stored in the order of packus (a permutation
// within 64 keys, kPos) and the values' rows in the same order, so the
// sums pair each key's p̂ with its own values.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX512VNNI__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include "runtime/Cpuid.h"
#include <immintrin.h>
#define SLIM_QATTN_VNNI 1
#endif

namespace slim::rt {

namespace {

constexpr int kQ = 16;        // queries per tile
constexpr int kKeyBlock = 16; // keys per score block (a B tile's columns)
constexpr int kValBlock = 64; // keys per value block (a B tile's inputs)
constexpr int kChunk = 128;   // keys per pass over the score buffer

// 255·2^f ≈ 255 + f·(kC1 + f·(kC2 + f·kC3)) on |f| ≤ 1/2 (a near-minimax
// fit of 2^f, times 255): relative error ≤ 1.1e-4.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kC1 = 255.0f * 0.69328293f, kC2 = 255.0f * 0.24221096f,
                kC3 = 255.0f * 0.05500893f;
/// t = (x − max)·log2 e below this gives p̂ = 0 whatever the polynomial
/// does (255·1.01·2^-116 ≪ 1/2; above it 2^n stays normal).
constexpr float kMinT = -116.0f;

int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// Where key j of a block of 64 lands in the p̂ bytes (and the value
/// rows): the order _mm512_packus_epi32 then _epi16 leave four vectors of
/// 16 keys in — 128-bit lane L holds keys 4L … 4L+3 of each vector in
/// turn.
constexpr int64_t kPos(int64_t j) {
  return 16 * ((j % 16) / 4) + 4 * (j / 16) + j % 4;
}

/// q̂ and its scale for one row of n floats: the scale max|x|/127 (0 for
/// a zero row) and the bytes q̂ (int8). The vector form does the same
/// operations (a product with 127/max, conversion rounding to even).
float quantizeRow(const float *x, int64_t n, int8_t *out) {
#ifdef SLIM_QATTN_VNNI
  __m512 m = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = __mmask16(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1);
    m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_maskz_loadu_ps(k, x + i)));
  }
  const float mx = _mm512_reduce_max_ps(m);
  const __m512 inv = _mm512_set1_ps(mx > 0.0f ? 127.0f / mx : 0.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = __mmask16(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1);
    const __m512i q = _mm512_cvtps_epi32(
        _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), inv));
    _mm512_mask_cvtepi32_storeu_epi8(out + i, k, q);
  }
  return mx / 127.0f;
#else
  float mx = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    mx = std::max(mx, std::fabs(x[i]));
  const float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float y = x[i] * inv;
    out[i] = int8_t(int(std::nearbyint(y)));
  }
  return mx / 127.0f;
#endif
}

/// p̂ of a logit x, mL = −max·log2 e: as the vector code computes it.
inline uint8_t probByte(float x, float mL) {
  const float t = std::fma(x, kLog2e, mL);
  // (The vector code has no test: there 2^n underflows, −inf or NaN give
  // NaN, which converts to INT_MIN and packs to 0.)
  if (!(t >= kMinT))
    return 0;
  const float n = std::nearbyint(t);
  const float f = t - n;
  float p = std::fma(kC3, f, kC2);
  p = std::fma(p, f, kC1);
  p = std::fma(p, f, 255.0f);
  return uint8_t(std::min(255, int(std::nearbyint(std::ldexp(p, int(n))))));
}

#ifdef SLIM_QATTN_VNNI
void beginAmx(int64_t nc, int64_t k4n);
void endAmx();
#endif

struct Job {
  const float *q, *k, *v, *keyTerm, *bias;
  float *out;
  AttentionShape s;
  bool causal;
  float scale;
  int64_t chunks;
  Int8AttentionPath path;

  // Per head (padded): Sp keys (a multiple of 64); nc chunks of 64
  // query/key bytes, k4n groups of 4 (a key block is k4n rows of 64
  // bytes: an AMX B tile of 16 rows read from there also reads the next
  // blocks' rows, which meet the zero bytes of q̂ past the head dim);
  // ncb blocks of 16 value columns; p̂ rows Ps bytes apart (not a
  // multiple of 4 KiB: 16 rows in one L1 set would evict each other).
  int64_t Sp, nc, k4n, ncb, Ps, Ls;

  int64_t keyByte(int64_t j, int64_t e) const {
    return ((j / kKeyBlock) * k4n + e / 4) * 64 + (j % kKeyBlock) * 4 + e % 4;
  }

  struct Scratch {
    std::vector<int8_t> kq;    // [Sp/16][k4n rows][64]: 4 bytes × 16 keys
    std::vector<int32_t> comp; // [Sp] 128·Σ_e k̂[j,e]
    std::vector<float> sk, term; // [Sp] key scales, key terms
    std::vector<int8_t> vq;    // [Sp/64][ncb][16 rows][64]: 4 keys × 16 cols
    std::vector<float> sv;     // [ncb·16] value column scales
    std::vector<int8_t> qs;    // [16][nc·64] q̂ (0: padding)
    std::vector<uint8_t> qu;   // the same + 128 (vpdpbusd's u8)
    std::vector<float> cq;     // [16] sq[t]·scale
    std::vector<int64_t> vis;  // [16] keys each row sees
    alignas(64) int32_t buf[kQ * kChunk]; // one chunk's score sums
    std::vector<float> logits; // [16][Ls] the rows' logits
    std::vector<uint8_t> p;    // [16][Ps] p̂ (kPos order)
    std::vector<float> inv;    // [16] 1/Σ_j p̂
    alignas(64) int32_t pv[kQ * 16]; // one value block's sums
    std::vector<int8_t> row;   // one row's bytes
  };

  __attribute__((noinline)) void prepare(Scratch &w, int64_t b, int64_t g) const {
    const int64_t S = s.keys, dh = s.headDim, dv = s.valueDim;
    const int64_t kStride = s.kvHeads * dh, vStride = s.kvHeads * dv;
    // (+ one tile's worth: the last block's B tile reads past it)
    w.kq.assign((Sp / kKeyBlock) * k4n * 64 + 1024, 0);
    w.comp.assign(Sp, 0);
    w.sk.assign(Sp, 0.0f);
    w.term.assign(Sp, 0.0f);
    w.row.assign(k4n * 4, 0);
    for (int64_t j = 0; j < S; ++j) {
      w.sk[j] = quantizeRow(k + (b * S + j) * kStride + g * dh, dh,
                            w.row.data());
      int32_t sum = 0;
      for (int64_t e = 0; e < dh; ++e)
        sum += w.row[e];
      for (int64_t e = 0; e < k4n * 4; e += 4)
        std::memcpy(&w.kq[keyByte(j, e)], &w.row[e], 4);
      w.comp[j] = 128 * sum;
      w.term[j] = keyTerm[b * S + j];
    }
    // Values: per column over the keys; rows in kPos order.
    w.sv.assign(ncb * 16, 0.0f);
    w.vq.assign((Sp / kValBlock) * ncb * 1024, 0);
    const float *vb = v + b * S * vStride + g * dv;
#ifdef SLIM_QATTN_VNNI
    // 16 columns at a time; four keys (kPos keeps 4j … 4j+3 together)
    // make one 64-byte row: bytes 4·column + key.
    for (int64_t cb = 0; cb < ncb; ++cb) {
      const int64_t nv = std::min<int64_t>(16, dv - cb * 16);
      const __mmask16 k = __mmask16(nv >= 16 ? 0xFFFF : (1u << nv) - 1);
      const float *col = vb + cb * 16;
      __m512 m = _mm512_setzero_ps();
      for (int64_t j = 0; j < S; ++j)
        m = _mm512_max_ps(m, _mm512_abs_ps(
                                 _mm512_maskz_loadu_ps(k, col + j * vStride)));
      _mm512_storeu_ps(&w.sv[cb * 16],
                       _mm512_div_ps(m, _mm512_set1_ps(127.0f)));
      const __mmask16 nz =
          _mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ);
      const __m512 inv =
          _mm512_maskz_div_ps(nz, _mm512_set1_ps(127.0f), m);
      for (int64_t j = 0; j < S; j += 4) {
        __m128i q[4];
        for (int i = 0; i < 4; ++i) {
          const __mmask16 ki = j + i < S ? k : __mmask16(0);
          q[i] = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(
              _mm512_maskz_loadu_ps(ki, col + (j + i) * vStride), inv)));
        }
        const __m128i ab0 = _mm_unpacklo_epi8(q[0], q[1]),
                      ab1 = _mm_unpackhi_epi8(q[0], q[1]),
                      cd0 = _mm_unpacklo_epi8(q[2], q[3]),
                      cd1 = _mm_unpackhi_epi8(q[2], q[3]);
        int8_t *dst = w.vq.data() + ((j / kValBlock) * ncb + cb) * 1024 +
                      (kPos(j % kValBlock) / 4) * 64;
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst),
                         _mm_unpacklo_epi16(ab0, cd0));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 16),
                         _mm_unpackhi_epi16(ab0, cd0));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 32),
                         _mm_unpacklo_epi16(ab1, cd1));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 48),
                         _mm_unpackhi_epi16(ab1, cd1));
      }
    }
#else
    for (int64_t c = 0; c < dv; ++c) {
      float mx = 0.0f;
      for (int64_t j = 0; j < S; ++j)
        mx = std::max(mx, std::fabs(vb[j * vStride + c]));
      const float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
      w.sv[c] = mx / 127.0f;
      for (int64_t j = 0; j < S; ++j) {
        const float y = vb[j * vStride + c] * inv;
        const int64_t pos = kPos(j % kValBlock);
        w.vq[((j / kValBlock) * ncb + c / 16) * 1024 + (pos / 4) * 64 +
             (c % 16) * 4 + pos % 4] = int8_t(int(std::nearbyint(y)));
      }
    }
#endif
  }

  /// Queries t0 … t0+15 (rows past T are zeros): q̂, sq·scale, and the
  /// keys each sees.
  __attribute__((noinline)) void quantizeQueries(Scratch &w, int64_t b, int64_t h, int64_t t0) const {
    const int64_t T = s.queries, dh = s.headDim, qStride = s.heads * dh;
    w.qs.assign(kQ * nc * 64, 0);
    w.qu.resize(kQ * nc * 64);
    w.cq.assign(kQ, 0.0f);
    w.vis.assign(kQ, 0);
    for (int r = 0; r < kQ && t0 + r < T; ++r) {
      const float sq = quantizeRow(q + (b * T + t0 + r) * qStride + h * dh,
                                   dh, w.qs.data() + r * nc * 64);
      w.cq[r] = sq * scale;
      w.vis[r] = visible(t0 + r);
    }
    if (path == Int8AttentionPath::vnni)
      for (size_t i = 0; i < w.qs.size(); ++i)
        w.qu[i] = uint8_t(w.qs[i]) ^ 0x80;
  }

  /// The keys query t sees (causal: j ≤ t + S − T).
  int64_t visible(int64_t t) const {
    return causal ? std::min(s.keys, t + s.keys - s.queries + 1) : s.keys;
  }

  const float *biasRow(const float *hb, int64_t t) const {
    return hb ? hb + t * s.keys : nullptr;
  }

  /// The logit of key j for row r from its integer sum.
  float logitScalar(const Scratch &w, int r, int64_t j, int32_t acc,
                    const float *brow) const {
    if (j >= w.vis[r])
      return -std::numeric_limits<float>::infinity();
    float a = float(acc) * w.cq[r];
    a = std::fma(a, w.sk[j], w.term[j]);
    if (brow)
      a = a + brow[j];
    return a;
  }

  /// The whole tile in scalar code: sums, logits, p̂, 1/Σp̂ (rows < n).
  void softmaxScalar(Scratch &w, int n, int64_t cols, const float *hb,
                     int64_t t0) const {
    const float ninf = -std::numeric_limits<float>::infinity();
    for (int r = 0; r < n; ++r) {
      const float *brow = biasRow(hb, t0 + r);
      float m = ninf;
      for (int64_t j = 0; j < cols; ++j) {
        int32_t acc = 0;
        for (int64_t e = 0; e < k4n * 4; ++e)
          acc += int32_t(w.qs[r * nc * 64 + e]) * int32_t(w.kq[keyByte(j, e)]);
        w.logits[j] = logitScalar(w, r, j, acc, brow);
        m = std::max(m, w.logits[j]);
      }
      const float mL = m == ninf ? 0.0f : -(m * kLog2e);
      uint8_t *prow = w.p.data() + r * Ps;
      int32_t sum = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const uint8_t b = probByte(w.logits[j], mL);
        prow[j / kValBlock * kValBlock + kPos(j % kValBlock)] = b;
        sum += b;
      }
      w.inv[r] = 1.0f / float(sum);
    }
  }

  /// Σ_j p̂·v̂ of value block cb for the 16 rows (keys < cols).
  void valuesScalar(Scratch &w, int64_t cb, int64_t cols) const {
    for (int r = 0; r < kQ; ++r)
      for (int n = 0; n < 16; ++n) {
        int32_t acc = 0;
        for (int64_t j = 0; j < cols; ++j)
          acc += int32_t(w.p[r * Ps + j]) *
                 int32_t(w.vq[((j / kValBlock) * ncb + cb) * 1024 +
                              ((j % kValBlock) / 4) * 64 + n * 4 + j % 4]);
        w.pv[r * 16 + n] = acc;
      }
  }

#ifdef SLIM_QATTN_VNNI
  void scoresVnni(Scratch &w, int64_t j0, int64_t n) const;
  void valuesVnni(Scratch &w, int64_t cb, int64_t cols) const;
  void scoresAmx(Scratch &w, int64_t j0, int64_t n) const;
  void valuesAmx(Scratch &w, int64_t cb, int64_t cols) const;
  void softmaxAvx512(Scratch &w, int n, int64_t cols, const float *hb,
                     int64_t t0) const;
#endif

  void head(int task) const {
    thread_local Scratch w;
    const int64_t chunk = task % chunks, bh = task / chunks;
    const int64_t b = bh / s.heads, h = bh % s.heads;
    const int64_t g = h / (s.heads / s.kvHeads);
    const int64_t T = s.queries, dv = s.valueDim, oStride = s.heads * dv;
#ifdef SLIM_QATTN_VNNI
    if (path == Int8AttentionPath::amx)
      beginAmx(nc, k4n);
#endif
    prepare(w, b, g);
    w.p.resize(kQ * Ps);
    w.logits.resize(kQ * Ls);
    w.inv.resize(kQ);
    const int64_t tiles = (T + kQ - 1) / kQ;
    const int64_t per = (tiles + chunks - 1) / chunks;
    const float *hb =
        bias ? bias + ((b % s.biasGroups) * s.heads + h) * T * s.keys
             : nullptr;
    for (int64_t i = chunk * per; i < std::min(tiles, (chunk + 1) * per);
         ++i) {
      const int64_t t0 = i * kQ;
      const int n = int(std::min<int64_t>(kQ, T - t0));
      quantizeQueries(w, b, h, t0);
      // Key columns: every row's visible keys in blocks of 64 (p̂ = 0
      // past a row's own).
      const int64_t cols = roundUp(visible(t0 + n - 1), kValBlock);
#ifdef SLIM_QATTN_VNNI
      if (path != Int8AttentionPath::scalar)
        softmaxAvx512(w, n, cols, hb, t0);
      else
#endif
        softmaxScalar(w, n, cols, hb, t0);
      for (int r = n; r < kQ; ++r) { // padding rows: no probabilities
        std::fill(w.p.begin() + r * Ps, w.p.begin() + r * Ps + cols,
                  uint8_t(0));
        w.inv[r] = 0.0f;
      }
      for (int64_t cb = 0; cb < ncb; ++cb) {
        switch (path) {
#ifdef SLIM_QATTN_VNNI
        case Int8AttentionPath::amx: valuesAmx(w, cb, cols); break;
        case Int8AttentionPath::vnni: valuesVnni(w, cb, cols); break;
#endif
        default: valuesScalar(w, cb, cols);
        }
        const int64_t nv = std::min<int64_t>(16, dv - cb * 16);
        for (int r = 0; r < n; ++r) {
          float *o = out + (b * T + t0 + r) * oStride + h * dv + cb * 16;
#ifdef SLIM_QATTN_VNNI
          if (path != Int8AttentionPath::scalar) {
            const __m512 f = _mm512_mul_ps(_mm512_loadu_ps(&w.sv[cb * 16]),
                                           _mm512_set1_ps(w.inv[r]));
            const __m512 y = _mm512_mul_ps(
                _mm512_cvtepi32_ps(_mm512_load_si512(&w.pv[r * 16])), f);
            _mm512_mask_storeu_ps(o, __mmask16((1u << nv) - 1), y);
            continue;
          }
#endif
          for (int64_t c = 0; c < nv; ++c) {
            const float f = w.sv[cb * 16 + c] * w.inv[r];
            o[c] = float(w.pv[r * 16 + c]) * f;
          }
        }
      }
    }
#ifdef SLIM_QATTN_VNNI
    if (path == Int8AttentionPath::amx)
      endAmx();
#endif
  }
};

#ifdef SLIM_QATTN_VNNI
/// Score sums of keys j0 … j0+n−1 into buf: per key block and each 4
/// bytes of the head dim, one vector of the block times each row's
/// q̂ + 128 (vpdpbusd), then minus 128·Σ_e k̂.
__attribute__((noinline)) void Job::scoresVnni(Scratch &w, int64_t j0, int64_t n) const {
  const int32_t *qa = reinterpret_cast<const int32_t *>(w.qu.data());
  for (int64_t j = j0; j < j0 + n; j += kKeyBlock) {
    const int8_t *blk = w.kq.data() + (j / kKeyBlock) * k4n * 64;
    __m512i acc[kQ];
    for (auto &a : acc)
      a = _mm512_setzero_si512();
    for (int64_t k4 = 0; k4 < k4n; ++k4) {
      const __m512i kv = _mm512_loadu_si512(blk + k4 * 64);
      for (int r = 0; r < kQ; ++r)
        acc[r] = _mm512_dpbusd_epi32(
            acc[r], _mm512_set1_epi32(qa[r * nc * 16 + k4]), kv);
    }
    const __m512i comp = _mm512_loadu_si512(&w.comp[j]);
    for (int r = 0; r < kQ; ++r)
      _mm512_store_si512(&w.buf[r * kChunk + (j - j0)],
                         _mm512_sub_epi32(acc[r], comp));
  }
}

/// Σ_j p̂·v̂ of one block of 16 value columns, 4 keys per vpdpbusd.
void Job::valuesVnni(Scratch &w, int64_t cb, int64_t cols) const {
  __m512i acc[kQ];
  for (auto &a : acc)
    a = _mm512_setzero_si512();
  for (int64_t j = 0; j < cols; j += 4) {
    const __m512i vv = _mm512_loadu_si512(
        w.vq.data() + ((j / kValBlock) * ncb + cb) * 1024 +
        ((j % kValBlock) / 4) * 64);
    for (int r = 0; r < kQ; ++r) {
      int32_t p4;
      std::memcpy(&p4, &w.p[r * Ps + j], 4);
      acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_set1_epi32(p4), vv);
    }
  }
  for (int r = 0; r < kQ; ++r)
    _mm512_store_si512(&w.pv[r * 16], acc[r]);
}

/// The tiles of one head's task: A (q̂, tile 0) as wide as the head dim
/// rounded up to 4 (up to 64), the key blocks' B tiles (1, 4) that many
/// rows of 4, the rest 16 rows × 64 bytes. Loaded per task; the shared
/// configuration (cpu::loadStandardTiles) is put back after it.
__attribute__((target("amx-tile"), noinline)) void
beginAmx(int64_t nc, int64_t k4n) {
  cpu::TileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  const int bytes = nc == 1 ? int(k4n * 4) : 64;
  cfg.colsb[0] = uint16_t(bytes);
  cfg.rows[1] = cfg.rows[4] = uint8_t(bytes / 4);
  _tile_loadconfig(&cfg);
}

__attribute__((target("amx-tile"), noinline)) void endAmx() {
  cpu::loadStandardTiles();
}

/// The score sums of keys j0 … j0+n−1 with AMX, two key blocks per step:
/// A = 64 bytes of the 16 rows' q̂, B = a key block's chunk, C += A·B
/// (tdpbssd: both signed).
__attribute__((target("amx-tile,amx-int8"), noinline)) void
Job::scoresAmx(Scratch &w, int64_t j0, int64_t n) const {
  const int64_t rowBytes = nc * 64;
  if (nc == 1)
    _tile_loadd(0, w.qs.data(), rowBytes);
  for (int64_t j = j0; j < j0 + n; j += 2 * kKeyBlock) {
    const int8_t *blk = w.kq.data() + (j / kKeyBlock) * k4n * 64;
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t c = 0; c < nc; ++c) {
      if (nc > 1)
        _tile_loadd(0, w.qs.data() + c * 64, rowBytes);
      _tile_loadd(1, blk + c * 1024, 64);
      _tile_dpbssd(2, 0, 1);
      _tile_loadd(4, blk + k4n * 64 + c * 1024, 64);
      _tile_dpbssd(3, 0, 4);
    }
    _tile_stored(2, &w.buf[j - j0], kChunk * 4);
    _tile_stored(3, &w.buf[j - j0 + kKeyBlock], kChunk * 4);
  }
}

/// Σ_j p̂·v̂ with AMX: A = 64 keys of the 16 rows' p̂, B = those keys'
/// block of 16 value columns (tdpbusd).
__attribute__((target("amx-tile,amx-int8"), noinline)) void
Job::valuesAmx(Scratch &w, int64_t cb, int64_t cols) const {
  _tile_zero(5);
  for (int64_t j = 0; j < cols; j += kValBlock) {
    _tile_loadd(6, w.p.data() + j, Ps);
    _tile_loadd(7, w.vq.data() + ((j / kValBlock) * ncb + cb) * 1024, 64);
    _tile_dpbusd(5, 6, 7);
  }
  _tile_stored(5, w.pv, 64);
}

/// softmaxScalar in vectors of 16 keys (the same operations in the same
/// order), the sums made a chunk at a time by the VNNI or AMX kernel:
/// one pass for the rows' maxima, a second (the sums again) for p̂.
__attribute__((noinline)) void Job::softmaxAvx512(Scratch &w, int n, int64_t cols, const float *hb,
                        int64_t t0) const {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                         11, 12, 13, 14, 15);
  const float *sk = w.sk.data(), *term = w.term.data();
  const int64_t S = s.keys;
  // The logits of keys j … j+15 of row r from buf (column c).
  auto logits = [&](int r, int64_t j, int64_t c) {
    __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(
                                 &w.buf[r * kChunk + c])),
                             _mm512_set1_ps(w.cq[r]));
    a = _mm512_fmadd_ps(a, _mm512_loadu_ps(sk + j), _mm512_loadu_ps(term + j));
    const int64_t vis = w.vis[r];
    if (hb) {
      const __mmask16 in = j + 16 <= S ? __mmask16(0xFFFF)
                           : j >= S    ? __mmask16(0)
                                       : __mmask16((1u << (S - j)) - 1);
      a = _mm512_mask_add_ps(a, in, a,
                             _mm512_maskz_loadu_ps(in, hb + (t0 + r) * S + j));
    }
    if (j + 16 > vis) {
      const __mmask16 ok = _mm512_cmplt_epi32_mask(
          _mm512_add_epi32(lane, _mm512_set1_epi32(int32_t(j))),
          _mm512_set1_epi32(int32_t(vis)));
      a = _mm512_mask_blend_ps(ok, ninf, a);
    }
    return a;
  };
  auto scores = [&](int64_t j0, int64_t len) {
    if (path == Int8AttentionPath::amx)
      scoresAmx(w, j0, len);
    else
      scoresVnni(w, j0, len);
  };
  // Per row a vector of running maxima (made one number at the end).
  __m512 mxv[kQ];
  for (auto &m : mxv)
    m = ninf;
  for (int64_t j0 = 0; j0 < cols; j0 += kChunk) {
    const int64_t len = std::min<int64_t>(kChunk, cols - j0);
    scores(j0, len);
    // The logits, kept; per row two running maxima (len is a multiple
    // of 64).
    for (int r = 0; r < n; ++r) {
      float *x = w.logits.data() + r * Ls + j0;
      __m512 m0 = mxv[r], m1 = ninf;
      for (int64_t c = 0; c < len; c += 32) {
        const __m512 a = logits(r, j0 + c, c), b = logits(r, j0 + c + 16, c + 16);
        _mm512_storeu_ps(x + c, a);
        _mm512_storeu_ps(x + c + 16, b);
        m0 = _mm512_max_ps(m0, a);
        m1 = _mm512_max_ps(m1, b);
      }
      mxv[r] = _mm512_max_ps(m0, m1);
    }
  }
  __m512i sums[kQ];
  for (auto &x : sums)
    x = _mm512_setzero_si512();
  for (int r = 0; r < n; ++r) {
    const float mx = _mm512_reduce_max_ps(mxv[r]);
    const float mLr =
        mx == -std::numeric_limits<float>::infinity() ? 0.0f : -(mx * kLog2e);
    const __m512 mL = _mm512_set1_ps(mLr);
    const float *x = w.logits.data() + r * Ls;
    for (int64_t c = 0; c < cols; c += kValBlock) {
      __m512i q[4];
      for (int u = 0; u < 4; ++u) {
        const __m512 t = _mm512_fmadd_ps(_mm512_loadu_ps(x + c + 16 * u),
                                         _mm512_set1_ps(kLog2e), mL);
        const __m512 nn = _mm512_roundscale_ps(
            t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m512 f = _mm512_sub_ps(t, nn);
        __m512 p =
            _mm512_fmadd_ps(_mm512_set1_ps(kC3), f, _mm512_set1_ps(kC2));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(kC1));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(255.0f));
        q[u] = _mm512_cvtps_epi32(_mm512_scalef_ps(p, nn));
      }
      // Saturating packs (0 … 255 already): kPos order.
      const __m512i bytes = _mm512_packus_epi16(
          _mm512_packus_epi32(q[0], q[1]), _mm512_packus_epi32(q[2], q[3]));
      _mm512_storeu_si512(w.p.data() + r * Ps + c, bytes);
      sums[r] = _mm512_add_epi64(
          sums[r], _mm512_sad_epu8(bytes, _mm512_setzero_si512()));
    }
  }
  for (int r = 0; r < n; ++r)
    w.inv[r] = 1.0f / float(_mm512_reduce_add_epi64(sums[r]));
}
#endif

int task(void *, int t, uint8_t *closure) {
  reinterpret_cast<const Job *>(closure)->head(t);
  return 0;
}

} // namespace

bool attentionInt8(const float *q, const float *k, const float *v,
                   const float *keyTerm, const float *bias,
                   const AttentionShape &s, bool causal, float scale,
                   float *out, Int8AttentionPath path) {
  SLIM_V4(attentionInt8, q, k, v, keyTerm, bias, s, causal, scale, out, path);
  if (s.queries < 1 || s.keys < 1 || s.heads % s.kvHeads != 0 ||
      s.keys > kMaxInt8AttentionKeys)
    return false;
#ifdef SLIM_QATTN_VNNI
  if (path == Int8AttentionPath::best)
    path = cpu::useAmx() ? Int8AttentionPath::amx : Int8AttentionPath::vnni;
  if (path == Int8AttentionPath::amx && !cpu::useAmx())
    return false;
#else
  if (path == Int8AttentionPath::best)
    path = Int8AttentionPath::scalar;
  if (path != Int8AttentionPath::scalar)
    return false;
#endif
  Job job{q, k, v, keyTerm, bias, out, s, causal, scale,
          attentionRuns(s.batch * s.heads, (s.queries + kQ - 1) / kQ), path};
  job.Sp = roundUp(s.keys, kValBlock);
  job.nc = roundUp(s.headDim, 64) / 64;
  job.k4n = roundUp(s.headDim, 4) / 4;
  job.ncb = roundUp(s.valueDim, 16) / 16;
  job.Ps = job.Sp + 64;
  job.Ls = job.Sp + 16;
  halide_do_par_for(nullptr, task, 0, int(s.batch * s.heads * job.chunks),
                    reinterpret_cast<uint8_t *>(&job));
  return true;
}

} // namespace slim::rt
