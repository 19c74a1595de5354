/*===- KernelABI.h - the C entry points compiled models call ------*- C -*-===*
 *
 * Generated model code calls these with bare pointers into the weight blob
 * and the arena, and shapes as pointers to constant int64 arrays. Each
 * returns 0 on success; on failure the message is in slim_last_error().
 *
 *===----------------------------------------------------------------------===*/

#ifndef RUNTIME_KERNELABI_H
#define RUNTIME_KERNELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

const char *slim_last_error(void);

/* residual: null, or a residual sublayer's input [rows, out] added after
 * the activation (the sublayer's add fused into its last linear). */
int slim_k_linear(const float *x, int64_t rows, int64_t in, const float *wt,
                  const float *bias, int64_t out, int32_t act,
                  const float *residual, float *y);
/* The same with a weight w [out, in] computed at run time (not packed). */
int slim_k_linear_runtime_weight(const float *x, int64_t rows, int64_t in,
                                 const float *w, const float *bias,
                                 int64_t out, int32_t act, float *y);
int slim_k_layer_norm(const float *x, int64_t rows, int64_t d,
                      const float *scale, const float *bias, float eps,
                      float *y);
int slim_k_qlinear(const float *x, int64_t rows, int64_t in,
                   const uint8_t *packed, const float *scales,
                   const float *bias, int64_t out, float act_scale,
                   int32_t act, const float *residual, float *y);
/* Up to three int8 linears of one input x (quantized once), part i being
 * (packed_i, scales_i, bias_i, out_i, act_i, y_i); parts past n are not
 * read (null or 0). norm 1 (rms_norm) or 2 (layer_norm): the linears' input
 * is that norm of x over its rows of `in` (norm_bias may be null); 0: x. */
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
                          float norm_eps);
int slim_k_crms_norm(const float *x, int64_t rows, int64_t width, float eps,
                     float *y);
int slim_k_rms_norm(const float *x, int64_t rows, int64_t d,
                    const float *scale, const float *bias, float eps,
                    float *y);
int slim_k_embedding_i64(const float *table, int64_t vocab, int64_t d,
                         const int64_t *idx, int64_t n, float *y);
int slim_k_embedding_i32(const float *table, int64_t vocab, int64_t d,
                         const int32_t *idx, int64_t n, float *y);
int slim_k_attention(const float *q, const float *k, const float *v,
                     const float *sizes, const float *key_bias,
                     const float *bias, int64_t bias_groups,
                     int64_t batch, int64_t queries,
                     int64_t keys, int64_t heads, int64_t kv_heads,
                     int64_t head_dim, int64_t value_dim, int32_t causal,
                     float scale, int32_t int8, float *out);
int slim_k_q4linear(const float *x, int64_t rows, int64_t in,
                    const uint8_t *packed, int64_t group, const float *bias,
                    int64_t out, int32_t act, int32_t int8_acts, float *y);
int slim_k_kv_attention(const float *q, const float *k, const float *v,
                        const int64_t *positions, int64_t tokens,
                        int64_t heads, int64_t kv_heads, int64_t head_dim,
                        int64_t value_dim, int64_t capacity, void *slot,
                        int32_t cache_f16, float scale, float *out);
int slim_k_token_merge(const float *x, const float *metric, const float *sizes,
                       int64_t batch, int64_t tokens, int64_t dim,
                       int64_t mdim, int64_t r, int64_t protected_tokens,
                       float *y, float *y_sizes, const int64_t *source,
                       int64_t original_tokens, int64_t *y_source,
                       const float *received, float tau_sim, float tau_info,
                       float tau_size, int32_t bidirectional);
/* source: null, or [batch, original_tokens]; then y_source is written.
   received: null (ToMe), or [batch, tokens] (MCTF). */
int slim_k_attention_received(const float *q, const float *k,
                              const float *sizes, int64_t batch,
                              int64_t queries, int64_t keys, int64_t heads,
                              int64_t kv_heads, int64_t head_dim, float scale,
                              float *out);
int slim_k_group_mean(const float *x, const int64_t *groups,
                      const float *weights, int64_t batch, int64_t tokens,
                      int64_t num_groups, int64_t dim, float *y);
int slim_k_unmerge(const float *x, const int64_t *source, int64_t batch,
                   int64_t tokens, int64_t original_tokens, int64_t dim,
                   float *y);
int slim_k_rope(const float *x, const int64_t *positions, int32_t per_batch,
                int64_t b, int64_t t, int64_t heads, int64_t head_dim,
                float theta, int32_t interleaved, float *y);
/* y = a + b and y = SiLU(a) * b over n elements (Halide kernels). */
int slim_k_add(const float *a, const float *b, int64_t n, float *y);
int slim_k_mul(const float *a, const float *b, int64_t n, float *y);
int slim_k_silu_mul(const float *a, const float *b, int64_t n, float *y);
/* op: the slim::rt::Unary / Binary enumerator. */
int slim_k_unary(int32_t op, const float *x, int64_t n, float *y);
int slim_k_binary(int32_t op, const float *a, const int64_t *as, int32_t ar,
                  const float *b, const int64_t *bs, int32_t br, float *y,
                  const int64_t *ys, int32_t yr);
int slim_k_softmax(const float *x, const int64_t *shape, int32_t rank,
                   int64_t axis, float *y);
/* kind: the slim::rt::Reduce enumerator; axes sorted and normalized. */
int slim_k_reduce(int32_t kind, const float *x, const int64_t *shape,
                  int32_t rank, const int64_t *axes, int32_t naxes, float *y);
/* ONNX Gather / GatherElements: x of elemBytes-byte elements; indices of
   idxBytes (4 or 8) bytes, n of them (Gather) or of the shape ishape
   (GatherElements); an index outside the axis fails. */
int slim_k_gather(const void *x, int32_t elemBytes, const int64_t *shape,
                  int32_t rank, int64_t axis, const void *indices,
                  int32_t idxBytes, int64_t n, void *y);
int slim_k_gather_elements(const void *x, int32_t elemBytes,
                           const int64_t *shape, int32_t rank, int64_t axis,
                           const void *indices, int32_t idxBytes,
                           const int64_t *ishape, void *y);
/* mode: the slim::rt::PadMode enumerator; dtype: 0 float32, 1 int32, 2
   int64 (value converted to it); pads: 2·rank counts, begins then ends. */
int slim_k_pad(int32_t mode, int32_t dtype, const void *x,
               const int64_t *shape, int32_t rank, const int64_t *pads,
               float value, void *y);
/* ONNX Resize (slim.resize): scaleBits holds each axis's float32 scale as
   its IEEE-754 bit pattern (the compiler's constant arrays are int64);
   mode, coordinates and nearest in the orders of slim::rt::ResizeParams. */
int slim_k_resize(const float *x, const int64_t *inShape,
                  const int64_t *outShape, int32_t rank,
                  const int64_t *scaleBits, int32_t mode, int32_t coordinates,
                  int32_t nearest, float cubicA, int32_t excludeOutside,
                  float *y);
/* kind: 0 max, 1 min (slim::Extremum); y: int64 indices. */
int slim_k_arg_reduce(int32_t kind, const float *x, const int64_t *shape,
                      int32_t rank, int64_t axis, int32_t last, int64_t *y);
int slim_k_log_softmax(const float *x, const int64_t *shape, int32_t rank,
                       int64_t axis, float *y);
int slim_k_matmul(const float *a, const int64_t *as, int32_t ar,
                  const float *b, const int64_t *bs, int32_t br, float *y,
                  const int64_t *ys, int32_t yr);
/* The NCHW window kernels; `window` is the 14 values of
   slim::rt::WindowShape in its order. pool2d's `kind` is 0 for max, 1 for
   average; conv2d's `act` the fused activation, as the linears' (0 none),
   `int8` nonzero for slim.conv2d int8, then `input_scale` its static
   input scale (0: dynamic). */
int slim_k_im2col(const float *x, const int64_t *window, float *cols);
/* slim.col2im; `window` is the image's (the result's), bias may be null. */
int slim_k_col2im(const float *cols, const float *bias,
                  const int64_t *window, float *y);
/* slim.transpose: y's axis k is x's axis perm[k]; elem_bytes 1, 2, 4 or
   8. */
int slim_k_transpose(const void *x, const int64_t *shape, int32_t rank,
                     const int64_t *perm, int32_t elem_bytes, void *y);
int slim_k_conv2d(const float *x, const float *w, const float *bias,
                  const int64_t *window, int64_t out_channels,
                  int64_t groups, int32_t channels_last, int32_t act,
                  int32_t int8, float input_scale, float *y);
int slim_k_pool2d(int32_t kind, const float *x, const int64_t *window,
                  int64_t pad_bottom, int64_t pad_right,
                  int32_t count_include_pad, float *y);

#ifdef __cplusplus
}
#endif

#endif /* RUNTIME_KERNELABI_H */
