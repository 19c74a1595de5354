//===- HalideKernels.cpp - the runtime kernels Halide generates -----------===//
//
// The wrappers around the Halide kernels (codegen/halide/): linears,
// norms, the embedding gather, flat adds, attention and the attention each
// token receives. Their C++ fast paths live beside them (LinearKernel.cpp,
// AttentionKernel.cpp, NormKernel.cpp).
//
//===----------------------------------------------------------------------===//

#include "runtime/HalideViews.h"
#include "runtime/Kernels.h"

#include "slim_kernel_add.h"
#include "slim_kernel_attention.h"
#include "slim_kernel_attention_received.h"
#include "slim_kernel_crms_norm.h"
#include "slim_kernel_embedding.h"
#include "slim_kernel_layer_norm.h"
#include "slim_kernel_linear.h"
#include "slim_kernel_linear_packed.h"
#include "slim_kernel_linear_packed_gelu_erf.h"
#include "slim_kernel_linear_packed_gelu_tanh.h"
#include "slim_kernel_linear_packed_silu.h"
#include "slim_kernel_rms_norm.h"
#include "slim_kernel_silu_mul.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace slim::rt {

using Halide::Runtime::Buffer;

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
  if (out < kLinearTile &&
      linearNarrowAvx512(x, rows, in, wt, bias, out, y, act, residual))
    return true;
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
  if (linearPackedAvx512(x, rows, in, wt, bias, out, y, act, residual) ||
      linearPackedAvx2(x, rows, in, wt, bias, out, y, act, residual))
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
    if (rc == 0 && (act == LinearAct::Relu || act == LinearAct::Relu6 ||
                    act == LinearAct::HardSwish))
      // no Halide variant: a pass
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

/// The additive per-key term of attention, [B, S]: log sizes (proportional
/// attention) plus the key bias (padding); either may be null.
static std::vector<float> keyTerm(const float *sizes, const float *keyBias,
                                  const AttentionShape &s) {
  std::vector<float> term(s.batch * s.keys, 0.0f);
  for (size_t j = 0; j < term.size(); ++j)
    term[j] = (sizes ? std::log(sizes[j]) : 0.0f) + (keyBias ? keyBias[j] : 0.0f);
  return term;
}

bool attention(const float *q, const float *k, const float *v,
               const float *sizes, const float *keyBias, const float *bias,
               const AttentionShape &s, bool causal, float scale, float *out,
               std::string &error, bool int8) {
  installHalideErrorHandler();
  std::vector<float> logSize = keyTerm(sizes, keyBias, s);
  if (bias && (s.biasGroups <= 0 || s.batch % s.biasGroups != 0)) {
    error = "attention: a bias of " + std::to_string(s.biasGroups) +
            " groups does not divide the batch " + std::to_string(s.batch);
    return false;
  }
  if (int8) {
    if (attentionInt8(q, k, v, logSize.data(), bias, s, causal, scale, out))
      return true;
    error = "int8 attention: " + std::to_string(s.keys) + " keys, " +
            std::to_string(s.heads) + " heads over " +
            std::to_string(s.kvHeads) + " kv heads (at most " +
            std::to_string(kMaxInt8AttentionKeys) + " keys)";
    return false;
  }
  // AVX-512 hosts: the register-tiled C++ kernel (runtime/AttentionKernel.cpp).
  if (attentionAvx512(q, k, v, logSize.data(), bias, s, causal, scale, out) ||
      attentionAvx2(q, k, v, logSize.data(), bias, s, causal, scale, out))
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
  std::vector<float> logSize = keyTerm(sizes, nullptr, s);
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

} // namespace slim::rt
