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

#include "Halide.h"

namespace {

using namespace Halide;

enum class Kind { GeluErf, GeluTanh, Silu };

/// exp(x) for any x: fast_exp needs its argument inside the normal range.
Expr safeExp(const Expr &x) { return fast_exp(clamp(x, -87.0f, 87.0f)); }

class ActivationGenerator : public Generator<ActivationGenerator> {
public:
  GeneratorParam<Kind> kind{"kind",
                            Kind::GeluErf,
                            {{"gelu_erf", Kind::GeluErf},
                             {"gelu_tanh", Kind::GeluTanh},
                             {"silu", Kind::Silu}}};
  Input<Buffer<float, 1>> input{"input"};
  Output<Buffer<float, 1>> output{"output"};

  void generate() {
    Expr x = input(i);
    switch (kind) {
    case Kind::GeluErf:
      output(i) = 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
      break;
    case Kind::GeluTanh: {
      // tanh(z) = 1 − 2 / (exp(2z) + 1); |z| > 9 is ±1 to f32 precision.
      Expr z = clamp(0.7978845608028654f * (x + 0.044715f * x * x * x), -9.0f,
                     9.0f);
      Expr th = 1.0f - 2.0f / (safeExp(2.0f * z) + 1.0f);
      output(i) = 0.5f * x * (1.0f + th);
      break;
    }
    case Kind::Silu:
      output(i) = x / (1.0f + safeExp(-x));
      break;
    }
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
    Var ro("ro"), ri("ri");
    output.split(r, ro, ri, 8, TailStrategy::GuardWithIf)
        .parallel(ro)
        .vectorize(c, vec, TailStrategy::GuardWithIf);
    mx.compute_at(output, ri);
    ex.compute_at(output, ri).vectorize(c, vec, TailStrategy::GuardWithIf);
    total.compute_at(output, ri);
  }

private:
  Var c{"c"}, r{"r"};
  Func mx{"mx"}, ex{"ex"}, total{"total"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(ActivationGenerator, activation)
HALIDE_REGISTER_GENERATOR(SoftmaxGenerator, softmax)
