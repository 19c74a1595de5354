//===- LinearKernel.cpp - the fp32 linear on tile-major packed weights ----===//
//
// y[r, c] = bias[c] + Σ_k x[r, k] · W[c, k], W packed tile-major at compile
// time (packLinearWeight: tiles of 48 outputs, each [in, 48] contiguous;
// the last tile of a width that is not a multiple of 48 overlaps the one
// before it). Per tile (runs of tiles are the tasks on the runtime's
// thread pool, see below) and per block of 8 rows, the whole reduction runs in 24
// AVX-512 accumulators: each step loads one 48-wide weight row and 8
// broadcast inputs and issues 24 FMAs.
// The row pointers live in general registers, so the inner loop has no
// address arithmetic on the vector ports (the Halide schedule of the same
// product spent ~20% of its issue slots there: 64% of the FMA peak).
//
// A tile's weights ([in, 48], 147 KB for in = 768) come from L3 or DRAM the
// first time and from L2 for the later row blocks. The hardware prefetcher
// does not keep up with the first block, so every other step of a row
// block also prefetches one line of the tile that comes next (a tile is 3
// lines a step; row block i takes its sixth i mod 6 — repeating the
// prefetch in every block measured better than only in the first ones;
// one prefetch every other step rather than every step, fewer misses in
// flight at once, measured 3–4% faster on a Sapphire Rapids: GPT-2's
// 50 257-wide head at 128 rows 66–68 → 64–66 ms, GPT-2-small fp32 199 →
// 190 ms at 1 thread, DeiT-S unchanged). GPT-2's four
// shapes × 12 layers streaming from DRAM (`slim-qlinear-bench --rows 128`):
// 64 → 74 G multiply-adds/s on 1 thread (74% → 86% of the 172 GFLOP/s FMA
// peak), 118 → 141 on 2. For that the next tile must be the same task's:
// each task takes a contiguous run of tiles, one run per thread
// (runLength) — or, with many rows, a run of rows and every tile.
//
// Outputs narrower than a tile (weights Wᵀ [in, out]) run in blocks of 8
// rows × up to 3 masked vectors (linearNarrowAvx512).
//
// Built for AVX2 without AVX-512 (slimc --target=x86-64-v3),
// linearPackedAvx2 runs the same tiles in blocks of 6 rows × 16 columns
// over runs of 256 inputs (a run of a column group, 16 KB, stays in L1
// across the row blocks), the epilogue in registers (VecMath.h, 256-bit).
// Each task first packs its rows input-major per block (6 floats a step:
// the broadcasts read one sequential stream, not six rows), and each run
// prefetches the next run's weights to L2. With the weights in 2 MB pages
// (Model.cpp) that took GPT-2's 12 layers at 128 rows from 35 to 48 G
// multiply-adds/s and DeiT-S's shapes at 197 rows to 52–55 (95% of the
// AVX2 FMA peak), both on 1 thread of a Sapphire Rapids
// (slim-qlinear-bench-x86-64-v3).
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/Multiversion.h"
#include "runtime/VecMath.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace slim::rt {

namespace {

// fp32 weights (elements) up to which many rows split by rows (below).
constexpr int64_t kRowSplitWeights = int64_t(1) << 20;

/// How the packed linear's work is split into tasks on the pool: runs of
/// `perTask` weight tiles × runs of `rowsPerTask` rows (task t: tile run
/// t mod tileRuns, row run t / tileRuns).
struct LinearSplit {
  int64_t tiles, perTask, rowsPerTask, tileRuns, rowRuns;
};

[[maybe_unused]] LinearSplit splitLinear(int64_t rows, int64_t in,
                                         int64_t out) {
  const int64_t tiles = (out + kLinearTile - 1) / kLinearTile;
  const int64_t threads = threadCount();
  int64_t perTask = runLength(tiles), rowsPerTask = rows;
  // Few tiles (fewer than four per thread: a narrow output, DeiT-Tiny's 192
  // wide is 4 tiles) leave the tasks coarse: then every task takes all
  // tiles for a run of rows (DeiT-Tiny at 2 threads 12.5 → 11.6 ms,
  // alternating runs; no change where no linear is that narrow).
  if (tiles < 4 * threads && rows >= 16 * threads) {
    perTask = tiles;
    rowsPerTask = (runLength(rows) + 7) / 8 * 8;
  }
  // Many rows: every task takes all tiles for the run of rows the same
  // thread's norm (or previous linear) wrote, as the int8 kernel does
  // (QKernels.cpp, runQGemms). 2 threads, alternating runs: DeiT-S 33.7 →
  // 32.9 ms, DeiT-Tiny 9.36 → 8.97, BERT and GPT-2 unchanged. Not for
  // weights over 4 MB, which both cores would then read from DRAM (GPT-2's
  // GEMMs in slim-qlinear-bench --rows 128: 148 → 143 G multiply-adds/s
  // with them; their models' times did not move either way).
  if (threads > 1 && rows >= kRowSplitRowsPerThread * threads &&
      in * out <= kRowSplitWeights) {
    perTask = tiles;
    rowsPerTask = runLength(rows);
  }
  return {tiles, perTask, rowsPerTask, (tiles + perTask - 1) / perTask,
          (rows + rowsPerTask - 1) / rowsPerTask};
}

} // namespace

#if defined(__AVX512F__)
namespace {

constexpr int kT = int(kLinearTile);
constexpr int64_t kSpread = 2; // steps per prefetch of the next tile
static_assert(kLinearTile == 48, "the block is 3 vectors of 16 wide");

/// The epilogue of a block: the activation, then the residual (the
/// residual sublayer's input, when its add is fused here).
struct Epilogue {
  LinearAct act = LinearAct::None;
  const float *residual = nullptr; // [rows, out] like y, or null

  /// `res`: the residual's 16 values at this position, or null.
  __m512 apply(__m512 v, const float *res) const {
    v = vec::activate512(act, v);
    return res ? _mm512_add_ps(v, _mm512_loadu_ps(res)) : v;
  }
};

/// Fused: with the epilogue (an activation or a residual); without, the
/// plain stores — a separate instantiation, since carrying the epilogue
/// through one measured ~4% slower on the plain GEMMs
/// (`slim-qlinear-bench --rows 128`).
template <int R, bool Fused>
void block(const float *x, int64_t in, const float *tile, const float *bias,
           float *y, const float *res, int64_t ldy, const Epilogue &epi,
           const char *prefetch) {
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
    if (k % kSpread == 0)
      _mm_prefetch(prefetch + (k / kSpread) * 64, _MM_HINT_T1);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(xr[r][k]);
      acc[r][0] = _mm512_fmadd_ps(xv, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(xv, w1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(xv, w2, acc[r][2]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 3; ++v) {
      if constexpr (Fused)
        acc[r][v] =
            epi.apply(acc[r][v], res ? res + r * ldy + 16 * v : nullptr);
      _mm512_storeu_ps(y + r * ldy + 16 * v, acc[r][v]);
    }
}

template <int R>
void block(const float *x, int64_t in, const float *tile, const float *bias,
           float *y, const float *res, int64_t ldy, const Epilogue &epi,
           const char *prefetch) {
  if (epi.act == LinearAct::None && !epi.residual)
    block<R, false>(x, in, tile, bias, y, res, ldy, epi, prefetch);
  else
    block<R, true>(x, in, tile, bias, y, res, ldy, epi, prefetch);
}

struct Job {
  const float *x, *wt, *bias;
  float *y;
  int64_t rows, in, out, tiles, perTask, rowsPerTask, tileRuns;
  Epilogue epi;

  /// Rows [r0, r1) of tile j.
  void tile(int64_t j, bool nextIsOurs, int64_t r0, int64_t r1) const {
    const int64_t col = std::min(j * kLinearTile, out - kLinearTile);
    const float *tw = wt + j * in * kLinearTile;
    const float *b = bias + col;
    // Row block i prefetches the next tile's lines [m·in, (m+1)·in), m =
    // i mod 3; the last tile of a run prefetches its own, already in L2.
    const char *next = reinterpret_cast<const char *>(
        nextIsOurs ? tw + in * kLinearTile : tw);
    int64_t blockIndex = 0;
    auto prefetch = [&]() {
      return next + (blockIndex++ % (3 * kSpread)) * (in / kSpread) * 64;
    };
    // The residual's rows and columns are y's (null: none).
    auto resAt = [&](int64_t r) {
      return epi.residual ? epi.residual + r * out + col : nullptr;
    };
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8)
      block<8>(x + r * in, in, tw, b, y + r * out + col, resAt(r), out, epi,
               prefetch());
    const float *xr = x + r * in, *rr = resAt(r);
    float *yr = y + r * out + col;
    const char *p = prefetch();
    switch (r1 - r) {
    case 7: return block<7>(xr, in, tw, b, yr, rr, out, epi, p);
    case 6: return block<6>(xr, in, tw, b, yr, rr, out, epi, p);
    case 5: return block<5>(xr, in, tw, b, yr, rr, out, epi, p);
    case 4: return block<4>(xr, in, tw, b, yr, rr, out, epi, p);
    case 3: return block<3>(xr, in, tw, b, yr, rr, out, epi, p);
    case 2: return block<2>(xr, in, tw, b, yr, rr, out, epi, p);
    case 1: return block<1>(xr, in, tw, b, yr, rr, out, epi, p);
    default: return;
    }
  }
};

/// Task t: the run of tiles t mod tileRuns, for the run of rows
/// t / tileRuns.
int task(void *, int t, uint8_t *closure) {
  const Job *job = reinterpret_cast<const Job *>(closure);
  const int64_t run = t % job->tileRuns, rowRun = t / job->tileRuns;
  const int64_t r0 = rowRun * job->rowsPerTask,
                r1 = std::min(job->rows, r0 + job->rowsPerTask);
  const int64_t end = std::min(job->tiles, (run + 1) * job->perTask);
  for (int64_t j = run * job->perTask; j < end; ++j)
    job->tile(j, j + 1 < end, r0, r1);
  return 0;
}

/// Narrow outputs (out < 48, weights packed as Wᵀ [in, out]): a block of R
/// rows × V vectors of 16 outputs, the last vector's lanes beyond `out`
/// masked (neither loaded nor stored). The convolutions of small mobile
/// models (16 or 24 channels) are such linears with thousands of rows.
template <int R, int V>
void narrowBlock(const float *x, int64_t in, const float *wt, int64_t out,
                 const float *bias, float *y, const Epilogue &epi,
                 const float *res) {
  __mmask16 mask[V];
  for (int v = 0; v < V; ++v) {
    const int64_t n = std::min<int64_t>(16, out - 16 * v);
    mask[v] = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  }
  __m512 acc[R][V];
  for (int v = 0; v < V; ++v) {
    const __m512 b = _mm512_maskz_loadu_ps(mask[v], bias + 16 * v);
    for (int r = 0; r < R; ++r)
      acc[r][v] = b;
  }
  for (int64_t k = 0; k < in; ++k) {
    __m512 w[V];
    for (int v = 0; v < V; ++v)
      w[v] = _mm512_maskz_loadu_ps(mask[v], wt + k * out + 16 * v);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(x[r * in + k]);
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_fmadd_ps(xv, w[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      __m512 a = vec::activate512(epi.act, acc[r][v]);
      if (res)
        a = _mm512_add_ps(
            a, _mm512_maskz_loadu_ps(mask[v], res + r * out + 16 * v));
      _mm512_mask_storeu_ps(y + r * out + 16 * v, mask[v], a);
    }
}

template <int V>
void narrowRows(const float *x, int64_t r0, int64_t r1, int64_t in,
                const float *wt, int64_t out, const float *bias, float *y,
                const Epilogue &epi) {
  auto at = [&](int64_t r) {
    return epi.residual ? epi.residual + r * out : nullptr;
  };
  int64_t r = r0;
  for (; r + 8 <= r1; r += 8)
    narrowBlock<8, V>(x + r * in, in, wt, out, bias, y + r * out, epi, at(r));
  for (; r < r1; ++r)
    narrowBlock<1, V>(x + r * in, in, wt, out, bias, y + r * out, epi, at(r));
}

struct NarrowJob {
  const float *x, *wt, *bias;
  float *y;
  int64_t rows, in, out, perTask;
  Epilogue epi;
};

} // namespace

bool linearNarrowAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act, const float *residual) {
  if (out < 1 || out >= kLinearTile)
    return false;
  if (rows <= 0)
    return true;
  NarrowJob job{x, wt, bias, y, rows, in, out,
                (runLength(rows) + 7) / 8 * 8, Epilogue{act, residual}};
  halide_do_par_for(
      nullptr,
      [](void *, int t, uint8_t *closure) {
        const NarrowJob &j = *reinterpret_cast<const NarrowJob *>(closure);
        const int64_t r0 = t * j.perTask,
                      r1 = std::min(j.rows, r0 + j.perTask);
        switch ((j.out + 15) / 16) {
        case 1:
          narrowRows<1>(j.x, r0, r1, j.in, j.wt, j.out, j.bias, j.y, j.epi);
          break;
        case 2:
          narrowRows<2>(j.x, r0, r1, j.in, j.wt, j.out, j.bias, j.y, j.epi);
          break;
        default:
          narrowRows<3>(j.x, r0, r1, j.in, j.wt, j.out, j.bias, j.y, j.epi);
        }
        return 0;
      },
      0, int((rows + job.perTask - 1) / job.perTask),
      reinterpret_cast<uint8_t *>(&job));
  return true;
}

bool linearPackedAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act, const float *residual) {
  if (out < kLinearTile)
    return false;
  if (rows <= 0)
    return true;
  const LinearSplit sp = splitLinear(rows, in, out);
  const int64_t tiles = sp.tiles, perTask = sp.perTask,
                rowsPerTask = sp.rowsPerTask, tileRuns = sp.tileRuns,
                rowRuns = sp.rowRuns;
  Job job{x,     wt,          bias,     y,
          rows,  in,          out,      tiles,
          perTask, rowsPerTask, tileRuns, Epilogue{act, residual}};
  halide_do_par_for(nullptr, task, 0, int(tileRuns * rowRuns),
                    reinterpret_cast<uint8_t *>(&job));
  return true;
}

#else

bool linearNarrowAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act, const float *residual) {
  SLIM_V4(linearNarrowAvx512, x, rows, in, wt, bias, out, y, act, residual);
  return false; // not built for AVX-512: the Halide kernel runs
}

bool linearPackedAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act, const float *residual) {
  SLIM_V4(linearPackedAvx512, x, rows, in, wt, bias, out, y, act, residual);
  return false; // not built for AVX-512: linearPackedAvx2 or Halide
}

#endif

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
namespace {

constexpr int kT2 = int(kLinearTile);
constexpr int kRows2 = 6; // 6 rows × 2 vectors: 12 of the 16 registers
constexpr int64_t kKc = 256; // inputs per run (16 KB of a group's weights)

/// Rows 0 … R−1 of one 16-wide column group of a tile (`w`: its first
/// weight, row stride kLinearTile) over inputs [k0, k1): 2R accumulators,
/// each step two weight loads and R broadcasts for 2R FMAs. `xp`: the
/// block's rows packed input-major (R floats a step, see packRows), so the
/// broadcasts read one sequential stream.
///
/// `pf`: `pfLines` lines (kLinearTile floats apart) of the run that comes
/// next, prefetched to L2 one every (k1 − k0) / pfLines steps.
template <int R>
__attribute__((noinline)) void
block2(const float *xp, int64_t in, int64_t k0, int64_t k1, const float *w,
       const float *bias, float *y, int64_t ldy, LinearAct act,
       const float *res, const float *pf, int64_t pfLines) {
  __m256 acc[R][2];
  if (k0 == 0) {
    const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = b0;
      acc[r][1] = b1;
    }
  } else {
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm256_loadu_ps(y + r * ldy);
      acc[r][1] = _mm256_loadu_ps(y + r * ldy + 8);
    }
  }
  const int64_t every =
      pfLines > 0 ? std::max<int64_t>(1, (k1 - k0) / pfLines) : k1 - k0;
  const float *pfEnd = pf + std::max<int64_t>(0, pfLines) * kT2;
  const float *wk = w + k0 * kT2, *xk = xp + k0 * R;
  for (int64_t k = k0; k < k1;) {
    const int64_t e = pf < pfEnd ? std::min(k1, k + every) : k1;
    for (; k < e; ++k, wk += kT2, xk += R) {
      const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 xv = _mm256_broadcast_ss(xk + r);
        acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
      }
    }
    if (pf < pfEnd) {
      _mm_prefetch(reinterpret_cast<const char *>(pf), _MM_HINT_T1);
      pf += kT2;
    }
  }
  // After the last run: the activation and the residual in registers.
  if (k1 == in && (act != LinearAct::None || res))
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < 2; ++v) {
        acc[r][v] = vec::activate256(act, acc[r][v]);
        if (res)
          acc[r][v] =
              _mm256_add_ps(acc[r][v], _mm256_loadu_ps(res + r * ldy + 8 * v));
      }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(y + r * ldy, acc[r][0]);
    _mm256_storeu_ps(y + r * ldy + 8, acc[r][1]);
  }
}

using Block2Fn = void (*)(const float *, int64_t, int64_t, int64_t,
                          const float *, const float *, float *, int64_t,
                          LinearAct, const float *, const float *, int64_t);
constexpr Block2Fn kBlock2[kRows2 + 1] = {nullptr,   block2<1>, block2<2>,
                                          block2<3>, block2<4>, block2<5>,
                                          block2<6>};

/// A task's rows in blocks: of 6, except that a remainder of 1–3 rows
/// joins the last 6 and the two split evenly (128 = 20·6 + 4 + 4): a
/// block of 1–3 rows has too few accumulators to cover the FMA latency.
struct RowBlocks {
  int64_t start[64], size[64], count = 0;
};

RowBlocks planRows(int64_t n) {
  RowBlocks p;
  int64_t full = n / kRows2, rem = n % kRows2;
  if (rem > 0 && rem <= 3 && full > 0)
    --full, rem += kRows2;
  int64_t r = 0;
  auto add = [&](int64_t size) {
    p.start[p.count] = r;
    p.size[p.count++] = size;
    r += size;
  };
  // More blocks than fit are planned in the caller's chunks of rows.
  for (int64_t i = 0; i < full; ++i)
    add(kRows2);
  if (rem > kRows2) {
    add((rem + 1) / 2);
    add(rem / 2);
  } else if (rem > 0) {
    add(rem);
  }
  return p;
}

/// Rows [r0, r0 + n) of x (n ≤ kRowChunk) packed block by block (planRows):
/// block b's R rows input-major, xp[start·in + k·R + r] = x[r0 + start + r, k].
void packRows(const float *x, int64_t in, int64_t r0, const RowBlocks &p,
              float *xp) {
  for (int64_t b = 0; b < p.count; ++b) {
    const int64_t R = p.size[b];
    const float *src = x + (r0 + p.start[b]) * in;
    float *dst = xp + p.start[b] * in;
    for (int64_t k = 0; k < in; ++k)
      for (int64_t r = 0; r < R; ++r)
        dst[k * R + r] = src[r * in + k];
  }
}

// Rows per packed chunk: 60 blocks of 6 (the plan holds 64); a task with
// more rows packs and runs them in chunks.
constexpr int64_t kRowChunk = 60 * kRows2;

struct Job2 {
  const float *x, *wt, *bias;
  float *y;
  int64_t rows, in, out, tiles, perTask, rowsPerTask, tileRuns;
  LinearAct act;
  const float *residual; // like y, or null

  /// Rows [r0, r0 + plan's rows) of tile j, their inputs packed in `xp`:
  /// the tile's three column groups in turn (a group's weights, in × 64
  /// bytes, stay in L2 across the row blocks). `last`: no tile of this
  /// task follows.
  void tile(int64_t j, int64_t r0, const RowBlocks &plan, const float *xp,
            bool last) const {
    const int64_t col = std::min(j * kLinearTile, out - kLinearTile);
    const int64_t blocks = std::max<int64_t>(1, plan.count);
    for (int g = 0; g < kT2 / 16; ++g) {
      const float *w = wt + j * in * kLinearTile + 16 * g;
      const float *b = bias + col + 16 * g;
      // Runs of kKc inputs: the group's weights for a run (kKc × 64
      // bytes) stay in L1 across the row blocks; a run after the first
      // starts from the sums in y.
      for (int64_t k0 = 0; k0 < in; k0 += kKc) {
        const int64_t k1 = std::min(in, k0 + kKc);
        // The run that comes next (the group's next run, the next group's
        // first, the next tile's first): its lines, shared out among the
        // row blocks, are prefetched to L2 while this run's blocks
        // compute. The weights are read 64 bytes in every 192 (one column
        // group of a tile's rows), which the hardware prefetchers do not
        // follow far enough ahead: the first block of a run would wait on
        // DRAM or L3 (GPT-2's 12 layers at 128 rows, alternating runs:
        // 8–10% faster).
        const float *next = nullptr;
        int64_t nextLines = 0;
        if (k1 < in)
          next = w + k1 * kT2, nextLines = std::min(in, k1 + kKc) - k1;
        else if (g + 1 < kT2 / 16)
          next = w + 16, nextLines = std::min(in, kKc);
        else if (!last)
          next = wt + (j + 1) * in * kLinearTile, nextLines = std::min(in, kKc);
        for (int64_t i = 0; i < plan.count; ++i) {
          const int64_t a = nextLines * i / blocks,
                        e = nextLines * (i + 1) / blocks;
          const int64_t r = r0 + plan.start[i];
          kBlock2[plan.size[i]](
              xp + plan.start[i] * in, in, k0, k1, w, b,
              y + r * out + col + 16 * g, out, act,
              residual ? residual + r * out + col + 16 * g : nullptr,
              next ? next + a * kT2 : nullptr, next ? e - a : 0);
        }
      }
    }
  }
};

} // namespace

bool linearPackedAvx2(const float *x, int64_t rows, int64_t in,
                      const float *wt, const float *bias, int64_t out,
                      float *y, LinearAct act, const float *residual) {
  if (out < kLinearTile)
    return false;
  if (rows <= 0)
    return true;
  const LinearSplit sp = splitLinear(rows, in, out);
  const int64_t tiles = sp.tiles, perTask = sp.perTask,
                rowsPerTask = sp.rowsPerTask, tileRuns = sp.tileRuns,
                rowRuns = sp.rowRuns;
  Job2 job{x,       wt,          bias,     y,   rows,    in,
           out,     tiles,       perTask,  rowsPerTask, tileRuns, act,
           residual};
  halide_do_par_for(
      nullptr,
      [](void *, int t, uint8_t *closure) {
        const Job2 *job = reinterpret_cast<const Job2 *>(closure);
        const int64_t run = t % job->tileRuns, rowRun = t / job->tileRuns;
        const int64_t r0 = rowRun * job->rowsPerTask,
                      r1 = std::min(job->rows, r0 + job->rowsPerTask);
        const int64_t end = std::min(job->tiles, (run + 1) * job->perTask);
        // The task's rows packed once (packRows) and read by every tile:
        // per thread, kept between calls.
        thread_local std::vector<float> packed;
        for (int64_t c0 = r0; c0 < r1; c0 += kRowChunk) {
          const int64_t n = std::min(kRowChunk, r1 - c0);
          const RowBlocks plan = planRows(n);
          if (packed.size() < size_t(n * job->in))
            packed.resize(size_t(n * job->in));
          packRows(job->x, job->in, c0, plan, packed.data());
          for (int64_t j = run * job->perTask; j < end; ++j)
            job->tile(j, c0, plan, packed.data(), j + 1 == end);
        }
        return 0;
      },
      0, int(tileRuns * rowRuns), reinterpret_cast<uint8_t *>(&job));
  return true;
}

#else

bool linearPackedAvx2(const float *, int64_t, int64_t, const float *,
                      const float *, int64_t, float *, LinearAct,
                      const float *) {
  return false; // AVX-512 (linearPackedAvx512), or no AVX2: Halide
}

#endif

} // namespace slim::rt
