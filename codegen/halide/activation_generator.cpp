//===- activation_generator.cpp - elementwise activations and softmax -----===//
//
// `activation` (GeneratorParam kind), over a flat f32 buffer:
//   gelu_erf:   y = x/2 · (1 + erf(x/√2))
//   gelu_tanh:  y = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
//   silu:       y = x · sigmoid(x)
// `binary` (GeneratorParam kind), over two flat f32 buffers of one length:
//   add:        y = a + b              (residual adds, same-shape adds)
//   silu_mul:   y = a · sigmoid(a) · b (the gated MLP's SiLU(gate) · up)
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

    slim::halide::scheduleFlat(output, i, natural_vector_size<float>());
  }

private:
  Var i{"i"};
};

enum class BinaryKind { Add, SiluMul };

class BinaryGenerator : public Generator<BinaryGenerator> {
public:
  GeneratorParam<BinaryKind> kind{
      "kind",
      BinaryKind::Add,
      {{"add", BinaryKind::Add}, {"silu_mul", BinaryKind::SiluMul}}};
  Input<Buffer<float, 1>> a{"a"};
  Input<Buffer<float, 1>> b{"b"};
  Output<Buffer<float, 1>> output{"output"};

  void generate() {
    output(i) = kind == BinaryKind::Add
                    ? a(i) + b(i)
                    : activate(Activation::Silu, a(i)) * b(i);
    for (auto *in : {&a, &b}) {
      in->dim(0).set_min(0);
      in->set_estimates({{0, 1 << 20}});
    }
    output.dim(0).set_min(0);
    output.set_estimates({{0, 1 << 20}});

    slim::halide::scheduleFlat(output, i, natural_vector_size<float>());
  }

private:
  Var i{"i"};
};

/// `embedding`: rows of a [vocab, d] table gathered by int64 ids (Halide
/// (c, row) / (c, n)). The caller checks every id against the vocabulary
/// first (the kernel clamps, so a bad id can never read outside the table).
class EmbeddingGenerator : public Generator<EmbeddingGenerator> {
public:
  Input<Buffer<float, 2>> table{"table"};
  Input<Buffer<int64_t, 1>> ids{"ids"};
  Output<Buffer<float, 2>> output{"output"};

  void generate() {
    Expr row = clamp(cast<int>(ids(n)), 0, table.dim(1).extent() - 1);
    output(c, n) = table(c, row);
    table.dim(0).set_min(0);
    table.dim(1).set_min(0);
    ids.dim(0).set_min(0);
    output.dim(0).set_min(0);
    output.dim(1).set_min(0);
    table.set_estimates({{0, 768}, {0, 50257}});
    ids.set_estimates({{0, 128}});
    output.set_estimates({{0, 768}, {0, 128}});

    const int vec = natural_vector_size<float>();
    Var no("no"), ni("ni");
    output.split(n, no, ni, 16, TailStrategy::GuardWithIf)
        .parallel(no)
        .vectorize(c, vec, TailStrategy::GuardWithIf);
  }

private:
  Var c{"c"}, n{"n"};
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
HALIDE_REGISTER_GENERATOR(BinaryGenerator, binary)
HALIDE_REGISTER_GENERATOR(EmbeddingGenerator, embedding)
HALIDE_REGISTER_GENERATOR(SoftmaxGenerator, softmax)
