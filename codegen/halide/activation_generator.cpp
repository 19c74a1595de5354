//===- activation_generator.cpp - elementwise activations and softmax -----===//
//
// `activation` (GeneratorParam kind), over a flat f32 buffer:
//   gelu_erf:   y = x/2 · (1 + erf(x/√2))
//   gelu_tanh:  y = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
//   silu:       y = x · sigmoid(x)
// `softmax`, over the last axis of a row-major [rows, d] matrix.
//
// Halide's erf is a vectorizable polynomial; exp-based forms use fast_exp
// on a clamped argument (exact to a few ulp there, and it vectorizes, where
// the libm call would not). The E2E tests hold every model to 1e-4 of ONNX
// Runtime; the unit tests hold these kernels to 1e-6 of a double reference.
//
//===----------------------------------------------------------------------===//

#include "Activations.h"
#include "RowSchedule.h"

namespace {

using namespace Halide;

using slim::halide::Activation;
using slim::halide::activate;
using slim::halide::safeExp;

class ActivationGenerator : public Generator<ActivationGenerator> {
public:
  GeneratorParam<Activation> kind{"kind", Activation::GeluErf,
                                  slim::halide::activationNames()};
  Input<Buffer<float, 1>> input{"input"};
  Output<Buffer<float, 1>> output{"output"};

  void generate() {
    output(i) = activate(kind, input(i));
    input.dim(0).set_min(0);
    output.dim(0).set_min(0);
    input.set_estimates({{0, 1 << 20}});
    output.set_estimates({{0, 1 << 20}});

    // Chunks of 16 Ki elements are the parallel tasks; vectorized, tails
    // guarded.
    const int vec = natural_vector_size<float>();
    Var io("io"), ii("ii");
    output.split(i, io, ii, 16384, TailStrategy::GuardWithIf)
        .parallel(io)
        .vectorize(ii, vec, TailStrategy::GuardWithIf);
  }

private:
  Var i{"i"};
};

class SoftmaxGenerator : public Generator<SoftmaxGenerator> {
public:
  Input<Buffer<float, 2>> input{"input"};   // (c, r)
  Output<Buffer<float, 2>> output{"output"};

  void generate() {
    Expr d = input.dim(0).extent();
    RDom k(0, d, "k");
    mx(r) = maximum(input(k, r));
    ex(c, r) = safeExp(input(c, r) - mx(r));
    total(r) = sum(ex(k, r));
    output(c, r) = ex(c, r) / total(r);

    input.dim(0).set_min(0);
    output.dim(0).set_min(0);
    input.set_estimates({{0, 128}, {0, 1536}});
    output.set_estimates({{0, 128}, {0, 1536}});

    const int vec = natural_vector_size<float>();
    slim::halide::scheduleRowwise(output, c, r, vec, {mx, ex, total});
    ex.vectorize(c, vec, TailStrategy::GuardWithIf);
  }

private:
  Var c{"c"}, r{"r"};
  Func mx{"mx"}, ex{"ex"}, total{"total"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(ActivationGenerator, activation)
HALIDE_REGISTER_GENERATOR(SoftmaxGenerator, softmax)
