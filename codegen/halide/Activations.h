//===- Activations.h - activation functions shared by the generators -*- C++ -*-===//
//
// Halide expressions for the activations Slim runs, shared by the
// elementwise kernels and the linear kernel's fused epilogue. Halide's erf
// is a vectorizable polynomial; the exp-based forms use fast_exp on a
// clamped argument (exact to a few ulp there, and it vectorizes, where the
// libm call would not).
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_CODEGEN_HALIDE_ACTIVATIONS_H
#define SLIM_CODEGEN_HALIDE_ACTIVATIONS_H

#include "Halide.h"

namespace slim::halide {

enum class Activation { None, GeluErf, GeluTanh, Silu };

/// The GeneratorParam spelling of each activation.
inline const std::map<std::string, Activation> &activationNames() {
  static const std::map<std::string, Activation> names = {
      {"none", Activation::None},
      {"gelu_erf", Activation::GeluErf},
      {"gelu_tanh", Activation::GeluTanh},
      {"silu", Activation::Silu}};
  return names;
}

/// exp(x) for any x: fast_exp needs its argument inside the normal range.
inline Halide::Expr safeExp(const Halide::Expr &x) {
  return Halide::fast_exp(Halide::clamp(x, -87.0f, 87.0f));
}

inline Halide::Expr activate(Activation act, const Halide::Expr &x) {
  using namespace Halide;
  switch (act) {
  case Activation::None:
    return x;
  case Activation::GeluErf:
    return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
  case Activation::GeluTanh: {
    // tanh(z) = 1 − 2 / (exp(2z) + 1); |z| > 9 is ±1 to f32 precision.
    Expr z = clamp(0.7978845608028654f * (x + 0.044715f * x * x * x), -9.0f,
                   9.0f);
    return 0.5f * x * (2.0f - 2.0f / (safeExp(2.0f * z) + 1.0f));
  }
  case Activation::Silu:
    return x / (1.0f + safeExp(-x));
  }
  return x;
}

} // namespace slim::halide

#endif // SLIM_CODEGEN_HALIDE_ACTIVATIONS_H
