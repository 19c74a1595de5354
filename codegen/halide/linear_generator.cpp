//===- linear_generator.cpp - fp32 linear layers: y = x · Wᵀ + b ---------===//
//
// x is [rows, in] (Halide (k, r)), the weight arrives packed as Wᵀ, [in, out]
// (Halide (o, k)), so the output row is produced along contiguous weight
// rows; the runtime packs [out, in] weights once when a model is loaded.
//
//===----------------------------------------------------------------------===//

#include "Activations.h"

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

/// The same product on tile-major packed weights: the weight arrives as
/// tiles of `kTile` consecutive outputs, each tile stored [in, kTile]
/// contiguously (wp(oi, k, j)), and the output is written as (oi, j, r), a
/// view of the [rows, out] result with tile j at column j·kTile (the caller
/// passes a separate view, and a separately packed tile, for a last partial
/// tile). So every weight tile is one contiguous stream and no tile has a
/// tail. Per block of 8 rows the whole reduction runs in 24 accumulators
/// (3 vectors × 8 rows), reading one contiguous weight row of the tile per
/// step. (Chunking the reduction so a weight chunk stays in L1 measured
/// slower once the weights were packed: GPT-2-small 379 vs 367 ms.)
/// GPT-2-small prefill, 1 thread: 479 ms with [in, out] weights, 367 ms
/// packed.
///
/// `act` fuses an activation into the epilogue: act(x · Wᵀ + b) is written
/// straight from the accumulators.
class PackedLinearGenerator : public Generator<PackedLinearGenerator> {
public:
  static constexpr int kTile = 48;
  GeneratorParam<slim::halide::Activation> act{
      "act", slim::halide::Activation::None, slim::halide::activationNames()};
  Input<Buffer<float, 2>> input{"input"};       // (k, r)
  Input<Buffer<float, 3>> weight{"weight"};     // (oi, k, j)
  Input<Buffer<float, 2>> bias{"bias"};         // (oi, j)
  Output<Buffer<float, 3>> output{"output"};    // (oi, j, r)

  void generate() {
    Expr in = input.dim(0).extent();
    RDom k(0, in, "k");
    Func acc("acc");
    acc(oi, j, r) = bias(oi, j);
    acc(oi, j, r) += input(k, r) * weight(oi, k, j);
    output(oi, j, r) = slim::halide::activate(act, acc(oi, j, r));

    weight.dim(0).set_min(0).set_extent(kTile);
    weight.dim(1).set_min(0).set_extent(in);
    weight.dim(2).set_min(0);
    bias.dim(0).set_min(0).set_extent(kTile);
    bias.dim(1).set_min(0).set_extent(weight.dim(2).extent());
    input.dim(0).set_min(0);
    input.dim(1).set_min(0);
    output.dim(0).set_min(0).set_extent(kTile);
    output.dim(1).set_min(0).set_extent(weight.dim(2).extent());
    output.dim(2).set_min(0);
    input.set_estimates({{0, 768}, {0, 128}});
    weight.set_estimates({{0, kTile}, {0, 768}, {0, 64}});
    bias.set_estimates({{0, kTile}, {0, 64}});
    output.set_estimates({{0, kTile}, {0, 64}, {0, 128}});

    // One task per weight tile; per block of 8 rows the whole reduction in
    // 24 accumulators. Fewer than 8 rows: one row at a time.
    const int vec = natural_vector_size<float>();
    Var ro("ro"), ri("ri");
    Expr rows = output.dim(2).extent();
    output.reorder(oi, r, j).parallel(j);
    output.specialize(rows >= 8)
        .split(r, ro, ri, 8, TailStrategy::ShiftInwards)
        .reorder(oi, ri, ro, j)
        .vectorize(oi, vec)
        .unroll(oi)
        .unroll(ri);
    output.split(r, ro, ri, 1).reorder(oi, ri, ro, j).vectorize(oi, vec);
    acc.compute_at(output, ro).vectorize(oi, vec).unroll(oi).unroll(r);
    acc.update().reorder(oi, r, k).vectorize(oi, vec).unroll(oi).unroll(r);
  }

private:
  Var oi{"oi"}, j{"j"}, r{"r"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(LinearGenerator, linear)
HALIDE_REGISTER_GENERATOR(PackedLinearGenerator, linear_packed)
