//===- EmitLogic.cpp - comparisons, logic and composite activations -------===//
//
// Equal / Less / Greater / LessOrEqual / GreaterOrEqual, And / Or / Xor /
// Not on run-time tensors (slim.compare, slim.logic, slim.not; the same
// ops on values known at import time are folded by Fold.cpp), and the
// activations ONNX defines as functions of other ops, built from slim's
// elementwise ops as their ONNX function bodies are: Elu, Selu, Celu,
// ThresholdedRelu, Shrink, PRelu, Softplus, Softsign, Sign, IsInf, IsNaN,
// Sum and Mean; ArgMax and ArgMin (slim.arg_reduce); GatherElements.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

/// A float32 scalar constant named after the node's output and `tag`.
Value NodeEmitter::scalar(float v, StringRef tag) {
  HostTensor t;
  t.f = {v};
  return materialize(n.output(0) + "." + tag.str(), t, loc);
}

/// Equal, Less, Greater, LessOrEqual, GreaterOrEqual.
LogicalResult NodeEmitter::emitCompare() {
  static const llvm::StringMap<CompareKind> kinds = {
      {"Equal", CompareKind::eq},
      {"Less", CompareKind::lt},
      {"LessOrEqual", CompareKind::le},
      {"Greater", CompareKind::gt},
      {"GreaterOrEqual", CompareKind::ge}};
  Value l = in(0), r = in(1);
  Type lt = typeOf(l).getElementType(), rt = typeOf(r).getElementType();
  if (lt != rt)
    return unsupported("the operands' element types differ: ")
           << lt << " and " << rt;
  if (lt.isInteger(1)) {
    if (op != "Equal")
      return unsupported("booleans are compared for equality only");
    // a == b is not (a xor b).
    FailureOr<Operation *> x = build<LogicOp>(
        loc, {l, r},
        {b.getNamedAttr("kind",
                        LogicKindAttr::get(b.getContext(), LogicKind::xor_))});
    if (failed(x))
      return failure();
    return setValue(b.create<NotOp>(loc, (*x)->getResult(0)));
  }
  if (!(lt.isF32() || lt.isInteger(64) || lt.isInteger(32)))
    return unsupported("Slim compares float32, int64 and int32 tensors, not ")
           << lt;
  return set(build<CompareOp>(
      loc, {l, r},
      {b.getNamedAttr("kind", CompareKindAttr::get(b.getContext(),
                                                   kinds.lookup(op)))}));
}

/// And, Or, Xor.
LogicalResult NodeEmitter::emitLogic() {
  Value l = in(0), r = in(1);
  if (!typeOf(l).getElementType().isInteger(1) ||
      !typeOf(r).getElementType().isInteger(1))
    return unsupported("operands must be boolean tensors");
  LogicKind kind = op == "And"  ? LogicKind::and_
                   : op == "Or" ? LogicKind::or_
                                : LogicKind::xor_;
  return set(build<LogicOp>(
      loc, {l, r},
      {b.getNamedAttr("kind", LogicKindAttr::get(b.getContext(), kind))}));
}

/// Not.
LogicalResult NodeEmitter::emitNot() {
  Value x = in(0);
  if (!typeOf(x).getElementType().isInteger(1))
    return unsupported("the operand must be a boolean tensor");
  return setValue(b.create<NotOp>(loc, x));
}

namespace {

/// Builds a chain of slim ops for one node, remembering the first failure
/// (the op builder has reported it) so a formula reads as one expression.
struct Chain {
  NodeEmitter &e;
  Location loc;
  bool failed = false;

  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (failed || llvm::any_of(operands, [](Value v) { return !v; })) {
      failed = true;
      return {};
    }
    FailureOr<Operation *> r = e.build<OpTy>(loc, operands, attrs);
    if (mlir::failed(r)) {
      failed = true;
      return {};
    }
    return (*r)->getResult(0);
  }
  Value add(Value a, Value b) { return op<AddOp>({a, b}); }
  Value sub(Value a, Value b) { return op<SubOp>({a, b}); }
  Value mul(Value a, Value b) { return op<MulOp>({a, b}); }
  Value div(Value a, Value b) { return op<DivOp>({a, b}); }
  Value max(Value a, Value b) { return op<MaxOp>({a, b}); }
  Value min(Value a, Value b) { return op<MinOp>({a, b}); }
  Value where(Value c, Value a, Value b) { return op<WhereOp>({c, a, b}); }
  Value cmp(CompareKind k, Value a, Value b, OpBuilder &builder) {
    return op<CompareOp>(
        {a, b}, {builder.getNamedAttr(
                    "kind", CompareKindAttr::get(builder.getContext(), k))});
  }
  template <typename OpTy> Value unary(Value x, OpBuilder &builder) {
    if (failed || !x)
      return {};
    return builder.create<OpTy>(loc, x).getResult();
  }
};

} // namespace

/// Elu, Selu, Celu, ThresholdedRelu, Shrink, PRelu, Softplus, Softsign,
/// Sign: float32 activations, each as its ONNX definition.
LogicalResult NodeEmitter::emitCompositeActivation() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  Chain c{*this, loc};
  Value zero = scalar(0.0f, "zero"), one = scalar(1.0f, "one");
  Value y;
  if (op == "Elu" || op == "Selu") {
    // Elu: x ≥ 0 ? x : alpha (eˣ − 1); Selu: gamma (x > 0 ? x : alpha eˣ − alpha).
    bool selu = op == "Selu";
    float alpha = floatAttr(n, "alpha", selu ? 1.67326319217681884765625f : 1.0f);
    Value negative = c.mul(scalar(alpha, "alpha"),
                           c.sub(c.unary<ExpOp>(x, b), one));
    Value positive =
        c.cmp(selu ? CompareKind::gt : CompareKind::ge, x, zero, b);
    y = c.where(positive, x, negative);
    if (selu)
      y = c.mul(y, scalar(floatAttr(n, "gamma", 1.05070102214813232421875f),
                          "gamma"));
  } else if (op == "Celu") {
    // max(0, x) + min(0, alpha (exp(x / alpha) − 1)).
    Value alpha = scalar(floatAttr(n, "alpha", 1.0f), "alpha");
    Value e = c.unary<ExpOp>(c.div(x, alpha), b);
    y = c.add(c.max(x, zero), c.min(zero, c.mul(alpha, c.sub(e, one))));
  } else if (op == "ThresholdedRelu") {
    Value alpha = scalar(floatAttr(n, "alpha", 1.0f), "alpha");
    y = c.where(c.cmp(CompareKind::gt, x, alpha, b), x, zero);
  } else if (op == "Shrink") {
    // x < −lambd ? x + bias : x > lambd ? x − bias : 0.
    float lambd = floatAttr(n, "lambd", 0.5f);
    Value bias = scalar(floatAttr(n, "bias", 0.0f), "bias");
    Value above = c.where(c.cmp(CompareKind::gt, x, scalar(lambd, "lambd"), b),
                          c.sub(x, bias), zero);
    y = c.where(c.cmp(CompareKind::lt, x, scalar(-lambd, "neg_lambd"), b),
                c.add(x, bias), above);
  } else if (op == "PRelu") {
    // x < 0 ? slope · x : x, the slope broadcast to x.
    Value slope = in(1);
    if (!typeOf(slope).getElementType().isF32())
      return unsupported("the slope must be float32");
    y = c.where(c.cmp(CompareKind::lt, x, zero, b), c.mul(x, slope), x);
    if (y && typeOf(y).getShape() != typeOf(x).getShape())
      return unsupported("the slope does not broadcast to the input's shape");
  } else if (op == "Softplus") {
    // log(1 + eˣ) as max(x, 0) + log(1 + e^−|x|): no overflow for large x.
    Value t = c.unary<ExpOp>(c.unary<NegOp>(c.unary<AbsOp>(x, b), b), b);
    y = c.add(c.max(x, zero), c.unary<LogOp>(c.add(t, one), b));
  } else if (op == "Softsign") {
    y = c.div(x, c.add(one, c.unary<AbsOp>(x, b)));
  } else { // Sign
    // x · 0 where x is neither above nor below 0: 0, or NaN for NaN.
    Value minusOne = scalar(-1.0f, "minus_one");
    y = c.where(c.cmp(CompareKind::gt, x, zero, b), one,
                c.where(c.cmp(CompareKind::lt, x, zero, b), minusOne,
                        c.mul(x, zero)));
  }
  if (c.failed || !y)
    return failure();
  return setValue(y);
}

/// IsInf (detect_negative, detect_positive) and IsNaN.
LogicalResult NodeEmitter::emitIsInfNaN() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  Chain c{*this, loc};
  Value y;
  if (op == "IsNaN") {
    // NaN is the one value not equal to itself.
    Value same = c.cmp(CompareKind::eq, x, x, b);
    if (!same)
      return failure();
    return setValue(b.create<NotOp>(loc, same));
  }
  const float inf = std::numeric_limits<float>::infinity();
  bool neg = intAttr(n, "detect_negative", 1) != 0;
  bool pos = intAttr(n, "detect_positive", 1) != 0;
  Value isPos = c.cmp(CompareKind::eq, x, scalar(inf, "inf"), b);
  Value isNeg = c.cmp(CompareKind::eq, x, scalar(-inf, "minus_inf"), b);
  if (neg && pos)
    y = c.op<LogicOp>({isPos, isNeg},
                      {b.getNamedAttr("kind", LogicKindAttr::get(
                                                  b.getContext(),
                                                  LogicKind::or_))});
  else if (pos)
    y = isPos;
  else if (neg)
    y = isNeg;
  else // detects nothing: false everywhere (NaN equals nothing)
    y = c.cmp(CompareKind::eq, x, scalar(std::nanf(""), "nan"), b);
  if (c.failed || !y)
    return failure();
  return setValue(y);
}

/// Sum, Mean: variadic, broadcasting.
LogicalResult NodeEmitter::emitSumMean() {
  if (failed(requireF32(inputs())))
    return failure();
  Chain c{*this, loc};
  Value acc = in(0);
  for (int k = 1; k < n.input_size(); ++k)
    acc = c.add(acc, in(k));
  if (op == "Mean" && n.input_size() > 1)
    acc = c.div(acc, scalar(float(n.input_size()), "count"));
  if (c.failed || !acc)
    return failure();
  return setValue(acc);
}

/// ArgMax, ArgMin of float32 tensors.
LogicalResult NodeEmitter::emitArgReduce() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  return set(build<ArgReduceOp>(
      loc, {x},
      {b.getNamedAttr("kind", ExtremumAttr::get(b.getContext(),
                                                op == "ArgMax" ? Extremum::max
                                                               : Extremum::min)),
       b.getNamedAttr("axis", b.getI64IntegerAttr(intAttr(n, "axis", 0))),
       b.getNamedAttr("keepdims", b.getBoolAttr(intAttr(n, "keepdims", 1))),
       b.getNamedAttr("select_last_index",
                      b.getBoolAttr(intAttr(n, "select_last_index", 0)))}));
}

/// GatherElements.
LogicalResult NodeEmitter::emitGatherElements() {
  return set(build<GatherElementsOp>(
      loc, {in(0), in(1)},
      {b.getNamedAttr("axis", b.getI64IntegerAttr(intAttr(n, "axis", 0)))}));
}
