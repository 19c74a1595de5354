//===- norm_generator.cpp - LayerNorm and RMSNorm kernels ----------------===//
//
// One generator for the normalization family, over the last axis of a
// row-major [rows, d] f32 matrix (Halide dimension 0 is d, the innermost):
//
//   rms=false (layer_norm):  y = (x - mean(x)) / sqrt(var(x) + eps) * g + b
//   rms=true  (rms_norm):    y = x / sqrt(mean(x^2) + eps) * g + b
//
// LayerNorm uses the two-pass variance (mean first, then the mean of squared
// deviations) for accuracy; RMSNorm needs one reduction.
//
//===----------------------------------------------------------------------===//

#include "RowSchedule.h"

namespace {

using namespace Halide;

class NormGenerator : public Generator<NormGenerator> {
public:
  GeneratorParam<bool> rms{"rms", false};

  Input<Buffer<float, 2>> input{"input"};
  Input<Buffer<float, 1>> scale{"scale"};
  Input<Buffer<float, 1>> bias{"bias"};
  Input<float> epsilon{"epsilon"};
  Output<Buffer<float, 2>> output{"output"};

  void generate() {
    // --- Algorithm -------------------------------------------------------
    Expr d = input.dim(0).extent();
    RDom k(0, d, "k");

    Func centered("centered");
    if (rms) {
      centered(c, r) = input(c, r);
    } else {
      mean(r) = 0.0f;
      mean(r) += input(k, r);
      centered(c, r) = input(c, r) - mean(r) / cast<float>(d);
    }
    sumsq(r) = 0.0f;
    sumsq(r) += centered(k, r) * centered(k, r);
    Func inv("inv");
    inv(r) = 1.0f / sqrt(sumsq(r) / cast<float>(d) + epsilon);
    output(c, r) = centered(c, r) * inv(r) * scale(c) + bias(c);

    // --- Constraints and estimates ---------------------------------------
    // scale and bias cover exactly the normalized axis.
    scale.dim(0).set_min(0).set_extent(d);
    bias.dim(0).set_min(0).set_extent(d);
    input.dim(0).set_min(0);
    output.dim(0).set_min(0);
    input.set_estimates({{0, 768}, {0, 128}});
    scale.set_estimates({{0, 768}});
    bias.set_estimates({{0, 768}});
    output.set_estimates({{0, 768}, {0, 128}});

    // --- Schedule (host) -------------------------------------------------
    // One task per block of 8 rows; the reductions per row.
    if (rms)
      slim::halide::scheduleRowwise(output, c, r, natural_vector_size<float>(),
                                    {inv, sumsq});
    else
      slim::halide::scheduleRowwise(output, c, r, natural_vector_size<float>(),
                                    {inv, sumsq, mean});
  }

private:
  Var c{"c"}, r{"r"};
  Func mean{"mean"}, sumsq{"sumsq"};
};

/// CRMSNorm (Pre-CRMSNorm): the input row is the first d−1 coordinates x of
/// a zero-mean z ∈ ℝ^d, and y = x / sqrt((Σx² + (Σx)²)/d + eps). One pass
/// over the row computes both sums.
class CrmsNormGenerator : public Generator<CrmsNormGenerator> {
public:
  Input<Buffer<float, 2>> input{"input"};
  Input<float> epsilon{"epsilon"};
  Output<Buffer<float, 2>> output{"output"};

  void generate() {
    Expr w = input.dim(0).extent(); // d − 1
    RDom k(0, w, "k");
    sums(r) = Tuple(0.0f, 0.0f);
    sums(r) = Tuple(sums(r)[0] + input(k, r), sums(r)[1] + input(k, r) * input(k, r));
    Func inv("inv");
    Expr total = sums(r)[0];
    inv(r) = 1.0f / sqrt((sums(r)[1] + total * total) / cast<float>(w + 1) +
                         epsilon);
    output(c, r) = input(c, r) * inv(r);

    input.dim(0).set_min(0);
    output.dim(0).set_min(0);
    input.set_estimates({{0, 767}, {0, 128}});
    output.set_estimates({{0, 767}, {0, 128}});

    slim::halide::scheduleRowwise(output, c, r, natural_vector_size<float>(),
                                  {inv, sums});
  }

private:
  Var c{"c"}, r{"r"};
  Func sums{"sums"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(NormGenerator, norm)
HALIDE_REGISTER_GENERATOR(CrmsNormGenerator, crms_norm)
