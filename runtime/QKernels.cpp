//===- QKernels.cpp - int8 linear layers (AVX-512 VNNI) -------------------===//
//
// W8A8 with dynamic per-token activation scales (shared/spec/PASSES.md §4):
//
//   s_t = max_j |x[t,j]| / 127,  q_t = round(x[t] / s_t) ∈ [−127, 127]
//   y[t,o] = (Σ_k q_t[k] · W_q[o,k])_int32 · s_t · s_o + b[o]
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored
// as q + 128 (u8) and 128 · Σ_k W_q[o,k] (kept with the packed weight) is
// subtracted from the int32 sums: the result is the same integer.
//
// Packed weight (packQLinearWeight): tiles of 64 outputs; per tile and per
// group of 4 inputs, 4 vectors of 16 outputs × 4 bytes — one 64-byte load
// per vpdpbusd operand — then the int32 column sums. Inputs are padded to a
// multiple of 4 (zero weights), outputs to a multiple of 64.
//
// Built with -march=native; without AVX-512 VNNI the same integer
// arithmetic runs in plain loops (bit-identical sums).
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
#include <immintrin.h>
#define SLIM_HAVE_VNNI 1
#endif

namespace slim::rt {

namespace {

constexpr int64_t kTileO = 64; // outputs per tile (4 vectors of 16)

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
      q[((t * (kp / 4) + k4) * 4 + v) * 64 + lane * 4 + j] = w[o * in + k];
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
  const int64_t kp = roundUp(in, 4);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x + r * in;
    float amax = 0.0f;
    for (int64_t k = 0; k < in; ++k)
      amax = std::max(amax, std::fabs(row[k]));
    float s = staticScale > 0.0f ? staticScale
              : amax > 0.0f    ? amax / 127.0f
                               : 1.0f;
    float inv = 1.0f / s;
    uint8_t *q = xq + r * kp;
    for (int64_t k = 0; k < in; ++k) {
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
  void tile(int64_t t) const;
  void store(int64_t r, int64_t o, int32_t sum) const {
    if (y)
      y[r * out + o] = float(sum) * (xs[r] * ws[o]) + (bias ? bias[o] : 0.0f);
    else
      acc[r * out + o] = sum;
  }
};

void QGemm::tile(int64_t t) const {
  const int64_t kp = roundUp(in, 4), k4n = kp / 4, op = roundUp(out, kTileO);
  const int8_t *wq = reinterpret_cast<const int8_t *>(packed);
  const int32_t *colsum = reinterpret_cast<const int32_t *>(packed + op * kp);
  {
    const int8_t *tile = wq + t * k4n * 4 * 64;
    int64_t r = 0;
#ifdef SLIM_HAVE_VNNI
    // 4 rows × 4 vectors of 16 outputs: 16 accumulators. A last block of
    // fewer rows repeats its last row (computed twice, stored once).
    for (; r < rows; r += 4) {
      const int64_t valid = std::min<int64_t>(4, rows - r);
      __m512i a[4][4];
      for (auto &row : a)
        for (auto &v : row)
          v = _mm512_setzero_si512();
      const uint8_t *xr[4];
      for (int i = 0; i < 4; ++i)
        xr[i] = xq + (r + std::min<int64_t>(i, valid - 1)) * kp;
      for (int64_t k4 = 0; k4 < k4n; ++k4) {
        const int8_t *w = tile + k4 * 256;
        __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64),
                w2 = _mm512_loadu_si512(w + 128),
                w3 = _mm512_loadu_si512(w + 192);
        for (int i = 0; i < 4; ++i) {
          int32_t bytes;
          std::memcpy(&bytes, xr[i] + k4 * 4, 4);
          __m512i xb = _mm512_set1_epi32(bytes);
          a[i][0] = _mm512_dpbusd_epi32(a[i][0], xb, w0);
          a[i][1] = _mm512_dpbusd_epi32(a[i][1], xb, w1);
          a[i][2] = _mm512_dpbusd_epi32(a[i][2], xb, w2);
          a[i][3] = _mm512_dpbusd_epi32(a[i][3], xb, w3);
        }
      }
      for (int i = 0; i < valid; ++i)
        for (int v = 0; v < 4; ++v) {
          int64_t o0 = t * kTileO + v * 16;
          if (o0 >= out)
            break;
          __m512i cs = _mm512_loadu_si512(colsum + o0);
          __m512i res = _mm512_sub_epi32(a[i][v], _mm512_slli_epi32(cs, 7));
          // Lanes past `out` (the padded last tile) are neither read nor
          // written.
          __mmask16 m = o0 + 16 <= out ? __mmask16(0xFFFF)
                                       : __mmask16((1u << (out - o0)) - 1);
          if (!y) {
            _mm512_mask_storeu_epi32(acc + (r + i) * out + o0, m, res);
            continue;
          }
          // y = sum · (s_row · s_o) + b, 16 outputs at a time.
          __m512 scale = _mm512_mul_ps(_mm512_set1_ps(xs[r + i]),
                                       _mm512_maskz_loadu_ps(m, ws + o0));
          __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + o0)
                          : _mm512_setzero_ps();
          _mm512_mask_storeu_ps(
              y + (r + i) * out + o0, m,
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(res), scale, b));
        }
    }
#endif
    // Remaining rows (all of them without VNNI): the same integer sums.
    for (; r < rows; ++r) {
      const uint8_t *x = xq + r * kp;
      for (int64_t o = t * kTileO; o < std::min(out, (t + 1) * kTileO); ++o) {
        int64_t v = (o % kTileO) / 16, lane = o % 16;
        int32_t s = 0;
        for (int64_t k4 = 0; k4 < k4n; ++k4)
          for (int j = 0; j < 4; ++j)
            s += int32_t(x[k4 * 4 + j]) *
                 int32_t(tile[(k4 * 4 + v) * 64 + lane * 4 + j]);
        store(r, o, s - 128 * colsum[o]);
      }
    }
  }
}

int qgemmTask(void *, int t, uint8_t *closure) {
  reinterpret_cast<const QGemm *>(closure)->tile(t);
  return 0;
}

} // namespace

void qgemmInt32(const uint8_t *xq, int64_t rows, int64_t in,
                const uint8_t *packed, int64_t out, int32_t *acc) {
  // One task per 64-output tile, on Halide's thread pool (the one
  // --threads sizes for every kernel).
  QGemm job{xq, rows, in, out, packed};
  job.acc = acc;
  int tiles = int(roundUp(out, kTileO) / kTileO);
  halide_do_par_for(nullptr, qgemmTask, 0, tiles,
                    reinterpret_cast<uint8_t *>(&job));
}

void qlinear(const float *x, int64_t rows, int64_t in, const uint8_t *packed,
             const float *wscales, const float *bias, int64_t out, float *y,
             LinearAct act, float staticScale) {
  const int64_t kp = roundUp(in, 4);
  std::vector<uint8_t> xq(size_t(rows * kp));
  std::vector<float> xs(rows);
  quantizeRows(x, rows, in, xq.data(), xs.data(), staticScale);
  // The sums go straight to floats in each tile (no int32 buffer).
  QGemm job{xq.data(), rows, in, out, packed};
  job.y = y;
  job.xs = xs.data();
  job.ws = wscales;
  job.bias = bias;
  int tiles = int(roundUp(out, kTileO) / kTileO);
  halide_do_par_for(nullptr, qgemmTask, 0, tiles,
                    reinterpret_cast<uint8_t *>(&job));
  applyLinearAct(act, y, rows * out);
}

} // namespace slim::rt
