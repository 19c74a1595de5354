//===- RaiseUtils.h - helpers shared by slim-raise's matchers ---*- C++ -*-===//

#ifndef PASSES_RAISEUTILS_H
#define PASSES_RAISEUTILS_H

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/IR/Value.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace mlir::slim::raise {

/// The value of a float constant whose elements are all equal (any shape,
/// inline or a resource blob), or nullopt.
std::optional<double> splatValue(Value v);

inline bool near(std::optional<double> x, double want, double rel = 1e-4) {
  return x && std::abs(*x - want) <= rel * std::max(1.0, std::abs(want));
}

bool isConstant(Value v);

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// If `v` is defined by OpTy, returns it.
template <typename OpTy>
OpTy def(Value v) {
  return v ? v.getDefiningOp<OpTy>() : OpTy();
}

/// Why a match failed, for the remark.
struct Why {
  std::string text;
  template <typename T>
  Why &operator<<(const T &x) {
    llvm::raw_string_ostream os(text);
    os << x;
    return *this;
  }
};

/// Raises the attention whose probabilities `softmax` computes into
/// slim.attention (passes/RaiseAttention.cpp); on failure `why` says which
/// part did not match.
LogicalResult raiseAttention(SoftmaxOp softmax, Why &why);

/// transpose[1,0,2](linear(transpose[1,0,2](x))) -> linear(x), and the same
/// through row-preserving reshapes: sequence-first models (PyTorch's
/// nn.MultiheadAttention) transpose around every projection once their
/// attention is batch-first.
void commuteRowPermutations(func::FuncOp func);

} // namespace mlir::slim::raise

#endif // PASSES_RAISEUTILS_H
