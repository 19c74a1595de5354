//===- Kernels.cpp - elementwise, reduction and layout kernels ------------===//
//
// The kernels of any shape: rotary embeddings, unary and broadcasting
// binary ops, where, softmax, mean, matmul, transpose, slice, concat and
// broadcast. The Halide wrappers are in HalideKernels.cpp, the KV-cache
// attention in KvAttention.cpp, token merging in TokenMerge.cpp.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"
#include "runtime/HalideViews.h"

#include "slim_kernel_gelu_erf.h"
#include "slim_kernel_gelu_tanh.h"
#include "slim_kernel_silu.h"
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

/// Elementwise work of at least this many floats is split between the
/// threads (a prefill's RoPE and SwiGLU product: 128 × 2048 floats per
/// layer ran on one core); less runs on the calling thread.
constexpr int64_t kParallelElements = int64_t(1) << 16;

} // namespace

void mulFlat(const float *a, const float *b, int64_t n, float *y) {
  auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      y[i] = a[i] * b[i];
  };
  if (n < kParallelElements)
    return run(0, n);
  parallelRuns(n, run);
}

void rope(const float *x, const int64_t *positions, bool perBatch, int64_t b,
          int64_t t, int64_t heads, int64_t headDim, float theta,
          bool interleaved, float *y) {
  const int64_t half = headDim / 2, rows = perBatch ? b * t : t;
  // cos and sin of each position's angles (computed in double, rounded
  // once), cached per thread: every layer's q and k of one forward, and
  // of one decode step, rotate by the same positions.
  thread_local std::vector<int64_t> cachedPositions;
  thread_local std::vector<float> table; // per position: half cos, half sin
  thread_local float cachedTheta = 0.0f;
  thread_local int64_t cachedDim = 0;
  if (cachedTheta != theta || cachedDim != headDim ||
      int64_t(cachedPositions.size()) != rows ||
      !std::equal(positions, positions + rows, cachedPositions.begin())) {
    std::vector<double> invFreq(half);
    for (int64_t i = 0; i < half; ++i)
      invFreq[i] = std::pow(double(theta), -2.0 * double(i) / double(headDim));
    table.resize(size_t(rows * 2 * half));
    for (int64_t r = 0; r < rows; ++r) {
      const double pos = double(positions[r]);
      for (int64_t i = 0; i < half; ++i) {
        table[r * 2 * half + i] = float(std::cos(pos * invFreq[i]));
        table[r * 2 * half + half + i] = float(std::sin(pos * invFreq[i]));
      }
    }
    cachedPositions.assign(positions, positions + rows);
    cachedTheta = theta;
    cachedDim = headDim;
  }
  // Rows (batch × token) split between the threads for a prefill; the
  // table is this thread's, read-only while they run.
  const float *tab = table.data();
  const int64_t rowsTotal = b * t, per = heads * headDim;
  auto run = [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t bi = row / t, ti = row % t;
      const float *c = tab + (perBatch ? bi * t + ti : ti) * 2 * half;
      const float *s = c + half;
      for (int64_t h = 0; h < heads; ++h) {
        const float *xv = x + ((bi * t + ti) * heads + h) * headDim;
        float *yv = y + ((bi * t + ti) * heads + h) * headDim;
        if (interleaved)
          for (int64_t i = 0; i < half; ++i) {
            const float x0 = xv[2 * i], x1 = xv[2 * i + 1];
            yv[2 * i] = x0 * c[i] - x1 * s[i];
            yv[2 * i + 1] = x1 * c[i] + x0 * s[i];
          }
        else
          for (int64_t i = 0; i < half; ++i) {
            const float x0 = xv[i], x1 = xv[i + half];
            yv[i] = x0 * c[i] - x1 * s[i];
            yv[i + half] = x1 * c[i] + x0 * s[i];
          }
      }
    }
  };
  if (rowsTotal * per < kParallelElements)
    return run(0, rowsTotal);
  parallelRuns(rowsTotal, run);
}

void clamp(const float *x, int64_t n, float lo, float hi, float *y) {
  for (int64_t k = 0; k < n; ++k)
    y[k] = std::isnan(x[k]) ? x[k] : std::min(std::max(x[k], lo), hi);
}

void leakyRelu(const float *x, int64_t n, float alpha, float *y) {
  for (int64_t k = 0; k < n; ++k)
    y[k] = x[k] >= 0.0f ? x[k] : alpha * x[k];
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
  case Unary::Log:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::log(x[i]);
    break;
  case Unary::Abs:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::fabs(x[i]);
    break;
  case Unary::Floor:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::floor(x[i]);
    break;
  case Unary::Ceil:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::ceil(x[i]);
    break;
  case Unary::Round: // halves to even (the default rounding mode)
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::nearbyint(x[i]);
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
    case Binary::Max:
    case Binary::Min:
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
    case Binary::Max: // NaN if either is, as arith.maximumf
      y[k] = l != l || r != r ? l + r : std::max(l, r);
      break;
    case Binary::Min:
      y[k] = l != l || r != r ? l + r : std::min(l, r);
      break;
    }
  });
}

template <typename T>
void compareImpl(Compare op, const T *a, const Shape &as, const T *b,
                 const Shape &bs, uint8_t *y, const Shape &ys) {
  const std::vector<int64_t> strides[2] = {broadcastStrides(as, ys),
                                           broadcastStrides(bs, ys)};
  forEachBroadcast(ys, strides, [&](int64_t k, const int64_t *off) {
    T l = a[off[0]], r = b[off[1]];
    switch (op) {
    case Compare::Eq:
      y[k] = l == r;
      break;
    case Compare::Lt:
      y[k] = l < r;
      break;
    case Compare::Le:
      y[k] = l <= r;
      break;
    case Compare::Gt:
      y[k] = l > r;
      break;
    case Compare::Ge:
      y[k] = l >= r;
      break;
    }
  });
}

void compare(Compare op, const float *a, const Shape &as, const float *b,
             const Shape &bs, uint8_t *y, const Shape &ys) {
  compareImpl(op, a, as, b, bs, y, ys);
}
void compare(Compare op, const int64_t *a, const Shape &as, const int64_t *b,
             const Shape &bs, uint8_t *y, const Shape &ys) {
  compareImpl(op, a, as, b, bs, y, ys);
}
void compare(Compare op, const int32_t *a, const Shape &as, const int32_t *b,
             const Shape &bs, uint8_t *y, const Shape &ys) {
  compareImpl(op, a, as, b, bs, y, ys);
}

void logic(Logic op, const uint8_t *a, const Shape &as, const uint8_t *b,
           const Shape &bs, uint8_t *y, const Shape &ys) {
  const std::vector<int64_t> strides[2] = {broadcastStrides(as, ys),
                                           broadcastStrides(bs, ys)};
  forEachBroadcast(ys, strides, [&](int64_t k, const int64_t *off) {
    bool l = a[off[0]] != 0, r = b[off[1]] != 0;
    y[k] = op == Logic::And ? (l && r) : op == Logic::Or ? (l || r) : (l != r);
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

/// A softmax axis's extent n, and the extents before (outer) and after
/// (inner) it.
struct AxisExtents {
  int64_t outer = 1, n, inner = 1;
  AxisExtents(const Shape &shape, int64_t axis) : n(shape[axis]) {
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
  }
};

/// Calls fn(in, out) for each of the outer × inner lanes along the axis:
/// `in` is the offset of the lane's first element (its n elements are
/// `inner` apart), `out` the lane's index in a result without the axis.
template <typename Fn> void forEachLane(const AxisExtents &e, Fn fn) {
  for (int64_t o = 0; o < e.outer; ++o)
    for (int64_t i = 0; i < e.inner; ++i)
      fn(o * e.n * e.inner + i, o * e.inner + i);
}

/// The largest of a lane's n elements, `inner` apart.
float laneMax(const float *x, int64_t n, int64_t inner) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j)
    mx = std::max(mx, x[j * inner]);
  return mx;
}

namespace {
/// An index of an axis of extent d, negative ones from the end; -1 when
/// outside.
int64_t wrapIndex(int64_t i, int64_t d) {
  if (i < 0)
    i += d;
  return i >= 0 && i < d ? i : -1;
}
} // namespace

bool gather(const void *x, size_t elemBytes, const Shape &shape, int64_t axis,
            const int64_t *indices, int64_t n, void *y, std::string &error) {
  int64_t outer = 1, inner = 1, d = shape[axis];
  for (int64_t a = 0; a < axis; ++a)
    outer *= shape[a];
  for (size_t a = axis + 1; a < shape.size(); ++a)
    inner *= shape[a];
  size_t row = size_t(inner) * elemBytes;
  auto *src = static_cast<const char *>(x);
  auto *dst = static_cast<char *>(y);
  for (int64_t k = 0; k < n; ++k)
    if (wrapIndex(indices[k], d) < 0) {
      error = "gather: index " + std::to_string(indices[k]) +
              " is outside an axis of " + std::to_string(d);
      return false;
    }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k) {
      std::memcpy(dst, src + (o * d + wrapIndex(indices[k], d)) * row, row);
      dst += row;
    }
  return true;
}

bool gatherElements(const void *x, size_t elemBytes, const Shape &xs,
                    int64_t axis, const int64_t *indices, const Shape &is,
                    void *y, std::string &error) {
  int64_t rank = int64_t(xs.size()), total = numElements(is);
  Shape stride(rank, 1);
  for (int64_t a = rank - 2; a >= 0; --a)
    stride[a] = stride[a + 1] * xs[a + 1];
  auto *src = static_cast<const char *>(x);
  auto *dst = static_cast<char *>(y);
  Shape c(rank, 0);
  for (int64_t k = 0; k < total; ++k) {
    int64_t i = wrapIndex(indices[k], xs[axis]);
    if (i < 0) {
      error = "gather_elements: index " + std::to_string(indices[k]) +
              " is outside an axis of " + std::to_string(xs[axis]);
      return false;
    }
    int64_t off = 0;
    for (int64_t a = 0; a < rank; ++a)
      off += (a == axis ? i : c[a]) * stride[a];
    std::memcpy(dst + k * elemBytes, src + off * elemBytes, elemBytes);
    for (int64_t a = rank - 1; a >= 0; --a) {
      if (++c[a] < is[a])
        break;
      c[a] = 0;
    }
  }
  return true;
}

namespace {
template <typename T>
void padT(PadMode mode, const T *x, const Shape &shape,
          const std::vector<int64_t> &pads, T value, T *y) {
  int64_t rank = int64_t(shape.size());
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  // Per axis, the source index of each output position (-1: the constant).
  Shape out(rank);
  std::vector<std::vector<int64_t>> src(rank);
  for (int64_t a = 0; a < rank; ++a) {
    int64_t d = shape[a], before = pads[a];
    out[a] = d + before + pads[a + rank];
    src[a].resize(out[a]);
    for (int64_t o = 0; o < out[a]; ++o) {
      int64_t i = o - before;
      if (i < 0 || i >= d) {
        switch (mode) {
        case PadMode::Constant:
          i = -1;
          break;
        case PadMode::Reflect: { // period 2(d - 1), mirrored in its middle
          int64_t period = 2 * (d - 1);
          i = period == 0 ? 0 : ((i % period) + period) % period;
          if (i >= d)
            i = period - i;
          break;
        }
        case PadMode::Edge:
          i = std::clamp<int64_t>(i, 0, d - 1);
          break;
        case PadMode::Wrap:
          i = ((i % d) + d) % d;
          break;
        }
      }
      src[a][o] = i;
    }
  }
  if (numElements(out) == 0)
    return;
  Shape stride(rank, 1);
  for (int64_t a = rank - 2; a >= 0; --a)
    stride[a] = stride[a + 1] * shape[a + 1];
  // Row by row over the last axis; c counts over the outer axes.
  const std::vector<int64_t> &inner = src[rank - 1];
  Shape c(rank, 0);
  for (int64_t row = 0, rows = numElements(out) / out[rank - 1]; row < rows;
       ++row) {
    int64_t base = 0;
    bool outside = false;
    for (int64_t a = 0; a + 1 < rank; ++a) {
      int64_t s = src[a][c[a]];
      outside |= s < 0;
      base += s * stride[a];
    }
    for (int64_t s : inner)
      *y++ = outside || s < 0 ? value : x[base + s];
    for (int64_t a = rank - 2; a >= 0; --a) {
      if (++c[a] < out[a])
        break;
      c[a] = 0;
    }
  }
}
} // namespace

void pad(PadMode mode, const float *x, const Shape &shape,
         const std::vector<int64_t> &pads, float value, float *y) {
  padT(mode, x, shape, pads, value, y);
}
void pad(PadMode mode, const int32_t *x, const Shape &shape,
         const std::vector<int64_t> &pads, int32_t value, int32_t *y) {
  padT(mode, x, shape, pads, value, y);
}
void pad(PadMode mode, const int64_t *x, const Shape &shape,
         const std::vector<int64_t> &pads, int64_t value, int64_t *y) {
  padT(mode, x, shape, pads, value, y);
}

void argReduce(bool max, const float *x, const Shape &shape, int64_t axis,
               bool last, int64_t *y) {
  const AxisExtents e(shape, axis);
  forEachLane(e, [&](int64_t in, int64_t out) {
    const float *row = x + in;
    int64_t best = 0;
    float v = row[0];
    for (int64_t k = 1; k < e.n; ++k) {
      float c = row[k * e.inner];
      bool better = max ? (last ? c >= v : c > v) : (last ? c <= v : c < v);
      if (better || (v != v && c == c)) {
        v = c;
        best = k;
      }
    }
    y[out] = best;
  });
}

void softmax(const float *x, const Shape &shape, int64_t axis, float *y) {
  const AxisExtents e(shape, axis);
  const int64_t outer = e.outer, n = e.n, inner = e.inner;
  // Over the last axis: the vectorized Halide kernel (the loops below are
  // for other axes, and for a buffer Halide refuses).
  if (inner == 1 && n > 0 && outer > 0 && n * outer < (int64_t(1) << 31)) {
    installHalideErrorHandler();
    if (slim_kernel_softmax(view2(x, n, outer), view2(y, n, outer)) == 0)
      return;
    (void)takeHalideError();
  }
  forEachLane(e, [&](int64_t in, int64_t) {
    const float *xv = x + in;
    float *yv = y + in;
    const float mx = laneMax(xv, n, inner);
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      yv[j * inner] = std::exp(xv[j * inner] - mx);
      sum += yv[j * inner];
    }
    for (int64_t j = 0; j < n; ++j)
      yv[j * inner] /= sum;
  });
}

void logSoftmax(const float *x, const Shape &shape, int64_t axis, float *y) {
  const AxisExtents e(shape, axis);
  const int64_t n = e.n, inner = e.inner;
  forEachLane(e, [&](int64_t in, int64_t) {
    const float *xv = x + in;
    float *yv = y + in;
    const float mx = laneMax(xv, n, inner);
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
      sum += std::exp(double(xv[j * inner] - mx));
    const float lse = float(std::log(sum));
    for (int64_t j = 0; j < n; ++j)
      yv[j * inner] = (xv[j * inner] - mx) - lse;
  });
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

void reduce(Reduce kind, const float *x, const Shape &shape,
            const std::vector<int64_t> &axes, float *y) {
  Shape out = shape;
  for (int64_t a : axes)
    out[a] = 1;
  const int64_t n = numElements(out);
  const std::vector<int64_t> strides[1] = {broadcastStrides(out, shape)};
  const double inf = std::numeric_limits<double>::infinity();
  // log Σ exp: the maximum first, then Σ exp(x − max).
  std::vector<double> mx;
  if (kind == Reduce::LogSumExp) {
    mx.assign(n, -inf);
    forEachBroadcast(shape, strides, [&](int64_t k, const int64_t *off) {
      mx[off[0]] = std::max(mx[off[0]], double(x[k]));
    });
  }
  double init = kind == Reduce::Max    ? -inf
                : kind == Reduce::Min  ? inf
                : kind == Reduce::Prod ? 1.0
                                       : 0.0;
  std::vector<double> acc(n, init);
  forEachBroadcast(shape, strides, [&](int64_t k, const int64_t *off) {
    double v = x[k], &a = acc[off[0]];
    switch (kind) {
    case Reduce::Max: a = v > a || v != v ? v : a; break;
    case Reduce::Min: a = v < a || v != v ? v : a; break;
    case Reduce::Prod: a *= v; break;
    case Reduce::L1: a += std::fabs(v); break;
    case Reduce::L2:
    case Reduce::SumSquare: a += v * v; break;
    case Reduce::LogSumExp:
      a += std::isinf(mx[off[0]]) ? std::exp(v) : std::exp(v - mx[off[0]]);
      break;
    default: a += v; break;
    }
  });
  for (int64_t i = 0; i < n; ++i) {
    double a = acc[i];
    if (kind == Reduce::L2)
      a = std::sqrt(a);
    else if (kind == Reduce::LogSum)
      a = std::log(a);
    else if (kind == Reduce::LogSumExp)
      a = std::log(a) + (std::isinf(mx[i]) ? 0.0 : mx[i]);
    y[i] = float(a);
  }
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
