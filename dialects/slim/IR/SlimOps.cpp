//===- SlimOps.cpp - slim dialect operations ------------------------------===//
//
// Verifiers, shape inference and folders. Shape inference emits its
// diagnostics in the verifier style ("'slim.linear' op ...") so a bad shape
// is reported the same way whether it is found while parsing or while
// verifying a module built in C++.
//
// One file for the 64 ops (over 800 lines): ODS generates their classes
// into one SlimOps.cpp.inc, and the shared helpers (broadcasting, shape
// formatting, the linear and norm checks) serve many ops each.
//
//===----------------------------------------------------------------------===//

#include "dialects/slim/IR/SlimOps.h"
#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::slim;

#include "dialects/slim/IR/SlimEnums.cpp.inc"

namespace {

/// Emits "'<op>' op <args...>" at `loc` (when there is one) and fails.
template <typename OpTy, typename... Args>
LogicalResult fail(std::optional<Location> loc, Args &&...args) {
  return emitOptionalError(loc, "'", OpTy::getOperationName(), "' op ",
                           std::forward<Args>(args)...);
}

/// Shape inference runs while parsing, before the operand type constraints
/// are verified: check that every operand is a static-shaped ranked tensor.
template <typename OpTy>
LogicalResult staticTensors(std::optional<Location> loc, ValueRange values) {
  for (Value v : values) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || !t.hasStaticShape())
      return fail<OpTy>(loc, "operands must be static-shaped tensors, got ",
                        v.getType());
  }
  return success();
}

/// Checks that all values have one element type.
template <typename OpTy>
LogicalResult sameElementType(std::optional<Location> loc, ValueRange values,
                              ArrayRef<StringRef> names) {
  Type first = getElementTypeOrSelf(values.front().getType());
  for (auto [v, name] : llvm::zip(values, names)) {
    Type t = getElementTypeOrSelf(v.getType());
    if (t != first)
      return fail<OpTy>(loc, "element types differ: ", names.front(), " has ",
                        first, ", ", name, " has ", t);
  }
  return success();
}

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string shapeOf(Value v) { return formatShape(tensorType(v).getShape()); }

/// True when `v` is a constant splat float equal to `x`.
bool isSplatFloat(Value v, double x) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return false;
  return attr.getSplatValue<APFloat>().convertToDouble() == x;
}

} // namespace

//===----------------------------------------------------------------------===//
// ResidualOp
//===----------------------------------------------------------------------===//

LogicalResult ResidualOp::verify() {
  Block &body = getBody().front();
  Type stream = getInput().getType();
  if (body.getNumArguments() != 1 || body.getArgument(0).getType() != stream)
    return emitOpError("body must take one argument of the residual stream "
                       "type ")
           << stream << ", got " << body.getNumArguments() << " argument(s)"
           << (body.getNumArguments() ? " of type " : "")
           << (body.getNumArguments() ? body.getArgument(0).getType() : Type());
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("body must end with slim.yield");
  if (yield.getValue().getType() != stream)
    return emitOpError("body yields ")
           << yield.getValue().getType() << " but the residual stream is "
           << stream;
  if (getFused()) {
    Operation *def = yield.getValue().getDefiningOp();
    Value residual;
    if (auto l = dyn_cast_or_null<LinearOp>(def))
      residual = l.getResidual();
    else if (auto q = dyn_cast_or_null<QLinearOp>(def))
      residual = q.getResidual();
    if (!residual || residual != body.getArgument(0))
      return emitOpError("fused: the body must yield a linear or qlinear "
                         "whose residual operand is the block argument");
  }
  return success();
}

Value ResidualOp::getBranch() {
  return cast<YieldOp>(getBody().front().back()).getValue();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<EmbeddingOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType table = tensorType(adaptor.getTable());
  if (table.getRank() != 2)
    return fail<EmbeddingOp>(loc, "table must have rank 2 ([vocab, dim]), got ",
                             table);
  SmallVector<int64_t> shape(tensorType(adaptor.getIndices()).getShape());
  shape.push_back(table.getDimSize(1));
  inferred.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormOp / RmsNormOp
//===----------------------------------------------------------------------===//

/// Verifies scale/bias of a norm over `input`'s axes [axis, rank).
template <typename OpTy>
static LogicalResult verifyNorm(OpTy op, int64_t axis) {
  auto loc = op.getLoc();
  RankedTensorType input = op.getInput().getType();
  ArrayRef<int64_t> normalized = input.getShape().drop_front(axis);
  if (tensorType(op.getScale()).getShape() != normalized)
    return fail<OpTy>(loc, "scale must have shape ", formatShape(normalized),
                      " (the normalized axes of ", input, "), got ",
                      op.getScale().getType());
  if (op.getBias() && tensorType(op.getBias()).getShape() != normalized)
    return fail<OpTy>(loc, "bias must have shape ", formatShape(normalized),
                      " (the normalized axes of ", input, "), got ",
                      op.getBias().getType());
  SmallVector<Value> values = {op.getInput(), op.getScale()};
  SmallVector<StringRef> names = {"input", "scale"};
  if (op.getBias()) {
    values.push_back(op.getBias());
    names.push_back("bias");
  }
  if (failed(sameElementType<OpTy>(loc, values, names)))
    return failure();
  float eps = op.getEpsilon().convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return fail<OpTy>(loc, "epsilon must be positive and finite, got ", eps);
  return success();
}

int64_t LayerNormOp::getNormalizedAxis() {
  return *normalizeAxis(static_cast<int64_t>(getAxis()),
                        getInput().getType().getRank());
}

LogicalResult LayerNormOp::verify() {
  int64_t rank = getInput().getType().getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (rank == 0 || !normalizeAxis(axis, rank))
    return emitOpError("axis ") << axis << " is out of range for input "
                                << getInput().getType();
  return verifyNorm(*this, getNormalizedAxis());
}

LogicalResult RmsNormOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (rank == 0)
    return emitOpError("input must have rank >= 1, got ")
           << getInput().getType();
  return verifyNorm(*this, rank - 1);
}

LogicalResult CrmsNormOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (rank == 0)
    return emitOpError("input must have rank >= 1, got ")
           << getInput().getType();
  if (getEpsilon().convertToFloat() < 0.0f)
    return emitOpError("epsilon must be >= 0, got ")
           << getEpsilon().convertToFloat();
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp / QLinearOp
//===----------------------------------------------------------------------===//

/// The result of x[..., in] · W[out, in]ᵀ, with the common diagnostics.
template <typename OpTy>
static LogicalResult inferLinear(std::optional<Location> loc, Value input,
                                 Value weight, Value bias,
                                 SmallVectorImpl<Type> &inferred) {
  RankedTensorType in = tensorType(input), w = tensorType(weight);
  if (w.getRank() != 2)
    return fail<OpTy>(loc, "weight must have rank 2 ([out, in]), got ", w);
  if (in.getRank() == 0)
    return fail<OpTy>(loc, "input must have rank >= 1, got ", in);
  int64_t out = w.getDimSize(0);
  if (in.getShape().back() != w.getDimSize(1))
    return fail<OpTy>(loc, "input feature size ", in.getShape().back(),
                      " does not match the weight's in-features ",
                      w.getDimSize(1), " (weight is [out, in] = ",
                      formatShape(w.getShape()), ")");
  if (bias && tensorType(bias).getShape() != ArrayRef<int64_t>{out})
    return fail<OpTy>(loc, "bias must have shape [", out, "], got ",
                      bias.getType());
  if (bias && tensorType(bias).getElementType() != in.getElementType())
    return fail<OpTy>(loc, "element types differ: input has ",
                      in.getElementType(), ", bias has ",
                      tensorType(bias).getElementType());
  SmallVector<int64_t> shape(in.getShape());
  shape.back() = out;
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<LinearOp>(loc, adaptor.getOperands())))
    return failure();
  if (failed(sameElementType<LinearOp>(
          loc, {adaptor.getInput(), adaptor.getWeight()}, {"input", "weight"})))
    return failure();
  return inferLinear<LinearOp>(loc, adaptor.getInput(), adaptor.getWeight(),
                               adaptor.getBias(), inferred);
}

LogicalResult QLinearOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<QLinearOp>(loc, adaptor.getOperands())))
    return failure();
  return inferLinear<QLinearOp>(loc, adaptor.getInput(), adaptor.getWeight(),
                                adaptor.getBias(), inferred);
}

/// A residual fused into a linear's epilogue has the result's type.
template <typename Op>
static LogicalResult verifyResidualOperand(Op op) {
  if (op.getResidual() && op.getResidual().getType() != op.getType())
    return op.emitOpError("residual must have the result's type ")
           << op.getType() << ", got " << op.getResidual().getType();
  return success();
}

LogicalResult LinearOp::verify() { return verifyResidualOperand(*this); }

/// The slim-fuse-kernels decisions on an int8 qlinear: the norm it applies
/// to its input, its residual and the group of qlinears it runs with.
static LogicalResult verifyQLinearFusion(QLinearOp op) {
  if (failed(verifyResidualOperand(op)))
    return failure();
  bool fused = op.getNorm() || op.getResidual() || op.getGroup();
  if (fused && !op.isPerChannelInt8())
    return op.emitOpError("norm, residual and group need int8 per-channel "
                          "weights and act = dynamic or static");
  int64_t in = op.getWeight().getType().getShape()[1];
  if (op.getNorm()) {
    if (!op.getNormEps())
      return op.emitOpError("norm needs norm_eps");
    for (Value v : {op.getNormScale(), op.getNormBias()})
      if (v && tensorType(v).getShape() != ArrayRef<int64_t>{in})
        return op.emitOpError("norm scale and bias must have shape [")
               << in << "] (the in-features), got " << v.getType();
  } else if (op.getNormScale() || op.getNormBias() || op.getNormEps()) {
    return op.emitOpError("norm scale, bias and eps need norm = layer_norm "
                          "or rms_norm");
  }
  if (!op.getGroup())
    return success();
  if (op.getResidual())
    return op.emitOpError("a group's qlinears cannot have a residual");
  int64_t n = static_cast<int64_t>(*op.getGroup());
  Operation *next = op->getNextNode();
  for (int64_t k = 1; k < n; ++k, next = next->getNextNode()) {
    auto q = dyn_cast_or_null<QLinearOp>(next);
    if (!q || q.getInput() != op.getInput() || q.getAct() != op.getAct() ||
        q.getActScale() != op.getActScale() || q.getNorm() != op.getNorm() ||
        q.getNormScale() != op.getNormScale() ||
        q.getNormBias() != op.getNormBias() ||
        q.getNormEps() != op.getNormEps() || q.getGroup() || q.getResidual() ||
        !q.isPerChannelInt8())
      return op.emitOpError("group = ")
             << n << ": op " << k
             << " after this one must be an int8 qlinear of the same input, "
                "act, act_scale and norm, without residual or group";
  }
  return success();
}

bool QLinearOp::isPerChannelInt8() {
  return getWeight().getType().getElementType().isInteger(8) &&
         getGroupSize() == 0 && !getZeroPoints() &&
         getAct() != QuantActivation::none;
}

SmallVector<QLinearOp, 3> QLinearOp::getGroupMembers() {
  SmallVector<QLinearOp, 3> members{*this};
  Operation *next = getOperation();
  for (int64_t k = 1; k < int64_t(getGroup().value_or(1)); ++k) {
    next = next->getNextNode();
    members.push_back(cast<QLinearOp>(next));
  }
  return members;
}

LogicalResult QLinearOp::verify() {
  ArrayRef<int64_t> w = getWeight().getType().getShape();
  int64_t out = w[0], in = w[1];
  int64_t group = static_cast<int64_t>(getGroupSize());
  SmallVector<int64_t> expected = {out};
  if (group > 0) {
    if (in % group != 0)
      return emitOpError("group_size ")
             << group << " does not divide the in-features " << in;
    expected.push_back(in / group);
  }
  if (getScales().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("scales must have shape ")
           << formatShape(expected)
           << (group > 0 ? " ([out, in / group_size])" : " ([out])")
           << ", got " << getScales().getType();
  if (getZeroPoints() &&
      tensorType(getZeroPoints()).getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("zero_points must have the shape of scales ")
           << formatShape(expected) << ", got " << getZeroPoints().getType();
  bool isStatic = getAct() == QuantActivation::static_;
  if (isStatic && !getActScale())
    return emitOpError("act = static needs act_scale (the calibrated "
                       "activation scale)");
  if (!isStatic && getActScale())
    return emitOpError("act_scale is only meaningful with act = static, got "
                       "act = ")
           << stringifyQuantActivation(getAct());
  if (getActScale() && !(getActScale()->convertToFloat() > 0.0f))
    return emitOpError("act_scale must be positive, got ")
           << getActScale()->convertToFloat();
  return verifyQLinearFusion(*this);
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<AttentionOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType q = tensorType(adaptor.getQuery()),
                   k = tensorType(adaptor.getKey()),
                   v = tensorType(adaptor.getValue());
  if (q.getRank() != 3 || k.getRank() != 3 || v.getRank() != 3)
    return fail<AttentionOp>(loc,
                             "query, key and value must have rank 3 ([batch, "
                             "tokens, heads * head_dim]), got ",
                             q, ", ", k, ", ", v);
  SmallVector<Value> qkv = {adaptor.getQuery(), adaptor.getKey(),
                            adaptor.getValue()};
  if (adaptor.getSizes())
    qkv.push_back(adaptor.getSizes());
  if (failed(sameElementType<AttentionOp>(loc, qkv,
                                          {"query", "key", "value", "sizes"})))
    return failure();
  int64_t b = q.getDimSize(0), t = q.getDimSize(1), s = k.getDimSize(1);
  if (k.getDimSize(0) != b || v.getDimSize(0) != b)
    return fail<AttentionOp>(loc, "batch sizes differ: query ", b, ", key ",
                             k.getDimSize(0), ", value ", v.getDimSize(0));
  if (v.getDimSize(1) != s)
    return fail<AttentionOp>(loc, "key and value token counts differ: ", s,
                             " vs ", v.getDimSize(1));
  int64_t h = static_cast<int64_t>(adaptor.getNumHeads());
  int64_t hkv = static_cast<int64_t>(adaptor.getNumKvHeads());
  if (h <= 0 || hkv <= 0)
    return fail<AttentionOp>(loc,
                             "num_heads and num_kv_heads must be positive, got ",
                             h, " and ", hkv);
  if (h % hkv != 0)
    return fail<AttentionOp>(loc, "num_heads ", h,
                             " is not a multiple of num_kv_heads ", hkv);
  if (q.getDimSize(2) % h != 0)
    return fail<AttentionOp>(loc, "query width ", q.getDimSize(2),
                             " is not divisible by num_heads ", h);
  if (k.getDimSize(2) % hkv != 0 || v.getDimSize(2) % hkv != 0)
    return fail<AttentionOp>(loc, "key width ", k.getDimSize(2),
                             " and value width ", v.getDimSize(2),
                             " must be divisible by num_kv_heads ", hkv);
  if (q.getDimSize(2) / h != k.getDimSize(2) / hkv)
    return fail<AttentionOp>(loc, "query head dim ", q.getDimSize(2) / h,
                             " differs from key head dim ",
                             k.getDimSize(2) / hkv);
  if (Value sizes = adaptor.getSizes()) {
    if (tensorType(sizes).getShape() != ArrayRef<int64_t>{b, s})
      return fail<AttentionOp>(loc, "sizes must have shape [", b, ", ", s,
                               "] ([batch, key tokens]), got ",
                               sizes.getType());
  }
  if (Value bias = adaptor.getKeyBias()) {
    if (tensorType(bias).getShape() != ArrayRef<int64_t>{b, s} ||
        tensorType(bias).getElementType() != q.getElementType())
      return fail<AttentionOp>(loc, "key_bias must be a [", b, ", ", s,
                               "] ([batch, key tokens]) tensor of the "
                               "query's element type, got ",
                               bias.getType());
  }
  if (Value bias = adaptor.getBias()) {
    auto bt = tensorType(bias);
    if (bt.getRank() != 4 || bt.getDimSize(0) <= 0 ||
        b % bt.getDimSize(0) != 0 || bt.getDimSize(1) != h ||
        bt.getDimSize(2) != t || bt.getDimSize(3) != s ||
        bt.getElementType() != q.getElementType())
      return fail<AttentionOp>(loc, "bias must be a [G, ", h, ", ", t, ", ", s,
                               "] ([groups, heads, queries, keys], G dividing "
                               "the batch ", b,
                               ") tensor of the query's element type, got ",
                               bias.getType());
  }
  int64_t dv = v.getDimSize(2) / hkv;
  inferred.push_back(RankedTensorType::get({b, t, h * dv}, q.getElementType()));
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t t = getQuery().getType().getDimSize(1);
  int64_t s = getKey().getType().getDimSize(1);
  if (getCausal() && t > s)
    return emitOpError("causal attention needs at least as many keys as "
                       "queries, got ")
           << t << " queries and " << s << " keys";
  if (auto scale = getScale()) {
    float x = scale->convertToFloat();
    if (!(x > 0.0f) || !std::isfinite(x))
      return emitOpError("scale must be positive and finite, got ") << x;
  }
  return success();
}

int64_t AttentionOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) /
         static_cast<int64_t>(getNumHeads());
}

/// The `scale` attribute of an attention op, or 1/sqrt(head dim).
static float attentionScale(std::optional<APFloat> scale, int64_t headDim) {
  if (scale)
    return scale->convertToFloat();
  return 1.0f / std::sqrt(static_cast<float>(headDim));
}

float AttentionOp::getEffectiveScale() {
  return attentionScale(getScale(), getHeadDim());
}

//===----------------------------------------------------------------------===//
// KvAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult KvAttentionOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<KvAttentionOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType q = tensorType(adaptor.getQuery()),
                   k = tensorType(adaptor.getKey()),
                   v = tensorType(adaptor.getValue());
  if (q.getRank() != 3 || k.getRank() != 3 || v.getRank() != 3)
    return fail<KvAttentionOp>(loc,
                               "query, key and value must have rank 3 ([1, "
                               "tokens, heads * head_dim]), got ",
                               q, ", ", k, ", ", v);
  if (failed(sameElementType<KvAttentionOp>(
          loc, {adaptor.getQuery(), adaptor.getKey(), adaptor.getValue()},
          {"query", "key", "value"})))
    return failure();
  int64_t t = q.getDimSize(1);
  if (q.getDimSize(0) != 1 || k.getDimSize(0) != 1 || v.getDimSize(0) != 1)
    return fail<KvAttentionOp>(loc, "the KV cache holds one sequence: batch "
                               "must be 1, got ", q.getDimSize(0));
  if (k.getDimSize(1) != t || v.getDimSize(1) != t)
    return fail<KvAttentionOp>(loc, "query, key and value must have the same "
                               "tokens, got ", t, ", ", k.getDimSize(1), ", ",
                               v.getDimSize(1));
  int64_t h = static_cast<int64_t>(adaptor.getNumHeads());
  int64_t hkv = static_cast<int64_t>(adaptor.getNumKvHeads());
  if (h <= 0 || hkv <= 0 || h % hkv != 0)
    return fail<KvAttentionOp>(loc, "num_heads ", h,
                               " must be a positive multiple of num_kv_heads ",
                               hkv);
  if (q.getDimSize(2) % h != 0 || k.getDimSize(2) % hkv != 0 ||
      v.getDimSize(2) % hkv != 0 ||
      q.getDimSize(2) / h != k.getDimSize(2) / hkv)
    return fail<KvAttentionOp>(loc, "query width ", q.getDimSize(2),
                               " / ", h, " heads must equal key width ",
                               k.getDimSize(2), " / ", hkv, " heads");
  int64_t dv = v.getDimSize(2) / hkv;
  inferred.push_back(RankedTensorType::get({1, t, h * dv}, q.getElementType()));
  return success();
}

LogicalResult KvAttentionOp::verify() {
  int64_t t = getQuery().getType().getDimSize(1);
  if (getPositions().getType().getShape() != ArrayRef<int64_t>{1, t} ||
      !getPositions().getType().getElementType().isInteger(64))
    return emitOpError("positions must be tensor<1x")
           << t << "xi64>, got " << getPositions().getType();
  // I64Attr getters are unsigned.
  int64_t slot = static_cast<int64_t>(getSlot());
  int64_t capacity = static_cast<int64_t>(getCapacity());
  if (slot < 0)
    return emitOpError("slot must be non-negative, got ") << slot;
  if (capacity < t)
    return emitOpError("capacity ")
           << capacity << " is smaller than the " << t << " new tokens";
  if (auto scale = getScale()) {
    float x = scale->convertToFloat();
    if (!(x > 0.0f) || !std::isfinite(x))
      return emitOpError("scale must be positive and finite, got ") << x;
  }
  return success();
}

int64_t KvAttentionOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) /
         static_cast<int64_t>(getNumHeads());
}

int64_t KvAttentionOp::getValueDim() {
  return getValue().getType().getDimSize(2) /
         static_cast<int64_t>(getNumKvHeads());
}

float KvAttentionOp::getEffectiveScale() {
  return attentionScale(getScale(), getHeadDim());
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  RankedTensorType in = getInput().getType();
  if (in.getRank() != 3)
    return emitOpError("input must have rank 3 ([batch, tokens, heads * "
                       "head_dim]), got ")
           << in;
  int64_t h = static_cast<int64_t>(getNumHeads());
  if (h <= 0)
    return emitOpError("num_heads must be positive, got ") << h;
  if (in.getDimSize(2) % h != 0)
    return emitOpError("input width ")
           << in.getDimSize(2) << " is not divisible by num_heads " << h;
  if ((in.getDimSize(2) / h) % 2 != 0)
    return emitOpError("head dim ")
           << in.getDimSize(2) / h << " must be even to rotate pairs";
  ArrayRef<int64_t> pos = getPositions().getType().getShape();
  int64_t b = in.getDimSize(0), t = in.getDimSize(1);
  if (pos != ArrayRef<int64_t>{t} && pos != ArrayRef<int64_t>{b, t})
    return emitOpError("positions must have shape [")
           << t << "] or [" << b << ", " << t << "], got "
           << getPositions().getType();
  float theta = getTheta().convertToFloat();
  if (!(theta > 0.0f) || !std::isfinite(theta))
    return emitOpError("theta must be positive and finite, got ") << theta;
  return success();
}

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

/// softmax and log_softmax: `axis` is inside the input's rank.
template <typename OpTy> static LogicalResult verifySoftmaxAxis(OpTy op) {
  int64_t rank = op.getInput().getType().getRank();
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (rank == 0 || !normalizeAxis(axis, rank))
    return op.emitOpError("axis ") << axis << " is out of range for input "
                                   << op.getInput().getType();
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifySoftmaxAxis(*this); }

LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxAxis(*this); }

//===----------------------------------------------------------------------===//
// TokenMergeOp
//===----------------------------------------------------------------------===//

LogicalResult TokenMergeOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<TokenMergeOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  if (x.getRank() != 3)
    return fail<TokenMergeOp>(
        loc, "input must have rank 3 ([batch, tokens, dim]), got ", x);
  int64_t b = x.getDimSize(0), t = x.getDimSize(1);
  ArrayRef<int64_t> m = tensorType(adaptor.getMetric()).getShape();
  if (m.size() != 3 || m[0] != b || m[1] != t)
    return fail<TokenMergeOp>(loc, "metric must have shape [", b, ", ", t,
                              ", M] to match the input, got ",
                              adaptor.getMetric().getType());
  if (tensorType(adaptor.getSizes()).getShape() != ArrayRef<int64_t>{b, t})
    return fail<TokenMergeOp>(loc, "sizes must have shape [", b, ", ", t,
                              "], got ", adaptor.getSizes().getType());
  int64_t r = static_cast<int64_t>(adaptor.getR());
  // Default-valued attributes may be absent from the adaptor's properties
  // while parsing; read the attribute and apply the default here.
  IntegerAttr protectedAttr = adaptor.getProtectedTokensAttr();
  int64_t p = protectedAttr ? protectedAttr.getInt() : 1;
  if (r <= 0)
    return fail<TokenMergeOp>(loc,
                              "r must be positive (a merge of 0 tokens is not "
                              "inserted), got ",
                              r);
  if (p < 0 || p > t)
    return fail<TokenMergeOp>(loc, "protected_tokens must be in [0, ", t,
                              "], got ", p);
  if (2 * r > t - p)
    return fail<TokenMergeOp>(loc, "r = ", r,
                              " exceeds floor((T - protected_tokens) / 2) = ",
                              (t - p) / 2, " for T = ", t);
  Type elt = x.getElementType();
  inferred.push_back(RankedTensorType::get({b, t - r, x.getDimSize(2)}, elt));
  inferred.push_back(RankedTensorType::get(
      {b, t - r}, tensorType(adaptor.getSizes()).getElementType()));
  if (Value received = adaptor.getReceived()) {
    if (tensorType(received).getShape() != ArrayRef<int64_t>{b, t})
      return fail<TokenMergeOp>(loc, "received must have shape [", b, ", ", t,
                                "], got ", received.getType());
  }
  if (Value source = adaptor.getSource()) {
    RankedTensorType st = tensorType(source);
    if (st.getRank() != 2 || st.getDimSize(0) != b ||
        !st.getElementType().isInteger(64) || st.getDimSize(1) < t)
      return fail<TokenMergeOp>(loc, "source must be an int64 [", b,
                                ", T0] map with T0 >= ", t, ", got ",
                                source.getType());
    inferred.push_back(st);
  }
  return success();
}

LogicalResult TokenMergeOp::verify() {
  if (getMethod() == MergeMethod::mctf) {
    if (!getReceived())
      return emitOpError("method = mctf needs the attention each token "
                         "received (received operand)");
    for (auto [name, tau] : {std::make_pair("tau_sim", getTauSim()),
                             std::make_pair("tau_info", getTauInfo()),
                             std::make_pair("tau_size", getTauSize())})
      if (!(tau.convertToFloat() > 0.0f))
        return emitOpError(name) << " must be positive, got "
                                 << tau.convertToFloat();
  } else if (getReceived()) {
    return emitOpError("received is used by method = mctf only");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionReceivedOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionReceivedOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<AttentionReceivedOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType q = tensorType(adaptor.getQuery()),
                   k = tensorType(adaptor.getKey());
  if (q.getRank() != 3 || k.getRank() != 3)
    return fail<AttentionReceivedOp>(
        loc, "query and key must have rank 3 ([batch, tokens, heads * "
             "head_dim]), got ", q, ", ", k);
  int64_t b = q.getDimSize(0), s = k.getDimSize(1);
  int64_t h = static_cast<int64_t>(adaptor.getNumHeads());
  int64_t hkv = static_cast<int64_t>(adaptor.getNumKvHeads());
  if (k.getDimSize(0) != b)
    return fail<AttentionReceivedOp>(loc, "batch sizes differ: query ", b,
                                     ", key ", k.getDimSize(0));
  if (h <= 0 || hkv <= 0 || h % hkv != 0 || q.getDimSize(2) % h != 0 ||
      k.getDimSize(2) % hkv != 0 ||
      q.getDimSize(2) / h != k.getDimSize(2) / hkv)
    return fail<AttentionReceivedOp>(
        loc, "heads (", h, ", ", hkv, ") do not split query width ",
        q.getDimSize(2), " and key width ", k.getDimSize(2),
        " into one head dim");
  if (Value sizes = adaptor.getSizes())
    if (tensorType(sizes).getShape() != ArrayRef<int64_t>{b, s})
      return fail<AttentionReceivedOp>(loc, "sizes must have shape [", b,
                                       ", ", s, "], got ", sizes.getType());
  inferred.push_back(RankedTensorType::get({b, s}, q.getElementType()));
  return success();
}

int64_t AttentionReceivedOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) /
         static_cast<int64_t>(getNumHeads());
}

float AttentionReceivedOp::getEffectiveScale() {
  return attentionScale(getScale(), getHeadDim());
}

//===----------------------------------------------------------------------===//
// GroupMeanOp
//===----------------------------------------------------------------------===//

LogicalResult GroupMeanOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<GroupMeanOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  if (x.getRank() != 3)
    return fail<GroupMeanOp>(
        loc, "input must have rank 3 ([batch, tokens, dim]), got ", x);
  ArrayRef<int64_t> bt = x.getShape().take_front(2);
  RankedTensorType g = tensorType(adaptor.getGroups());
  if (g.getShape() != bt || !g.getElementType().isInteger(64))
    return fail<GroupMeanOp>(loc, "groups must be int64 [", bt[0], ", ",
                             bt[1], "], got ", g);
  if (tensorType(adaptor.getWeights()).getShape() != bt)
    return fail<GroupMeanOp>(loc, "weights must have shape [", bt[0], ", ",
                             bt[1], "], got ", adaptor.getWeights().getType());
  int64_t n = static_cast<int64_t>(adaptor.getNumGroups());
  if (n <= 0 || n > bt[1])
    return fail<GroupMeanOp>(loc, "num_groups must be in [1, ", bt[1],
                             "], got ", n);
  inferred.push_back(
      RankedTensorType::get({bt[0], n, x.getDimSize(2)}, x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// UnmergeOp
//===----------------------------------------------------------------------===//

LogicalResult UnmergeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<UnmergeOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  RankedTensorType m = tensorType(adaptor.getSource());
  if (x.getRank() != 3)
    return fail<UnmergeOp>(
        loc, "input must have rank 3 ([batch, tokens, dim]), got ", x);
  if (m.getRank() != 2 || m.getDimSize(0) != x.getDimSize(0) ||
      !m.getElementType().isInteger(64))
    return fail<UnmergeOp>(loc, "source must be an int64 [",
                           x.getDimSize(0), ", T0] map, got ", m);
  inferred.push_back(RankedTensorType::get(
      {x.getDimSize(0), m.getDimSize(1), x.getDimSize(2)},
      x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Broadcasting elementwise ops
//===----------------------------------------------------------------------===//

template <typename OpTy>
static LogicalResult inferBroadcast(std::optional<Location> loc,
                                    ValueRange operands,
                                    ArrayRef<StringRef> names, Type elementType,
                                    SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<OpTy>(loc, operands)))
    return failure();
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    auto next = broadcastShapes(shape, tensorType(v).getShape());
    if (!next) {
      std::string all;
      for (auto [w, name] : llvm::zip(operands, names))
        all += (all.empty() ? "" : ", ") + name.str() + " " + shapeOf(w);
      return fail<OpTy>(loc, "operand shapes are not broadcast-compatible: ",
                        all);
    }
    shape = *next;
  }
  inferred.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

#define SLIM_BINARY_INFER(OP)                                                  \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &inferred) {        \
    ValueRange operands = adaptor.getOperands();                               \
    if (failed(staticTensors<OP>(loc, operands)) ||                            \
        failed(sameElementType<OP>(loc, operands, {"lhs", "rhs"})))            \
      return failure();                                                        \
    return inferBroadcast<OP>(loc, operands, {"lhs", "rhs"},                   \
                              tensorType(adaptor.getLhs()).getElementType(),   \
                              inferred);                                       \
  }
SLIM_BINARY_INFER(AddOp)
SLIM_BINARY_INFER(SubOp)
SLIM_BINARY_INFER(MulOp)
SLIM_BINARY_INFER(DivOp)
SLIM_BINARY_INFER(PowOp)
SLIM_BINARY_INFER(MaxOp)
SLIM_BINARY_INFER(MinOp)
#undef SLIM_BINARY_INFER

OpFoldResult AddOp::fold(FoldAdaptor) {
  // x + 0 -> x, when the zero does not broadcast x to a larger shape.
  if (getLhs().getType() == getType() && isSplatFloat(getRhs(), 0.0))
    return getLhs();
  return {};
}

OpFoldResult MulOp::fold(FoldAdaptor) {
  // x * 1 -> x, when the one does not broadcast x to a larger shape.
  if (getLhs().getType() == getType() && isSplatFloat(getRhs(), 1.0))
    return getLhs();
  return {};
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  ValueRange operands = adaptor.getOperands();
  if (failed(staticTensors<CompareOp>(loc, operands)) ||
      failed(sameElementType<CompareOp>(loc, operands, {"lhs", "rhs"})))
    return failure();
  return inferBroadcast<CompareOp>(loc, operands, {"lhs", "rhs"},
                                   IntegerType::get(ctx, 1), inferred);
}

LogicalResult LogicOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  ValueRange operands = adaptor.getOperands();
  if (failed(staticTensors<LogicOp>(loc, operands)))
    return failure();
  return inferBroadcast<LogicOp>(loc, operands, {"lhs", "rhs"},
                                 IntegerType::get(ctx, 1), inferred);
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  ValueRange operands = adaptor.getOperands();
  if (failed(staticTensors<WhereOp>(loc, operands)) ||
      failed(sameElementType<WhereOp>(
          loc, {adaptor.getLhs(), adaptor.getRhs()}, {"lhs", "rhs"})))
    return failure();
  return inferBroadcast<WhereOp>(loc, operands, {"condition", "lhs", "rhs"},
                                 tensorType(adaptor.getLhs()).getElementType(),
                                 inferred);
}

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<MatMulOp>(loc, adaptor.getOperands())) ||
      failed(sameElementType<MatMulOp>(loc, adaptor.getOperands(),
                                       {"lhs", "rhs"})))
    return failure();
  ArrayRef<int64_t> a = tensorType(adaptor.getLhs()).getShape();
  ArrayRef<int64_t> b = tensorType(adaptor.getRhs()).getShape();
  if (a.size() < 2 || b.size() < 2)
    return fail<MatMulOp>(loc, "operands must have rank >= 2, got lhs ",
                          formatShape(a), " and rhs ", formatShape(b));
  if (a.back() != b[b.size() - 2])
    return fail<MatMulOp>(loc, "contraction sizes differ: lhs ",
                          formatShape(a), " has K = ", a.back(), ", rhs ",
                          formatShape(b), " has K = ", b[b.size() - 2]);
  auto batch = broadcastShapes(a.drop_back(2), b.drop_back(2));
  if (!batch)
    return fail<MatMulOp>(loc, "batch axes ", formatShape(a.drop_back(2)),
                          " and ", formatShape(b.drop_back(2)),
                          " are not broadcast-compatible");
  SmallVector<int64_t> shape = *batch;
  shape.push_back(a[a.size() - 2]);
  shape.push_back(b.back());
  inferred.push_back(RankedTensorType::get(
      shape, tensorType(adaptor.getLhs()).getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<TransposeOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  if (static_cast<int64_t>(perm.size()) != in.getRank())
    return fail<TransposeOp>(loc, "permutation ", formatShape(perm), " has ",
                             perm.size(), " entries for input ", in);
  if (!isPermutation(perm))
    return fail<TransposeOp>(loc, "permutation ", formatShape(perm),
                             " is not a permutation of [0, ", perm.size(),
                             ")");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(in.getDimSize(p));
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return getInput();
  // transpose(transpose(x, p1), p2) -> transpose(x, p1 ∘ p2).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> innerPerm = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(innerPerm[p]);
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
      return getInput();
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("must keep the element type, got ")
           << in.getElementType() << " -> " << out.getElementType();
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("must keep the element count: ")
           << in << " has " << in.getNumElements() << " elements, " << out
           << " has " << out.getNumElements();
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) -> reshape(x).
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// BroadcastOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("must keep the element type, got ")
           << in.getElementType() << " -> " << out.getElementType();
  auto shape = broadcastShapes(in.getShape(), out.getShape());
  if (!shape || ArrayRef<int64_t>(*shape) != out.getShape())
    return emitOpError("cannot broadcast ")
           << formatShape(in.getShape()) << " to "
           << formatShape(out.getShape());
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// ReduceMeanOp
//===----------------------------------------------------------------------===//

/// reduce_mean and reduce: the input's shape without (or with extent 1 at,
/// under keepdims) the reduced axes.
template <typename OpTy>
static LogicalResult inferReduction(std::optional<Location> loc,
                                    typename OpTy::Adaptor adaptor,
                                    SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<OpTy>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes();
  if (axes.empty())
    return fail<OpTy>(loc, "axes must not be empty");
  SmallVector<bool> reduced(in.getRank(), false);
  for (int64_t a : axes) {
    auto n = normalizeAxis(a, in.getRank());
    if (!n)
      return fail<OpTy>(loc, "axis ", a, " is out of range for input ",
                                in);
    if (reduced[*n])
      return fail<OpTy>(loc, "axis ", *n, " appears twice in axes ",
                                formatShape(axes));
    reduced[*n] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    if (!reduced[i])
      shape.push_back(in.getDimSize(i));
    else if (!adaptor.getKeepdimsAttr() || adaptor.getKeepdimsAttr().getValue())
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  return inferReduction<ReduceMeanOp>(loc, adaptor, inferred);
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  return inferReduction<ReduceOp>(loc, adaptor, inferred);
}

LogicalResult ArgReduceOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<ArgReduceOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput());
  auto axis = normalizeAxis(adaptor.getAxis(), in.getRank());
  if (!axis || in.getRank() == 0)
    return fail<ArgReduceOp>(loc, "axis ", adaptor.getAxis(),
                             " is out of range for input ", in);
  if (in.getDimSize(*axis) == 0)
    return fail<ArgReduceOp>(loc, "axis ", *axis,
                             " is empty: there is no index to return");
  SmallVector<int64_t> shape;
  bool keep = !adaptor.getKeepdimsAttr() || adaptor.getKeepdimsAttr().getValue();
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (i != *axis)
      shape.push_back(in.getDimSize(i));
    else if (keep)
      shape.push_back(1);
  inferred.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// PadOp
//===----------------------------------------------------------------------===//

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<PadOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput());
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = in.getRank();
  if (int64_t(pads.size()) != 2 * rank)
    return fail<PadOp>(loc, "pads has ", pads.size(),
                       " entries; an input of rank ", rank, " needs ",
                       2 * rank);
  PadMode mode = adaptor.getMode();
  SmallVector<int64_t> shape;
  for (int64_t a = 0; a < rank; ++a) {
    int64_t before = pads[a], after = pads[a + rank], d = in.getDimSize(a);
    if (before < 0 || after < 0)
      return fail<PadOp>(loc, "pads of axis ", a, " are ", before, " and ",
                         after, "; they must be ≥ 0 (crop with slim.slice)");
    if (mode != PadMode::constant && d == 0 && before + after > 0)
      return fail<PadOp>(loc, "axis ", a, " is empty: ",
                         stringifyPadMode(mode), " padding has nothing to "
                         "repeat");
    if (mode == PadMode::reflect && (before >= d || after >= d) &&
        before + after > 0)
      return fail<PadOp>(loc, "reflect pads of axis ", a, " (", before, ", ",
                         after, ") must be smaller than its extent ", d);
    shape.push_back(d + before + after);
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// GatherOp, GatherElementsOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<GatherOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput()),
                   idx = tensorType(adaptor.getIndices());
  auto axis = normalizeAxis(adaptor.getAxis(), in.getRank());
  if (!axis || in.getRank() == 0)
    return fail<GatherOp>(loc, "axis ", adaptor.getAxis(),
                          " is out of range for input ", in);
  if (in.getDimSize(*axis) == 0 && idx.getNumElements() > 0)
    return fail<GatherOp>(loc, "axis ", *axis,
                          " is empty: no index can select from it");
  SmallVector<int64_t> shape(in.getShape().take_front(*axis));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, in.getShape().drop_front(*axis + 1));
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<GatherElementsOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput()),
                   idx = tensorType(adaptor.getIndices());
  auto axis = normalizeAxis(adaptor.getAxis(), in.getRank());
  if (!axis || in.getRank() == 0)
    return fail<GatherElementsOp>(loc, "axis ", adaptor.getAxis(),
                                  " is out of range for input ", in);
  if (idx.getRank() != in.getRank())
    return fail<GatherElementsOp>(loc, "indices of rank ", idx.getRank(),
                                  " for an input of rank ", in.getRank());
  for (int64_t a = 0; a < in.getRank(); ++a)
    if (a != *axis && idx.getDimSize(a) > in.getDimSize(a))
      return fail<GatherElementsOp>(loc, "indices extent ", idx.getDimSize(a),
                                    " on axis ", a, " exceeds the input's ",
                                    in.getDimSize(a));
  inferred.push_back(RankedTensorType::get(idx.getShape(), in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ResizeOp
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::verify() {
  RankedTensorType in = getInput().getType(), out = getResult().getType();
  ArrayRef<float> scales = getScales();
  if (in.getRank() != out.getRank())
    return emitOpError("result rank ")
           << out.getRank() << " differs from the input's " << in.getRank();
  if (int64_t(scales.size()) != in.getRank())
    return emitOpError("has ")
           << scales.size() << " scales for an input of rank "
           << in.getRank();
  for (int64_t a = 0; a < in.getRank(); ++a) {
    if (!(scales[a] > 0.0f) || !std::isfinite(scales[a]))
      return emitOpError("scale ") << scales[a] << " of axis " << a
                                   << " is not positive";
    if (in.getDimSize(a) == 0 && out.getDimSize(a) != 0)
      return emitOpError("axis ") << a << " is empty: there is nothing to "
                                         "interpolate";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<SliceOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType in = tensorType(adaptor.getInput());
  ArrayRef<int64_t> offsets = adaptor.getOffsets(), sizes = adaptor.getSizes(),
                    strides = adaptor.getStrides();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(offsets.size()) != rank ||
      static_cast<int64_t>(sizes.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank)
    return fail<SliceOp>(loc, "offsets, sizes and strides must have one entry "
                              "per axis of ",
                         in, ", got ", offsets.size(), ", ", sizes.size(),
                         " and ", strides.size());
  for (int64_t i = 0; i < rank; ++i) {
    if (strides[i] < 1 || offsets[i] < 0 || sizes[i] < 0)
      return fail<SliceOp>(loc, "axis ", i, ": offset ", offsets[i], ", size ",
                           sizes[i], " and stride ", strides[i],
                           " must be non-negative (stride >= 1)");
    int64_t end = sizes[i] == 0 ? offsets[i]
                                : offsets[i] + (sizes[i] - 1) * strides[i] + 1;
    if (end > in.getDimSize(i))
      return fail<SliceOp>(loc, "axis ", i, ": the slice reads up to index ",
                           end - 1, " but the input extent is ",
                           in.getDimSize(i));
  }
  inferred.push_back(RankedTensorType::get(sizes, in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return fail<ConcatOp>(loc, "needs at least one input");
  if (failed(staticTensors<ConcatOp>(loc, inputs)))
    return failure();
  RankedTensorType first = tensorType(inputs.front());
  int64_t rank = first.getRank();
  auto axis = normalizeAxis(static_cast<int64_t>(adaptor.getAxis()), rank);
  if (!axis)
    return fail<ConcatOp>(loc, "axis ", static_cast<int64_t>(adaptor.getAxis()),
                          " is out of range for rank ", rank, " inputs");
  SmallVector<int64_t> shape(first.getShape());
  shape[*axis] = 0;
  for (auto [i, v] : llvm::enumerate(inputs)) {
    RankedTensorType t = tensorType(v);
    if (t.getElementType() != first.getElementType())
      return fail<ConcatOp>(loc, "input ", i, " has element type ",
                            t.getElementType(), ", input 0 has ",
                            first.getElementType());
    if (t.getRank() != rank)
      return fail<ConcatOp>(loc, "input ", i, " has rank ", t.getRank(),
                            ", input 0 has rank ", rank);
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && t.getDimSize(d) != first.getDimSize(d))
        return fail<ConcatOp>(loc, "input ", i, " has extent ",
                              t.getDimSize(d), " along axis ", d,
                              ", input 0 has ", first.getDimSize(d));
    shape[*axis] += t.getDimSize(*axis);
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

#define GET_OP_CLASSES
#include "dialects/slim/IR/SlimOps.cpp.inc"

//===----------------------------------------------------------------------===//
// ClampOp
//===----------------------------------------------------------------------===//

LogicalResult ClampOp::verify() {
  float lo = getMin().convertToFloat(), hi = getMax().convertToFloat();
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    return emitOpError("min ") << lo << " must not exceed max " << hi;
  return success();
}

//===----------------------------------------------------------------------===//
// CostOpInterface
//===----------------------------------------------------------------------===//

#include "dialects/slim/IR/SlimInterfaces.cpp.inc"

int64_t LinearOp::getMacs() {
  return getType().getNumElements() * getWeight().getType().getDimSize(1);
}

int64_t QLinearOp::getMacs() {
  return getType().getNumElements() * getWeight().getType().getDimSize(1);
}

int64_t MatMulOp::getMacs() {
  return getType().getNumElements() * getLhs().getType().getShape().back();
}

int64_t AttentionOp::getMacs() {
  // q·kᵀ (d per pair) and p·v (dv per pair) over the (query, key) pairs
  // computed: all, or with a causal mask those it leaves visible (query t
  // sees keys 0 … t + S − T).
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  int64_t s = getKey().getType().getDimSize(1);
  int64_t heads = static_cast<int64_t>(getNumHeads());
  int64_t dv = getValue().getType().getShape()[2] /
               static_cast<int64_t>(getNumKvHeads());
  int64_t pairs = q[1] * s;
  if (getCausal()) {
    pairs = 0;
    for (int64_t t = 0; t < q[1]; ++t)
      pairs += std::clamp<int64_t>(t + s - q[1] + 1, 0, s);
  }
  return q[0] * heads * pairs * (getHeadDim() + dv);
}

int64_t AttentionReceivedOp::getMacs() {
  // q·kᵀ of every (query, key) pair; the probabilities are summed, not
  // multiplied by values.
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  int64_t s = getKey().getType().getDimSize(1);
  return q[0] * static_cast<int64_t>(getNumHeads()) * q[1] * s * getHeadDim();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// The output extents [OH, OW] of a 2-D window over x [B, C, H, W]: checks
/// the window attributes (two kernel extents, strides and dilations, four
/// pads, all positive but the pads, which are ≥ 0) and that a window fits.
template <typename OpTy>
static FailureOr<std::array<int64_t, 2>>
windowOutput(std::optional<Location> loc, RankedTensorType x,
             ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
             ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
             bool ceilMode) {
  if (x.getRank() != 4)
    return fail<OpTy>(loc, "input must be [B, C, H, W], got ", x);
  auto positive = [](ArrayRef<int64_t> v) {
    return llvm::all_of(v, [](int64_t e) { return e > 0; });
  };
  if (kernel.size() != 2 || !positive(kernel))
    return fail<OpTy>(loc, "kernel must be two positive extents, got ",
                      formatShape(kernel));
  if (strides.size() != 2 || !positive(strides))
    return fail<OpTy>(loc, "strides must be two positive values, got ",
                      formatShape(strides));
  if (dilations.size() != 2 || !positive(dilations))
    return fail<OpTy>(loc, "dilations must be two positive values, got ",
                      formatShape(dilations));
  if (pads.size() != 4 ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return fail<OpTy>(loc,
                      "pads must be four values ≥ 0 [top, left, bottom, "
                      "right], got ",
                      formatShape(pads));
  std::array<int64_t, 2> out;
  for (int a = 0; a < 2; ++a) {
    int64_t in = x.getDimSize(2 + a);
    int64_t span = in + pads[a] + pads[a + 2] - dilations[a] * (kernel[a] - 1);
    if (span < 1)
      return fail<OpTy>(loc, "a ", formatShape(kernel), " window with dilations ",
                        formatShape(dilations), " does not fit input ", x,
                        " padded by ", formatShape(pads));
    int64_t o = (span - 1) / strides[a] + 1;
    if (ceilMode) {
      o = (span - 1 + strides[a] - 1) / strides[a] + 1;
      // No window starts in the trailing padding.
      if ((o - 1) * strides[a] >= in + pads[a])
        --o;
    }
    out[a] = o;
  }
  return out;
}

LogicalResult Im2ColOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<Im2ColOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  ArrayRef<int64_t> k = adaptor.getKernel();
  auto out = windowOutput<Im2ColOp>(loc, x, k, adaptor.getStrides(),
                                    adaptor.getPads(), adaptor.getDilations(),
                                    /*ceilMode=*/false);
  if (failed(out))
    return failure();
  inferred.push_back(RankedTensorType::get(
      {x.getDimSize(0), (*out)[0] * (*out)[1], x.getDimSize(1) * k[0] * k[1]},
      x.getElementType()));
  return success();
}

LogicalResult Col2ImOp::verify() {
  auto cols = cast<RankedTensorType>(getInput().getType());
  auto y = cast<RankedTensorType>(getResult().getType());
  if (cols.getRank() != 3 || !cols.hasStaticShape() || y.getRank() != 4 ||
      !y.hasStaticShape())
    return emitOpError("takes static [B, OH·OW, C·kh·kw] patches to a [B, "
                       "C, H, W] image, got ")
           << cols << " -> " << y;
  auto out = windowOutput<Col2ImOp>(getLoc(), y, getKernel(), getStrides(),
                                    getPads(), getDilations(),
                                    /*ceilMode=*/false);
  if (failed(out))
    return failure();
  ArrayRef<int64_t> k = getKernel();
  if (cols.getDimSize(0) != y.getDimSize(0) ||
      cols.getDimSize(1) != (*out)[0] * (*out)[1] ||
      cols.getDimSize(2) != y.getDimSize(1) * k[0] * k[1])
    return emitOpError("patches ")
           << cols << " are not the im2col of " << y << " ("
           << (*out)[0] << " x " << (*out)[1] << " window positions of "
           << y.getDimSize(1) << " x " << k[0] << " x " << k[1] << ")";
  if (Value b = getBias();
      b && cast<RankedTensorType>(b.getType()).getShape() !=
               ArrayRef<int64_t>{y.getDimSize(1)})
    return emitOpError("bias must be [") << y.getDimSize(1) << "], got "
                                         << b.getType();
  return success();
}

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<Conv2dOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  RankedTensorType w = tensorType(adaptor.getWeight());
  if (w.getRank() != 4)
    return fail<Conv2dOp>(loc, "weight must be [D, C / groups, kh, kw], got ",
                          w);
  int64_t groups = adaptor.getGroups();
  const bool last = adaptor.getChannelsLast();
  if (last && x.getRank() == 4) {
    // The window arithmetic below reads NCHW.
    x = RankedTensorType::get({x.getDimSize(0), x.getDimSize(3),
                               x.getDimSize(1), x.getDimSize(2)},
                              x.getElementType());
    if (w.getDimSize(1) != 1 || w.getDimSize(0) != x.getDimSize(1) ||
        groups != x.getDimSize(1))
      return fail<Conv2dOp>(loc, "channels_last takes a depthwise "
                                 "convolution (one input channel per "
                                 "output channel), got weight ",
                            w, " in ", groups, " groups");
  }
  if (x.getRank() == 4 &&
      (groups < 1 || x.getDimSize(1) % groups || w.getDimSize(0) % groups ||
       w.getDimSize(1) != x.getDimSize(1) / groups))
    return fail<Conv2dOp>(loc, "weight ", w, " does not convolve input ", x,
                          " in ", groups, " groups");
  if (Value bias = adaptor.getBias()) {
    auto bt = tensorType(bias);
    if (bt.getRank() != 1 || bt.getDimSize(0) != w.getDimSize(0))
      return fail<Conv2dOp>(loc, "bias must be [", w.getDimSize(0), "], got ",
                            bt);
  }
  auto out = windowOutput<Conv2dOp>(
      loc, x, {w.getDimSize(2), w.getDimSize(3)}, adaptor.getStrides(),
      adaptor.getPads(), adaptor.getDilations(), /*ceilMode=*/false);
  if (failed(out))
    return failure();
  inferred.push_back(RankedTensorType::get(
      last ? ArrayRef<int64_t>{x.getDimSize(0), (*out)[0], (*out)[1],
                               w.getDimSize(0)}
           : ArrayRef<int64_t>{x.getDimSize(0), w.getDimSize(0), (*out)[0],
                               (*out)[1]},
      x.getElementType()));
  return success();
}

int64_t Conv2dOp::getMacs() {
  auto w = getWeight().getType().getShape();
  return getType().getNumElements() * w[1] * w[2] * w[3];
}

LogicalResult Pool2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(staticTensors<Pool2dOp>(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType x = tensorType(adaptor.getInput());
  ArrayRef<int64_t> k = adaptor.getKernel(), pads = adaptor.getPads();
  auto out = windowOutput<Pool2dOp>(loc, x, k, adaptor.getStrides(), pads,
                                    adaptor.getDilations(),
                                    adaptor.getCeilMode());
  if (failed(out))
    return failure();
  if (pads.size() == 4 &&
      (pads[0] >= k[0] || pads[2] >= k[0] || pads[1] >= k[1] ||
       pads[3] >= k[1]))
    return fail<Pool2dOp>(loc, "pads ", formatShape(pads),
                          " must be smaller than the kernel ",
                          formatShape(k));
  inferred.push_back(RankedTensorType::get(
      {x.getDimSize(0), x.getDimSize(1), (*out)[0], (*out)[1]},
      x.getElementType()));
  return success();
}

SmallVector<int64_t, 14> mlir::slim::windowOf(Operation *op) {
  auto x = cast<RankedTensorType>(op->getOperand(0).getType()).getShape();
  auto y = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  auto ints = [&](StringRef name) {
    return cast<DenseI64ArrayAttr>(op->getAttr(name)).asArrayRef();
  };
  SmallVector<int64_t, 2> kernel;
  if (auto conv = dyn_cast<Conv2dOp>(op))
    kernel = {conv.getWeight().getType().getDimSize(2),
              conv.getWeight().getType().getDimSize(3)};
  else
    kernel = llvm::to_vector<2>(ints("kernel"));
  ArrayRef<int64_t> s = ints("strides"), p = ints("pads"),
                    d = ints("dilations");
  int64_t outH, outW;
  if (isa<Col2ImOp>(op)) {
    // The window runs over the result image.
    auto out = windowOutput<Col2ImOp>(
        std::nullopt, cast<RankedTensorType>(op->getResult(0).getType()),
        kernel, s, p, d, false);
    return {y[0], y[1],  y[2], y[3], kernel[0], kernel[1], s[0],
            s[1], p[0],  p[1], d[0], d[1],      (*out)[0], (*out)[1]};
  }
  if (isa<Im2ColOp>(op)) {
    // [B, OH·OW, C·kh·kw]: the extents come from the window arithmetic.
    auto out = windowOutput<Im2ColOp>(std::nullopt, cast<RankedTensorType>(
                                          op->getOperand(0).getType()),
                                      kernel, s, p, d, false);
    outH = (*out)[0];
    outW = (*out)[1];
  } else if (op->hasAttr("channels_last")) {
    // NHWC: the window in NCHW terms.
    return {x[0], x[3], x[1], x[2], kernel[0], kernel[1], s[0],
            s[1], p[0], p[1], d[0], d[1],      y[1],      y[2]};
  } else {
    outH = y[2];
    outW = y[3];
  }
  return {x[0], x[1],  x[2], x[3], kernel[0], kernel[1], s[0],
          s[1], p[0],  p[1], d[0], d[1],      outH,      outW};
}
