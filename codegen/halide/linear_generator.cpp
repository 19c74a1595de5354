//===- linear_generator.cpp - fp32 linear layers: y = x · Wᵀ + b ---------===//
//
// x is [rows, in] (Halide (k, r)), the weight arrives packed as Wᵀ, [in, out]
// (Halide (o, k)), so the output row is produced along contiguous weight
// rows; the runtime packs [out, in] weights once when a model is loaded.
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

namespace {

using namespace Halide;

class LinearGenerator : public Generator<LinearGenerator> {
public:
  Input<Buffer<float, 2>> input{"input"};         // (k, r)
  Input<Buffer<float, 2>> weight_t{"weight_t"};   // (o, k)
  Input<Buffer<float, 1>> bias{"bias"};           // (o)
  Output<Buffer<float, 2>> output{"output"};      // (o, r)

  void generate() {
    // --- Algorithm -------------------------------------------------------
    Expr in = input.dim(0).extent();
    RDom k(0, in, "k");
    Func acc("acc");
    acc(o, r) = bias(o);
    acc(o, r) += input(k, r) * weight_t(o, k);
    output(o, r) = acc(o, r);

    // --- Constraints and estimates ---------------------------------------
    weight_t.dim(1).set_min(0).set_extent(in);
    input.dim(0).set_min(0);
    bias.dim(0).set_min(0);
    output.dim(0).set_min(0);
    input.set_estimates({{0, 768}, {0, 128}});
    weight_t.set_estimates({{0, 3072}, {0, 768}});
    bias.set_estimates({{0, 3072}});
    output.set_estimates({{0, 3072}, {0, 128}});

    // --- Schedule (host) -------------------------------------------------
    // Register tile: 3 vectors of outputs x 8 rows = 24 accumulators (of
    // AVX-512's 32 registers), summed over all of k per tile. Tiles over o
    // are the outer (parallel) loop so a [k, 3·vec] slice of the weight
    // stays in L2 while every row block passes over it. Tails overlap the
    // previous tile (ShiftInwards; the tile is recomputed into acc, so that
    // is safe), which needs out >= 3·vec and rows >= 8: smaller shapes (a
    // 10-class head, one decode row) take the simple schedule below.
    // DeiT-S, 1 thread: 250 ms of linear layers with the simple schedule.
    const int vec = natural_vector_size<float>();
    const int tileO = 3 * vec, tileR = 8;
    Var oo("oo"), oi("oi"), ro("ro"), ri("ri");
    Expr rows = output.dim(1).extent(), out = output.dim(0).extent();
    output.specialize(out >= tileO && rows >= tileR)
        .split(o, oo, oi, tileO, TailStrategy::ShiftInwards)
        .split(r, ro, ri, tileR, TailStrategy::ShiftInwards)
        .reorder(oi, ri, ro, oo)
        .vectorize(oi, vec)
        .unroll(oi)
        .unroll(ri)
        .parallel(oo);
    output.split(r, ro, ri, 1)
        .split(o, oo, oi, vec, TailStrategy::GuardWithIf)
        .reorder(oi, oo, ri, ro)
        .vectorize(oi)
        .parallel(ro);
    // acc is one register tile (fast path) or one output row (otherwise).
    Expr fast = out >= tileO && rows >= tileR;
    acc.compute_at(output, ro);
    acc.specialize(fast).vectorize(o, vec).unroll(o).unroll(r);
    acc.vectorize(o, vec, TailStrategy::GuardWithIf);
    acc.update().specialize(fast)
        .reorder(o, r, k)
        .vectorize(o, vec)
        .unroll(o)
        .unroll(r);
    acc.update().reorder(o, k).vectorize(o, vec, TailStrategy::GuardWithIf);
  }

private:
  Var o{"o"}, r{"r"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(LinearGenerator, linear)
