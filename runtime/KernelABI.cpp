//===- KernelABI.cpp - the C entry points compiled models call ------------===//

#include "runtime/KernelABI.h"
#include "runtime/Kernels.h"

#include <cstring>
#include <string>
#include <vector>

namespace rt = slim::rt;

namespace {

thread_local std::string lastError;

rt::Shape shape(const int64_t *dims, int32_t rank) {
  return rt::Shape(dims, dims + rank);
}

int status(bool ok, const std::string &error) {
  if (ok)
    return 0;
  lastError = error;
  return 1;
}

} // namespace

extern "C" {

const char *slim_last_error(void) { return lastError.c_str(); }

int slim_k_linear(const float *x, int64_t rows, int64_t in, const float *wt,
                  const float *bias, int64_t out, int32_t act,
                  const float *residual, float *y) {
  std::string error;
  return status(rt::linear(x, rows, in, wt, bias, out, y, error,
                           static_cast<rt::LinearAct>(act), residual),
                error);
}

int slim_k_linear_runtime_weight(const float *x, int64_t rows, int64_t in,
                                 const float *w, const float *bias,
                                 int64_t out, int32_t act, float *y) {
  // A weight computed at run time is packed on every call.
  std::vector<float> wt(rt::packedLinearSize(out, in));
  rt::packLinearWeight(w, out, in, wt.data());
  return slim_k_linear(x, rows, in, wt.data(), bias, out, act, nullptr, y);
}

int slim_k_qlinear(const float *x, int64_t rows, int64_t in,
                   const uint8_t *packed, const float *scales,
                   const float *bias, int64_t out, float act_scale,
                   int32_t act, const float *residual, float *y) {
  rt::qlinear(x, rows, in, packed, scales, bias, out, y,
              static_cast<rt::LinearAct>(act), act_scale, residual);
  return 0;
}

int slim_k_qlinear_shared(const float *x, int64_t rows, int64_t in,
                          float act_scale, int32_t n, const uint8_t *packed0,
                          const float *scales0, const float *bias0,
                          int64_t out0, int32_t act0, float *y0,
                          const uint8_t *packed1, const float *scales1,
                          const float *bias1, int64_t out1, int32_t act1,
                          float *y1, const uint8_t *packed2,
                          const float *scales2, const float *bias2,
                          int64_t out2, int32_t act2, float *y2, int32_t norm,
                          const float *norm_scale, const float *norm_bias,
                          float norm_eps) {
  if (n < 1 || n > rt::kMaxSharedQLinears)
    return status(false, "slim_k_qlinear_shared: " + std::to_string(n) +
                             " linears (1 to 3 share an input)");
  if (norm < 0 || norm > 2)
    return status(false, "slim_k_qlinear_shared: norm kind " +
                             std::to_string(norm) +
                             " (0 none, 1 rms_norm, 2 layer_norm)");
  const rt::RowNorm rowNorm{norm == 1, norm_scale, norm_bias, norm_eps};
  static_assert(rt::kMaxSharedQLinears == 3, "one argument set per part");
  const rt::QLinearPart parts[] = {
      {packed0, scales0, bias0, out0, static_cast<rt::LinearAct>(act0), y0},
      {packed1, scales1, bias1, out1, static_cast<rt::LinearAct>(act1), y1},
      {packed2, scales2, bias2, out2, static_cast<rt::LinearAct>(act2), y2}};
  rt::qlinearShared(x, rows, in, act_scale, parts, n,
                    norm ? &rowNorm : nullptr);
  return 0;
}

int slim_k_layer_norm(const float *x, int64_t rows, int64_t d,
                      const float *scale, const float *bias, float eps,
                      float *y) {
  std::string error;
  return status(rt::layerNorm(x, rows, d, scale, bias, eps, y, error), error);
}

int slim_k_crms_norm(const float *x, int64_t rows, int64_t width, float eps,
                     float *y) {
  std::string error;
  return status(rt::crmsNorm(x, rows, width, eps, y, error), error);
}

int slim_k_rms_norm(const float *x, int64_t rows, int64_t d,
                    const float *scale, const float *bias, float eps,
                    float *y) {
  std::string error;
  return status(rt::rmsNorm(x, rows, d, scale, bias, eps, y, error), error);
}

int slim_k_embedding_i64(const float *table, int64_t vocab, int64_t d,
                         const int64_t *idx, int64_t n, float *y) {
  std::string error;
  return status(rt::embedding(table, vocab, d, idx, n, y, error), error);
}

int slim_k_embedding_i32(const float *table, int64_t vocab, int64_t d,
                         const int32_t *idx, int64_t n, float *y) {
  std::vector<int64_t> wide(idx, idx + n);
  return slim_k_embedding_i64(table, vocab, d, wide.data(), n, y);
}

int slim_k_attention(const float *q, const float *k, const float *v,
                     const float *sizes, const float *key_bias,
                     const float *bias, int64_t bias_groups, int64_t batch, int64_t queries,
                     int64_t keys, int64_t heads, int64_t kv_heads,
                     int64_t head_dim, int64_t value_dim, int32_t causal,
                     float scale, int32_t int8, float *out) {
  std::string error;
  return status(rt::attention(q, k, v, sizes, key_bias, bias,
                              {batch, queries, keys, heads, kv_heads, head_dim,
                               value_dim, bias ? bias_groups : 0},
                              causal != 0, scale, out, error, int8 != 0),
                error);
}

int slim_k_q4linear(const float *x, int64_t rows, int64_t in,
                    const uint8_t *packed, int64_t group, const float *bias,
                    int64_t out, int32_t act, int32_t int8_acts, float *y) {
  std::string error;
  return status(rt::q4linear(x, rows, in, packed, group, bias, out, y, error,
                             static_cast<rt::LinearAct>(act), int8_acts != 0),
                error);
}

int slim_k_kv_attention(const float *q, const float *k, const float *v,
                        const int64_t *positions, int64_t tokens,
                        int64_t heads, int64_t kv_heads, int64_t head_dim,
                        int64_t value_dim, int64_t capacity, void *slot,
                        int32_t cache_f16, float scale, float *out) {
  std::string error;
  return status(rt::kvAttention(q, k, v, positions, tokens, heads, kv_heads,
                                head_dim, value_dim, capacity, slot,
                                cache_f16 != 0, scale, out, error),
                error);
}

int slim_k_token_merge(const float *x, const float *metric, const float *sizes,
                       int64_t batch, int64_t tokens, int64_t dim,
                       int64_t mdim, int64_t r, int64_t protected_tokens,
                       float *y, float *y_sizes, const int64_t *source,
                       int64_t original_tokens, int64_t *y_source,
                       const float *received, float tau_sim, float tau_info,
                       float tau_size, int32_t bidirectional) {
  rt::MergeOptions o;
  o.r = r;
  o.protectedTokens = protected_tokens;
  o.mctf = received != nullptr;
  o.received = received;
  o.tauSim = tau_sim;
  o.tauInfo = tau_info;
  o.tauSize = tau_size;
  o.bidirectional = bidirectional != 0;
  o.source = source;
  o.originalTokens = original_tokens;
  o.ySource = y_source;
  rt::tokenMerge(x, metric, sizes, batch, tokens, dim, mdim, o, y, y_sizes);
  return 0;
}

int slim_k_attention_received(const float *q, const float *k,
                              const float *sizes, int64_t batch,
                              int64_t queries, int64_t keys, int64_t heads,
                              int64_t kv_heads, int64_t head_dim, float scale,
                              float *out) {
  std::string error;
  return status(rt::attentionReceived(q, k, sizes,
                                      {batch, queries, keys, heads, kv_heads,
                                       head_dim, head_dim},
                                      scale, out, error),
                error);
}

int slim_k_group_mean(const float *x, const int64_t *groups,
                      const float *weights, int64_t batch, int64_t tokens,
                      int64_t num_groups, int64_t dim, float *y) {
  std::string error;
  return status(rt::groupMean(x, groups, weights, batch, tokens, num_groups,
                              dim, y, error),
                error);
}

int slim_k_unmerge(const float *x, const int64_t *source, int64_t batch,
                   int64_t tokens, int64_t original_tokens, int64_t dim,
                   float *y) {
  std::string error;
  return status(rt::unmerge(x, source, batch, tokens, original_tokens, dim, y,
                            error),
                error);
}

int slim_k_rope(const float *x, const int64_t *positions, int32_t per_batch,
                int64_t b, int64_t t, int64_t heads, int64_t head_dim,
                float theta, int32_t interleaved, float *y) {
  rt::rope(x, positions, per_batch != 0, b, t, heads, head_dim, theta,
           interleaved != 0, y);
  return 0;
}

int slim_k_unary(int32_t op, const float *x, int64_t n, float *y) {
  rt::unary(static_cast<rt::Unary>(op), x, n, y);
  return 0;
}

int slim_k_add(const float *a, const float *b, int64_t n, float *y) {
  rt::addFlat(a, b, n, y);
  return 0;
}

int slim_k_mul(const float *a, const float *b, int64_t n, float *y) {
  rt::mulFlat(a, b, n, y);
  return 0;
}

int slim_k_silu_mul(const float *a, const float *b, int64_t n, float *y) {
  rt::siluMul(a, b, n, y);
  return 0;
}

int slim_k_binary(int32_t op, const float *a, const int64_t *as, int32_t ar,
                  const float *b, const int64_t *bs, int32_t br, float *y,
                  const int64_t *ys, int32_t yr) {
  rt::binary(static_cast<rt::Binary>(op), a, shape(as, ar), b, shape(bs, br),
             y, shape(ys, yr));
  return 0;
}

int slim_k_softmax(const float *x, const int64_t *s, int32_t rank,
                   int64_t axis, float *y) {
  rt::softmax(x, shape(s, rank), axis, y);
  return 0;
}

int slim_k_reduce(int32_t kind, const float *x, const int64_t *s,
                  int32_t rank, const int64_t *axes, int32_t naxes, float *y) {
  rt::reduce(static_cast<rt::Reduce>(kind), x, shape(s, rank),
             std::vector<int64_t>(axes, axes + naxes), y);
  return 0;
}

namespace {
/// Indices as int64, whatever their width.
std::vector<int64_t> wideIndices(const void *indices, int32_t idxBytes,
                                 int64_t n) {
  if (idxBytes == 8) {
    auto *p = static_cast<const int64_t *>(indices);
    return std::vector<int64_t>(p, p + n);
  }
  auto *p = static_cast<const int32_t *>(indices);
  return std::vector<int64_t>(p, p + n);
}
} // namespace

int slim_k_gather(const void *x, int32_t elemBytes, const int64_t *s,
                  int32_t rank, int64_t axis, const void *indices,
                  int32_t idxBytes, int64_t n, void *y) {
  std::string error;
  std::vector<int64_t> idx = wideIndices(indices, idxBytes, n);
  return status(rt::gather(x, size_t(elemBytes), shape(s, rank), axis,
                           idx.data(), n, y, error),
                error);
}

int slim_k_gather_elements(const void *x, int32_t elemBytes, const int64_t *s,
                           int32_t rank, int64_t axis, const void *indices,
                           int32_t idxBytes, const int64_t *is, void *y) {
  std::string error;
  rt::Shape ishape = shape(is, rank);
  std::vector<int64_t> idx =
      wideIndices(indices, idxBytes, rt::numElements(ishape));
  return status(rt::gatherElements(x, size_t(elemBytes), shape(s, rank), axis,
                                   idx.data(), ishape, y, error),
                error);
}

int slim_k_pad(int32_t mode, int32_t dtype, const void *x, const int64_t *s,
               int32_t rank, const int64_t *pads, float value, void *y) {
  auto m = static_cast<rt::PadMode>(mode);
  std::vector<int64_t> p(pads, pads + 2 * rank);
  if (dtype == 1)
    rt::pad(m, static_cast<const int32_t *>(x), shape(s, rank), p,
            int32_t(value), static_cast<int32_t *>(y));
  else if (dtype == 2)
    rt::pad(m, static_cast<const int64_t *>(x), shape(s, rank), p,
            int64_t(value), static_cast<int64_t *>(y));
  else
    rt::pad(m, static_cast<const float *>(x), shape(s, rank), p, value,
            static_cast<float *>(y));
  return 0;
}

int slim_k_resize(const float *x, const int64_t *inShape,
                  const int64_t *outShape, int32_t rank,
                  const int64_t *scaleBits, int32_t mode, int32_t coordinates,
                  int32_t nearest, float cubicA, int32_t excludeOutside,
                  float *y) {
  std::vector<float> scales(rank);
  for (int32_t a = 0; a < rank; ++a) {
    uint32_t bits = uint32_t(scaleBits[a]);
    std::memcpy(&scales[a], &bits, sizeof(float));
  }
  rt::ResizeParams p{mode, coordinates, nearest, cubicA, excludeOutside != 0};
  rt::resize(x, shape(inShape, rank), shape(outShape, rank), scales, p, y);
  return 0;
}

int slim_k_arg_reduce(int32_t kind, const float *x, const int64_t *s,
                      int32_t rank, int64_t axis, int32_t last, int64_t *y) {
  rt::argReduce(kind == 0, x, shape(s, rank), axis, last != 0, y);
  return 0;
}

int slim_k_log_softmax(const float *x, const int64_t *s, int32_t rank,
                       int64_t axis, float *y) {
  rt::logSoftmax(x, shape(s, rank), axis, y);
  return 0;
}

int slim_k_matmul(const float *a, const int64_t *as, int32_t ar,
                  const float *b, const int64_t *bs, int32_t br, float *y,
                  const int64_t *ys, int32_t yr) {
  rt::matmul(a, shape(as, ar), b, shape(bs, br), y, shape(ys, yr));
  return 0;
}

static rt::WindowShape window(const int64_t *v) {
  return {v[0], v[1], v[2], v[3], v[4],  v[5],  v[6],
          v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

int slim_k_im2col(const float *x, const int64_t *w, float *cols) {
  rt::im2col(x, window(w), cols);
  return 0;
}

int slim_k_transpose(const void *x, const int64_t *s, int32_t rank,
                     const int64_t *perm, int32_t elemBytes, void *y) {
  rt::transposeTiled(x, shape(s, rank), std::vector<int64_t>(perm, perm + rank),
                elemBytes, y);
  return 0;
}

int slim_k_col2im(const float *cols, const float *bias, const int64_t *w,
                  float *y) {
  rt::col2im(cols, bias, window(w), y);
  return 0;
}

int slim_k_conv2d(const float *x, const float *w, const float *bias,
                  const int64_t *win, int64_t out_channels, int64_t groups,
                  int32_t channels_last, int32_t act, int32_t int8,
                  float input_scale, float *y) {
  std::string error;
  return status(rt::conv2d(x, w, bias, window(win), out_channels, groups, y,
                           channels_last != 0, error,
                           static_cast<rt::LinearAct>(act), int8 != 0,
                           input_scale),
                error);
}

int slim_k_pool2d(int32_t kind, const float *x, const int64_t *win,
                  int64_t pad_bottom, int64_t pad_right,
                  int32_t count_include_pad, float *y) {
  std::string error;
  return status(rt::pool2d(kind == 0, x, window(win), pad_bottom, pad_right,
                           count_include_pad != 0, y, error),
                error);
}

} // extern "C"
