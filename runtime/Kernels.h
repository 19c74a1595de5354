//===- Kernels.h - the compute kernels of Slim's runtime --------*- C++ -*-===//
//
// Every slim op's computation on dense row-major buffers. The reference
// executor (slim-run, calibration) and compiled binaries call these same
// functions. The heavy ones wrap Halide AOT kernels (linear, norms); the
// rest are plain C++. Functions that can fail on data (an index out of
// range, a Halide error) return false and set the error message.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_KERNELS_H
#define RUNTIME_KERNELS_H

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace slim::rt {

using Shape = std::vector<int64_t>;

/// Per-thread scratch kept between calls: `v` grown to at least n
/// elements and never shrunk (resizing up again after a smaller call would
/// zero the difference: DeiT-S int8 wrote 227 KB before every fc2); its
/// data.
template <typename T> T *growScratch(std::vector<T> &v, size_t n) {
  if (v.size() < n)
    v.resize(n);
  return v.data();
}

int64_t numElements(const Shape &shape);

/// Sets the size of the thread pool every parallel kernel runs on (Halide's
/// and the C++ ones; runtime/ThreadPool.cpp), counting the calling thread.
/// Not while a kernel runs.
void setThreadCount(int n);
/// The pool size: the last setThreadCount, else Halide's default
/// (HL_NUM_THREADS, else the number of CPUs).
int threadCount();
/// The CPUs this process may run on (its affinity mask), at least 1.
int availableCpus();
/// How many runs to split each of `heads` attention heads (batch × heads)
/// of `tiles` query tiles into, so that threads are not left idle when
/// heads are few (DeiT-Tiny: 3 heads on 2 threads): at least two tasks per
/// thread, a multiple of the thread count when a small split gives one;
/// at most `tiles`. Each run redoes its head's key preparation.
int64_t attentionRuns(int64_t heads, int64_t tiles);
/// A model call starts / ends. While more than one is in flight, kernels
/// run their parallel loops on the calling thread (one core per call)
/// instead of sharing the pool.
void beginModelCall();
void endModelCall();
/// Items per task when n items are split into runs, one per thread (each
/// thread's items contiguous; two per thread, for some balance when a core
/// is busy with something else, measured 3–5% slower at 2 threads on
/// DeiT-S int8 and DeiT-Tiny under the same load); at least 1.
int64_t runLength(int64_t n);
/// fn(ctx, begin, end) over [0, n) in runs of `per` items, one task each
/// on the thread pool (runtime/ThreadPool.cpp).
void runInRuns(int64_t n, int64_t per,
               void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx);
/// f(begin, end) over [0, n) in runs of runLength(n) items: one contiguous
/// run per thread.
template <typename F> void parallelRuns(int64_t n, F &&f) {
  if (n <= 0)
    return;
  using Fn = std::remove_reference_t<F>;
  runInRuns(
      n, runLength(n),
      [](void *c, int64_t begin, int64_t end) {
        (*static_cast<Fn *>(c))(begin, end);
      },
      const_cast<void *>(static_cast<const void *>(&f)));
}
/// Rows per thread from which the linear kernels split their rows between
/// the threads (every thread all output tiles of its run of rows: the rows
/// its core normalized, quantized or wrote) instead of their output tiles.
constexpr int64_t kRowSplitRowsPerThread = 32;

/// The linear kernels read weights packed once (at compile time, or when
/// slim-run first needs them): with out ≥ kLinearTile, tile-major — tiles of
/// 48 consecutive outputs, each stored [in, 48] contiguously, the last tile
/// of a width that is not a multiple of 48 shifted to end at `out`;
/// narrower weights as Wᵀ [in, out].
constexpr int64_t kLinearTile = 48;
/// Floats of the packed weight.
int64_t packedLinearSize(int64_t out, int64_t in);
void packLinearWeight(const float *w, int64_t out, int64_t in, float *wt);

/// An activation fused into the linear kernel's epilogue.
/// Relu6: min(max(x, 0), 6) (ONNX Clip(0, 6) after a linear); HardSwish:
/// x · min(max(x · (1/6) + 1/2, 0), 1), ONNX's HardSwish as its importer
/// writes it.
enum class LinearAct { None, GeluExact, GeluTanh, Silu, Relu, Relu6, HardSwish };

/// y[rows, out] = act(x[rows, in] · W + b) [+ residual[rows, out]], with
/// `wt` the packed weight (packLinearWeight) and `bias` [out] or null. The
/// residual (a residual sublayer's input, its add fused here) must not
/// alias y.
bool linear(const float *x, int64_t rows, int64_t in, const float *wt,
            const float *bias, int64_t out, float *y, std::string &error,
            LinearAct act = LinearAct::None,
            const float *residual = nullptr);

/// int8 linear layers (W8A8, dynamic per-token activation scales; see
/// QKernels.cpp). The weight [out, in] int8 is packed once into
/// packedQLinearBytes(out, in) bytes.
int64_t packedQLinearBytes(int64_t out, int64_t in);
void packQLinearWeight(const int8_t *w, int64_t out, int64_t in,
                       uint8_t *packed);
/// Per row: s = max|x|/127, q = round(x/s) stored as q + 128 (each row
/// padded to a multiple of 4 inputs with 128, i.e. zero).
void quantizeRows(const float *x, int64_t rows, int64_t in, uint8_t *xq,
                  float *scales, float staticScale = 0.0f);
/// The exact int32 sums Σ_k q_x[r,k] · W_q[o,k] (acc [rows, out]).
void qgemmInt32(const uint8_t *xq, int64_t rows, int64_t in,
                const uint8_t *packed, int64_t out, int32_t *acc);
/// y = act((Σ q_x·W_q) · s_row · s_o + b); with `staticScale` > 0 every
/// row uses that calibrated scale (values beyond ±127·s saturate).
/// With `residual` (null: none; must not alias y) it is added after the
/// activation: a residual sublayer's add fused into its last linear.
void qlinear(const float *x, int64_t rows, int64_t in, const uint8_t *packed,
             const float *wscales, const float *bias, int64_t out, float *y,
             LinearAct act = LinearAct::None, float staticScale = 0.0f,
             const float *residual = nullptr);
/// One of the int8 linears of qlinearShared.
struct QLinearPart {
  const uint8_t *packed;
  const float *scales, *bias;
  int64_t out;
  LinearAct act;
  float *y;
  const float *residual = nullptr;
};
constexpr int kMaxSharedQLinears = 3;
/// A LayerNorm or RMSNorm (over the whole row of `in` values) that
/// qlinearShared applies to x before quantizing it: the normalized rows
/// exist one at a time in the thread's cache, never as a tensor.
struct RowNorm {
  bool rms;
  const float *scale, *bias; // bias may be null
  float eps;
};
/// 1 … kMaxSharedQLinears int8 linears of one input (attention's query,
/// key and value): x is quantized once and their tiles run as one
/// parallel loop. Each part's y as qlinear() computes it — of norm(x)
/// when `norm` is given (the same values as layerNorm()/rmsNorm() then
/// qlinearShared of their result).
void qlinearShared(const float *x, int64_t rows, int64_t in,
                   float staticScale, const QLinearPart *parts, int n,
                   const RowNorm *norm = nullptr);

/// int4 group-wise weight-only linear layers (see Q4Kernels.cpp): q [out,
/// in] (one value 0…15 per byte), scales and zero points [out, in / group]
/// (zeros null: Q4_0's z = 8), w = (q − z) · d, packed once into
/// packedQ4Bytes(out, in, group, scales, zeros) bytes (the scales as
/// bfloat16 when zeros is null and every d is one, else float32); `in`
/// must be a multiple of `group`.
/// Quantizes w [out, in] in groups: `symmetric` is Q4_0 (d = m / −8, m the
/// element of largest magnitude, rounded away from zero to a bfloat16; q =
/// min(15, trunc(w/d + 8.5)); z = 8, so |w − (q−8)·d| ≤ |d|), otherwise
/// min/max (s = (max − min)/15 over the
/// range widened to 0, z = round(−min/s) ∈ [0, 15], error ≤ s/2 in range).
/// `zeros` is written only for the asymmetric variant.
void quantizeQ4(const float *w, int64_t out, int64_t in, int64_t group,
                bool symmetric, uint8_t *q, float *scales, uint8_t *zeros);
int64_t packedQ4Bytes(int64_t out, int64_t in, int64_t group,
                      const float *scales, const uint8_t *zeros);
void packQ4Weight(const uint8_t *q, const float *scales, const uint8_t *zeros,
                  int64_t out, int64_t in, int64_t group, uint8_t *packed);
/// The q values back from a packed weight (for tests).
void unpackQ4Weight(const uint8_t *packed, int64_t out, int64_t in,
                    uint8_t *q);
/// y = act(x · dequant(W)ᵀ + b). Activations in float, or with `int8Acts`
/// W4A8 (prefill and decode steps alike): each row quantized to int8 as
/// qlinear's dynamic mode does (s_r = max|x_r| / 127), int32 sums per
/// group, y = s_r · Σ_g (d·Σ q·x_q − z·d·Σ x_q) + b. Fails when the packed
/// weight's header does not match [out, in] and `group`.
bool q4linear(const float *x, int64_t rows, int64_t in, const uint8_t *packed,
              int64_t group, const float *bias, int64_t out, float *y,
              std::string &error, LinearAct act = LinearAct::None,
              bool int8Acts = false);
/// W4A8's activations: quantizeRows' int8 values, each run of 8 inputs
/// stored as inputs 0, 2, 4, 6, 1, 3, 5, 7 (the order of the nibbles the
/// kernel unpacks), their scales, and Σ x_q per row and group.
void quantizeRowsW4A8(const float *x, int64_t rows, int64_t in,
                      int64_t group, int8_t *xq, float *scales,
                      int32_t *sums);

/// Normalizes each of `rows` rows of `d` elements; `bias` may be null.
bool layerNorm(const float *x, int64_t rows, int64_t d, const float *scale,
               const float *bias, float eps, float *y, std::string &error);
bool rmsNorm(const float *x, int64_t rows, int64_t d, const float *scale,
             const float *bias, float eps, float *y, std::string &error);

/// CRMSNorm of rows of `width` = d − 1 coordinates of a zero-mean vector:
/// y = x / sqrt((Σx² + (Σx)²)/d + eps).
bool crmsNorm(const float *x, int64_t rows, int64_t width, float eps, float *y,
              std::string &error);

/// The packed linear (out ≥ kLinearTile) with an AVX-512 register-tiled
/// C++ kernel, bias required, the activation and then `residual` (null:
/// none) added in its epilogue; false when not built for AVX-512
/// (runtime/LinearKernel.cpp).
bool linearPackedAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act = LinearAct::None,
                        const float *residual = nullptr);

/// The same with AVX2 and FMA (slimc --target=x86-64-v3: blocks of 6 rows
/// × 16 outputs in 12 256-bit accumulators, over runs of 256 inputs; the
/// activation and the residual in the epilogue); false when not built for
/// AVX2 or when
/// linearPackedAvx512 applies.
bool linearPackedAvx2(const float *x, int64_t rows, int64_t in,
                      const float *wt, const float *bias, int64_t out,
                      float *y, LinearAct act = LinearAct::None,
                      const float *residual = nullptr);

/// The same for out < kLinearTile, on the weight packed as Wᵀ [in, out];
/// bias required; false when not built for AVX-512.
bool linearNarrowAvx512(const float *x, int64_t rows, int64_t in,
                        const float *wt, const float *bias, int64_t out,
                        float *y, LinearAct act = LinearAct::None,
                        const float *residual = nullptr);

/// layer_norm (rms = false) or rms_norm of each row of x [rows, d] on
/// AVX-512 hosts (runtime/NormKernel.cpp), bias null or [d]; false when not
/// built for AVX-512 (the Halide kernels run).
bool normAvx512(bool rms, const float *x, int64_t rows, int64_t d,
                const float *scale, const float *bias, float eps, float *y);
/// One row of normAvx512 (the same arithmetic); false when not built for
/// AVX-512.
bool normRowAvx512(bool rms, const float *x, int64_t d, const float *scale,
                   const float *bias, float eps, float *y);

/// y[n, d] = table[idx[n], :]; fails on an index outside [0, vocab).
bool embedding(const float *table, int64_t vocab, int64_t d,
               const int64_t *idx, int64_t n, float *y, std::string &error);

struct AttentionShape {
  int64_t batch, queries, keys, heads, kvHeads, headDim, valueDim;
  /// G of a [G, H, T, S] bias (batch row b reads bias[b mod G]); 0: none.
  int64_t biasGroups = 0;
};
/// attention() on AVX-512 hosts (runtime/AttentionKernel.cpp), `logSize`
/// [B,S] log sizes or zeros; false when not built for AVX-512 (or on an
/// empty or malformed shape).
bool attentionAvx512(const float *q, const float *k, const float *v,
                     const float *logSize, const float *bias,
                     const AttentionShape &s, bool causal, float scale,
                     float *out);
/// The same in 8-lane registers for binaries built for AVX2 without
/// AVX-512 (runtime/AttentionAvx2.cpp); false otherwise.
bool attentionAvx2(const float *q, const float *k, const float *v,
                   const float *logSize, const float *bias,
                   const AttentionShape &s, bool causal, float scale,
                   float *out);
/// attentionReceived()'s per-head sums on AVX-512 hosts (the attention
/// kernel's scores and softmax, each row's probabilities summed per key
/// instead of ·V): partial[b, h, j] = Σ_t p_bht(j); false when not built
/// for AVX-512.
bool attentionReceivedAvx512(const float *q, const float *k,
                             const float *logSize, const AttentionShape &s,
                             float scale, float *partial);
/// out[B,S]: the probabilities of the non-causal attention of q over k
/// (+ log sizes when given) averaged over heads and queries (MCTF).
bool attentionReceived(const float *q, const float *k, const float *sizes,
                       const AttentionShape &shape, float scale, float *out,
                       std::string &error);
/// out[B,T,H·dv] = softmax(q·kᵀ·scale [+ log sizes] [causal]) · v.
/// Only a tile of the scores exists at a time (Halide kernel).
/// `keyBias` [B,S] (or null) is added to every logit of key j (padding);
/// `bias` [G,H,T,S] (or null, G = s.biasGroups) to the logits of batch row
/// b from bias[b mod G] (relative positions, window masks).
/// `int8`: both products in integers (attentionInt8; slim.attention's
/// `int8`), else float.
bool attention(const float *q, const float *k, const float *v,
               const float *sizes, const float *keyBias, const float *bias,
               const AttentionShape &s, bool causal, float scale, float *out,
               std::string &error, bool int8 = false);

/// The keys an int8 attention takes at most: Σ_j p̂·v̂ ≤ 255·127·S stays
/// within int32.
constexpr int64_t kMaxInt8AttentionKeys = 65536;
/// Which code runs attentionInt8: `best` the fastest this CPU runs; the
/// others to compare them (all give the same bits).
enum class Int8AttentionPath { best, scalar, vnni, amx };
/// The int8 attention (runtime/QAttention.cpp): q, k per row and head and
/// v per column quantized to int8, the probabilities to 0 … 255, both
/// products summed in int32; `keyTerm` [B,S] is added to every logit of
/// key j (log sizes + key bias). False on a malformed shape, more than
/// kMaxInt8AttentionKeys keys, or a path this build or CPU lacks.
bool attentionInt8(const float *q, const float *k, const float *v,
                   const float *keyTerm, const float *bias,
                   const AttentionShape &s, bool causal, float scale,
                   float *out,
                   Int8AttentionPath path = Int8AttentionPath::best);

/// One step against a KV cache (slim.kv_attention): writes the k/v rows of
/// `tokens` new tokens at the consecutive positions positions[0], … into
/// `slot` (keys [capacity, Hkv·d], then values [capacity, Hkv·dv]; float32,
/// or IEEE float16 with `f16`, rounded to nearest even), then
/// out[1,T,H·dv] = causal attention of q over cache rows 0 … p+T−1 (as
/// stored). Fails (no write) when the positions are not consecutive or pass
/// `capacity`.
bool kvAttention(const float *q, const float *k, const float *v,
                 const int64_t *positions, int64_t tokens, int64_t heads,
                 int64_t kvHeads, int64_t headDim, int64_t valueDim,
                 int64_t capacity, void *slot, bool f16, float scale,
                 float *out, std::string &error);

/// ToMe bipartite soft matching (docs/passes.md §2.1) on x[B,T,D]
/// with the similarity metric[B,T,M] and token sizes[B,T]: the tokens at even
/// positions (A) are matched to those at odd positions (B) by cosine
/// similarity of the metric; the r best-matched A tokens are merged into
/// their B partner (size-weighted average, sizes added). The first
/// `protectedTokens` tokens never merge. Output y[B,T−r,D], ySizes[B,T−r]:
/// the protected tokens, the unmerged A tokens (index order when tokens are
/// protected, otherwise ToMe's order: by descending score), then B.
/// Ties in score go to the lower index. Requires 2r ≤ T − protected.
/// What tokenMerge does besides the tokens: ToMe (keys averaged over heads
/// as the metric, size-weighted merging) or MCTF (`received`: the attention
/// each token received, [batch, tokens]; scores W_sim·W_info·W_size with
/// exponents 1/τ; bidirectional; weights received × size).
struct MergeOptions {
  int64_t r = 0, protectedTokens = 1;
  bool mctf = false;
  const float *received = nullptr;
  double tauSim = 1.0, tauInfo = 20.0, tauSize = 40.0;
  bool bidirectional = true;
  /// With `source` [batch, originalTokens] (the current row of every
  /// original token), the map after this merge is written to `ySource`.
  const int64_t *source = nullptr;
  int64_t originalTokens = 0;
  int64_t *ySource = nullptr;
};
/// Bipartite soft matching of r token pairs (docs/passes.md §2).
void tokenMerge(const float *x, const float *metric, const float *sizes,
                int64_t batch, int64_t tokens, int64_t dim, int64_t mdim,
                const MergeOptions &options, float *y, float *ySizes);
/// y[b, g, :] = Σ w·x / Σ w over the tokens of group g (MCTF's
/// one-step-ahead rows); fails on a group outside [0, numGroups) or one
/// without positive weight.
bool groupMean(const float *x, const int64_t *groups, const float *weights,
               int64_t batch, int64_t tokens, int64_t numGroups, int64_t dim,
               float *y, std::string &error);
/// y[b, t, :] = x[b, source[b, t], :] (ToMe's unmerge); fails on an index
/// outside [0, tokens).
bool unmerge(const float *x, const int64_t *source, int64_t batch,
             int64_t tokens, int64_t originalTokens, int64_t dim, float *y,
             std::string &error);

/// Rotary embedding on x[B,T,H·d]; positions are [T] or [B,T].
void rope(const float *x, const int64_t *positions, bool perBatch, int64_t b,
          int64_t t, int64_t heads, int64_t headDim, float theta,
          bool interleaved, float *y);

enum class Unary {
  GeluExact, GeluTanh, Silu, Erf, Tanh, Sqrt, Exp, Sigmoid, Neg, Relu, Cos, Sin,
  Log, Abs, Floor, Ceil, Round
};
/// y = a + b over n elements (the Halide `add` kernel).
void addFlat(const float *a, const float *b, int64_t n, float *y);
/// y = a · b elementwise (same shapes), split between the threads from
/// 2^16 elements.
void mulFlat(const float *a, const float *b, int64_t n, float *y);
/// y = SiLU(a) · b over n elements (the Halide `silu_mul` kernel).
void siluMul(const float *a, const float *b, int64_t n, float *y);
void unary(Unary op, const float *x, int64_t n, float *y);
void clamp(const float *x, int64_t n, float lo, float hi, float *y);
/// A fused linear activation applied as a separate pass (act != None).
inline void applyLinearAct(LinearAct act, float *y, int64_t n) {
  if (act == LinearAct::HardSwish) {
    for (int64_t k = 0; k < n; ++k) {
      float t = y[k] * (1.0f / 6.0f);
      t = t + 0.5f;
      y[k] = y[k] * std::min(std::max(t, 0.0f), 1.0f);
    }
  } else if (act == LinearAct::Relu6)
    clamp(y, n, 0.0f, 6.0f, y);
  else if (act != LinearAct::None)
    unary(act == LinearAct::GeluExact  ? Unary::GeluExact
          : act == LinearAct::GeluTanh ? Unary::GeluTanh
          : act == LinearAct::Relu     ? Unary::Relu
                                       : Unary::Silu,
          y, n, y);
}

enum class Binary { Add, Sub, Mul, Div, Pow, Max, Min };
/// NumPy-broadcasting elementwise op; `ys` is the broadcast shape.
void binary(Binary op, const float *a, const Shape &as, const float *b,
            const Shape &bs, float *y, const Shape &ys);
void where(const uint8_t *c, const Shape &cs, const float *a, const Shape &as,
           const float *b, const Shape &bs, float *y, const Shape &ys);

/// The comparisons of slim.compare, in its CompareKind order; y is 0 / 1.
enum class Compare { Eq, Lt, Le, Gt, Ge };
void compare(Compare op, const float *a, const Shape &as, const float *b,
             const Shape &bs, uint8_t *y, const Shape &ys);
void compare(Compare op, const int64_t *a, const Shape &as, const int64_t *b,
             const Shape &bs, uint8_t *y, const Shape &ys);
void compare(Compare op, const int32_t *a, const Shape &as, const int32_t *b,
             const Shape &bs, uint8_t *y, const Shape &ys);
/// The index of the largest (`max`) or smallest element along `axis` of x,
/// the first of equal ones or, with `last`, the last; NaN only when the
/// whole row is.
void argReduce(bool max, const float *x, const Shape &shape, int64_t axis,
               bool last, int64_t *y);
/// ONNX Gather of x (elements of `elemBytes` bytes) along `axis`: for each
/// of the n indices (negative from the end) the slice it selects. False
/// with `error` for an index outside the axis.
bool gather(const void *x, size_t elemBytes, const Shape &shape, int64_t axis,
            const int64_t *indices, int64_t n, void *y, std::string &error);
/// ONNX GatherElements: y (the indices' shape `is`) at p is x at p with
/// coordinate `axis` replaced by indices[p]. False with `error` for an
/// index outside the axis.
bool gatherElements(const void *x, size_t elemBytes, const Shape &xs,
                    int64_t axis, const int64_t *indices, const Shape &is,
                    void *y, std::string &error);
/// What fills a padding, in slim.pad's PadMode order.
enum class PadMode { Constant, Reflect, Edge, Wrap };
/// ONNX Pad of x over any rank: `pads` holds the counts before each axis,
/// then after each (all ≥ 0); the new cells hold `value` (Constant), the
/// input mirrored without its border (Reflect: counts < the axis), the
/// border element (Edge) or the input repeated (Wrap).
void pad(PadMode mode, const float *x, const Shape &shape,
         const std::vector<int64_t> &pads, float value, float *y);
void pad(PadMode mode, const int32_t *x, const Shape &shape,
         const std::vector<int64_t> &pads, int32_t value, int32_t *y);
void pad(PadMode mode, const int64_t *x, const Shape &shape,
         const std::vector<int64_t> &pads, int64_t value, int64_t *y);
/// The connectives of slim.logic, in its LogicKind order, on 0 / 1 bytes.
enum class Logic { And, Or, Xor };
void logic(Logic op, const uint8_t *a, const Shape &as, const uint8_t *b,
           const Shape &bs, uint8_t *y, const Shape &ys);

/// softmax along `axis` of `shape`.
void softmax(const float *x, const Shape &shape, int64_t axis, float *y);
/// log(softmax) along `axis`: x − max − log Σ exp(x − max).
void logSoftmax(const float *x, const Shape &shape, int64_t axis, float *y);
/// mean over `axes` (sorted, normalized) with keepdims.
/// The reductions of slim.reduce, in its ReduceKind order.
enum class Reduce { Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp };
/// `kind` over `axes` (sorted, normalized) of x; y has the kept extents.
void reduce(Reduce kind, const float *x, const Shape &shape,
            const std::vector<int64_t> &axes, float *y);
void reduceMean(const float *x, const Shape &shape,
                const std::vector<int64_t> &axes, float *y);
/// Batched matrix product with broadcast batch axes.
void matmul(const float *a, const Shape &as, const float *b, const Shape &bs,
            float *y, const Shape &ys);

// Data movement, for any element size (element by element: the reference
// executor's; compiled models transpose with transposeTiled).
void transpose(const void *x, size_t elemSize, const Shape &shape,
               const std::vector<int64_t> &perm, void *y);
void slice(const void *x, size_t elemSize, const Shape &shape,
           const std::vector<int64_t> &offsets,
           const std::vector<int64_t> &sizes,
           const std::vector<int64_t> &strides, void *y);
void concat(const std::vector<const void *> &xs,
            const std::vector<Shape> &shapes, size_t elemSize, int64_t axis,
            void *y);
void broadcastTo(const void *x, size_t elemSize, const Shape &xs, void *y,
                 const Shape &ys);

/// y = min(max(x, lo), hi) (NaN stays NaN) and y = x ≥ 0 ? x : alpha·x.
void clamp(const float *x, int64_t n, float lo, float hi, float *y);
void leakyRelu(const float *x, int64_t n, float alpha, float *y);

/// How slim.resize interpolates, in the orders of its ResizeMode,
/// ResizeCoordinates and NearestMode enums.
struct ResizeParams {
  int mode = 0;        // nearest, linear, cubic
  int coordinates = 0; // half_pixel, pytorch_half_pixel, align_corners,
                       // asymmetric, tf_half_pixel_for_nn
  int nearest = 0;     // round_prefer_floor, round_prefer_ceil, floor, ceil
  float cubicA = -0.75f;
  bool excludeOutside = false;
};
/// y (extents `out`) = x (extents `in`) resized axis by axis as ONNX Resize
/// defines it, with the per-axis `scales` of its coordinate mapping
/// (runtime/ConvKernels.cpp).
void resize(const float *x, const Shape &in, const Shape &out,
            const std::vector<float> &scales, const ResizeParams &p,
            float *y);

/// A 2-D window over x [batch, channels, height, width] (NCHW): a
/// convolution's or a pooling's kernel, strides, dilations, the top and left
/// padding, and the output extents (the bottom and right padding are
/// implied by them).
struct WindowShape {
  int64_t batch, channels, height, width;
  int64_t kh, kw, strideH, strideW, padTop, padLeft, dilH, dilW;
  int64_t outH, outW;
};
/// cols [batch, outH·outW, channels·kh·kw]: row oh·outW + ow, column
/// (c·kh + i)·kw + j = x[b, c, oh·strideH − padTop + i·dilH, …], 0 outside
/// (runtime/ConvKernels.cpp).
void im2col(const float *x, const WindowShape &s, float *cols);
/// The adjoint of im2col: y [batch, channels, height, width] = bias[c] (or
/// 0) plus every patch entry cols[b, oh·outW + ow, (c·kh + i)·kw + j] added
/// at its place, where inside (a transposed convolution's scatter).
void col2im(const float *cols, const float *bias, const WindowShape &s,
            float *y);
/// transpose() for compiled models (slim_k_transpose), for elements of 1,
/// 2, 4 or 8 bytes: unit axes dropped and axes that stay neighbours
/// merged, then tiled 2-D transposes (a copy when nothing moves), on the
/// thread pool.
void transposeTiled(const void *x, const Shape &shape,
               const std::vector<int64_t> &perm, int elemBytes, void *y);
/// y [batch, outChannels, outH, outW]: the convolution of x with
/// w [outChannels, channels / groups, kh, kw] in `groups` groups, plus
/// bias [outChannels] when not null (for depthwise and grouped
/// convolutions; one group runs as im2col + linear). `channelsLast`: x
/// [batch, height, width, channels] and y [batch, outH, outW,
/// outChannels], depthwise only (groups = channels = outChannels;
/// slim.conv2d channels_last), then `act` (slim.conv2d activation: in the
/// loops' registers or on each plane right after the Halide kernel). Runs
/// conv2dLoops where it has a loop for the shape, else conv2dHalide
/// (runtime/ConvKernels.cpp); false with `error` set when the kernel fails.
bool conv2d(const float *x, const float *w, const float *bias,
            const WindowShape &s, int64_t outChannels, int64_t groups,
            float *y, bool channelsLast, std::string &error,
            LinearAct act = LinearAct::None, bool int8 = false,
            float staticScale = 0.0f);
/// The scales of an int8 convolution: `input` [batch, channels] (per
/// channel for a depthwise convolution; otherwise one per image, repeated
/// over its channels; or `staticScale` everywhere when it is > 0),
/// `weight` [outChannels]; each max |·| / 127 (1 for an all-zero slice).
struct ConvInt8Scales {
  std::vector<float> input, weight;
};
/// x and w quantized symmetrically to xq (x's layout) and wq (w's), each
/// value round(v · 127 / max |·|) to nearest even, clamped to ±127
/// (runtime/ConvKernels.cpp).
ConvInt8Scales quantizeConvInt8(const float *x, const float *w,
                                const WindowShape &s, int64_t outChannels,
                                int64_t groups, bool channelsLast,
                                int8_t *xq, int8_t *wq,
                                float staticScale = 0.0f);
/// conv2d with `int8` (slim.conv2d int8): x and w quantized as
/// quantizeConvInt8 does, the products summed exactly in int32, each sum
/// scaled back by its output channel's weight scale and its input's scale,
/// plus bias, then `act` (the Halide conv2d_int8 / depthwise_nhwc_int8
/// kernels).
bool conv2dInt8(const float *x, const float *w, const float *bias,
                const WindowShape &s, int64_t outChannels, int64_t groups,
                float *y, bool channelsLast, std::string &error,
                LinearAct act = LinearAct::None, float staticScale = 0.0f);
/// The C++ loops that beat the Halide kernel where they apply (measured by
/// slim-conv-bench): NCHW depthwise 3 × 3 at stride 1 or 2, and NHWC
/// depthwise with AVX-512. False, writing nothing, for any other shape or
/// build.
bool conv2dLoops(const float *x, const float *w, const float *bias,
                 const WindowShape &s, int64_t outChannels, int64_t groups,
                 float *y, bool channelsLast,
                 LinearAct act = LinearAct::None);
/// The Halide kernels (codegen/halide/conv_generator.cpp): any groups,
/// strides, dilations and padding.
bool conv2dHalide(const float *x, const float *w, const float *bias,
                  const WindowShape &s, int64_t outChannels, int64_t groups,
                  float *y, bool channelsLast, std::string &error);
/// y [batch, channels, outH, outW]: the max or the average of each window
/// (cells in the padding never count for max; for the average they count
/// with `countIncludePad` when inside the padded input, whose bottom and
/// right extents are padBottom and padRight). The Halide pool2d kernels.
bool pool2d(bool max, const float *x, const WindowShape &s, int64_t padBottom,
            int64_t padRight, bool countIncludePad, float *y,
            std::string &error);

/// Σ a[e]·b[e] in 16 independent lanes (vectorized; a single running sum
/// would be one long chain of dependent multiply-adds). Shared by the
/// KV-cache attention and token merging.
inline float dot(const float *a, const float *b, int64_t n) {
  float acc[16] = {};
  int64_t e = 0;
  for (; e + 16 <= n; e += 16)
    for (int l = 0; l < 16; ++l)
      acc[l] += a[e + l] * b[e + l];
  float s = 0.0f;
  for (int l = 0; l < 16; ++l)
    s += acc[l];
  for (; e < n; ++e)
    s += a[e] * b[e];
  return s;
}

} // namespace slim::rt

#endif // RUNTIME_KERNELS_H
