//===- Kernels.cpp - the compute kernels of Slim's runtime ----------------===//

#include "runtime/Kernels.h"
#include "runtime/HalideErrors.h"

#include "slim_kernel_add.h"
#include "slim_kernel_attention.h"
#include "slim_kernel_attention_received.h"
#include "slim_kernel_crms_norm.h"
#include "slim_kernel_embedding.h"
#include "slim_kernel_gelu_erf.h"
#include "slim_kernel_gelu_tanh.h"
#include "slim_kernel_layer_norm.h"
#include "slim_kernel_linear.h"
#include "slim_kernel_linear_packed.h"
#include "slim_kernel_linear_packed_gelu_erf.h"
#include "slim_kernel_linear_packed_gelu_tanh.h"
#include "slim_kernel_linear_packed_silu.h"
#include "slim_kernel_rms_norm.h"
#include "slim_kernel_silu.h"
#include "slim_kernel_silu_mul.h"
#include "slim_kernel_softmax.h"

#include "HalideBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace slim::rt {

using Halide::Runtime::Buffer;

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

/// A 2-D Halide view of a row-major [rows, cols] buffer (dim 0 = cols).
Buffer<float, 2> view2(const float *p, int64_t cols, int64_t rows) {
  return Buffer<float, 2>(const_cast<float *>(p), int(cols), int(rows));
}

Buffer<float, 1> view1(const float *p, int64_t n) {
  return Buffer<float, 1>(const_cast<float *>(p), int(n));
}

bool halideCall(int rc, const char *kernel, std::string &error) {
  if (rc == 0)
    return true;
  error = std::string(kernel) + " kernel failed: " + takeHalideError();
  return false;
}

std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int k = int(shape.size()) - 2; k >= 0; --k)
    s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/// Strides of `xs` seen from the broadcast shape `ys` (0 on broadcast axes).
std::vector<int64_t> broadcastStrides(const Shape &xs, const Shape &ys) {
  std::vector<int64_t> own = stridesOf(xs), out(ys.size(), 0);
  size_t off = ys.size() - xs.size();
  for (size_t d = 0; d < xs.size(); ++d)
    out[off + d] = xs[d] == 1 ? 0 : own[d];
  return out;
}

/// Calls fn(outIndex, offsets...) over the broadcast shape `ys`, keeping one
/// running offset per operand.
template <size_t N, typename Fn>
void forEachBroadcast(const Shape &ys,
                      const std::vector<int64_t> (&strides)[N], Fn fn) {
  int64_t n = numElements(ys);
  int rank = int(ys.size());
  std::vector<int64_t> idx(rank, 0);
  int64_t off[N] = {};
  for (int64_t k = 0; k < n; ++k) {
    fn(k, off);
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < ys[d]) {
        for (size_t j = 0; j < N; ++j)
          off[j] += strides[j][d];
        break;
      }
      for (size_t j = 0; j < N; ++j)
        off[j] -= strides[j][d] * (ys[d] - 1);
      idx[d] = 0;
    }
  }
}

float geluExact(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
}

float geluTanh(float x) {
  const float k = 0.7978845608028654f; // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

} // namespace

int64_t packedLinearSize(int64_t out, int64_t in) {
  if (out < kLinearTile)
    return out * in;
  return (out + kLinearTile - 1) / kLinearTile * kLinearTile * in;
}

void packLinearWeight(const float *w, int64_t out, int64_t in, float *wt) {
  if (out < kLinearTile) {
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i)
        wt[i * out + o] = w[o * in + i];
    return;
  }
  // Tile j holds outputs [start, start + 48), start = min(48·j, out − 48):
  // the last tile of a width that is not a multiple of 48 overlaps the one
  // before it.
  int64_t tiles = (out + kLinearTile - 1) / kLinearTile;
  for (int64_t j = 0; j < tiles; ++j) {
    int64_t start = std::min(j * kLinearTile, out - kLinearTile);
    float *tile = wt + j * in * kLinearTile;
    for (int64_t k = 0; k < in; ++k)
      for (int64_t oi = 0; oi < kLinearTile; ++oi)
        tile[k * kLinearTile + oi] = w[(start + oi) * in + k];
  }
}

bool linear(const float *x, int64_t rows, int64_t in, const float *wt,
            const float *bias, int64_t out, float *y, std::string &error,
            LinearAct act, const float *residual) {
  installHalideErrorHandler();
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(out, 0.0f);
    bias = zeros.data();
  }
  // The kernels without a residual operand: it is added as a second pass.
  auto addResidual = [&]() {
    if (residual)
      addFlat(y, residual, rows * out, y);
    return true;
  };
  auto xb = view2(x, in, rows);
  if (out < kLinearTile) {
    auto wb = view2(wt, out, in);
    auto bb = view1(bias, out);
    auto yb = view2(y, out, rows);
    if (!halideCall(slim_kernel_linear(xb, wb, bb, yb), "linear", error))
      return false;
    // Narrow outputs: the activation as a second pass.
    applyLinearAct(act, y, rows * out);
    return addResidual();
  }
  // AVX-512 hosts: the register-tiled C++ kernel (runtime/LinearKernel.cpp;
  // GPT-2-small prefill 335 → 268 ms at 1 thread), the activation and the
  // residual in its epilogue; elsewhere the Halide kernel with the
  // activation fused.
  if (linearPackedAvx512(x, rows, in, wt, bias, out, y, act, residual))
    return true;
  const int T = int(kLinearTile);
  // The packed kernel on `tiles` weight tiles from tile `first`, writing
  // output columns from `col` on.
  auto run = [&](int64_t first, int64_t tiles, int64_t col) {
    halide_dimension_t w[3] = {
        {0, T, 1}, {0, int(in), T}, {0, int(tiles), int(in) * T}};
    halide_dimension_t b[2] = {{0, T, 1}, {0, int(tiles), T}};
    halide_dimension_t o[3] = {
        {0, T, 1}, {0, int(tiles), T}, {0, int(rows), int(out)}};
    Buffer<float, 3> wb(const_cast<float *>(wt + first * in * T), 3, w);
    Buffer<float, 2> bb(const_cast<float *>(bias + col), 2, b);
    Buffer<float, 3> yb(y + col, 3, o);
    int rc = act == LinearAct::GeluExact
                 ? slim_kernel_linear_packed_gelu_erf(xb, wb, bb, yb)
             : act == LinearAct::GeluTanh
                 ? slim_kernel_linear_packed_gelu_tanh(xb, wb, bb, yb)
             : act == LinearAct::Silu
                 ? slim_kernel_linear_packed_silu(xb, wb, bb, yb)
                 : slim_kernel_linear_packed(xb, wb, bb, yb);
    if (rc == 0 && act == LinearAct::Relu) // no Halide variant: a pass
      for (int64_t r = 0; r < rows; ++r)
        applyLinearAct(act, y + r * out + col, tiles * T);
    return halideCall(rc, "linear", error);
  };
  int64_t full = out / T;
  if (!run(0, full, 0))
    return false;
  if (out % T != 0 && !run(full, 1, out - T))
    return false;
  return addResidual();
}

namespace {

/// Runs one of the norm kernels (same signature); a missing bias is zeros.
template <typename Kernel>
bool norm(Kernel kernel, const char *name, const float *x, int64_t rows,
          int64_t d, const float *scale, const float *bias, float eps,
          float *y, std::string &error) {
  installHalideErrorHandler();
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(d, 0.0f);
    bias = zeros.data();
  }
  auto xb = view2(x, d, rows), yb = view2(y, d, rows);
  auto gb = view1(scale, d), bb = view1(bias, d);
  return halideCall(kernel(xb, gb, bb, eps, yb), name, error);
}

} // namespace

bool layerNorm(const float *x, int64_t rows, int64_t d, const float *scale,
               const float *bias, float eps, float *y, std::string &error) {
  if (normAvx512(false, x, rows, d, scale, bias, eps, y))
    return true;
  return norm(slim_kernel_layer_norm, "layer_norm", x, rows, d, scale, bias,
              eps, y, error);
}

bool rmsNorm(const float *x, int64_t rows, int64_t d, const float *scale,
             const float *bias, float eps, float *y, std::string &error) {
  if (normAvx512(true, x, rows, d, scale, bias, eps, y))
    return true;
  return norm(slim_kernel_rms_norm, "rms_norm", x, rows, d, scale, bias, eps,
              y, error);
}

bool crmsNorm(const float *x, int64_t rows, int64_t width, float eps, float *y,
              std::string &error) {
  installHalideErrorHandler();
  return halideCall(slim_kernel_crms_norm(view2(x, width, rows), eps,
                                          view2(y, width, rows)),
                    "crms_norm", error);
}

bool embedding(const float *table, int64_t vocab, int64_t d,
               const int64_t *idx, int64_t n, float *y, std::string &error) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t row = idx[i];
    if (row < 0 || row >= vocab) {
      error = "embedding index " + std::to_string(row) + " at position " +
              std::to_string(i) + " is outside the vocabulary [0, " +
              std::to_string(vocab) + ")";
      return false;
    }
  }
  // The Halide gather (ids checked above); tables past Halide's 2^31
  // extents are copied row by row.
  constexpr int64_t kMax = int64_t(1) << 31;
  if (n > 0 && d > 0 && vocab < kMax && d < kMax && n < kMax &&
      vocab * d < kMax && n * d < kMax) {
    installHalideErrorHandler();
    Buffer<int64_t, 1> ib(const_cast<int64_t *>(idx), int(n));
    if (slim_kernel_embedding(view2(table, d, vocab), ib, view2(y, d, n)) == 0)
      return true;
    (void)takeHalideError();
  }
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(y + i * d, table + idx[i] * d, d * sizeof(float));
  return true;
}

namespace {

/// y = f(a, b) over n elements with a flat Halide `kernel`; should it refuse
/// the buffers (more than 2^31 elements), the loop does it.
template <typename Kernel, typename F>
void flatBinary(Kernel kernel, F f, const float *a, const float *b, int64_t n,
                float *y) {
  if (n > 0 && n < (int64_t(1) << 31)) {
    installHalideErrorHandler();
    if (kernel(view1(a, n), view1(b, n), view1(y, n)) == 0)
      return;
    (void)takeHalideError();
  }
  for (int64_t i = 0; i < n; ++i)
    y[i] = f(a[i], b[i]);
}

} // namespace

void addFlat(const float *a, const float *b, int64_t n, float *y) {
  flatBinary(slim_kernel_add, [](float l, float r) { return l + r; }, a, b, n,
             y);
}

void siluMul(const float *a, const float *b, int64_t n, float *y) {
  flatBinary(
      slim_kernel_silu_mul,
      [](float l, float r) { return l / (1.0f + std::exp(-l)) * r; }, a, b, n,
      y);
}

bool attention(const float *q, const float *k, const float *v,
               const float *sizes, const float *keyBias, const float *bias,
               const AttentionShape &s, bool causal, float scale, float *out,
               std::string &error) {
  installHalideErrorHandler();
  // One additive per-key term: log sizes (proportional attention) plus the
  // key bias (padding), both [B, S].
  std::vector<float> logSize(s.batch * s.keys, 0.0f);
  if (sizes)
    for (size_t j = 0; j < logSize.size(); ++j)
      logSize[j] = std::log(sizes[j]);
  if (keyBias)
    for (size_t j = 0; j < logSize.size(); ++j)
      logSize[j] += keyBias[j];
  // AVX-512 hosts: the register-tiled C++ kernel (runtime/AttentionKernel.cpp).
  if (bias && (s.biasGroups <= 0 || s.batch % s.biasGroups != 0)) {
    error = "attention: a bias of " + std::to_string(s.biasGroups) +
            " groups does not divide the batch " + std::to_string(s.batch);
    return false;
  }
  if (attentionAvx512(q, k, v, logSize.data(), bias, s, causal, scale, out))
    return true;
  auto view4 = [](const float *p, int64_t d0, int64_t d1, int64_t d2,
                  int64_t d3) {
    return Buffer<float, 4>(const_cast<float *>(p), int(d0), int(d1), int(d2),
                            int(d3));
  };
  auto qb = view4(q, s.headDim, s.heads, s.queries, s.batch);
  auto kb = view4(k, s.headDim, s.kvHeads, s.keys, s.batch);
  auto vb = view4(v, s.valueDim, s.kvHeads, s.keys, s.batch);
  auto ob = view4(out, s.valueDim, s.heads, s.queries, s.batch);
  Buffer<float, 2> lb(logSize.data(), int(s.keys), int(s.batch));
  // No bias: one row of S zeros read through stride-0 outer dimensions.
  std::vector<float> zeros(bias ? 0 : s.keys, 0.0f);
  halide_dimension_t bdims[4] = {{0, int(s.keys), 1},
                                 {0, int(s.queries), int(s.keys)},
                                 {0, int(s.heads), int(s.queries * s.keys)},
                                 {0, int(s.biasGroups),
                                  int(s.heads * s.queries * s.keys)}};
  if (!bias)
    bdims[1] = {0, int(s.queries), 0}, bdims[2] = {0, int(s.heads), 0},
    bdims[3] = {0, 1, 0};
  Buffer<float, 4> bb(const_cast<float *>(bias ? bias : zeros.data()), 4,
                      bdims);
  return halideCall(
      slim_kernel_attention(qb, kb, vb, lb, bb, scale, causal, ob),
      "attention", error);
}

bool attentionReceived(const float *q, const float *k, const float *sizes,
                       const AttentionShape &s, float scale, float *out,
                       std::string &error) {
  installHalideErrorHandler();
  std::vector<float> logSize(s.batch * s.keys, 0.0f);
  if (sizes)
    for (size_t j = 0; j < logSize.size(); ++j)
      logSize[j] = std::log(sizes[j]);
  // Per head, the probabilities summed over the queries: the C++ kernel on
  // AVX-512 hosts, else the Halide one.
  std::vector<float> partial(s.batch * s.heads * s.keys);
  if (!attentionReceivedAvx512(q, k, logSize.data(), s, scale,
                               partial.data())) {
    Buffer<float, 4> qb(const_cast<float *>(q), int(s.headDim), int(s.heads),
                        int(s.queries), int(s.batch));
    Buffer<float, 4> kb(const_cast<float *>(k), int(s.headDim),
                        int(s.kvHeads), int(s.keys), int(s.batch));
    Buffer<float, 2> lb(logSize.data(), int(s.keys), int(s.batch));
    Buffer<float, 3> pb(partial.data(), int(s.keys), int(s.heads),
                        int(s.batch));
    if (!halideCall(slim_kernel_attention_received(qb, kb, lb, scale, pb),
                    "attention_received", error))
      return false;
  }
  // The mean over heads and queries.
  const double n = double(s.heads) * double(s.queries);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t j = 0; j < s.keys; ++j) {
      double sum = 0.0;
      for (int64_t h = 0; h < s.heads; ++h)
        sum += partial[(b * s.heads + h) * s.keys + j];
      out[b * s.keys + j] = float(sum / n);
    }
  return true;
}

namespace {

/// Σ a[e]·b[e] in 16 independent lanes (vectorized; a single running sum
/// would be one long chain of dependent multiply-adds).
float dot(const float *a, const float *b, int64_t n) {
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

/// Causal attention of a few queries (a decode step) over a cache: plain
/// loops that stream each cached key and value row once (all heads of a
/// row together). The tiled Halide kernel is built for blocks of 8 queries
/// and transposes every head's keys per call, which for one query costs
/// more than the S·d multiply-adds themselves.
void fewQueryAttention(const float *q, const float *keys, const float *values,
                       int64_t tokens, int64_t first, int64_t heads,
                       int64_t kvHeads, int64_t d, int64_t dv, float scale,
                       float *out) {
  const int64_t group = heads / kvHeads, kw = kvHeads * d, vw = kvHeads * dv;
  const int64_t keysMax = first + tokens;
  std::vector<float> w(size_t(heads * keysMax)), top(heads), sum(heads);
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t limit = first + t + 1; // keys 0 … p+t
    const float *qt = q + t * heads * d;
    std::fill(top.begin(), top.end(),
              -std::numeric_limits<float>::infinity());
    for (int64_t j = 0; j < limit; ++j) {
      const float *row = keys + j * kw;
      for (int64_t h = 0; h < heads; ++h) {
        float s = dot(qt + h * d, row + (h / group) * d, d) * scale;
        w[h * keysMax + j] = s;
        top[h] = std::max(top[h], s);
      }
    }
    for (int64_t h = 0; h < heads; ++h) {
      float total = 0.0f;
      float *wh = w.data() + h * keysMax;
      for (int64_t j = 0; j < limit; ++j)
        total += wh[j] = std::exp(wh[j] - top[h]);
      sum[h] = total;
    }
    float *ot = out + t * heads * dv;
    std::fill(ot, ot + heads * dv, 0.0f);
    for (int64_t j = 0; j < limit; ++j) {
      const float *row = values + j * vw;
      for (int64_t h = 0; h < heads; ++h) {
        const float a = w[h * keysMax + j];
        const float *vv = row + (h / group) * dv;
        float *o = ot + h * dv;
        for (int64_t e = 0; e < dv; ++e)
          o[e] += a * vv[e];
      }
    }
    for (int64_t h = 0; h < heads; ++h) {
      const float inv = 1.0f / sum[h];
      for (int64_t e = 0; e < dv; ++e)
        ot[h * dv + e] *= inv;
    }
  }
}

} // namespace

bool kvAttention(const float *q, const float *k, const float *v,
                 const int64_t *positions, int64_t tokens, int64_t heads,
                 int64_t kvHeads, int64_t headDim, int64_t valueDim,
                 int64_t capacity, float *slot, float scale, float *out,
                 std::string &error) {
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
  const int64_t kw = kvHeads * headDim, vw = kvHeads * valueDim;
  float *keys = slot, *values = slot + capacity * kw;
  std::memcpy(keys + p * kw, k, size_t(tokens * kw) * sizeof(float));
  std::memcpy(values + p * vw, v, size_t(tokens * vw) * sizeof(float));
  if (tokens < 4) {
    fewQueryAttention(q, keys, values, tokens, p, heads, kvHeads, headDim,
                      valueDim, scale, out);
    return true;
  }
  return attention(q, keys, values, nullptr, nullptr, nullptr,
                   {1, tokens, p + tokens, heads, kvHeads, headDim, valueDim},
                   /*causal=*/true, scale, out, error);
}

namespace {
/// out[l] = Σ_e a[e] · bt[e·stride + l] for l < L: the L sums stay in
/// registers over the whole reduction (a running row in memory would be
/// loaded and stored again for every e).
template <int L>
void dotColumns(const float *a, const float *bt, int64_t stride, int64_t n,
                float *out) {
  float acc[L] = {};
  for (int64_t e = 0; e < n; ++e) {
    const float ae = a[e], *b = bt + e * stride;
    for (int l = 0; l < L; ++l)
      acc[l] += ae * b[l];
  }
  std::copy(acc, acc + L, out);
}
} // namespace

void tokenMerge(const float *x, const float *metric, const float *sizes,
                int64_t batch, int64_t tokens, int64_t dim, int64_t mdim,
                const MergeOptions &o, float *y, float *ySizes) {
  const int64_t T = tokens, nA = (T + 1) / 2, nB = T / 2, r = o.r;
  const int64_t p = o.protectedTokens;
  // MCTF: ⌊r/2⌋ A → B, then the rest from the updated B into A.
  const int64_t r1 = o.mctf && o.bidirectional ? r / 2 : r, r2 = r - r1;
  const float ninf = -std::numeric_limits<float>::infinity();
  // B's columns padded to a multiple of 16 (zeros): score rows of nBp.
  const int64_t nBp = (nB + 15) / 16 * 16;
  std::vector<float> unit(T * mdim), unitBT(mdim * nBp, 0.0f),
      score(nA * nBp), nodeMax(nA), bMax(nB);
  std::vector<int64_t> best(nA), order(nA), dest(nA), bestA(nB), orderB(nB),
      destA(nB), group(T), newIndex(T);
  std::vector<double> info(T), small(T), weight(T);
  for (int64_t b = 0; b < batch; ++b) {
    const float *xb = x + b * T * dim, *mb = metric + b * T * mdim;
    const float *sb = sizes + b * T;
    float *yb = y + b * (T - r) * dim, *ysb = ySizes + b * (T - r);
    // x̂ = x / ‖x‖ (as ToMe: in float).
    for (int64_t t = 0; t < T; ++t) {
      float norm = std::sqrt(dot(mb + t * mdim, mb + t * mdim, mdim));
      for (int64_t e = 0; e < mdim; ++e)
        unit[t * mdim + e] = mb[t * mdim + e] / norm;
    }
    // Per-token MCTF factors: ĩ = min ā / ā and s̃ = min s / s, each to
    // its 1/τ; fusion weights ā·s / max s. ToMe weighs by size.
    double maxSize = 0.0, minSize = INFINITY, minRecv = INFINITY;
    for (int64_t t = 0; t < T; ++t) {
      maxSize = std::max(maxSize, double(sb[t]));
      minSize = std::min(minSize, double(sb[t]));
      if (o.mctf)
        minRecv = std::min(minRecv, double(o.received[b * T + t]));
    }
    for (int64_t t = 0; t < T; ++t) {
      if (!o.mctf) {
        weight[t] = sb[t];
        continue;
      }
      double recv = o.received[b * T + t];
      info[t] = std::pow(minRecv / recv, 1.0 / o.tauInfo);
      small[t] = std::pow(minSize / sb[t], 1.0 / o.tauSize);
      weight[t] = recv * sb[t] / maxSize;
    }
    // Cosine similarities of every (a ∈ A = token 2i, b ∈ B = token 2j+1):
    // B transposed so the products run along contiguous memory (vectorized
    // over b).
    for (int64_t jb = 0; jb < nB; ++jb)
      for (int64_t e = 0; e < mdim; ++e)
        unitBT[e * nBp + jb] = unit[(2 * jb + 1) * mdim + e];
    for (int64_t i = 0; i < nA; ++i) {
      float *row = score.data() + i * nBp;
      const float *ka = unit.data() + 2 * i * mdim;
      int64_t jb = 0;
      for (; jb + 64 <= nBp; jb += 64)
        dotColumns<64>(ka, unitBT.data() + jb, nBp, mdim, row + jb);
      for (; jb < nBp; jb += 16)
        dotColumns<16>(ka, unitBT.data() + jb, nBp, mdim, row + jb);
    }
    // Scores; protected tokens are never a source (row −inf) nor a
    // destination (column −inf).
    for (int64_t i = 0; i < nA; ++i)
      for (int64_t jb = 0; jb < nB; ++jb) {
        float &sc = score[i * nBp + jb];
        if (2 * i < p || 2 * jb + 1 < p) {
          sc = ninf;
          continue;
        }
        float dotp = sc;
        if (!o.mctf)
          continue;
        double sim = (double(dotp) + 1.0) / 2.0;
        if (o.tauSim != 1.0)
          sim = std::pow(sim, 1.0 / o.tauSim);
        sc = float(sim * info[2 * i] * info[2 * jb + 1] * small[2 * i] *
                   small[2 * jb + 1]);
      }
    // Step 1: every a's best b; the r1 best-scoring a merge (ties: lower
    // index first).
    for (int64_t i = 0; i < nA; ++i) {
      nodeMax[i] = ninf;
      best[i] = -1;
      for (int64_t jb = 0; jb < nB; ++jb) {
        float sc = score[i * nBp + jb];
        if (sc != ninf && (best[i] < 0 || sc > nodeMax[i])) {
          nodeMax[i] = sc;
          best[i] = jb;
        }
      }
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
      return nodeMax[a] > nodeMax[c];
    });
    std::fill(dest.begin(), dest.end(), -1);
    for (int64_t k = 0; k < r1; ++k)
      dest[order[k]] = best[order[k]];
    // Step 2 (bidirectional MCTF): every b's best unmerged a, same scores.
    std::fill(destA.begin(), destA.end(), -1);
    if (r2 > 0) {
      for (int64_t jb = 0; jb < nB; ++jb) {
        bMax[jb] = ninf;
        bestA[jb] = -1;
        for (int64_t i = 0; i < nA; ++i) {
          float sc = score[i * nBp + jb];
          if (dest[i] < 0 && sc != ninf && (bestA[jb] < 0 || sc > bMax[jb])) {
            bMax[jb] = sc;
            bestA[jb] = i;
          }
        }
      }
      std::iota(orderB.begin(), orderB.end(), 0);
      std::stable_sort(orderB.begin(), orderB.end(),
                       [&](int64_t a, int64_t c) { return bMax[a] > bMax[c]; });
      for (int64_t k = 0; k < r2; ++k)
        destA[orderB[k]] = bestA[orderB[k]];
    }
    // Where every token ends: its own row, or the token it merged into.
    auto finalToken = [&](int64_t t) {
      if (t % 2 == 0 && dest[t / 2] >= 0)
        t = 2 * dest[t / 2] + 1;
      if (t % 2 == 1 && destA[t / 2] >= 0)
        t = 2 * destA[t / 2];
      return t;
    };
    // Output rows: protected tokens (index order), the kept A (index order
    // with a protected token, else ToMe's edge order), then the kept B.
    int64_t row = 0;
    std::fill(newIndex.begin(), newIndex.end(), -1);
    for (int64_t t = 0; t < p; ++t)
      newIndex[t] = row++;
    for (int64_t k = 0; k < nA; ++k) {
      int64_t i = p > 0 ? k : order[k];
      if (2 * i >= p && dest[i] < 0)
        newIndex[2 * i] = row++;
    }
    for (int64_t jb = 0; jb < nB; ++jb)
      if (2 * jb + 1 >= p && destA[jb] < 0)
        newIndex[2 * jb + 1] = row++;
    // Each row: Σ w·x / Σ w over its members (in double), size Σ s; a row
    // of one token is that token.
    std::vector<int64_t> first(T - r, -1), next(T, -1);
    for (int64_t t = T - 1; t >= 0; --t) {
      int64_t out = newIndex[finalToken(t)];
      group[t] = out;
      next[t] = first[out];
      first[out] = t;
    }
    std::vector<double> acc(dim);
    for (int64_t k = 0; k < T - r; ++k) {
      int64_t t = first[k];
      if (next[t] < 0) {
        std::memcpy(yb + k * dim, xb + t * dim, dim * sizeof(float));
        ysb[k] = sb[t];
        continue;
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      double sumW = 0.0, sumS = 0.0;
      for (; t >= 0; t = next[t]) {
        sumW += weight[t];
        sumS += sb[t];
        for (int64_t e = 0; e < dim; ++e)
          acc[e] += weight[t] * double(xb[t * dim + e]);
      }
      for (int64_t e = 0; e < dim; ++e)
        yb[k * dim + e] = float(acc[e] / sumW);
      ysb[k] = float(sumS);
    }
    if (!o.ySource)
      continue;
    const int64_t *mb0 = o.source + b * o.originalTokens;
    int64_t *ymb = o.ySource + b * o.originalTokens;
    for (int64_t t = 0; t < o.originalTokens; ++t)
      ymb[t] = group[std::clamp<int64_t>(mb0[t], 0, T - 1)];
  }
}

bool groupMean(const float *x, const int64_t *groups, const float *weights,
               int64_t batch, int64_t tokens, int64_t numGroups, int64_t dim,
               float *y, std::string &error) {
  std::vector<double> acc(numGroups * dim), total(numGroups);
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    std::fill(total.begin(), total.end(), 0.0);
    for (int64_t t = 0; t < tokens; ++t) {
      int64_t g = groups[b * tokens + t];
      if (g < 0 || g >= numGroups) {
        error = "group_mean: group " + std::to_string(g) + " of token " +
                std::to_string(t) + " is outside [0, " +
                std::to_string(numGroups) + ")";
        return false;
      }
      double w = weights[b * tokens + t];
      total[g] += w;
      const float *xt = x + (b * tokens + t) * dim;
      for (int64_t e = 0; e < dim; ++e)
        acc[g * dim + e] += w * double(xt[e]);
    }
    for (int64_t g = 0; g < numGroups; ++g) {
      if (!(total[g] > 0.0)) {
        error = "group_mean: group " + std::to_string(g) +
                " has no member with positive weight";
        return false;
      }
      for (int64_t e = 0; e < dim; ++e)
        y[(b * numGroups + g) * dim + e] = float(acc[g * dim + e] / total[g]);
    }
  }
  return true;
}

bool unmerge(const float *x, const int64_t *source, int64_t batch,
             int64_t tokens, int64_t originalTokens, int64_t dim, float *y,
             std::string &error) {
  for (int64_t k = 0; k < batch * originalTokens; ++k)
    if (source[k] < 0 || source[k] >= tokens) {
      error = "unmerge: source index " + std::to_string(source[k]) +
              " at position " + std::to_string(k) + " is outside [0, " +
              std::to_string(tokens) + ")";
      return false;
    }
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < originalTokens; ++t)
      std::memcpy(y + (b * originalTokens + t) * dim,
                  x + (b * tokens + source[b * originalTokens + t]) * dim,
                  dim * sizeof(float));
  return true;
}

void rope(const float *x, const int64_t *positions, bool perBatch, int64_t b,
          int64_t t, int64_t heads, int64_t headDim, float theta,
          bool interleaved, float *y) {
  int64_t half = headDim / 2;
  std::vector<double> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = std::pow(double(theta), -2.0 * double(i) / double(headDim));
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t ti = 0; ti < t; ++ti) {
      double pos = double(positions[perBatch ? bi * t + ti : ti]);
      for (int64_t h = 0; h < heads; ++h) {
        const float *xv = x + ((bi * t + ti) * heads + h) * headDim;
        float *yv = y + ((bi * t + ti) * heads + h) * headDim;
        for (int64_t i = 0; i < half; ++i) {
          float c = float(std::cos(pos * invFreq[i]));
          float s = float(std::sin(pos * invFreq[i]));
          int64_t a = interleaved ? 2 * i : i;
          int64_t bIdx = interleaved ? 2 * i + 1 : i + half;
          float x0 = xv[a], x1 = xv[bIdx];
          yv[a] = x0 * c - x1 * s;
          yv[bIdx] = x1 * c + x0 * s;
        }
      }
    }
}

void unary(Unary op, const float *x, int64_t n, float *y) {
  // The heavy activations run as vectorized Halide kernels; should one
  // refuse the buffer (more than 2^31 elements), the loops below do it.
  if ((op == Unary::GeluExact || op == Unary::GeluTanh || op == Unary::Silu) &&
      n > 0 && n < (int64_t(1) << 31)) {
    installHalideErrorHandler();
    auto xb = view1(x, n), yb = view1(y, n);
    int rc = op == Unary::GeluExact  ? slim_kernel_gelu_erf(xb, yb)
             : op == Unary::GeluTanh ? slim_kernel_gelu_tanh(xb, yb)
                                     : slim_kernel_silu(xb, yb);
    if (rc == 0)
      return;
    (void)takeHalideError();
  }
  switch (op) {
  case Unary::GeluExact:
    for (int64_t i = 0; i < n; ++i)
      y[i] = geluExact(x[i]);
    break;
  case Unary::GeluTanh:
    for (int64_t i = 0; i < n; ++i)
      y[i] = geluTanh(x[i]);
    break;
  case Unary::Silu:
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] / (1.0f + std::exp(-x[i]));
    break;
  case Unary::Erf:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::erf(x[i]);
    break;
  case Unary::Tanh:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::tanh(x[i]);
    break;
  case Unary::Sqrt:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::sqrt(x[i]);
    break;
  case Unary::Exp:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::exp(x[i]);
    break;
  case Unary::Sigmoid:
    for (int64_t i = 0; i < n; ++i)
      y[i] = 1.0f / (1.0f + std::exp(-x[i]));
    break;
  case Unary::Neg:
    for (int64_t i = 0; i < n; ++i)
      y[i] = -x[i];
    break;
  case Unary::Relu:
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case Unary::Cos:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::cos(x[i]);
    break;
  case Unary::Sin:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::sin(x[i]);
    break;
  }
}

namespace {

/// y[i] = a[i % na] op b[i % nb] over n elements, where one of na, nb is n
/// and the other divides it: the common cases (equal shapes, a bias or a
/// scalar repeating along the leading axes) as loops the compiler vectorizes.
template <typename F>
void binaryFlat(const float *a, int64_t na, const float *b, int64_t nb,
                float *y, int64_t n, F f) {
  int64_t chunk = std::min(na, nb);
  if (chunk == 1 && n > 1) { // a scalar operand
    const float s = na == 1 ? a[0] : b[0];
    const float *x = na == 1 ? b : a;
    if (na == 1)
      for (int64_t i = 0; i < n; ++i)
        y[i] = f(s, x[i]);
    else
      for (int64_t i = 0; i < n; ++i)
        y[i] = f(x[i], s);
    return;
  }
  for (int64_t o = 0; o < n; o += chunk) {
    const float *ar = na == n ? a + o : a;
    const float *br = nb == n ? b + o : b;
    float *yr = y + o;
    for (int64_t i = 0; i < chunk; ++i)
      yr[i] = f(ar[i], br[i]);
  }
}

/// True when `xs` (after dropping leading 1s) is a suffix of `ys`, so the
/// operand repeats every numElements(xs) elements of the output.
bool isTrailing(const Shape &xs, const Shape &ys) {
  size_t lead = 0;
  while (lead < xs.size() && xs[lead] == 1)
    ++lead;
  size_t rest = xs.size() - lead;
  if (rest > ys.size())
    return false;
  return std::equal(xs.begin() + lead, xs.end(), ys.end() - rest);
}

} // namespace

void binary(Binary op, const float *a, const Shape &as, const float *b,
            const Shape &bs, float *y, const Shape &ys) {
  int64_t n = numElements(ys), na = numElements(as), nb = numElements(bs);
  if (op == Binary::Add && na == n && nb == n)
    return addFlat(a, b, n, y);
  // Flat fast path: both operands trailing-aligned with the output and at
  // least one of them the full output (e.g. x + bias, x + residual).
  if (n > 0 && isTrailing(as, ys) && isTrailing(bs, ys) &&
      (na == n || nb == n) && std::min(na, nb) > 0 &&
      n % std::min(na, nb) == 0) {
    switch (op) {
    case Binary::Add:
      return binaryFlat(a, na, b, nb, y, n, [](float l, float r) { return l + r; });
    case Binary::Sub:
      return binaryFlat(a, na, b, nb, y, n, [](float l, float r) { return l - r; });
    case Binary::Mul:
      return binaryFlat(a, na, b, nb, y, n, [](float l, float r) { return l * r; });
    case Binary::Div:
      return binaryFlat(a, na, b, nb, y, n, [](float l, float r) { return l / r; });
    case Binary::Pow:
      break;
    }
  }
  const std::vector<int64_t> strides[2] = {broadcastStrides(as, ys),
                                           broadcastStrides(bs, ys)};
  forEachBroadcast(ys, strides, [&](int64_t k, const int64_t *off) {
    float l = a[off[0]], r = b[off[1]];
    switch (op) {
    case Binary::Add:
      y[k] = l + r;
      break;
    case Binary::Sub:
      y[k] = l - r;
      break;
    case Binary::Mul:
      y[k] = l * r;
      break;
    case Binary::Div:
      y[k] = l / r;
      break;
    case Binary::Pow:
      y[k] = r == 2.0f ? l * l : std::pow(l, r);
      break;
    }
  });
}

void where(const uint8_t *c, const Shape &cs, const float *a, const Shape &as,
           const float *b, const Shape &bs, float *y, const Shape &ys) {
  const std::vector<int64_t> strides[3] = {broadcastStrides(cs, ys),
                                           broadcastStrides(as, ys),
                                           broadcastStrides(bs, ys)};
  forEachBroadcast(ys, strides, [&](int64_t k, const int64_t *off) {
    y[k] = c[off[0]] ? a[off[1]] : b[off[2]];
  });
}

void softmax(const float *x, const Shape &shape, int64_t axis, float *y) {
  int64_t n = shape[axis], inner = 1, outer = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  // Over the last axis: the vectorized Halide kernel (the loops below are
  // for other axes, and for a buffer Halide refuses).
  if (inner == 1 && n > 0 && outer > 0 && n * outer < (int64_t(1) << 31)) {
    installHalideErrorHandler();
    if (slim_kernel_softmax(view2(x, n, outer), view2(y, n, outer)) == 0)
      return;
    (void)takeHalideError();
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float *xv = x + o * n * inner + i;
      float *yv = y + o * n * inner + i;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < n; ++j)
        mx = std::max(mx, xv[j * inner]);
      float sum = 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        yv[j * inner] = std::exp(xv[j * inner] - mx);
        sum += yv[j * inner];
      }
      for (int64_t j = 0; j < n; ++j)
        yv[j * inner] /= sum;
    }
}

void reduceMean(const float *x, const Shape &shape,
                const std::vector<int64_t> &axes, float *y) {
  Shape out = shape;
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= shape[a];
    out[a] = 1;
  }
  int64_t n = numElements(out);
  std::vector<double> acc(n, 0.0);
  const std::vector<int64_t> strides[1] = {broadcastStrides(out, shape)};
  forEachBroadcast(shape, strides, [&](int64_t k, const int64_t *off) {
    acc[off[0]] += x[k];
  });
  for (int64_t i = 0; i < n; ++i)
    y[i] = float(acc[i] / double(count));
}

void matmul(const float *a, const Shape &as, const float *b, const Shape &bs,
            float *y, const Shape &ys) {
  size_t r = ys.size();
  int64_t m = ys[r - 2], n = ys[r - 1], kk = as.back();
  Shape batch(ys.begin(), ys.end() - 2);
  Shape aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
  // Broadcast strides in units of whole matrices.
  auto matStrides = [&](const Shape &xb) {
    Shape padded(batch.size() - xb.size(), 1);
    padded.insert(padded.end(), xb.begin(), xb.end());
    return broadcastStrides(padded, batch);
  };
  const std::vector<int64_t> strides[2] = {matStrides(aBatch),
                                           matStrides(bBatch)};
  forEachBroadcast(batch, strides, [&](int64_t k, const int64_t *off) {
    const float *am = a + off[0] * m * kk;
    const float *bm = b + off[1] * kk * n;
    float *ym = y + k * m * n;
    for (int64_t i = 0; i < m; ++i) {
      float *row = ym + i * n;
      std::fill(row, row + n, 0.0f);
      for (int64_t p = 0; p < kk; ++p) {
        float av = am[i * kk + p];
        const float *brow = bm + p * n;
        for (int64_t j = 0; j < n; ++j)
          row[j] += av * brow[j];
      }
    }
  });
}

void transpose(const void *x, size_t elemSize, const Shape &shape,
               const std::vector<int64_t> &perm, void *y) {
  Shape out;
  for (int64_t p : perm)
    out.push_back(shape[p]);
  std::vector<int64_t> in = stridesOf(shape), st(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    st[d] = in[perm[d]];
  const std::vector<int64_t> strides[1] = {st};
  const char *src = static_cast<const char *>(x);
  char *dst = static_cast<char *>(y);
  forEachBroadcast(out, strides, [&](int64_t k, const int64_t *off) {
    std::memcpy(dst + k * elemSize, src + off[0] * elemSize, elemSize);
  });
}

void slice(const void *x, size_t elemSize, const Shape &shape,
           const std::vector<int64_t> &offsets,
           const std::vector<int64_t> &sizes,
           const std::vector<int64_t> &strides, void *y) {
  std::vector<int64_t> in = stridesOf(shape), st(shape.size());
  int64_t base = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    st[d] = in[d] * strides[d];
    base += offsets[d] * in[d];
  }
  const std::vector<int64_t> all[1] = {st};
  const char *src = static_cast<const char *>(x) + base * elemSize;
  char *dst = static_cast<char *>(y);
  if (!sizes.empty() && strides.back() == 1) {
    // Unit stride along the last axis: copy whole runs of it.
    Shape outer = sizes;
    int64_t run = outer.back();
    outer.back() = 1;
    forEachBroadcast(outer, all, [&](int64_t k, const int64_t *off) {
      std::memcpy(dst + k * run * elemSize, src + off[0] * elemSize,
                  run * elemSize);
    });
    return;
  }
  forEachBroadcast(sizes, all, [&](int64_t k, const int64_t *off) {
    std::memcpy(dst + k * elemSize, src + off[0] * elemSize, elemSize);
  });
}

void concat(const std::vector<const void *> &xs,
            const std::vector<Shape> &shapes, size_t elemSize, int64_t axis,
            void *y) {
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shapes[0][d];
  char *dst = static_cast<char *>(y);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < xs.size(); ++i) {
      int64_t chunk = numElements(shapes[i]) / std::max<int64_t>(outer, 1);
      const char *src = static_cast<const char *>(xs[i]) + o * chunk * elemSize;
      std::memcpy(dst, src, chunk * elemSize);
      dst += chunk * elemSize;
    }
}

void broadcastTo(const void *x, size_t elemSize, const Shape &xs, void *y,
                 const Shape &ys) {
  const std::vector<int64_t> strides[1] = {broadcastStrides(xs, ys)};
  const char *src = static_cast<const char *>(x);
  char *dst = static_cast<char *>(y);
  forEachBroadcast(ys, strides, [&](int64_t k, const int64_t *off) {
    std::memcpy(dst + k * elemSize, src + off[0] * elemSize, elemSize);
  });
}

} // namespace slim::rt
