//===- RaiseUtils.h - helpers shared by slim-raise's matchers ---*- C++ -*-===//

#ifndef PASSES_RAISEUTILS_H
#define PASSES_RAISEUTILS_H

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/IR/PatternMatch.h"
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

/// softmax(q·kᵀ·scale + mask)·v, however laid out, into slim.attention
/// (passes/RaiseAttention.cpp); a softmax it cannot raise gets the reason
/// as its match failure.
void populateAttentionPatterns(RewritePatternSet &patterns);

/// The local rewrites of slim-raise (RaisePatterns.cpp). Linear layers:
/// matmul by a constant, its bias add, Gemm-style reshapes around it
/// (`unnamedWeights` numbers the weights no node scope names).
void populateLinearPatterns(RewritePatternSet &patterns,
                            int64_t &unnamedWeights);
/// LayerNorm and RMSNorm written out, with their gain and bias; an RMSNorm
/// of x - mean(x) as x's LayerNorm.
void populateNormPatterns(RewritePatternSet &patterns);
/// pad(x) by zeros over H and W read by im2col or conv2d: the padding
/// joins the window's own.
void populateWindowPatterns(RewritePatternSet &patterns);
/// SiLU and both GELU forms.
void populateActivationPatterns(RewritePatternSet &patterns);
/// transpose(a + b) -> transpose(a) + transpose(b) for layout summands.
void populateSinkTransposePatterns(RewritePatternSet &patterns);

/// The reason the norm patterns give for a mul that multiplies by no
/// reciprocal: not a norm candidate at all, so not worth a remark.
inline constexpr const char *kNotANormCandidate = "no factor is a reciprocal 1 / d";

/// transpose[1,0,2](linear(transpose[1,0,2](x))) -> linear(x), and the same
/// through row-preserving reshapes: sequence-first models (PyTorch's
/// nn.MultiheadAttention) transpose around every projection once their
/// attention is batch-first.
void commuteRowPermutations(func::FuncOp func);

/// A chain of reshapes and transposes (each but the last with one user)
/// that leaves the elements in row-major order becomes one reshape; the
/// chain's ops are erased. Used by slim-raise and, once activations have
/// moved into their linears, by slim-fuse-epilogues (a convolution's
/// NHWC -> NCHW -> NHWC round trip around its activation).
void simplifyLayoutChains(func::FuncOp func);
/// A linear with a constant weight whose result only slices read, each a
/// run of its output features (nn.MultiheadAttention's packed in_proj
/// split into q, k and v), becomes one linear per slice.
void splitSlicedLinears(func::FuncOp func);

} // namespace mlir::slim::raise

#endif // PASSES_RAISEUTILS_H
