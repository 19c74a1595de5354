//===- EmitContrib.cpp - ONNX Runtime's fused ops (com.microsoft) ---------===//
//
// The ops ONNX Runtime's graph optimizer writes into a saved model at its
// extended and all levels: FusedMatMul, Gelu / FastGelu / BiasGelu,
// QuickGelu, Skip(Simplified)LayerNormalization and
// (Simplified)LayerNormalization, each as the slim ops of its definition
// (slim-raise then reads them as it reads an unfused export).
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

/// FusedMatMul: alpha · op(A) · op(B). transBatchX moves X's first axis
/// behind its batch axes ([d0, d1, …, dn-2, dn-1] → [d1, …, dn-2, d0,
/// dn-1]: a sequence-first layout's transpose absorbed), then transX swaps
/// the last two axes.
LogicalResult NodeEmitter::emitFusedMatMul() {
  Value a = in(0), bm = in(1);
  for (auto [v, which] : {std::pair(&a, "A"), std::pair(&bm, "B")}) {
    bool batch = intAttr(n, std::string("transBatch") + which, 0) != 0;
    bool last = intAttr(n, std::string("trans") + which, 0) != 0;
    if (!batch && !last)
      continue;
    int64_t rank = typeOf(*v).getRank();
    if (rank < 2 || (batch && rank < 3))
      return unsupported(std::string("transposing ") + which + " of rank " +
                         std::to_string(rank));
    SmallVector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    if (batch) {
      std::rotate(perm.begin(), perm.begin() + 1, perm.end() - 1);
    }
    if (last)
      std::swap(perm[rank - 1], perm[rank - 2]);
    auto t = build<TransposeOp>(
        loc, {*v},
        {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(perm))});
    if (failed(t))
      return failure();
    *v = (*t)->getResult(0);
  }
  auto mm = build<MatMulOp>(loc, {a, bm});
  if (failed(mm))
    return failure();
  float alpha = floatAttr(n, "alpha", 1.0f);
  if (alpha == 1.0f)
    return set(mm);
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  Value c = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(scalar, ArrayRef<float>(alpha)));
  return set(build<MulOp>(loc, {(*mm)->getResult(0), c}));
}

/// Gelu (erf), FastGelu (tanh) and BiasGelu / FastGelu with a bias input.
LogicalResult NodeEmitter::emitContribGelu() {
  Value x = in(0);
  if (n.input_size() > 1 && !n.input(1).empty()) {
    auto add = build<AddOp>(loc, {x, in(1)});
    if (failed(add))
      return failure();
    x = (*add)->getResult(0);
  }
  return setValue(b.create<GeluOp>(
      loc, x,
      op == "FastGelu" ? GeluApproximation::tanh : GeluApproximation::exact));
}

/// QuickGelu: x · sigmoid(alpha · x); alpha = 1 (what ORT fuses SiLU into)
/// is slim.silu.
LogicalResult NodeEmitter::emitQuickGelu() {
  Value x = in(0);
  float alpha = floatAttr(n, "alpha", 1.702f);
  if (alpha == 1.0f)
    return setValue(b.create<SiluOp>(loc, x));
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  Value c = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(scalar, ArrayRef<float>(alpha)));
  auto ax = build<MulOp>(loc, {x, c});
  if (failed(ax))
    return failure();
  auto sig = build<SigmoidOp>(loc, {(*ax)->getResult(0)});
  if (failed(sig))
    return failure();
  return set(build<MulOp>(loc, {x, (*sig)->getResult(0)}));
}

/// SimplifiedLayerNormalization (RMSNorm; ORT writes it in the default
/// domain), SkipLayerNormalization and SkipSimplifiedLayerNormalization:
/// s = input + skip [+ bias], y = norm(s); output 3 is s (the residual
/// stream), outputs 1 and 2 (mean, inverse standard deviation) are not
/// supported.
LogicalResult NodeEmitter::emitContribNorm() {
  bool skip = op.rfind("Skip", 0) == 0;
  bool rms = op.find("Simplified") != std::string::npos;
  for (int k = 1; k < std::min(n.output_size(), 3); ++k)
    if (!n.output(k).empty())
      return unsupported("the mean and inverse standard deviation outputs "
                         "are not supported");
  Value x = in(0);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = intAttr(n, "axis", -1);
  if (axis != -1 && axis != rank - 1)
    return unsupported("only normalization over the last axis is supported");
  int next = 1;
  if (skip) {
    auto s = build<AddOp>(loc, {x, in(1)});
    if (failed(s))
      return failure();
    x = (*s)->getResult(0);
    next = 2;
  }
  Value gamma = in(next);
  Value beta;
  int biasInput = -1;
  if (skip && !rms) {
    if (n.input_size() > 3 && !n.input(3).empty())
      beta = in(3);
    biasInput = 4;
  } else if (skip) {
    biasInput = 3;
  }
  if (biasInput > 0 && n.input_size() > biasInput &&
      !n.input(biasInput).empty()) {
    auto s = build<AddOp>(loc, {x, in(biasInput)});
    if (failed(s))
      return failure();
    x = (*s)->getResult(0);
  }
  FloatAttr eps = b.getF32FloatAttr(floatAttr(n, "epsilon", 1e-5f));
  Value y =
      rms ? Value(b.create<RmsNormOp>(loc, x.getType(), x, gamma, beta, eps))
          : Value(b.create<LayerNormOp>(loc, x.getType(), x, gamma, beta, eps,
                                        b.getI64IntegerAttr(-1)));
  values[n.output(0)] = y;
  if (skip && n.output_size() > 3 && !n.output(3).empty())
    values[n.output(3)] = x;
  return success();
}
