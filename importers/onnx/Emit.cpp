//===- Emit.cpp - ONNX nodes into slim ops
//---------------------------------===//
//
// Nodes on run-time values become slim ops; the registry (Registry.cpp)
// says which member emits which op type. Attention, norms and activations
// are raised later from these primitives (slim-raise).
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

LogicalResult NodeEmitter::run(Fn fn, bool foldOnly) {
  for (const auto &name : n.input())
    if (!im.isKnown(name))
      return error(loc) << "value '" << name << "' is not defined";
  if (fn)
    return (this->*fn)();
  if (foldOnly)
    return unsupported("it is only supported on values known at import "
                       "time (masks, shapes), not on run-time tensors");
  return unsupported("not supported on run-time tensors");
}

/// Add, Sub, Mul, Div, Pow.
LogicalResult NodeEmitter::emitArithmetic() {
  Value lhs = in(0), rhs = in(1);
  if (typeOf(rhs).getElementType() != typeOf(lhs).getElementType() &&
      constant(n.input(1)) && typeOf(lhs).getElementType().isF32()) {
    // Pow(x, 2) with an integer exponent, Add(x, int constant), ...
    HostTensor t = *constant(n.input(1));
    t.f.assign(t.i.begin(), t.i.end());
    t.dtype = onnx::TensorProto::FLOAT;
    rhs = materialize(n.input(1) + ".f32", t, loc);
  }
  // Integer arithmetic is folded at import (shapes, indices); at run time
  // Slim computes in float32.
  if (failed(requireF32({lhs, rhs})))
    return failure();
  if (op == "Add")
    return set(build<AddOp>(loc, {lhs, rhs}));
  if (op == "Sub")
    return set(build<SubOp>(loc, {lhs, rhs}));
  if (op == "Mul")
    return set(build<MulOp>(loc, {lhs, rhs}));
  if (op == "Div")
    return set(build<DivOp>(loc, {lhs, rhs}));
  return set(build<PowOp>(loc, {lhs, rhs}));
}

/// Sqrt.
LogicalResult NodeEmitter::emitSqrt() {
  return setValue(b.create<SqrtOp>(loc, in(0)));
}

/// Erf.
LogicalResult NodeEmitter::emitErf() {
  return setValue(b.create<ErfOp>(loc, in(0)));
}

/// Tanh.
LogicalResult NodeEmitter::emitTanh() {
  return setValue(b.create<TanhOp>(loc, in(0)));
}

/// Exp.
LogicalResult NodeEmitter::emitExp() {
  return setValue(b.create<ExpOp>(loc, in(0)));
}

/// Sigmoid.
LogicalResult NodeEmitter::emitSigmoid() {
  return setValue(b.create<SigmoidOp>(loc, in(0)));
}

/// Log, Abs, Floor, Ceil, Round.
LogicalResult NodeEmitter::emitMathUnary() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  Operation *r = op == "Log"     ? b.create<LogOp>(loc, x).getOperation()
                 : op == "Abs"   ? b.create<AbsOp>(loc, x).getOperation()
                 : op == "Floor" ? b.create<FloorOp>(loc, x).getOperation()
                 : op == "Ceil"  ? b.create<CeilOp>(loc, x).getOperation()
                                 : b.create<RoundOp>(loc, x).getOperation();
  return setValue(r->getResult(0));
}

/// Max, Min: variadic, broadcasting; one input is the identity.
LogicalResult NodeEmitter::emitMinMax() {
  if (failed(requireF32(inputs())))
    return failure();
  Value acc = in(0);
  for (int k = 1; k < n.input_size(); ++k) {
    FailureOr<Operation *> r = op == "Max" ? build<MaxOp>(loc, {acc, in(k)})
                                           : build<MinOp>(loc, {acc, in(k)});
    if (failed(r))
      return failure();
    acc = (*r)->getResult(0);
  }
  return setValue(acc);
}

/// Neg.
LogicalResult NodeEmitter::emitNeg() {
  return setValue(b.create<NegOp>(loc, in(0)));
}

/// Relu.
LogicalResult NodeEmitter::emitRelu() {
  return setValue(b.create<ReluOp>(loc, in(0)));
}

/// LeakyRelu: x, or alpha · x below 0.
LogicalResult NodeEmitter::emitLeakyRelu() {
  return setValue(b.create<LeakyReluOp>(
      loc, in(0), b.getF32FloatAttr(floatAttr(n, "alpha", 0.01f))));
}

/// Clip: the bounds are attributes (opset < 11) or constant inputs 1 and 2,
/// either may be absent (±inf).
LogicalResult NodeEmitter::emitClip() {
  if (!typeOf(in(0)).getElementType().isF32())
    return unsupported("Slim clips float32 tensors only, not ")
           << typeOf(in(0)).getElementType();
  float lo = floatAttr(n, "min", -std::numeric_limits<float>::infinity());
  float hi = floatAttr(n, "max", std::numeric_limits<float>::infinity());
  for (int k : {1, 2}) {
    if (n.input_size() <= k || n.input(k).empty())
      continue;
    const HostTensor *t = constant(n.input(k));
    if (!t || t->f.size() != 1)
      return unsupported("the ") << (k == 1 ? "min" : "max")
                                 << " bound must be a constant scalar";
    (k == 1 ? lo : hi) = t->f[0];
  }
  if (!(lo <= hi))
    return unsupported("min ") << lo << " exceeds max " << hi;
  return setValue(b.create<ClampOp>(loc, in(0), b.getF32FloatAttr(lo),
                                    b.getF32FloatAttr(hi)));
}

FailureOr<Value> NodeEmitter::hardSigmoid(Value x, float alpha, float beta) {
  HostTensor a, c;
  a.f = {alpha};
  c.f = {beta};
  auto mul = build<MulOp>(
      loc, {x, materialize(n.output(0) + ".alpha", a, loc)});
  if (failed(mul))
    return failure();
  auto add = build<AddOp>(
      loc, {(*mul)->getResult(0), materialize(n.output(0) + ".beta", c, loc)});
  if (failed(add))
    return failure();
  return b
      .create<ClampOp>(loc, (*add)->getResult(0), b.getF32FloatAttr(0.0f),
                       b.getF32FloatAttr(1.0f))
      .getResult();
}

/// HardSigmoid: clamp(alpha · x + beta, 0, 1).
LogicalResult NodeEmitter::emitHardSigmoid() {
  FailureOr<Value> y = hardSigmoid(in(0), floatAttr(n, "alpha", 0.2f),
                                   floatAttr(n, "beta", 0.5f));
  return failed(y) ? failure() : setValue(*y);
}

/// HardSwish: x · clamp(x / 6 + 1/2, 0, 1).
LogicalResult NodeEmitter::emitHardSwish() {
  FailureOr<Value> gate = hardSigmoid(in(0), 1.0f / 6.0f, 0.5f);
  if (failed(gate))
    return failure();
  auto mul = build<MulOp>(loc, {in(0), *gate});
  return failed(mul) ? failure() : setValue((*mul)->getResult(0));
}

/// Cos.
LogicalResult NodeEmitter::emitCos() {
  return setValue(b.create<CosOp>(loc, in(0)));
}

/// Sin.
LogicalResult NodeEmitter::emitSin() {
  return setValue(b.create<SinOp>(loc, in(0)));
}

/// Identity.
LogicalResult NodeEmitter::emitIdentity() { return setValue(in(0)); }

/// Dropout.
LogicalResult NodeEmitter::emitDropout() {
  // Inference: the identity, with an all-true mask if one is asked for.
  // The identity unless it would really drop: training mode with a
  // ratio that is not 0 (a train-mode export of p = 0 is fine).
  const HostTensor *ratio = n.input_size() > 1 && !n.input(1).empty()
                                ? constant(n.input(1))
                                : nullptr;
  bool zeroRatio = ratio && ratio->size() == 1 && ratio->at(0) == 0;
  if (n.input_size() > 2 && !n.input(2).empty() && !zeroRatio) {
    const HostTensor *training = constant(n.input(2));
    if (!training || training->at(0) != 0)
      return unsupported("training-mode dropout with a ratio other than 0 "
                         "is random; Slim compiles inference graphs");
  }
  Value x = in(0);
  if (n.output_size() > 1 && !n.output(1).empty()) {
    HostTensor mask;
    mask.dtype = onnx::TensorProto::BOOL;
    auto shape = typeOf(x).getShape();
    mask.shape.assign(shape.begin(), shape.end());
    mask.i.assign(mask.size(), 1);
    consts[n.output(1)] = std::move(mask);
  }
  return setValue(x);
}

/// Reciprocal.
LogicalResult NodeEmitter::emitReciprocal() {
  HostTensor one;
  one.f = {1.0f};
  return set(
      build<DivOp>(loc, {materialize(n.output(0) + ".one", one, loc), in(0)}));
}

/// Cast.
LogicalResult NodeEmitter::emitCast() {
  Value x = in(0);
  int32_t to = intAttr(n, "to", 0);
  if (elementType(to) == typeOf(x).getElementType())
    return setValue(x);
  // Masks: int64 / int32 / bool inputs made float (attention_mask).
  if (to == onnx::TensorProto::FLOAT &&
      isa<IntegerType>(typeOf(x).getElementType()))
    return setValue(b.create<CastOp>(
        loc, RankedTensorType::get(typeOf(x).getShape(), b.getF32Type()), x));
  return unsupported(Twine("casting a run-time tensor to ") + dtypeName(to) +
                     " is not supported");
}

/// Softmax.
LogicalResult NodeEmitter::emitSoftmax() {
  return setValue(b.create<SoftmaxOp>(
      loc, in(0), b.getI64IntegerAttr(intAttr(n, "axis", -1))));
}

/// LogSoftmax.
LogicalResult NodeEmitter::emitLogSoftmax() {
  return setValue(b.create<LogSoftmaxOp>(
      loc, in(0), b.getI64IntegerAttr(intAttr(n, "axis", -1))));
}

/// MatMul.
LogicalResult NodeEmitter::emitMatMul() {
  return set(build<MatMulOp>(loc, {in(0), in(1)}));
}

/// Transpose.
LogicalResult NodeEmitter::emitTranspose() {
  Value x = in(0);
  std::vector<int64_t> perm(typeOf(x).getRank());
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = intsAttr(n, "perm"))
    perm = *p;
  return set(build<TransposeOp>(
      loc, {x}, {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(perm))}));
}

/// Reshape, Unsqueeze, Squeeze, Expand.
LogicalResult NodeEmitter::emitReshapeLike() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  std::vector<int64_t> shape(xt.getShape());
  const HostTensor *arg = n.input_size() > 1 ? constant(n.input(1)) : nullptr;
  if (n.input_size() > 1 && !n.input(1).empty() && !arg)
    return unsupported("its shape/axes input is computed at run time; Slim "
                       "needs static shapes");
  if (op == "Reshape") {
    std::vector<int64_t> target = arg->i;
    int64_t known = 1, infer = -1;
    for (size_t d = 0; d < target.size(); ++d) {
      if (target[d] == 0 && !intAttr(n, "allowzero", 0)) {
        if (d >= shape.size())
          return unsupported("shape entry 0 copies a missing axis");
        target[d] = shape[d];
      }
      if (target[d] < -1 || (target[d] == -1 && infer >= 0))
        return unsupported("shape " + formatShape(target) +
                           " has a negative entry other than one -1");
      if (target[d] == -1)
        infer = d;
      else if (__builtin_mul_overflow(known, target[d], &known))
        return unsupported("shape " + formatShape(target) +
                           " has more elements than fit in 64 bits");
    }
    int64_t count = xt.getNumElements();
    if (infer >= 0 ? (known == 0 || count % known != 0) : known != count)
      return unsupported("shape " + formatShape(target) +
                         " does not hold the " + std::to_string(count) +
                         " elements of the input");
    if (infer >= 0)
      target[infer] = count / known;
    shape = target;
  } else if (op == "Expand") {
    auto bshape = broadcastShapes(shape, arg->i);
    if (!bshape)
      return unsupported("shapes " + formatShape(shape) + " and " +
                         formatShape(arg->i) + " are not broadcast-compatible");
    return setValue(b.create<BroadcastOp>(
        loc, RankedTensorType::get(*bshape, xt.getElementType()), x));
  } else {
    std::vector<int64_t> axes = arg ? arg->i : std::vector<int64_t>();
    if (op == "Unsqueeze") {
      int64_t outRank = shape.size() + axes.size();
      for (int64_t &a : axes)
        a = normAxis(a, outRank);
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes)
        shape.insert(shape.begin() + a, 1);
    } else {
      std::vector<int64_t> kept;
      int64_t rank = shape.size();
      for (int64_t d = 0; d < rank; ++d) {
        bool drop = axes.empty() ? shape[d] == 1
                                 : llvm::is_contained(axes, d) ||
                                       llvm::is_contained(axes, d - rank);
        if (!drop)
          kept.push_back(shape[d]);
      }
      shape = kept;
    }
  }
  auto type = RankedTensorType::get(shape, xt.getElementType());
  if (type.getNumElements() != xt.getNumElements())
    return unsupported("reshapes " + formatShape(xt.getShape()) + " to " +
                       formatShape(shape) + ", which has another size");
  return setValue(b.create<ReshapeOp>(loc, type, x));
}

/// Concat.
LogicalResult NodeEmitter::emitConcat() {
  SmallVector<Value> inputs;
  for (int k = 0; k < n.input_size(); ++k)
    inputs.push_back(in(k));
  return set(build<ConcatOp>(
      loc, inputs,
      {b.getNamedAttr("axis", b.getI64IntegerAttr(intAttr(n, "axis", 0)))}));
}

/// Slice, Split, Gather.
LogicalResult NodeEmitter::emitSliceLike() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  int64_t rank = xt.getRank();
  // slim.slice over `axis` from `start`, `size` elements, every `step`.
  auto slice = [&](int64_t axis, int64_t start, int64_t size,
                   int64_t step) -> FailureOr<Operation *> {
    SmallVector<int64_t> off(rank, 0), sizes(xt.getShape()), st(rank, 1);
    off[axis] = start;
    sizes[axis] = size;
    st[axis] = step;
    return build<SliceOp>(
        loc, {x},
        {b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(off)),
         b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes)),
         b.getNamedAttr("strides", b.getDenseI64ArrayAttr(st))});
  };
  if (op == "Gather") {
    // Embedding lookup: a known 2-D table gathered by run-time indices.
    if (constant(n.input(0)) && !constant(n.input(1))) {
      if (intAttr(n, "axis", 0) != 0 || rank != 2)
        return unsupported("only row gathers (axis 0) from a 2-D table "
                           "are supported");
      return set(build<EmbeddingOp>(loc, {x, in(1)}));
    }
    // x[..., i, ...] with a known scalar or 1-element index: a slice;
    // other indices: slim.gather.
    const HostTensor *idx = constant(n.input(1));
    int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
    if (!idx || idx->size() != 1)
      return set(build<GatherOp>(
          loc, {x, in(1)},
          {b.getNamedAttr("axis", b.getI64IntegerAttr(intAttr(n, "axis", 0)))}));
    int64_t i = idx->i[0] < 0 ? idx->i[0] + xt.getDimSize(axis) : idx->i[0];
    if (i < 0 || i >= xt.getDimSize(axis))
      return unsupported("index " + std::to_string(idx->i[0]) +
                         " is out of range");
    auto s = slice(axis, i, 1, 1);
    if (failed(s))
      return failure();
    SmallVector<int64_t> shape(xt.getShape());
    if (idx->shape.empty())
      shape.erase(shape.begin() + axis);
    return setValue(b.create<ReshapeOp>(
        loc, RankedTensorType::get(shape, xt.getElementType()),
        (*s)->getResult(0)));
  }
  if (op == "Split") {
    int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
    int64_t dim = xt.getDimSize(axis);
    std::vector<int64_t> sizes;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      const HostTensor *s = constant(n.input(1));
      if (!s)
        return unsupported("split sizes computed at run time");
      sizes = s->i;
    } else if (auto s = intsAttr(n, "split")) {
      sizes = *s;
    } else {
      int64_t parts = n.output_size();
      if (dim % parts)
        return unsupported("cannot split " + std::to_string(dim) +
                           " evenly into " + std::to_string(parts));
      sizes.assign(parts, dim / parts);
    }
    if (int64_t(sizes.size()) != n.output_size())
      return unsupported("the number of split sizes differs from the "
                         "number of outputs");
    int64_t start = 0;
    for (int k = 0; k < n.output_size(); ++k) {
      if (sizes[k] < 0 || start + sizes[k] > dim)
        return unsupported("split sizes exceed the axis");
      auto s = slice(axis, start, sizes[k], 1);
      if (failed(s))
        return failure();
      values[n.output(k)] = (*s)->getResult(0);
      start += sizes[k];
    }
    return success();
  }
  // Slice with known starts/ends/axes/steps.
  std::vector<const HostTensor *> args;
  for (int k = 1; k < n.input_size(); ++k) {
    if (n.input(k).empty()) {
      args.push_back(nullptr);
      continue;
    }
    args.push_back(constant(n.input(k)));
    if (!args.back())
      return unsupported("slice bounds computed at run time");
  }
  std::vector<int64_t> axes, steps;
  if (args.size() > 2 && args[2])
    axes = args[2]->i;
  else
    for (int64_t a = 0; a < int64_t(args[0]->i.size()); ++a)
      axes.push_back(a);
  if (args.size() > 3 && args[3])
    steps = args[3]->i;
  else
    steps.assign(axes.size(), 1);
  SmallVector<int64_t> off(rank, 0), sizes(xt.getShape()), st(rank, 1);
  for (size_t j = 0; j < axes.size(); ++j) {
    int64_t a = normAxis(axes[j], rank), dim = xt.getDimSize(a);
    if (steps[j] <= 0)
      return unsupported("negative or zero slice steps are not supported");
    int64_t s = args[0]->i[j] < 0 ? args[0]->i[j] + dim : args[0]->i[j];
    int64_t e = args[1]->i[j] < 0 ? args[1]->i[j] + dim : args[1]->i[j];
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    off[a] = s;
    st[a] = steps[j];
    sizes[a] = e > s ? (e - s + steps[j] - 1) / steps[j] : 0;
  }
  return set(
      build<SliceOp>(loc, {x},
                     {b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(off)),
                      b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes)),
                      b.getNamedAttr("strides", b.getDenseI64ArrayAttr(st))}));
}

/// Where.
LogicalResult NodeEmitter::emitWhere() {
  return set(build<WhereOp>(loc, {in(0), in(1), in(2)}));
}

/// ReduceMean.
LogicalResult NodeEmitter::emitReduceMean() {
  Value x = in(0);
  std::vector<int64_t> axes;
  if (auto a = intsAttr(n, "axes"))
    axes = *a;
  else
    for (int64_t d = 0; d < typeOf(x).getRank(); ++d)
      axes.push_back(d);
  return set(build<ReduceMeanOp>(
      loc, {x},
      {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
       b.getNamedAttr("keepdims",
                      b.getBoolAttr(intAttr(n, "keepdims", 1) != 0))}));
}

/// ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
/// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp: the axes an attribute
/// or (ReduceSum since opset 13) a constant input; none means all, or
/// nothing with noop_with_empty_axes.
LogicalResult NodeEmitter::emitReduce() {
  static const llvm::StringMap<ReduceKind> kinds = {
      {"ReduceSum", ReduceKind::sum},
      {"ReduceMax", ReduceKind::max},
      {"ReduceMin", ReduceKind::min},
      {"ReduceProd", ReduceKind::prod},
      {"ReduceL1", ReduceKind::l1},
      {"ReduceL2", ReduceKind::l2},
      {"ReduceSumSquare", ReduceKind::sum_square},
      {"ReduceLogSum", ReduceKind::log_sum},
      {"ReduceLogSumExp", ReduceKind::log_sum_exp}};
  Value x = in(0);
  int64_t rank = typeOf(x).getRank();
  std::vector<int64_t> axes;
  if (auto a = intsAttr(n, "axes")) {
    axes = *a;
  } else if (n.input_size() > 1 && !n.input(1).empty()) {
    const HostTensor *t = constant(n.input(1));
    if (!t)
      return unsupported("axes computed at run time");
    axes = t->i;
  }
  if (axes.empty()) {
    if (intAttr(n, "noop_with_empty_axes", 0))
      return setValue(x);
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if (rank == 0)
    return setValue(x);
  return set(build<ReduceOp>(
      loc, {x},
      {b.getNamedAttr("kind", ReduceKindAttr::get(b.getContext(),
                                                  kinds.lookup(op))),
       b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
       b.getNamedAttr("keepdims",
                      b.getBoolAttr(intAttr(n, "keepdims", 1) != 0))}));
}

/// GlobalAveragePool.
LogicalResult NodeEmitter::emitGlobalAveragePool() {
  // The mean over every spatial axis, kept as extent 1.
  Value x = in(0);
  int64_t rank = typeOf(x).getRank();
  if (rank < 3)
    return unsupported("needs an [N, C, spatial...] input");
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  return set(
      build<ReduceMeanOp>(loc, {x},
                          {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                           b.getNamedAttr("keepdims", b.getBoolAttr(true))}));
}

/// Flatten.
LogicalResult NodeEmitter::emitFlatten() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  int64_t rank = xt.getRank();
  int64_t axis = normAxis(intAttr(n, "axis", 1), rank);
  if (axis < 0 || axis > rank)
    return unsupported("axis " + std::to_string(intAttr(n, "axis", 1)) +
                       " is out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= xt.getDimSize(d);
  return setValue(b.create<ReshapeOp>(
      loc, RankedTensorType::get({outer, inner}, xt.getElementType()), x));
}

/// Pad: slim.pad by the positive counts (constant, reflect, edge, wrap),
/// then slim.slice for the negative ones (ONNX crops with them); the
/// counts, the fill value and `axes` (opset 18) must be known at import.
LogicalResult NodeEmitter::emitPad() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  Type et = xt.getElementType();
  if (!et.isF32() && !et.isInteger(32) && !et.isInteger(64))
    return unsupported("only float32, int32 and int64 tensors are padded at "
                       "run time, not ")
           << et;
  int64_t rank = xt.getRank();
  std::string mode =
      findAttr(n, "mode") ? findAttr(n, "mode")->s() : "constant";
  std::optional<PadMode> padMode = symbolizePadMode(mode);
  if (!padMode)
    return unsupported("mode '" + mode +
                       "' is not one of constant, reflect, edge, wrap");
  auto known = [&](int k) -> const HostTensor * {
    return n.input_size() > k && !n.input(k).empty() ? constant(n.input(k))
                                                     : nullptr;
  };
  auto given = [&](int k) {
    return n.input_size() > k && !n.input(k).empty();
  };
  const HostTensor *pads = known(1);
  if (!pads)
    return unsupported("pads computed at run time (a graph input can be "
                       "fixed with --bind NAME=FILE.npy)");
  float value = 0.0f;
  if (given(2)) {
    const HostTensor *v = known(2);
    if (!v || v->size() != 1)
      return unsupported("constant_value must be one value known at import");
    value = float(v->at(0));
  }
  const HostTensor *axesGiven = known(3);
  if (given(3) && !axesGiven)
    return unsupported("axes computed at run time");
  auto normalized = normalizeAxes(
      axesGiven ? std::optional<ArrayRef<int64_t>>(axesGiven->i) : std::nullopt,
      rank);
  if (failed(normalized))
    return failure();
  const std::vector<int64_t> &axes = *normalized;
  int64_t na = int64_t(axes.size());
  if (int64_t(pads->i.size()) != 2 * na)
    return unsupported("pads has " + std::to_string(pads->i.size()) +
                       " entries for " + std::to_string(na) + " axes");
  std::vector<int64_t> counts(2 * rank, 0);
  for (int64_t k = 0; k < na; ++k)
    for (int64_t side : {0, 1})
      counts[axes[k] + side * rank] = pads->i[k + side * na];
  FailureOr<Value> y = padOrCrop(x, counts, *padMode, value);
  if (failed(y))
    return failure();
  return setValue(*y);
}

FailureOr<Value> NodeEmitter::padOrCrop(Value x, ArrayRef<int64_t> counts,
                                        PadMode mode, float value) {
  int64_t rank = typeOf(x).getRank();
  // Positive counts pad, negative ones crop the padded tensor.
  std::vector<int64_t> grow(2 * rank, 0), crop(2 * rank, 0);
  for (int64_t k = 0; k < 2 * rank; ++k)
    (counts[k] >= 0 ? grow : crop)[k] = std::abs(counts[k]);
  Value y = x;
  if (llvm::any_of(grow, [](int64_t v) { return v != 0; })) {
    auto r = build<PadOp>(
        loc, {y},
        {b.getNamedAttr("mode", PadModeAttr::get(b.getContext(), mode)),
         b.getNamedAttr("pads", b.getDenseI64ArrayAttr(grow)),
         b.getNamedAttr("value", b.getF32FloatAttr(value))});
    if (failed(r))
      return failure();
    y = (*r)->getResult(0);
  }
  if (llvm::any_of(crop, [](int64_t v) { return v != 0; })) {
    ArrayRef<int64_t> shape = typeOf(y).getShape();
    SmallVector<int64_t> offsets, sizes, strides(rank, 1);
    for (int64_t a = 0; a < rank; ++a) {
      offsets.push_back(crop[a]);
      sizes.push_back(shape[a] - crop[a] - crop[a + rank]);
      if (sizes.back() < 0)
        return unsupported("pads crop axis " + std::to_string(a) +
                           " by more than its extent " +
                           std::to_string(shape[a]));
    }
    auto r = build<SliceOp>(
        loc, {y},
        {b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(offsets)),
         b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes)),
         b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides))});
    if (failed(r))
      return failure();
    y = (*r)->getResult(0);
  }
  return y;
}

FailureOr<std::vector<int64_t>>
NodeEmitter::normalizeAxes(std::optional<ArrayRef<int64_t>> values,
                           int64_t rank) {
  std::vector<int64_t> axes;
  if (!values) {
    for (int64_t a = 0; a < rank; ++a)
      axes.push_back(a);
    return axes;
  }
  for (int64_t v : *values) {
    int64_t axis = normAxis(v, rank);
    if (axis < 0 || axis >= rank)
      return unsupported("axis " + std::to_string(v) +
                         " is out of range for rank " + std::to_string(rank));
    axes.push_back(axis);
  }
  return axes;
}

/// LayerNormalization.
LogicalResult NodeEmitter::emitLayerNormalization() {
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty())
      return unsupported("the Mean and InvStdDev outputs are not supported");
  Value x = in(0), scale = in(1);
  Value bias = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
  auto ln =
      b.create<LayerNormOp>(loc, x.getType(), x, scale, bias,
                            b.getF32FloatAttr(floatAttr(n, "epsilon", 1e-5f)),
                            b.getI64IntegerAttr(intAttr(n, "axis", -1)));
  return setValue(ln);
}

/// Gemm.
LogicalResult NodeEmitter::emitGemm() {
  Value a = in(0), bm = in(1);
  Value c = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
  // y = alpha · op(A) · op(B) + beta · C
  float alpha = floatAttr(n, "alpha", 1.0f), beta = floatAttr(n, "beta", 1.0f);
  auto scaled = [&](Value v, float k) -> FailureOr<Value> {
    if (k == 1.0f)
      return v;
    HostTensor f;
    f.f = {k};
    auto mul = build<MulOp>(
        loc,
        {v, materialize(n.output(0) + ".scale" + std::to_string(k), f, loc)});
    if (failed(mul))
      return failure();
    return (*mul)->getResult(0);
  };
  if (intAttr(n, "transA", 0)) {
    auto t = build<TransposeOp>(
        loc, {a},
        {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr({1, 0}))});
    if (failed(t))
      return failure();
    a = (*t)->getResult(0);
  }
  bool transB = intAttr(n, "transB", 0);
  bool fuseBias =
      transB && c && typeOf(c).getRank() == 1 && alpha == 1.0f && beta == 1.0f;
  FailureOr<Operation *> r =
      transB ? build<LinearOp>(loc,
                               fuseBias ? ValueRange{a, bm, c}
                                        : ValueRange{a, bm},
                               linearSegments(fuseBias))
             : build<MatMulOp>(loc, {a, bm});
  if (failed(r))
    return failure();
  FailureOr<Value> y = scaled((*r)->getResult(0), alpha);
  if (failed(y))
    return failure();
  if (c && !fuseBias) {
    FailureOr<Value> bc = scaled(c, beta);
    if (failed(bc))
      return failure();
    auto add = build<AddOp>(loc, {*y, *bc});
    if (failed(add))
      return failure();
    y = (*add)->getResult(0);
  }
  return setValue(*y);
}
