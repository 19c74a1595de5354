//===- conv_generator.cpp - direct convolutions and pooling --------------===//
//
// The 2-D window kernels that do not run as im2col + linear (Halide
// dimensions innermost first, so an NCHW buffer is (x, y, c, n)):
//
//   conv2d          NCHW, any groups, strides, dilations, padding:
//                   y(x, y, d, n) = bias(d) + Σ_{ci,i,j} w(j, i, ci, d) ·
//                       x(x·sx − pl + j·dx, y·sy − pt + i·dy, g·cg + ci, n)
//                   with g = d / (D / groups), cg = the weight's extent 2;
//                   taps outside the input read 0.
//   depthwise_nhwc  NHWC, groups = channels: y(c, x, y, n) = bias(c) +
//                   Σ_{i,j} w(j, i, 0, c) · x(c, x·sx − pl + j·dx, …, n).
//   conv2d_int8, depthwise_nhwc_int8
//                   the same over int8 inputs and weights, summed in
//                   int32, scaled back to float per output channel.
//   pool2d          NCHW max (kind=max: taps outside the input never
//                   count) or average (kind=avg: the sum over the taps
//                   inside divided by their count, or with
//                   count_include_pad by the taps inside the padded input
//                   [−pt, H + pad_bottom) × [−pl, W + pad_right)).
//
// The algorithm is written once; the schedules vectorize along the
// contiguous axis (x for NCHW, c for NHWC), keep a tile of outputs in
// registers across the whole reduction, and materialize the zero-padded
// input once per channel plane (NCHW) or per band of rows (NHWC) so no
// load tests the bounds. Strides 1 and 2 with dilation 1 are specialized,
// so their loads are dense (or two-way interleaved), never gathers.
// Planes too small for a vector tile take a narrower or scalar schedule.
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

#include <limits>
#include <utility>
#include <vector>

namespace {

using namespace Halide;

/// The input coordinate of output coordinate `o` and tap `k` along an axis
/// with stride s, padding p, dilation d.
Expr at(Expr o, Expr k, Expr s, Expr p, Expr d) { return o * s - p + k * d; }

/// Every dimension of these buffers starts at 0 (the runtime's views). The
/// schedules are written by hand, so no autoscheduler estimates.
template <typename... Bs> void zeroMins(Bs &...bs) {
  auto one = [](auto &b) {
    for (int i = 0; i < b.dimensions(); ++i)
      b.dim(i).set_min(0);
  };
  (one(bs), ...);
}

/// Specializes the summing stage of `conv` for strides 1 and 2 along x with
/// dilation 1 (dense or two-way interleaved loads, never gathers), and
/// within them for 3 × 3 and 5 × 5 windows (the taps unrolled).
void specializeTaps(Func conv, Expr kw, Expr kh, RVar j, RVar i, Expr sx,
                    Expr dx) {
  for (int stride : {1, 2}) {
    Stage s = conv.update().specialize(sx == stride && dx == 1);
    for (int k : {3, 5})
      s.specialize(kw == k && kh == k).unroll(j).unroll(i);
  }
}

/// The schedule of an NCHW convolution (vars x, y, d, n): `conv` sums
/// into a tile of `output`, `padded` is the zero-padded input.
void scheduleNchw(Func output, Func conv, Func padded, std::vector<Var> v,
                  RDom r, Expr kw, Expr kh, Expr sx, Expr dx, int vec) {
  Var x = v[0], y = v[1], d = v[2], n = v[3];
  // A task per 4 output planes (d, n); a plane in tiles of up to 2
  // vectors × 4 rows whose sums stay in registers over all taps; the
  // padded input planes of the group computed once per output plane.
  Var dn("dn"), dno("dno"), xo("xo"), yo("yo"), xi("xi"), yi("yi");
  Expr W = output.output_buffer().dim(0).extent(),
       H = output.output_buffer().dim(1).extent();
  auto tiles = [&](Stage s, int tx, int ty,
                   TailStrategy tail = TailStrategy::ShiftInwards) {
    s.tile(x, y, xo, yo, xi, yi, tx, ty, tail)
        .reorder(xi, yi, xo, yo, d, n)
        .fuse(d, n, dn)
        .split(dn, dno, dn, 4, TailStrategy::GuardWithIf)
        .parallel(dno);
  };
  // Widest tile first: 2 or 1 vectors × 4 rows, then half and quarter
  // vectors (4 rows, or 1 on planes of fewer rows).
  for (auto [tx, ty] : {std::pair{2 * vec, 4}, {vec, 4}, {vec / 2, 4},
                        {vec / 4, 4}, {vec / 2, 1}, {vec / 4, 1}}) {
    Stage s = output.specialize(W >= tx && H >= ty);
    tiles(s, tx, ty);
    s.vectorize(xi).unroll(yi);
  }
  tiles(output, vec / 2, 1, TailStrategy::GuardWithIf);
  output.vectorize(xi);
  conv.compute_at(output, xo);
  conv.update()
      .reorder(x, y, r.x, r.y, r.z)
      .unroll(y)
      .vectorize(x, vec, TailStrategy::RoundUp)
      .unroll(x);
  specializeTaps(conv, kw, kh, r.x, r.y, sx, dx);
  // On the heap: a group's planes can be large.
  padded.compute_at(output, dn)
      .store_in(MemoryType::Heap)
      .vectorize(_0, vec, TailStrategy::GuardWithIf);
}

/// The schedule of an NHWC depthwise convolution (vars c, x, y, n), with
/// `wt` the weights channel-innermost.
void scheduleNhwc(Func output, Func conv, Func padded, Func wt,
                  std::vector<Var> v, RDom r, Expr kw, Expr kh, Expr sx,
                  Expr dx, int vec) {
  Var c = v[0], x = v[1], y = v[2], n = v[3];
  // A task per band of 4 output rows; within it, blocks of 4 vectors of
  // channels × 2 pixels summed in registers over the taps; the padded
  // input rows of a band computed once per band.
  Var co("co"), ci("ci"), xo("xo"), xi("xi"), yo("yo"), yi("yi"),
      ny("ny");
  Expr C = output.output_buffer().dim(0).extent(),
       W = output.output_buffer().dim(1).extent();
  auto blocks = [&](Stage s, int tc, int tx) {
    s.split(c, co, ci, tc, TailStrategy::ShiftInwards)
        .split(x, xo, xi, tx, TailStrategy::ShiftInwards)
        .split(y, yo, yi, 4, TailStrategy::GuardWithIf)
        .reorder(ci, xi, co, xo, yi, yo, n)
        .fuse(yo, n, ny)
        .parallel(ny);
  };
  // Blocks of 4, 3 or 2 vectors of channels where they divide C.
  for (int nv : {4, 3, 2}) {
    Stage s = output.specialize(C % (nv * vec) == 0 && W >= 2);
    blocks(s, nv * vec, 2);
    s.vectorize(ci, vec).unroll(ci).unroll(xi);
  }
  blocks(output.specialize(C >= vec && W >= 2), vec, 2);
  output.specialize(C >= vec && W >= 2).vectorize(ci).unroll(xi);
  blocks(output, 1, 1);

  conv.compute_at(output, co);
  conv.update()
      .reorder(c, x, r.x, r.y)
      .vectorize(c, vec, TailStrategy::RoundUp)
      .unroll(c)
      .unroll(x);
  specializeTaps(conv, kw, kh, r.x, r.y, sx, dx);
  wt.compute_root().vectorize(c, vec, TailStrategy::GuardWithIf);
  padded.compute_at(output, ny)
      .store_in(MemoryType::Heap)
      .vectorize(_0, vec, TailStrategy::GuardWithIf);
}

class Conv2dGenerator : public Generator<Conv2dGenerator> {
public:
  Input<Buffer<float, 4>> input{"input"};   // (x, y, c, n)
  Input<Buffer<float, 4>> weight{"weight"}; // (j, i, ci, d)
  Input<Buffer<float, 1>> bias{"bias"};     // (d)
  Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
  Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
  Input<int> dil_x{"dil_x"}, dil_y{"dil_y"};
  Input<int> groups{"groups"};
  Output<Buffer<float, 4>> output{"output"}; // (x, y, d, n)

  void generate() {
    Expr kw = weight.dim(0).extent(), kh = weight.dim(1).extent();
    Expr cg = weight.dim(2).extent();
    Expr dg = weight.dim(3).extent() / groups;
    Func padded = BoundaryConditions::constant_exterior(input, 0.0f);
    RDom r(0, kw, 0, kh, 0, cg, "r");
    Expr g = d / dg;
    conv(x, y, d, n) = bias(d);
    conv(x, y, d, n) +=
        weight(r.x, r.y, r.z, d) *
        padded(at(x, r.x, stride_x, pad_left, dil_x),
               at(y, r.y, stride_y, pad_top, dil_y), g * cg + r.z, n);
    output(x, y, d, n) = conv(x, y, d, n);

    zeroMins(input, weight, bias, output);

    scheduleNchw(output, conv, padded, {x, y, d, n}, r, kw, kh, stride_x,
                 dil_x, natural_vector_size<float>());
  }

private:
  Var x{"x"}, y{"y"}, d{"d"}, n{"n"};
  Func conv{"conv"};
};

class DepthwiseNhwcGenerator : public Generator<DepthwiseNhwcGenerator> {
public:
  Input<Buffer<float, 4>> input{"input"};   // (c, x, y, n)
  Input<Buffer<float, 4>> weight{"weight"}; // (j, i, 1, c)
  Input<Buffer<float, 1>> bias{"bias"};     // (c)
  Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
  Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
  Input<int> dil_x{"dil_x"}, dil_y{"dil_y"};
  Output<Buffer<float, 4>> output{"output"}; // (c, x, y, n)

  void generate() {
    Expr kw = weight.dim(0).extent(), kh = weight.dim(1).extent();
    Func padded = BoundaryConditions::constant_exterior(input, 0.0f);
    // The weights channel-innermost, so a vector of channels loads densely.
    Func wt("wt");
    wt(c, j, i) = weight(j, i, 0, c);
    RDom r(0, kw, 0, kh, "r");
    conv(c, x, y, n) = bias(c);
    conv(c, x, y, n) +=
        wt(c, r.x, r.y) *
        padded(c, at(x, r.x, stride_x, pad_left, dil_x),
               at(y, r.y, stride_y, pad_top, dil_y), n);
    output(c, x, y, n) = conv(c, x, y, n);

    zeroMins(input, weight, bias, output);

    scheduleNhwc(output, conv, padded, wt, {c, x, y, n}, r, kw, kh,
                 stride_x, dil_x, natural_vector_size<float>());
  }

private:
  Var c{"c"}, x{"x"}, y{"y"}, n{"n"}, i{"i"}, j{"j"};
  Func conv{"conv"};
};

/// The int8 convolutions (slim.conv2d int8): input and weights quantized
/// symmetrically (zero at 0), products in int16 (|x̂·ŵ| ≤ 127²) summed in
/// int32, then y = float(Σ) · weight_scale(d) · input_scale(c₀, n) +
/// bias(d), c₀ the first input channel of d's group (the input's scale is
/// per channel for a depthwise convolution, one per image otherwise, so
/// every channel of a group shares it).
class QConv2dGenerator : public Generator<QConv2dGenerator> {
public:
  Input<Buffer<int8_t, 4>> input{"input"};   // (x, y, c, n)
  Input<Buffer<int8_t, 4>> weight{"weight"}; // (j, i, ci, d)
  Input<Buffer<float, 1>> weight_scale{"weight_scale"}; // (d)
  Input<Buffer<float, 2>> input_scale{"input_scale"};   // (c, n)
  Input<Buffer<float, 1>> bias{"bias"};                 // (d)
  Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
  Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
  Input<int> dil_x{"dil_x"}, dil_y{"dil_y"};
  Input<int> groups{"groups"};
  Output<Buffer<float, 4>> output{"output"}; // (x, y, d, n)

  void generate() {
    Expr kw = weight.dim(0).extent(), kh = weight.dim(1).extent();
    Expr cg = weight.dim(2).extent();
    Expr dg = weight.dim(3).extent() / groups;
    Func padded =
        BoundaryConditions::constant_exterior(input, cast<int8_t>(0));
    RDom r(0, kw, 0, kh, 0, cg, "r");
    Expr g = d / dg;
    conv(x, y, d, n) = 0;
    conv(x, y, d, n) += cast<int32_t>(
        cast<int16_t>(weight(r.x, r.y, r.z, d)) *
        cast<int16_t>(padded(at(x, r.x, stride_x, pad_left, dil_x),
                             at(y, r.y, stride_y, pad_top, dil_y),
                             g * cg + r.z, n)));
    output(x, y, d, n) = cast<float>(conv(x, y, d, n)) *
                             (weight_scale(d) * input_scale(g * cg, n)) +
                         bias(d);

    zeroMins(input, weight, weight_scale, input_scale, bias, output);
    scheduleNchw(output, conv, padded, {x, y, d, n}, r, kw, kh, stride_x,
                 dil_x, natural_vector_size<float>());
  }

private:
  Var x{"x"}, y{"y"}, d{"d"}, n{"n"};
  Func conv{"conv"};
};

/// depthwise_nhwc over int8, as QConv2dGenerator (input_scale per channel).
class QDepthwiseNhwcGenerator : public Generator<QDepthwiseNhwcGenerator> {
public:
  Input<Buffer<int8_t, 4>> input{"input"};   // (c, x, y, n)
  Input<Buffer<int8_t, 4>> weight{"weight"}; // (j, i, 1, c)
  Input<Buffer<float, 1>> weight_scale{"weight_scale"}; // (c)
  Input<Buffer<float, 2>> input_scale{"input_scale"};   // (c, n)
  Input<Buffer<float, 1>> bias{"bias"};                 // (c)
  Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
  Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
  Input<int> dil_x{"dil_x"}, dil_y{"dil_y"};
  Output<Buffer<float, 4>> output{"output"}; // (c, x, y, n)

  void generate() {
    Expr kw = weight.dim(0).extent(), kh = weight.dim(1).extent();
    Func padded =
        BoundaryConditions::constant_exterior(input, cast<int8_t>(0));
    Func wt("wt");
    wt(c, j, i) = cast<int16_t>(weight(j, i, 0, c));
    RDom r(0, kw, 0, kh, "r");
    conv(c, x, y, n) = 0;
    conv(c, x, y, n) += cast<int32_t>(
        wt(c, r.x, r.y) *
        cast<int16_t>(padded(c, at(x, r.x, stride_x, pad_left, dil_x),
                             at(y, r.y, stride_y, pad_top, dil_y), n)));
    output(c, x, y, n) = cast<float>(conv(c, x, y, n)) *
                             (weight_scale(c) * input_scale(c, n)) +
                         bias(c);

    zeroMins(input, weight, weight_scale, input_scale, bias, output);
    scheduleNhwc(output, conv, padded, wt, {c, x, y, n}, r, kw, kh,
                 stride_x, dil_x, natural_vector_size<float>());
  }

private:
  Var c{"c"}, x{"x"}, y{"y"}, n{"n"}, i{"i"}, j{"j"};
  Func conv{"conv"};
};

enum class PoolKind { Max, Avg };

class Pool2dGenerator : public Generator<Pool2dGenerator> {
public:
  GeneratorParam<PoolKind> kind{
      "kind", PoolKind::Max, {{"max", PoolKind::Max}, {"avg", PoolKind::Avg}}};
  Input<Buffer<float, 4>> input{"input"}; // (x, y, c, n)
  Input<int> kw{"kw"}, kh{"kh"};
  Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
  Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
  Input<int> dil_x{"dil_x"}, dil_y{"dil_y"};
  Input<int> pad_right{"pad_right"}, pad_bottom{"pad_bottom"};
  Input<bool> count_include_pad{"count_include_pad"};
  Output<Buffer<float, 4>> output{"output"}; // (x, y, c, n)

  void generate() {
    Expr W = input.dim(0).extent(), H = input.dim(1).extent();
    RDom r(0, kw, 0, kh, "r");
    Expr ix = at(x, r.x, stride_x, pad_left, dil_x);
    Expr iy = at(y, r.y, stride_y, pad_top, dil_y);
    // Max: taps outside the input read −∞, so they never count.
    padded = BoundaryConditions::constant_exterior(
        input, kind == PoolKind::Max ? -std::numeric_limits<float>::infinity()
                                     : 0.0f);
    if (kind == PoolKind::Max) {
      pooled(x, y, c, n) = maximum(padded(ix, iy, c, n));
    } else {
      // The count of taps along each axis that land inside the input (or
      // inside the padded input), computed once per output column / row.
      RDom rx(0, kw, "rx"), ry(0, kh, "ry");
      Expr tx = at(x, rx, stride_x, pad_left, dil_x);
      Expr ty = at(y, ry, stride_y, pad_top, dil_y);
      Expr inX = select(count_include_pad, tx < W + pad_right,
                        tx >= 0 && tx < W);
      Expr inY = select(count_include_pad, ty < H + pad_bottom,
                        ty >= 0 && ty < H);
      countX(x) = sum(select(inX, 1, 0));
      countY(y) = sum(select(inY, 1, 0));
      Expr count = max(1, countX(x) * countY(y));
      pooled(x, y, c, n) = sum(padded(ix, iy, c, n)) / cast<float>(count);
    }
    output(x, y, c, n) = pooled(x, y, c, n);

    zeroMins(input, output);

    // --- Schedule --------------------------------------------------------
    // A task per plane (c, n), its rows vectorized along x.
    const int vec = natural_vector_size<float>();
    Var cn("cn"), xo("xo"), xi("xi");
    Expr OW = output.dim(0).extent();
    auto rows = [&](Stage s, int tx) {
      s.split(x, xo, xi, tx, TailStrategy::ShiftInwards)
          .reorder(xi, xo, y, c, n)
          .fuse(c, n, cn)
          .parallel(cn);
    };
    rows(output.specialize(OW >= vec), vec);
    output.specialize(OW >= vec).vectorize(xi);
    rows(output, 1);
    padded.compute_at(output, cn)
        .store_in(MemoryType::Heap)
        .vectorize(_0, vec, TailStrategy::GuardWithIf);
    if (kind == PoolKind::Avg) {
      countX.compute_root();
      countY.compute_root();
    }
  }

private:
  Var x{"x"}, y{"y"}, c{"c"}, n{"n"};
  Func padded{"padded"}, pooled{"pooled"}, countX{"count_x"}, countY{"count_y"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(Conv2dGenerator, conv2d)
HALIDE_REGISTER_GENERATOR(DepthwiseNhwcGenerator, depthwise_nhwc)
HALIDE_REGISTER_GENERATOR(QConv2dGenerator, conv2d_int8)
HALIDE_REGISTER_GENERATOR(QDepthwiseNhwcGenerator, depthwise_nhwc_int8)
HALIDE_REGISTER_GENERATOR(Pool2dGenerator, pool2d)
