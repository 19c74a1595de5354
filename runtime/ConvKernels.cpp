//===- ConvKernels.cpp - im2col, grouped convolution, pooling, resize -----===//
//
// The window kernels, and resizing (nearest, linear, cubic) by per-axis
// tap tables. A convolution of one group runs as im2col and the packed
// linear kernel (the importer writes it so); depthwise and grouped
// convolutions, whose per-channel work is too small for a matrix product,
// and pooling run the Halide kernels of codegen/halide/conv_generator.cpp,
// except where a C++ loop here measured faster (slim-conv-bench): NCHW
// depthwise 3 × 3 (each output row's inner loop over the columns whose
// input is inside, no bounds test) and NHWC depthwise with AVX-512. Also
// the layout transpose that moves a convolution's NHWC rows to NCHW and
// back.
//
//===----------------------------------------------------------------------===//

#include "runtime/HalideViews.h"
#include "runtime/Kernels.h"
#include "runtime/VecMath.h"

#include "slim_kernel_avg_pool2d.h"
#include "slim_kernel_conv2d.h"
#include "slim_kernel_conv2d_int8.h"
#include "slim_kernel_depthwise_nhwc.h"
#include "slim_kernel_depthwise_nhwc_int8.h"
#include "slim_kernel_max_pool2d.h"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace slim::rt {

namespace {

/// f(i) for i in [0, n), in runs of runLength(n) on the thread pool.
template <typename F> void parallelItems(int64_t n, F &&f) {
  parallelRuns(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      f(i);
  });
}

/// y = act(y) over n contiguous floats, for the convolutions' fused
/// activations: in 16-lane registers with AVX-512 (the linear epilogues'
/// formulas), else by the scalar definitions.
void activateInPlace(LinearAct act, float *y, int64_t n) {
  if (act == LinearAct::None)
    return;
  int64_t k = 0;
#if defined(SLIM_HAVE_VECMATH)
  for (; k < n; k += 16) {
    const __mmask16 m =
        n - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - k)) - 1);
    _mm512_mask_storeu_ps(
        y + k, m, vec::activate512(act, _mm512_maskz_loadu_ps(m, y + k)));
  }
#endif
  for (; k < n; ++k) {
    const float v = y[k];
    switch (act) {
    case LinearAct::None: break;
    case LinearAct::GeluExact:
      y[k] = 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f));
      break;
    case LinearAct::GeluTanh:
      y[k] = 0.5f * v *
             (1.0f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
      break;
    case LinearAct::Silu: y[k] = v / (1.0f + std::exp(-v)); break;
    case LinearAct::Relu: y[k] = std::max(v, 0.0f); break;
    case LinearAct::Relu6: y[k] = std::min(6.0f, std::max(0.0f, v)); break;
    case LinearAct::HardSwish:
      y[k] = v * std::min(1.0f, std::max(0.0f, v * (1.0f / 6.0f) + 0.5f));
      break;
    }
  }
}

/// The output columns [lo, hi) whose input column o·stride − pad + off is in
/// [0, extent).
inline void validRange(int64_t off, int64_t pad, int64_t stride,
                       int64_t extent, int64_t out, int64_t &lo,
                       int64_t &hi) {
  // o·stride ≥ pad − off  and  o·stride ≤ extent − 1 + pad − off.
  int64_t a = pad - off, b = extent - 1 + pad - off;
  lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  hi = b < 0 ? 0 : b / stride + 1;
  lo = std::min(lo, out);
  hi = std::max(lo, std::min(hi, out));
}

template <typename T>
void transpose2d(const T *in, int64_t inStride, T *out, int64_t outStride,
                 int64_t rows, int64_t cols);

} // namespace

void im2col(const float *x, const WindowShape &s, float *cols) {
  const int64_t k = s.channels * s.kh * s.kw;
  // Per output row: each (channel, tap) gives a row of outW values,
  // contiguous runs of the input (a copy at stride 1), into a scratch
  // [k, outW]; one transpose makes it the [outW, k] rows (writing each
  // value at its place, k apart, touched a cache line per value).
  parallelItems(s.batch * s.outH, [&](int64_t item) {
    thread_local std::vector<float> scratch;
    float *t = growScratch(scratch, size_t(k * s.outW));
    const int64_t b = item / s.outH, oh = item % s.outH;
    const float *xb = x + b * s.channels * s.height * s.width;
    float *rows = cols + (b * s.outH * s.outW + oh * s.outW) * k;
    for (int64_t c = 0; c < s.channels; ++c)
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = oh * s.strideH - s.padTop + i * s.dilH;
        const bool inside = ih >= 0 && ih < s.height;
        const float *xr = xb + (c * s.height + ih) * s.width;
        for (int64_t j = 0; j < s.kw; ++j) {
          float *dst = t + ((c * s.kh + i) * s.kw + j) * s.outW;
          int64_t lo = 0, hi = 0;
          if (inside)
            validRange(j * s.dilW, s.padLeft, s.strideW, s.width, s.outW, lo,
                       hi);
          std::fill(dst, dst + lo, 0.0f);
          const float *src = xr - s.padLeft + j * s.dilW;
          if (s.strideW == 1)
            std::copy(src + lo, src + hi, dst + lo);
          else
            for (int64_t ow = lo; ow < hi; ++ow)
              dst[ow] = src[ow * s.strideW];
          std::fill(dst + hi, dst + s.outW, 0.0f);
        }
      }
    transpose2d(t, s.outW, rows, k, s.outW, k);
  });
}

namespace {

/// One channel of a depthwise K × K convolution, dilation 1, stride S in
/// both axes: every output column whose K input columns are inside takes
/// its K² taps in one unrolled sum (rows outside the input read a zero
/// row), so the column loop vectorizes (S = 2 as interleaved loads); the
/// columns at each edge take the taps that are inside.
template <int K, int S>
void depthwise(const float *xp, const float *wp, float bias,
               const WindowShape &s, float *yp) {
  thread_local std::vector<float> zeroBuf; // grown with zeros, never written
  const float *zero = growScratch(zeroBuf, size_t(s.width));
  // Interior columns: 0 <= ow·S − padLeft and ow·S − padLeft + K − 1 <
  // width.
  const int64_t lo = std::min(s.outW, (s.padLeft + S - 1) / S);
  const int64_t last = s.width - K + s.padLeft; // the largest ow·S
  const int64_t hi =
      std::max(lo, std::min(s.outW, last < 0 ? int64_t(0) : last / S + 1));
  float wv[K * K];
  std::copy(wp, wp + K * K, wv);
  for (int64_t oh = 0; oh < s.outH; ++oh) {
    const float *r[K];
    for (int i = 0; i < K; ++i) {
      const int64_t ih = oh * S - s.padTop + i;
      r[i] = ih >= 0 && ih < s.height ? xp + ih * s.width : zero;
    }
    float *yr = yp + oh * s.outW;
    for (int64_t ow = lo; ow < hi; ++ow) {
      const int64_t k = ow * S - s.padLeft;
      float acc = bias;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j)
          acc += wv[i * K + j] * r[i][k + j];
      yr[ow] = acc;
    }
    auto edge = [&](int64_t ow) {
      float acc = bias;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) {
          const int64_t iw = ow * S - s.padLeft + j;
          if (iw >= 0 && iw < s.width)
            acc += wv[i * K + j] * r[i][iw];
        }
      yr[ow] = acc;
    };
    for (int64_t ow = 0; ow < lo; ++ow)
      edge(ow);
    for (int64_t ow = hi; ow < s.outW; ++ow)
      edge(ow);
  }
}

} // namespace

/// f(input pixel ih·width + iw, tap i·kw + j) for each tap of output
/// pixel (oh, ow) that falls inside the input.
template <typename F>
inline void forEachTapInside(const WindowShape &s, int64_t oh, int64_t ow,
                             F &&f) {
  for (int64_t i = 0; i < s.kh; ++i) {
    const int64_t ih = oh * s.strideH - s.padTop + i * s.dilH;
    if (ih < 0 || ih >= s.height)
      continue;
    for (int64_t j = 0; j < s.kw; ++j) {
      const int64_t iw = ow * s.strideW - s.padLeft + j * s.dilW;
      if (iw >= 0 && iw < s.width)
        f(ih * s.width + iw, i * s.kw + j);
    }
  }
}

#if defined(__AVX512F__)
/// One output row of depthwiseNhwc for channels c0 … c0 + 16·NB − 1 (the
/// last block masked to the channels there are).
template <int NB>
void depthwiseNhwcRow(const float *xb, const float *wt, const float *bias,
                      const WindowShape &s, int64_t oh, int64_t c0,
                      LinearAct act, float *yrow) {
  const int64_t C = s.channels;
  __mmask16 m[NB];
  for (int v = 0; v < NB; ++v) {
    const int64_t left = C - c0 - 16 * v;
    m[v] = __mmask16(left >= 16 ? 0xFFFF : left > 0 ? (1u << left) - 1 : 0);
  }
  for (int64_t ow = 0; ow < s.outW; ++ow) {
    __m512 acc[NB];
    for (int v = 0; v < NB; ++v)
      acc[v] = bias ? _mm512_maskz_loadu_ps(m[v], bias + c0 + 16 * v)
                    : _mm512_setzero_ps();
    forEachTapInside(s, oh, ow, [&](int64_t pixel, int64_t tap) {
      const float *xp = xb + pixel * C + c0, *wp = wt + tap * C + c0;
      for (int v = 0; v < NB; ++v)
        acc[v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[v], wp + 16 * v),
                                 _mm512_maskz_loadu_ps(m[v], xp + 16 * v),
                                 acc[v]);
    });
    for (int v = 0; v < NB; ++v)
      _mm512_mask_storeu_ps(yrow + ow * C + c0 + 16 * v, m[v],
                            vec::activate512(act, acc[v]));
  }
}
#endif

#if defined(__AVX512F__)
/// The depthwise convolution on NHWC: per output pixel, each tap inside
/// adds its channels' weights times the input pixel's channels, each block
/// of 16 channels' sum in a register (the weights tap-major first).
static void depthwiseNhwc(const float *x, const float *w, const float *bias,
                          const WindowShape &s, LinearAct act, float *y) {
  const int64_t C = s.channels, taps = s.kh * s.kw;
  thread_local std::vector<float> wtBuf;
  float *wt = growScratch(wtBuf, size_t(taps * C));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < taps; ++t)
      wt[t * C + c] = w[c * taps + t];
  parallelItems(s.batch * s.outH, [&](int64_t item) {
    const int64_t b = item / s.outH, oh = item % s.outH;
    const float *xb = x + b * s.height * s.width * C;
    float *yrow = y + item * s.outW * C;
    // Output pixels outer (one sweep over the input rows), up to 8 blocks
    // of 16 channels at a time, each block's sum in a register (8
    // independent FMA chains).
    for (int64_t c0 = 0; c0 < C; c0 += 128) {
      const int64_t nb = std::min<int64_t>(8, (C - c0 + 15) / 16);
      switch (nb) {
      case 1: depthwiseNhwcRow<1>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 2: depthwiseNhwcRow<2>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 3: depthwiseNhwcRow<3>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 4: depthwiseNhwcRow<4>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 5: depthwiseNhwcRow<5>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 6: depthwiseNhwcRow<6>(xb, wt, bias, s, oh, c0, act, yrow); break;
      case 7: depthwiseNhwcRow<7>(xb, wt, bias, s, oh, c0, act, yrow); break;
      default: depthwiseNhwcRow<8>(xb, wt, bias, s, oh, c0, act, yrow);
      }
    }
  });
}
#endif

bool conv2dLoops(const float *x, const float *w, const float *bias,
                 const WindowShape &s, int64_t outChannels, int64_t groups,
                 float *y, bool channelsLast, LinearAct act) {
  if (channelsLast) {
#if defined(__AVX512F__)
    depthwiseNhwc(x, w, bias, s, act, y);
    return true;
#else
    return false;
#endif
  }
  const bool dw3 = groups == s.channels && outChannels == s.channels &&
                   s.kh == 3 && s.kw == 3 && s.dilH == 1 && s.dilW == 1 &&
                   s.strideH == s.strideW && (s.strideW == 1 || s.strideW == 2);
  if (!dw3)
    return false;
  const int64_t plane = s.outH * s.outW;
  parallelItems(s.batch * outChannels, [&](int64_t item) {
    const int64_t d = item % outChannels;
    const float *xp = x + item * s.height * s.width;
    const float *wd = w + d * 9;
    const float bv = bias ? bias[d] : 0.0f;
    if (s.strideW == 1)
      depthwise<3, 1>(xp, wd, bv, s, y + item * plane);
    else
      depthwise<3, 2>(xp, wd, bv, s, y + item * plane);
    activateInPlace(act, y + item * plane, plane); // the plane still in L1
  });
  return true;
}

/// The Halide kernels have no epilogue: the activation follows on the
/// thread pool, a plane (or NHWC row) per item while it is in cache.
static void activateOutput(LinearAct act, const WindowShape &s,
                           int64_t outChannels, bool channelsLast, float *y) {
  if (act == LinearAct::None)
    return;
  const int64_t items =
      channelsLast ? s.batch * s.outH : s.batch * outChannels;
  const int64_t per = channelsLast ? s.outW * outChannels : s.outH * s.outW;
  parallelItems(items,
                [&](int64_t i) { activateInPlace(act, y + i * per, per); });
}

bool conv2d(const float *x, const float *w, const float *bias,
            const WindowShape &s, int64_t outChannels, int64_t groups,
            float *y, bool channelsLast, std::string &error, LinearAct act,
            bool int8, float staticScale) {
  if (int8)
    return conv2dInt8(x, w, bias, s, outChannels, groups, y, channelsLast,
                      error, act, staticScale);
  if (conv2dLoops(x, w, bias, s, outChannels, groups, y, channelsLast, act))
    return true;
  if (!conv2dHalide(x, w, bias, s, outChannels, groups, y, channelsLast,
                    error))
    return false;
  activateOutput(act, s, outChannels, channelsLast, y);
  return true;
}

/// round(v · inv) clamped to ±127: the symmetric int8 quantization (a NaN
/// gives −127, as the AVX-512 max/min order does).
static inline int8_t quantize8(float v, float inv) {
  float r = std::nearbyint(v * inv);
  if (!(r >= -127.0f))
    r = -127.0f;
  return int8_t(std::min(r, 127.0f));
}

/// max |x[k]| over n floats (16 lanes of maxima, so it vectorizes).
static float maxAbs(const float *x, int64_t n) {
  float m[16] = {};
  int64_t k = 0;
  for (; k + 16 <= n; k += 16)
    for (int l = 0; l < 16; ++l)
      m[l] = std::max(m[l], std::abs(x[k + l]));
  for (; k < n; ++k)
    m[0] = std::max(m[0], std::abs(x[k]));
  return *std::max_element(m, m + 16);
}

/// q[k] = quantize8(x[k], inv[k]) over n floats — inv one value
/// (invStride 0) or one per element (1) — 16 at a time with AVX-512 (the
/// same rounding: to nearest even, then clamped).
static void quantizeRun(const float *x, int64_t n, const float *inv,
                        int invStride, int8_t *q) {
  int64_t k = 0;
#if defined(__AVX512F__)
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (; k + 16 <= n; k += 16) {
    const __m512 vi = invStride ? _mm512_loadu_ps(inv + k)
                                : _mm512_set1_ps(*inv);
    __m512 v = _mm512_roundscale_ps(
        _mm512_mul_ps(_mm512_loadu_ps(x + k), vi),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(q + k),
                     _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
  }
#endif
  for (; k < n; ++k)
    q[k] = quantize8(x[k], inv[k * invStride]);
}

ConvInt8Scales quantizeConvInt8(const float *x, const float *w,
                                const WindowShape &s, int64_t outChannels,
                                int64_t groups, bool channelsLast,
                                int8_t *xq, int8_t *wq, float staticScale) {
  const int64_t B = s.batch, C = s.channels, plane = s.height * s.width;
  const int64_t per = s.kh * s.kw * (C / groups);
  const bool perChannel = groups == C && outChannels == C;
  ConvInt8Scales sc;
  // max |x| per (image, channel), then per image unless depthwise; or
  // the static scale everywhere.
  std::vector<float> m(size_t(B * C), 0.0f);
  if (staticScale <= 0.0f) {
    if (!channelsLast)
      parallelItems(B * C,
                    [&](int64_t i) { m[i] = maxAbs(x + i * plane, plane); });
    else
      parallelItems(B, [&](int64_t b) {
        float *mb = m.data() + b * C;
        for (int64_t k = 0; k < plane; ++k) {
          const float *px = x + (b * plane + k) * C;
          for (int64_t c = 0; c < C; ++c)
            mb[c] = std::max(mb[c], std::abs(px[c]));
        }
      });
    if (!perChannel)
      for (int64_t b = 0; b < B; ++b) {
        const float a = *std::max_element(m.begin() + b * C,
                                          m.begin() + (b + 1) * C);
        std::fill(m.begin() + b * C, m.begin() + (b + 1) * C, a);
      }
  }
  sc.input.resize(m.size());
  std::vector<float> inv(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    if (staticScale > 0.0f) {
      sc.input[i] = staticScale;
      inv[i] = 1.0f / staticScale;
      continue;
    }
    sc.input[i] = m[i] > 0.0f ? m[i] / 127.0f : 1.0f;
    inv[i] = m[i] > 0.0f ? 127.0f / m[i] : 0.0f;
  }
  if (!channelsLast)
    parallelItems(B * C, [&](int64_t i) {
      quantizeRun(x + i * plane, plane, &inv[i], 0, xq + i * plane);
    });
  else
    parallelItems(B * s.height, [&](int64_t row) {
      const int64_t b = row / s.height;
      const float *ib = inv.data() + b * C;
      for (int64_t k = row * s.width; k < (row + 1) * s.width; ++k)
        quantizeRun(x + k * C, C, ib, 1, xq + k * C);
    });
  // Weights per output channel.
  sc.weight.resize(size_t(outChannels));
  for (int64_t d = 0; d < outChannels; ++d) {
    float a = 0.0f;
    for (int64_t k = 0; k < per; ++k)
      a = std::max(a, std::abs(w[d * per + k]));
    sc.weight[d] = a > 0.0f ? a / 127.0f : 1.0f;
    const float iw = a > 0.0f ? 127.0f / a : 0.0f;
    for (int64_t k = 0; k < per; ++k)
      wq[d * per + k] = quantize8(w[d * per + k], iw);
  }
  return sc;
}

bool conv2dInt8(const float *x, const float *w, const float *bias,
                const WindowShape &s, int64_t outChannels, int64_t groups,
                float *y, bool channelsLast, std::string &error,
                LinearAct act, float staticScale) {
  installHalideErrorHandler();
  const int64_t cg = s.channels / groups;
  // Per-thread scratch, kept between calls: no large allocation and free
  // per call (glibc would trim and regrow its heap around them).
  thread_local std::vector<int8_t> xqBuf, wqBuf;
  int8_t *xq =
      growScratch(xqBuf, size_t(s.batch * s.channels * s.height * s.width));
  int8_t *wq = growScratch(wqBuf, size_t(outChannels * cg * s.kh * s.kw));
  ConvInt8Scales sc = quantizeConvInt8(x, w, s, outChannels, groups,
                                       channelsLast, xq, wq, staticScale);
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(size_t(outChannels), 0.0f);
    bias = zeros.data();
  }
  using Q4 = Halide::Runtime::Buffer<int8_t, 4>;
  Q4 wb(wq, int(s.kw), int(s.kh), int(cg), int(outChannels));
  auto ws = view1(sc.weight.data(), outChannels);
  Halide::Runtime::Buffer<float, 2> xs(sc.input.data(), int(s.channels),
                                       int(s.batch));
  auto bb = view1(bias, outChannels);
  using B4 = Halide::Runtime::Buffer<float, 4>;
  int rc;
  if (channelsLast) {
    Q4 xb(xq, int(s.channels), int(s.width), int(s.height),
          int(s.batch));
    B4 yb(y, int(outChannels), int(s.outW), int(s.outH), int(s.batch));
    rc = slim_kernel_depthwise_nhwc_int8(
        xb, wb, ws, xs, bb, int(s.strideW), int(s.strideH), int(s.padLeft),
        int(s.padTop), int(s.dilW), int(s.dilH), yb);
  } else {
    Q4 xb(xq, int(s.width), int(s.height), int(s.channels),
          int(s.batch));
    B4 yb(y, int(s.outW), int(s.outH), int(outChannels), int(s.batch));
    rc = slim_kernel_conv2d_int8(xb, wb, ws, xs, bb, int(s.strideW),
                                 int(s.strideH), int(s.padLeft),
                                 int(s.padTop), int(s.dilW), int(s.dilH),
                                 int(groups), yb);
  }
  if (!halideCall(rc, "int8 convolution", error))
    return false;
  activateOutput(act, s, outChannels, channelsLast, y);
  return true;
}

void col2im(const float *cols, const float *bias, const WindowShape &s,
            float *y) {
  const int64_t taps = s.kh * s.kw, row = s.channels * taps;
  const int64_t positions = s.outH * s.outW;
  parallelItems(s.batch * s.channels, [&](int64_t item) {
    const int64_t b = item / s.channels, c = item % s.channels;
    float *yp = y + item * s.height * s.width;
    std::fill(yp, yp + s.height * s.width, bias ? bias[c] : 0.0f);
    const float *cb = cols + b * positions * row + c * taps;
    for (int64_t oh = 0; oh < s.outH; ++oh)
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = oh * s.strideH - s.padTop + i * s.dilH;
        if (ih < 0 || ih >= s.height)
          continue;
        float *yr = yp + ih * s.width;
        for (int64_t j = 0; j < s.kw; ++j) {
          int64_t lo, hi;
          validRange(j * s.dilW, s.padLeft, s.strideW, s.width, s.outW, lo,
                     hi);
          const int64_t shift = j * s.dilW - s.padLeft;
          const float *src = cb + oh * s.outW * row + i * s.kw + j;
          for (int64_t ow = lo; ow < hi; ++ow)
            yr[ow * s.strideW + shift] += src[ow * row];
        }
      }
  });
}

// --- The Halide window kernels (codegen/halide/conv_generator.cpp) -------

bool conv2dHalide(const float *x, const float *w, const float *bias,
                  const WindowShape &s, int64_t outChannels, int64_t groups,
                  float *y, bool channelsLast, std::string &error) {
  installHalideErrorHandler();
  std::vector<float> zeros;
  if (!bias) {
    zeros.assign(size_t(outChannels), 0.0f);
    bias = zeros.data();
  }
  using B4 = Halide::Runtime::Buffer<float, 4>;
  const int cg = int(s.channels / groups);
  B4 wb(const_cast<float *>(w), int(s.kw), int(s.kh), cg, int(outChannels));
  auto bb = view1(bias, outChannels);
  if (channelsLast) {
    B4 xb(const_cast<float *>(x), int(s.channels), int(s.width),
          int(s.height), int(s.batch));
    B4 yb(y, int(outChannels), int(s.outW), int(s.outH), int(s.batch));
    return halideCall(slim_kernel_depthwise_nhwc(
                          xb, wb, bb, int(s.strideW), int(s.strideH),
                          int(s.padLeft), int(s.padTop), int(s.dilW),
                          int(s.dilH), yb),
                      "depthwise convolution", error);
  }
  B4 xb(const_cast<float *>(x), int(s.width), int(s.height), int(s.channels),
        int(s.batch));
  B4 yb(y, int(s.outW), int(s.outH), int(outChannels), int(s.batch));
  return halideCall(slim_kernel_conv2d(xb, wb, bb, int(s.strideW),
                                       int(s.strideH), int(s.padLeft),
                                       int(s.padTop), int(s.dilW),
                                       int(s.dilH), int(groups), yb),
                    "convolution", error);
}

bool pool2d(bool max, const float *x, const WindowShape &s,
                  int64_t padBottom, int64_t padRight, bool countIncludePad,
                  float *y, std::string &error) {
  installHalideErrorHandler();
  using B4 = Halide::Runtime::Buffer<float, 4>;
  B4 xb(const_cast<float *>(x), int(s.width), int(s.height), int(s.channels),
        int(s.batch));
  B4 yb(y, int(s.outW), int(s.outH), int(s.channels), int(s.batch));
  auto *kernel = max ? slim_kernel_max_pool2d : slim_kernel_avg_pool2d;
  return halideCall(kernel(xb, int(s.kw), int(s.kh), int(s.strideW),
                           int(s.strideH), int(s.padLeft), int(s.padTop),
                           int(s.dilW), int(s.dilH), int(padRight),
                           int(padBottom), countIncludePad, yb),
                    "pooling", error);
}

namespace {

/// Output position o of an axis resized from `lin` to `lout` reads `n`
/// input positions idx[o·n + t] with weights w[o·n + t].
struct Taps {
  int n = 1;
  std::vector<int64_t> idx;
  std::vector<float> w;
};

/// Keys' cubic convolution kernel with parameter a at distance d.
double keys(double d, double a) {
  d = std::abs(d);
  if (d <= 1.0)
    return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
  if (d < 2.0)
    return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
  return 0.0;
}

Taps resizeTaps(int64_t lin, int64_t lout, float scale,
                const ResizeParams &p) {
  Taps t;
  t.n = p.mode == 0 ? 1 : p.mode == 1 ? 2 : 4;
  t.idx.resize(lout * t.n);
  t.w.resize(lout * t.n);
  double s = scale;
  // The output extent as ONNX's mappings use it: input · scale, not
  // rounded down (equal to lout when the model gave sizes).
  double resized = double(lin) * s;
  auto clampIdx = [&](int64_t i) { return std::clamp<int64_t>(i, 0, lin - 1); };
  for (int64_t o = 0; o < lout; ++o) {
    double x;
    switch (p.coordinates) {
    case 0: // half_pixel
      x = (double(o) + 0.5) / s - 0.5;
      break;
    case 1: // pytorch_half_pixel
      x = resized > 1.0 ? (double(o) + 0.5) / s - 0.5 : 0.0;
      break;
    case 2: // align_corners
      x = resized == 1.0 ? 0.0
                         : double(o) * double(lin - 1) / (resized - 1.0);
      break;
    case 3: // asymmetric
      x = double(o) / s;
      break;
    default: // tf_half_pixel_for_nn
      x = (double(o) + 0.5) / s;
      break;
    }
    double floorX = std::floor(x);
    int64_t x0 = int64_t(floorX);
    double r = x - floorX;
    int64_t *idx = &t.idx[o * t.n];
    float *w = &t.w[o * t.n];
    if (p.mode == 0) {
      bool up = false; // the neighbour after x0
      if (r != 0.0) {
        switch (p.nearest) {
        case 0: // round_prefer_floor
          up = r > 0.5;
          break;
        case 1: // round_prefer_ceil
          up = r >= 0.5;
          break;
        case 2: // floor
          up = false;
          break;
        default: // ceil
          up = true;
          break;
        }
      }
      idx[0] = clampIdx(x0 + (up ? 1 : 0));
      w[0] = 1.0f;
    } else if (p.mode == 1) {
      idx[0] = clampIdx(x0);
      idx[1] = clampIdx(x0 + 1);
      w[0] = float(1.0 - r);
      w[1] = float(r);
    } else {
      double c[4], sum = 0.0;
      for (int j = 0; j < 4; ++j) {
        int64_t i = x0 - 1 + j;
        c[j] = keys(x - double(i), p.cubicA);
        if (p.excludeOutside && (i < 0 || i >= lin))
          c[j] = 0.0;
        sum += c[j];
        idx[j] = clampIdx(i);
      }
      for (int j = 0; j < 4; ++j)
        w[j] = float(p.excludeOutside && sum != 0.0 ? c[j] / sum : c[j]);
    }
  }
  return t;
}

} // namespace

void resize(const float *x, const Shape &in, const Shape &out,
            const std::vector<float> &scales, const ResizeParams &p,
            float *y) {
  int64_t rank = int64_t(in.size());
  Shape shape = in;
  std::vector<float> cur(x, x + numElements(in)), next;
  for (int64_t a = 0; a < rank; ++a) {
    // Scale 1 maps every output position onto itself, except with
    // tf_half_pixel_for_nn, which shifts by half a cell.
    if (out[a] == shape[a] && scales[a] == 1.0f && p.coordinates != 4)
      continue;
    Taps t = resizeTaps(shape[a], out[a], scales[a], p);
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < a; ++k)
      outer *= shape[k];
    for (int64_t k = a + 1; k < rank; ++k)
      inner *= shape[k];
    next.assign(outer * out[a] * inner, 0.0f);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < out[a]; ++j) {
        float *dst = &next[(o * out[a] + j) * inner];
        for (int k = 0; k < t.n; ++k) {
          float wk = t.w[j * t.n + k];
          if (wk == 0.0f)
            continue;
          const float *src = &cur[(o * shape[a] + t.idx[j * t.n + k]) * inner];
          for (int64_t i = 0; i < inner; ++i)
            dst[i] += wk * src[i];
        }
      }
    cur.swap(next);
    shape[a] = out[a];
  }
  std::copy(cur.begin(), cur.end(), y);
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

namespace {

/// out[i·outStride + j] = in[j·inStride + i] for i < rows, j < cols, in
/// 16 × 16 tiles (the reads of a tile's column and the writes of its row
/// each stay within a few cache lines); whole tiles of 4-byte elements
/// through registers where the runtime has AVX-512.
template <typename T>
void transpose2d(const T *in, int64_t inStride, T *out, int64_t outStride,
                 int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 16;
  for (int64_t i0 = 0; i0 < rows; i0 += kTile)
    for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
      const int64_t i1 = std::min(rows, i0 + kTile),
                    j1 = std::min(cols, j0 + kTile);
#if defined(__AVX512F__)
      if constexpr (sizeof(T) == 4)
        if (i1 - i0 == kTile && j1 - j0 == kTile) {
          vec::transpose16(reinterpret_cast<const float *>(in + j0 * inStride +
                                                           i0),
                           inStride,
                           reinterpret_cast<float *>(out + i0 * outStride + j0),
                           outStride);
          continue;
        }
#endif
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j)
          out[i * outStride + j] = in[j * inStride + i];
    }
}

template <typename T>
void transposeT(const T *x, const Shape &shape, const std::vector<int64_t> &perm,
                T *y) {
  // Unit dims dropped; input dims that stay neighbours merged.
  std::vector<int64_t> keep(shape.size(), -1), s;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) {
      keep[d] = int64_t(s.size());
      s.push_back(shape[d]);
    }
  std::vector<int64_t> p;
  for (int64_t d : perm)
    if (keep[d] >= 0)
      p.push_back(keep[d]);
  // Output dims k, k+1 reading input dims a, a+1 become one input dim.
  std::vector<std::vector<int64_t>> groups; // input dims, in output order
  for (int64_t d : p) {
    if (!groups.empty() && groups.back().back() + 1 == d)
      groups.back().push_back(d);
    else
      groups.push_back({d});
  }
  // The merged input shape and the permutation of the merged dims.
  std::vector<std::vector<int64_t>> byInput = groups;
  std::sort(byInput.begin(), byInput.end());
  const int64_t r = int64_t(byInput.size());
  std::vector<int64_t> ms(r), mp;
  for (int64_t g = 0; g < r; ++g) {
    ms[g] = 1;
    for (int64_t d : byInput[g])
      ms[g] *= s[d];
  }
  for (const auto &grp : groups)
    mp.push_back(std::lower_bound(byInput.begin(), byInput.end(), grp) -
                 byInput.begin());
  const int64_t n = numElements(shape);
  bool identity = true;
  for (int64_t k = 0; k < r; ++k)
    identity = identity && mp[k] == k;
  if (identity) {
    std::memcpy(y, x, size_t(n) * sizeof(T));
    return;
  }
  std::vector<int64_t> inStride(r, 1), outStride(r, 1), outShape(r);
  for (int64_t d = r - 2; d >= 0; --d)
    inStride[d] = inStride[d + 1] * ms[d + 1];
  for (int64_t k = 0; k < r; ++k)
    outShape[k] = ms[mp[k]];
  for (int64_t k = r - 2; k >= 0; --k)
    outStride[k] = outStride[k + 1] * outShape[k + 1];
  if (mp[r - 1] == r - 1) {
    // The innermost axis stays: whole rows move.
    const int64_t row = ms[r - 1], count = n / row;
    parallelItems(count, [&](int64_t c) {
      int64_t inOff = 0;
      for (int64_t k = r - 2, rest = c; k >= 0; --k) {
        inOff += (rest % outShape[k]) * inStride[mp[k]];
        rest /= outShape[k];
      }
      std::memcpy(y + c * row, x + inOff, size_t(row) * sizeof(T));
    });
    return;
  }
  // A 2-D transpose per combination of the other dims: input dim r-1
  // (contiguous in the input, output dim kIn) against output dim r-1
  // (contiguous in the output, input dim mp[r-1]).
  const int64_t kIn =
      std::find(mp.begin(), mp.end(), r - 1) - mp.begin();
  const int64_t rows = ms[r - 1], cols = outShape[r - 1];
  const int64_t a = mp[r - 1];
  std::vector<int64_t> outer; // output dims other than kIn and r-1
  int64_t count = 1;
  for (int64_t k = 0; k < r - 1; ++k)
    if (k != kIn) {
      outer.push_back(k);
      count *= outShape[k];
    }
  // Tasks: every combination, each split into blocks of 64 rows × 256
  // columns (an NHWC -> NCHW move of one image is a single combination).
  const int64_t rowBlocks = (rows + 63) / 64, colBlocks = (cols + 255) / 256;
  const int64_t blocks = rowBlocks * colBlocks;
  parallelItems(count * blocks, [&](int64_t task) {
    int64_t c = task / blocks, b = (task % blocks) / colBlocks,
            cb = task % colBlocks;
    int64_t inOff = 0, outOff = 0;
    for (int64_t i = int64_t(outer.size()) - 1; i >= 0; --i) {
      const int64_t k = outer[i], idx = c % outShape[k];
      c /= outShape[k];
      inOff += idx * inStride[mp[k]];
      outOff += idx * outStride[k];
    }
    const int64_t r0 = b * 64, r1 = std::min(rows, r0 + 64);
    const int64_t c0 = cb * 256, c1 = std::min(cols, c0 + 256);
    transpose2d(x + inOff + r0 + c0 * inStride[a], inStride[a],
                y + outOff + r0 * outStride[kIn] + c0, outStride[kIn],
                r1 - r0, c1 - c0);
  });
}

} // namespace

void transposeTiled(const void *x, const Shape &shape,
               const std::vector<int64_t> &perm, int elemBytes, void *y) {
  switch (elemBytes) {
  case 1:
    return transposeT(static_cast<const uint8_t *>(x), shape, perm,
                      static_cast<uint8_t *>(y));
  case 2:
    return transposeT(static_cast<const uint16_t *>(x), shape, perm,
                      static_cast<uint16_t *>(y));
  case 8:
    return transposeT(static_cast<const uint64_t *>(x), shape, perm,
                      static_cast<uint64_t *>(y));
  default:
    return transposeT(static_cast<const uint32_t *>(x), shape, perm,
                      static_cast<uint32_t *>(y));
  }
}

} // namespace slim::rt
