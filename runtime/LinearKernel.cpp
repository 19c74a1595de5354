//===- LinearKernel.cpp - the fp32 linear on tile-major packed weights ----===//
//
// y[r, c] = bias[c] + Σ_k x[r, k] · W[c, k], W packed tile-major at compile
// time (packLinearWeight: tiles of 48 outputs, each [in, 48] contiguous;
// the last tile of a width that is not a multiple of 48 overlaps the one
// before it). Per tile (one task on Halide's thread pool) and per block of
// 8 rows, the whole reduction runs in 24 AVX-512 accumulators: each step
// loads one 48-wide weight row and 8 broadcast inputs and issues 24 FMAs.
// The row pointers live in general registers, so the inner loop has no
// address arithmetic on the vector ports (the Halide schedule of the same
// product spent ~20% of its issue slots there: 64% of the FMA peak).
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include "HalideRuntime.h"

#include <algorithm>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace slim::rt {

#if defined(__AVX512F__)
namespace {

constexpr int kT = int(kLinearTile);
static_assert(kLinearTile == 48, "the block is 3 vectors of 16 wide");

template <int R>
void block(const float *x, int64_t in, const float *tile, const float *bias,
           float *y, int64_t ldy) {
  __m512 acc[R][3];
  const __m512 b0 = _mm512_loadu_ps(bias), b1 = _mm512_loadu_ps(bias + 16),
               b2 = _mm512_loadu_ps(bias + 32);
  for (int r = 0; r < R; ++r) {
    acc[r][0] = b0;
    acc[r][1] = b1;
    acc[r][2] = b2;
  }
  const float *xr[R];
  for (int r = 0; r < R; ++r)
    xr[r] = x + r * in;
  for (int64_t k = 0; k < in; ++k) {
    const float *w = tile + k * kT;
    const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16),
                 w2 = _mm512_loadu_ps(w + 32);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(xr[r][k]);
      acc[r][0] = _mm512_fmadd_ps(xv, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(xv, w1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(xv, w2, acc[r][2]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(y + r * ldy, acc[r][0]);
    _mm512_storeu_ps(y + r * ldy + 16, acc[r][1]);
    _mm512_storeu_ps(y + r * ldy + 32, acc[r][2]);
  }
}

struct Job {
  const float *x, *wt, *bias;
  float *y;
  int64_t rows, in, out;

  void tile(int64_t j) const {
    const int64_t col = std::min(j * kLinearTile, out - kLinearTile);
    const float *tw = wt + j * in * kLinearTile;
    const float *b = bias + col;
    int64_t r = 0;
    for (; r + 8 <= rows; r += 8)
      block<8>(x + r * in, in, tw, b, y + r * out + col, out);
    const float *xr = x + r * in;
    float *yr = y + r * out + col;
    switch (rows - r) {
    case 7: return block<7>(xr, in, tw, b, yr, out);
    case 6: return block<6>(xr, in, tw, b, yr, out);
    case 5: return block<5>(xr, in, tw, b, yr, out);
    case 4: return block<4>(xr, in, tw, b, yr, out);
    case 3: return block<3>(xr, in, tw, b, yr, out);
    case 2: return block<2>(xr, in, tw, b, yr, out);
    case 1: return block<1>(xr, in, tw, b, yr, out);
    default: return;
    }
  }
};

int task(void *, int j, uint8_t *closure) {
  reinterpret_cast<const Job *>(closure)->tile(j);
  return 0;
}

} // namespace

bool linearPackedAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y) {
  if (out < kLinearTile)
    return false;
  Job job{x, wt, bias, y, rows, in, out};
  int tiles = int((out + kLinearTile - 1) / kLinearTile);
  halide_do_par_for(nullptr, task, 0, tiles, reinterpret_cast<uint8_t *>(&job));
  return true;
}

#else

bool linearPackedAvx512(const float *, int64_t, int64_t, const float *,
                        const float *, int64_t, float *) {
  return false; // not built for AVX-512: the Halide kernel runs
}

#endif

} // namespace slim::rt
