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
    output(o, r) = bias(o);
    output(o, r) += input(k, r) * weight_t(o, k);

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
    // Register tile of 2 vectors of outputs × 4 rows, accumulated over k
    // in place; tails guarded so any shape (vocab 50257, one row) works.
    // The correctness baseline; tuned against the benchmarks in [Perf].
    const int vec = natural_vector_size<float>();
    Var oo("oo"), oi("oi"), ro("ro"), ri("ri");
    output.split(o, oo, oi, 2 * vec, TailStrategy::GuardWithIf)
        .split(r, ro, ri, 4, TailStrategy::GuardWithIf)
        .reorder(oi, ri, oo, ro)
        .vectorize(oi, vec)
        .parallel(ro);
    output.update()
        .split(o, oo, oi, 2 * vec, TailStrategy::GuardWithIf)
        .split(r, ro, ri, 4, TailStrategy::GuardWithIf)
        .reorder(oi, ri, k, oo, ro)
        .vectorize(oi, vec)
        .unroll(ri)
        .parallel(ro);
  }

private:
  Var o{"o"}, r{"r"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(LinearGenerator, linear)
