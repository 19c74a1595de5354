//===- Executor.cpp - the reference executor ------------------------------===//

#include "reference/Executor.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

using namespace mlir;
using namespace mlir::slim;
namespace rt = ::slim::rt;

namespace {

rt::WindowShape window(Operation *op) {
  auto v = windowOf(op);
  return {v[0], v[1], v[2],  v[3],  v[4],  v[5],  v[6],
          v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
}

} // namespace

std::optional<rt::DType> mlir::slim::dtypeOf(Type elt) {
  if (elt.isF32())
    return rt::DType::F32;
  if (elt.isInteger(64))
    return rt::DType::I64;
  if (elt.isInteger(32))
    return rt::DType::I32;
  if (elt.isInteger(1))
    return rt::DType::Bool;
  if (elt.isInteger(8))
    return rt::DType::I8;
  // int4 weights are held one value per byte (0 … 15).
  if (elt.isInteger(4))
    return rt::DType::I8;
  return std::nullopt;
}

namespace {

rt::Shape shapeOf(Value v) {
  auto s = cast<RankedTensorType>(v.getType()).getShape();
  return rt::Shape(s.begin(), s.end());
}

} // namespace

Tensor mlir::slim::allocateFor(Value v) {
  Tensor t;
  auto type = cast<RankedTensorType>(v.getType());
  t.dtype = dtypeOf(type.getElementType()).value_or(rt::DType::F32);
  t.shape = shapeOf(v);
  t.data.assign(t.numElements() * rt::dtypeSize(t.dtype), 0);
  return t;
}

namespace {

const float *f32(const Tensor &t) {
  return reinterpret_cast<const float *>(t.data.data());
}
float *f32(Tensor &t) { return reinterpret_cast<float *>(t.data.data()); }

/// Indices as int64, whatever their integer width.
std::vector<int64_t> indices(const Tensor &t) {
  std::vector<int64_t> out(t.numElements());
  for (size_t k = 0; k < out.size(); ++k) {
    if (t.dtype == rt::DType::I64)
      std::memcpy(&out[k], t.data.data() + 8 * k, 8);
    else if (t.dtype == rt::DType::I32) {
      int32_t v;
      std::memcpy(&v, t.data.data() + 4 * k, 4);
      out[k] = v;
    } else {
      out[k] = int8_t(t.data[k]);
    }
  }
  return out;
}

} // namespace

FailureOr<Tensor> mlir::slim::constantTensor(arith::ConstantOp op) {
  Tensor t = allocateFor(op.getResult());
  size_t bytes = t.data.size();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(op.getValue())) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return op.emitError("weight blob '")
             << res.getRawHandle().getKey() << "' is missing or has "
             << (blob ? blob->getData().size() : 0) << " bytes, expected "
             << bytes;
    std::memcpy(t.data.data(), blob->getData().data(), bytes);
    return t;
  }
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense)
    return op.emitError("unsupported constant");
  if (t.dtype == rt::DType::Bool) {
    size_t k = 0;
    for (bool b : dense.getValues<bool>())
      t.data[k++] = b;
    return t;
  }
  size_t width = rt::dtypeSize(t.dtype);
  if (dense.isSplat()) {
    ArrayRef<char> raw = dense.getRawData();
    for (size_t k = 0; k < bytes; k += width)
      std::memcpy(t.data.data() + k, raw.data(), width);
  } else {
    std::memcpy(t.data.data(), dense.getRawData().data(), bytes);
  }
  return t;
}

rt::LinearAct mlir::slim::linearAct(std::optional<LinearActivation> act) {
  if (!act)
    return rt::LinearAct::None;
  switch (*act) {
  case LinearActivation::gelu_exact:
    return rt::LinearAct::GeluExact;
  case LinearActivation::gelu_tanh:
    return rt::LinearAct::GeluTanh;
  case LinearActivation::silu:
    return rt::LinearAct::Silu;
  case LinearActivation::relu:
    return rt::LinearAct::Relu;
  case LinearActivation::relu6:
    return rt::LinearAct::Relu6;
  case LinearActivation::hardswish:
    return rt::LinearAct::HardSwish;
  }
  return rt::LinearAct::None;
}

rt::LinearAct mlir::slim::linearAct(LinearOp op) {
  return linearAct(op.getActivation());
}

rt::LinearAct mlir::slim::linearAct(QLinearOp op) {
  return linearAct(op.getEpilogue());
}

rt::Unary mlir::slim::unaryKind(Operation *op) {
  return llvm::TypeSwitch<Operation *, rt::Unary>(op)
      .Case<GeluOp>([](GeluOp g) {
        return g.getApproximation() == GeluApproximation::tanh
                   ? rt::Unary::GeluTanh
                   : rt::Unary::GeluExact;
      })
      .Case<SiluOp>([](auto) { return rt::Unary::Silu; })
      .Case<ErfOp>([](auto) { return rt::Unary::Erf; })
      .Case<TanhOp>([](auto) { return rt::Unary::Tanh; })
      .Case<SqrtOp>([](auto) { return rt::Unary::Sqrt; })
      .Case<ExpOp>([](auto) { return rt::Unary::Exp; })
      .Case<SigmoidOp>([](auto) { return rt::Unary::Sigmoid; })
      .Case<ReluOp>([](auto) { return rt::Unary::Relu; })
      .Case<CosOp>([](auto) { return rt::Unary::Cos; })
      .Case<SinOp>([](auto) { return rt::Unary::Sin; })
      .Case<LogOp>([](auto) { return rt::Unary::Log; })
      .Case<AbsOp>([](auto) { return rt::Unary::Abs; })
      .Case<FloorOp>([](auto) { return rt::Unary::Floor; })
      .Case<CeilOp>([](auto) { return rt::Unary::Ceil; })
      .Case<RoundOp>([](auto) { return rt::Unary::Round; })
      .Default([](auto) { return rt::Unary::Neg; });
}

rt::Binary mlir::slim::binaryKind(Operation *op) {
  return isa<AddOp>(op)   ? rt::Binary::Add
         : isa<SubOp>(op) ? rt::Binary::Sub
         : isa<MulOp>(op) ? rt::Binary::Mul
         : isa<DivOp>(op) ? rt::Binary::Div
         : isa<MaxOp>(op) ? rt::Binary::Max
         : isa<MinOp>(op) ? rt::Binary::Min
                          : rt::Binary::Pow;
}

std::string mlir::slim::describe(Type type) {
  auto t = cast<RankedTensorType>(type);
  auto d = dtypeOf(t.getElementType());
  return std::string(d ? rt::dtypeName(*d) : "unsupported") + " " +
         formatShape(t.getShape());
}

std::string mlir::slim::describe(const Tensor &t) {
  return std::string(rt::dtypeName(t.dtype)) + " " + formatShape(t.shape);
}

std::string mlir::slim::argumentName(func::FuncOp func, unsigned index) {
  if (auto name = func.getArgAttrOfType<StringAttr>(index, "slim.name"))
    return name.str();
  return "arg" + std::to_string(index);
}

std::string mlir::slim::resultName(func::FuncOp func, unsigned index) {
  if (auto name = func.getResultAttrOfType<StringAttr>(index, "slim.name"))
    return name.str();
  return "result" + std::to_string(index);
}

const std::vector<float> &Executor::packed(Value weight) {
  auto it = packedWeights.find(weight);
  if (it != packedWeights.end())
    return it->second;
  const Tensor &w = get(weight);
  std::vector<float> wt(rt::packedLinearSize(w.shape[0], w.shape[1]));
  rt::packLinearWeight(f32(w), w.shape[0], w.shape[1], wt.data());
  return packedWeights[weight] = std::move(wt);
}

const std::vector<uint8_t> &Executor::packedQ(Value weight) {
  auto it = packedQWeights.find(weight);
  if (it != packedQWeights.end())
    return it->second;
  const Tensor &w = get(weight);
  std::vector<uint8_t> packed(rt::packedQLinearBytes(w.shape[0], w.shape[1]));
  rt::packQLinearWeight(reinterpret_cast<const int8_t *>(w.data.data()),
                        w.shape[0], w.shape[1], packed.data());
  return packedQWeights[weight] = std::move(packed);
}

LogicalResult Executor::run(func::FuncOp func, ArrayRef<Tensor> inputs,
                            std::vector<Tensor> &outputs) {
  values.clear();
  packedWeights.clear();
  Block &entry = func.getBody().front();
  if (inputs.size() != entry.getNumArguments())
    return func.emitError("expected ")
           << entry.getNumArguments() << " inputs, got " << inputs.size();
  for (auto [k, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = cast<RankedTensorType>(arg.getType());
    auto dtype = dtypeOf(type.getElementType());
    if (!dtype || *dtype != inputs[k].dtype ||
        ArrayRef<int64_t>(inputs[k].shape) != type.getShape())
      return func.emitError("input '")
             << argumentName(func, k) << "' must be " << describe(type)
             << ", got " << describe(inputs[k]);
    values[arg] = inputs[k];
  }
  return runBlock(entry, &outputs);
}

LogicalResult Executor::runBlock(Block &block, std::vector<Tensor> *results) {
  for (Operation &op : block) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        results->push_back(get(v));
      return success();
    }
    if (auto yield = dyn_cast<YieldOp>(op)) {
      results->push_back(get(yield.getValue()));
      return success();
    }
    if (failed(runOp(&op)))
      return failure();
  }
  return success();
}

void Executor::addResidual(Value residual, Tensor &out) {
  if (!residual)
    return;
  const float *r = f32(get(residual));
  float *y = f32(out);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i)
    y[i] += r[i];
}

LogicalResult Executor::runOp(Operation *op) {
  std::string error;
  auto kernelError = [&]() -> LogicalResult { return op->emitError(error); };
  Value result = op->getNumResults() ? op->getResult(0) : Value();

  if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
    auto t = constantTensor(cst);
    if (failed(t))
      return failure();
    values[result] = std::move(*t);
    return success();
  }
  if (auto res = dyn_cast<ResidualOp>(op)) {
    Block &body = res.getBody().front();
    // Copy first: inserting into `values` may move its elements.
    Tensor stream = get(res.getInput());
    values[body.getArgument(0)] = std::move(stream);
    std::vector<Tensor> branch;
    if (failed(runBlock(body, &branch)))
      return failure();
    Tensor out = allocateFor(result);
    const Tensor &x = get(res.getInput());
    if (res.getFused()) // the body's last linear added the input
      out = std::move(branch[0]);
    else
      rt::binary(rt::Binary::Add, f32(x), x.shape, f32(branch[0]),
                 branch[0].shape, f32(out), out.shape);
    if (onResidual)
      onResidual(res, x, out);
    if (onValue)
      onValue(op, out);
    values[result] = std::move(out);
    return success();
  }

  if (auto tm = dyn_cast<TokenMergeOp>(op)) {
    // Two results: the merged tokens and their sizes.
    const Tensor &x = get(tm.getInput()), &m = get(tm.getMetric());
    Tensor out = allocateFor(tm.getResult());
    Tensor outSizes = allocateFor(tm.getResultSizes());
    // With a source map, a third result: the map after this merge.
    std::vector<int64_t> source;
    Tensor outSource;
    if (tm.getSource()) {
      source = indices(get(tm.getSource()));
      outSource = allocateFor(tm.getResultSource());
    }
    rt::MergeOptions o;
    o.r = static_cast<int64_t>(tm.getR());
    o.protectedTokens = static_cast<int64_t>(tm.getProtectedTokens());
    o.mctf = tm.getMethod() == MergeMethod::mctf;
    o.received = tm.getReceived() ? f32(get(tm.getReceived())) : nullptr;
    o.tauSim = tm.getTauSim().convertToFloat();
    o.tauInfo = tm.getTauInfo().convertToFloat();
    o.tauSize = tm.getTauSize().convertToFloat();
    o.bidirectional = tm.getBidirectional();
    if (!source.empty()) {
      o.source = source.data();
      o.originalTokens = int64_t(source.size()) / x.shape[0];
      o.ySource = reinterpret_cast<int64_t *>(outSource.data.data());
    }
    rt::tokenMerge(f32(x), f32(m), f32(get(tm.getSizes())), x.shape[0],
                   x.shape[1], x.shape[2], m.shape[2], o, f32(out),
                   f32(outSizes));
    if (onValue)
      onValue(op, out);
    values[tm.getResult()] = std::move(out);
    values[tm.getResultSizes()] = std::move(outSizes);
    if (tm.getSource())
      values[tm.getResultSource()] = std::move(outSource);
    return success();
  }

  Tensor out = result ? allocateFor(result) : Tensor();
  auto operand = [&](unsigned k) -> const Tensor & {
    return get(op->getOperand(k));
  };
  LogicalResult status =
      llvm::TypeSwitch<Operation *, LogicalResult>(op)
          .Case<EmbeddingOp>([&](EmbeddingOp e) {
            const Tensor &table = get(e.getTable());
            std::vector<int64_t> idx = indices(get(e.getIndices()));
            if (!rt::embedding(f32(table), table.shape[0], table.shape[1],
                               idx.data(), idx.size(), f32(out), error))
              return kernelError();
            return success();
          })
          .Case<AttentionReceivedOp>([&](AttentionReceivedOp a) {
            const Tensor &q = get(a.getQuery()), &k = get(a.getKey());
            int64_t heads = static_cast<int64_t>(a.getNumHeads());
            int64_t kv = static_cast<int64_t>(a.getNumKvHeads());
            int64_t dh = a.getHeadDim();
            if (!rt::attentionReceived(
                    f32(q), f32(k),
                    a.getSizes() ? f32(get(a.getSizes())) : nullptr,
                    {q.shape[0], q.shape[1], k.shape[1], heads, kv, dh, dh},
                    a.getEffectiveScale(), f32(out), error))
              return kernelError();
            return success();
          })
          .Case<GroupMeanOp>([&](GroupMeanOp g) {
            const Tensor &x = get(g.getInput());
            std::vector<int64_t> groups = indices(get(g.getGroups()));
            if (!rt::groupMean(f32(x), groups.data(), f32(get(g.getWeights())),
                               x.shape[0], x.shape[1], out.shape[1],
                               x.shape[2], f32(out), error))
              return kernelError();
            return success();
          })
          .Case<UnmergeOp>([&](UnmergeOp u) {
            const Tensor &x = get(u.getInput());
            std::vector<int64_t> source = indices(get(u.getSource()));
            if (!rt::unmerge(f32(x), source.data(), x.shape[0], x.shape[1],
                             out.shape[1], x.shape[2], f32(out), error))
              return kernelError();
            return success();
          })
          .Case<LayerNormOp>([&](LayerNormOp ln) {
            const Tensor &x = get(ln.getInput());
            int64_t axis = ln.getNormalizedAxis();
            int64_t d = 1;
            for (size_t a = axis; a < x.shape.size(); ++a)
              d *= x.shape[a];
            const float *bias = ln.getBias() ? f32(get(ln.getBias())) : nullptr;
            if (!rt::layerNorm(f32(x), x.numElements() / d, d,
                               f32(get(ln.getScale())), bias,
                               ln.getEpsilon().convertToFloat(), f32(out),
                               error))
              return kernelError();
            return success();
          })
          .Case<RmsNormOp>([&](RmsNormOp rn) {
            const Tensor &x = get(rn.getInput());
            int64_t d = x.shape.back();
            const float *bias = rn.getBias() ? f32(get(rn.getBias())) : nullptr;
            if (!rt::rmsNorm(f32(x), x.numElements() / d, d,
                             f32(get(rn.getScale())), bias,
                             rn.getEpsilon().convertToFloat(), f32(out),
                             error))
              return kernelError();
            return success();
          })
          .Case<CrmsNormOp>([&](CrmsNormOp cn) {
            const Tensor &x = get(cn.getInput());
            int64_t w = x.shape.back();
            if (!rt::crmsNorm(f32(x), x.numElements() / w, w,
                              cn.getEpsilon().convertToFloat(), f32(out),
                              error))
              return kernelError();
            return success();
          })
          .Case<LinearOp>([&](LinearOp l) {
            const Tensor &x = get(l.getInput());
            auto w = l.getWeight().getType().getShape();
            const float *bias = l.getBias() ? f32(get(l.getBias())) : nullptr;
            if (!rt::linear(f32(x), x.numElements() / w[1], w[1],
                            packed(l.getWeight()).data(), bias, w[0],
                            f32(out), error, linearAct(l)))
              return kernelError();
            addResidual(l.getResidual(), out);
            return success();
          })
          .Case<QLinearOp>([&](QLinearOp q) -> LogicalResult {
            if (q.getWeight().getType().getElementType().isInteger(4) &&
                q.getAct() != QuantActivation::static_ &&
                q.getGroupSize() > 0) {
              const Tensor &x = get(q.getInput());
              auto w = q.getWeight().getType().getShape();
              int64_t group = static_cast<int64_t>(q.getGroupSize());
              auto &packed = packedQ4Weights[q.getWeight()];
              if (packed.empty()) {
                const Tensor &qt = get(q.getWeight());
                const Tensor &st = get(q.getScales());
                packed.resize(rt::packedQ4Bytes(
                    w[0], w[1], group, f32(st),
                    q.getZeroPoints() ? get(q.getZeroPoints()).data.data()
                                      : nullptr));
                rt::packQ4Weight(qt.data.data(), f32(st),
                                 q.getZeroPoints()
                                     ? get(q.getZeroPoints()).data.data()
                                     : nullptr,
                                 w[0], w[1], group, packed.data());
              }
              const float *bias = q.getBias() ? f32(get(q.getBias())) : nullptr;
              if (!rt::q4linear(f32(x), x.numElements() / w[1], w[1],
                                packed.data(), group, bias, w[0], f32(out),
                                error, linearAct(q),
                                q.getAct() == QuantActivation::dynamic))
                return kernelError();
              return success();
            }
            if (!q.isPerChannelInt8())
              return q.emitError("the reference executor runs int8 qlinear "
                                 "with per-channel weights and act = dynamic "
                                 "or static, and int4 group-wise with act = "
                                 "none or dynamic");
            const Tensor &input = get(q.getInput());
            auto w = q.getWeight().getType().getShape();
            const float *bias = q.getBias() ? f32(get(q.getBias())) : nullptr;
            // A norm folded in by slim-fuse-kernels: the rows normalized
            // first, as the op before it computed them.
            Tensor normalized;
            if (q.getNorm()) {
              normalized = allocateFor(q.getInput());
              const float *g = f32(get(q.getNormScale()));
              const float *nb =
                  q.getNormBias() ? f32(get(q.getNormBias())) : nullptr;
              float eps = q.getNormEps()->convertToFloat();
              int64_t rows = input.numElements() / w[1];
              bool ok = *q.getNorm() == PreNorm::layer_norm
                            ? rt::layerNorm(f32(input), rows, w[1], g, nb, eps,
                                            f32(normalized), error)
                            : rt::rmsNorm(f32(input), rows, w[1], g, nb, eps,
                                          f32(normalized), error);
              if (!ok)
                return kernelError();
            }
            const Tensor &x = q.getNorm() ? normalized : input;
            rt::qlinear(f32(x), x.numElements() / w[1], w[1],
                        packedQ(q.getWeight()).data(),
                        f32(get(q.getScales())), bias, w[0], f32(out),
                        linearAct(q),
                        q.getActScale() ? q.getActScale()->convertToFloat()
                                        : 0.0f);
            addResidual(q.getResidual(), out);
            return success();
          })
          .Case<AttentionOp>([&](AttentionOp a) {
            auto q = a.getQuery().getType().getShape();
            auto k = a.getKey().getType().getShape();
            int64_t heads = static_cast<int64_t>(a.getNumHeads());
            int64_t kvHeads = static_cast<int64_t>(a.getNumKvHeads());
            rt::AttentionShape s{q[0], q[1], k[1], heads, kvHeads,
                                 a.getHeadDim(),
                                 a.getValue().getType().getShape()[2] / kvHeads,
                                 a.getBias() ? cast<RankedTensorType>(a.getBias().getType()).getDimSize(0)
                                             : 0};
            const float *sizes = a.getSizes() ? f32(get(a.getSizes())) : nullptr;
            const float *bias =
                a.getKeyBias() ? f32(get(a.getKeyBias())) : nullptr;
            if (!rt::attention(f32(get(a.getQuery())), f32(get(a.getKey())),
                               f32(get(a.getValue())), sizes, bias,
                               a.getBias() ? f32(get(a.getBias())) : nullptr, s,
                               a.getCausal(),
                               a.getEffectiveScale(), f32(out), error,
                               a.getInt8()))
              return kernelError();
            return success();
          })
          .Case<RopeOp>([&](RopeOp r) {
            auto x = r.getInput().getType().getShape();
            std::vector<int64_t> pos = indices(get(r.getPositions()));
            int64_t heads = static_cast<int64_t>(r.getNumHeads());
            rt::rope(f32(get(r.getInput())), pos.data(),
                     r.getPositions().getType().getRank() == 2, x[0], x[1],
                     heads, x[2] / heads, r.getTheta().convertToFloat(),
                     r.getInterleaved(), f32(out));
            return success();
          })
          .Case<GeluOp, SiluOp, ErfOp, TanhOp, SqrtOp, ExpOp, SigmoidOp,
                NegOp, ReluOp, CosOp, SinOp, LogOp, AbsOp, FloorOp, CeilOp,
                RoundOp>([&](Operation *u) {
            rt::unary(unaryKind(u), f32(operand(0)), out.numElements(), f32(out));
            return success();
          })
          .Case<SiluMulOp>([&](SiluMulOp) {
            rt::siluMul(f32(operand(0)), f32(operand(1)), out.numElements(),
                        f32(out));
            return success();
          })
          .Case<ClampOp>([&](ClampOp c) {
            rt::clamp(f32(operand(0)), out.numElements(),
                      c.getMin().convertToFloat(), c.getMax().convertToFloat(),
                      f32(out));
            return success();
          })
          .Case<LeakyReluOp>([&](LeakyReluOp l) {
            rt::leakyRelu(f32(operand(0)), out.numElements(),
                          l.getAlpha().convertToFloat(), f32(out));
            return success();
          })
          .Case<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp>(
              [&](Operation *bop) {
            rt::binary(binaryKind(bop), f32(operand(0)), operand(0).shape,
                       f32(operand(1)), operand(1).shape, f32(out), out.shape);
            return success();
          })
          .Case<CompareOp>([&](CompareOp c) {
            const Tensor &l = operand(0), &r = operand(1);
            auto kind = static_cast<rt::Compare>(c.getKind());
            uint8_t *y = out.data.data();
            if (l.dtype == rt::DType::F32)
              rt::compare(kind, f32(l), l.shape, f32(r), r.shape, y, out.shape);
            else if (l.dtype == rt::DType::I64)
              rt::compare(kind, reinterpret_cast<const int64_t *>(l.data.data()),
                          l.shape,
                          reinterpret_cast<const int64_t *>(r.data.data()),
                          r.shape, y, out.shape);
            else
              rt::compare(kind, reinterpret_cast<const int32_t *>(l.data.data()),
                          l.shape,
                          reinterpret_cast<const int32_t *>(r.data.data()),
                          r.shape, y, out.shape);
            return success();
          })
          .Case<LogicOp>([&](LogicOp lo) {
            rt::logic(static_cast<rt::Logic>(lo.getKind()),
                      operand(0).data.data(), operand(0).shape,
                      operand(1).data.data(), operand(1).shape,
                      out.data.data(), out.shape);
            return success();
          })
          .Case<NotOp>([&](NotOp) {
            const Tensor &x = operand(0);
            for (size_t k = 0; k < x.data.size(); ++k)
              out.data[k] = x.data[k] == 0;
            return success();
          })
          .Case<WhereOp>([&](WhereOp w) {
            rt::where(operand(0).data.data(), operand(0).shape,
                      f32(operand(1)), operand(1).shape, f32(operand(2)),
                      operand(2).shape, f32(out), out.shape);
            return success();
          })
          .Case<Im2ColOp>([&](Im2ColOp op) {
            rt::im2col(f32(operand(0)), window(op), f32(out));
            return success();
          })
          .Case<Col2ImOp>([&](Col2ImOp c) {
            rt::col2im(f32(operand(0)),
                       c.getBias() ? f32(get(c.getBias())) : nullptr,
                       window(c), f32(out));
            return success();
          })
          .Case<Conv2dOp>([&](Conv2dOp c) {
            if (!rt::conv2d(f32(operand(0)), f32(operand(1)),
                            c.getBias() ? f32(get(c.getBias())) : nullptr,
                            window(c), c.getWeight().getType().getDimSize(0),
                            c.getGroups(), f32(out), c.getChannelsLast(),
                            error, linearAct(c.getActivation()),
                            c.getInt8(),
                            c.getInputScale()
                                ? c.getInputScale()->convertToFloat()
                                : 0.0f))
              return kernelError();
            return success();
          })
          .Case<Pool2dOp>([&](Pool2dOp p) {
            if (!rt::pool2d(p.getKind() == PoolKind::max, f32(operand(0)),
                            window(p), p.getPads()[2], p.getPads()[3],
                            p.getCountIncludePad(), f32(out), error))
              return kernelError();
            return success();
          })
          .Case<LogSoftmaxOp>([&](LogSoftmaxOp s) {
            int64_t rank = out.shape.size();
            rt::logSoftmax(f32(operand(0)), out.shape,
                           *normalizeAxis(static_cast<int64_t>(s.getAxis()),
                                          rank),
                           f32(out));
            return success();
          })
          .Case<SoftmaxOp>([&](SoftmaxOp s) {
            int64_t rank = out.shape.size();
            rt::softmax(f32(operand(0)), out.shape,
                        *normalizeAxis(static_cast<int64_t>(s.getAxis()), rank),
                        f32(out));
            return success();
          })
          .Case<ReduceOp>([&](ReduceOp r) {
            const Tensor &x = operand(0);
            rt::reduce(static_cast<rt::Reduce>(r.getKind()), f32(x), x.shape,
                       sortedAxes(r.getAxes(), x.shape.size()), f32(out));
            return success();
          })
          .Case<GatherOp, GatherElementsOp>([&](auto g) -> LogicalResult {
            const Tensor &x = operand(0);
            std::vector<int64_t> idx = indices(operand(1));
            int64_t axis = *normalizeAxis(static_cast<int64_t>(g.getAxis()),
                                          x.shape.size());
            size_t bytes = rt::dtypeSize(x.dtype);
            bool ok;
            if constexpr (std::is_same_v<decltype(g), GatherOp>)
              ok = rt::gather(x.data.data(), bytes, x.shape, axis, idx.data(),
                              int64_t(idx.size()), out.data.data(), error);
            else
              ok = rt::gatherElements(x.data.data(), bytes, x.shape, axis,
                                      idx.data(), operand(1).shape,
                                      out.data.data(), error);
            if (!ok)
              return kernelError();
            return success();
          })
          .Case<PadOp>([&](PadOp p) {
            const Tensor &x = operand(0);
            auto mode = static_cast<rt::PadMode>(p.getMode());
            std::vector<int64_t> pads(p.getPads().begin(), p.getPads().end());
            float value = p.getValue().convertToFloat();
            Type et = p.getInput().getType().getElementType();
            if (et.isInteger(32))
              rt::pad(mode, reinterpret_cast<const int32_t *>(x.data.data()),
                      x.shape, pads, int32_t(value),
                      reinterpret_cast<int32_t *>(out.data.data()));
            else if (et.isInteger(64))
              rt::pad(mode, reinterpret_cast<const int64_t *>(x.data.data()),
                      x.shape, pads, int64_t(value),
                      reinterpret_cast<int64_t *>(out.data.data()));
            else
              rt::pad(mode, f32(x), x.shape, pads, value, f32(out));
            return success();
          })
          .Case<ResizeOp>([&](ResizeOp r) {
            const Tensor &x = operand(0);
            rt::ResizeParams p{int(r.getMode()), int(r.getCoordinates()),
                               int(r.getNearestMode()),
                               r.getCubicCoeffA().convertToFloat(),
                               r.getExcludeOutside()};
            rt::resize(f32(x), x.shape, out.shape,
                       std::vector<float>(r.getScales().begin(),
                                          r.getScales().end()),
                       p, f32(out));
            return success();
          })
          .Case<ArgReduceOp>([&](ArgReduceOp a) {
            const Tensor &x = operand(0);
            rt::argReduce(a.getKind() == Extremum::max, f32(x), x.shape,
                          *normalizeAxis(static_cast<int64_t>(a.getAxis()),
                                         x.shape.size()),
                          a.getSelectLastIndex(),
                          reinterpret_cast<int64_t *>(out.data.data()));
            return success();
          })
          .Case<ReduceMeanOp>([&](ReduceMeanOp r) {
            const Tensor &x = operand(0);
            // The kernel keeps the reduced axes; the data is the same
            // without them.
            rt::reduceMean(f32(x), x.shape,
                           sortedAxes(r.getAxes(), x.shape.size()), f32(out));
            return success();
          })
          .Case<MatMulOp>([&](MatMulOp) {
            rt::matmul(f32(operand(0)), operand(0).shape, f32(operand(1)),
                       operand(1).shape, f32(out), out.shape);
            return success();
          })
          .Case<TransposeOp>([&](TransposeOp t) {
            const Tensor &x = operand(0);
            rt::transpose(x.data.data(), rt::dtypeSize(x.dtype), x.shape,
                          std::vector<int64_t>(t.getPermutation().begin(),
                                               t.getPermutation().end()),
                          out.data.data());
            return success();
          })
          .Case<ReshapeOp>([&](ReshapeOp) {
            out.data = operand(0).data;
            return success();
          })
          .Case<BroadcastOp>([&](BroadcastOp) {
            const Tensor &x = operand(0);
            rt::broadcastTo(x.data.data(), rt::dtypeSize(x.dtype), x.shape,
                            out.data.data(), out.shape);
            return success();
          })
          .Case<SliceOp>([&](SliceOp s) {
            const Tensor &x = operand(0);
            auto vec = [](ArrayRef<int64_t> a) {
              return std::vector<int64_t>(a.begin(), a.end());
            };
            rt::slice(x.data.data(), rt::dtypeSize(x.dtype), x.shape,
                      vec(s.getOffsets()), vec(s.getSizes()),
                      vec(s.getStrides()), out.data.data());
            return success();
          })
          .Case<ConcatOp>([&](ConcatOp c) {
            std::vector<const void *> xs;
            std::vector<rt::Shape> shapes;
            for (Value v : c.getInputs()) {
              xs.push_back(get(v).data.data());
              shapes.push_back(get(v).shape);
            }
            rt::concat(xs, shapes, rt::dtypeSize(out.dtype),
                       *normalizeAxis(static_cast<int64_t>(c.getAxis()),
                                      out.shape.size()),
                       out.data.data());
            return success();
          })
          .Default([&](Operation *other) {
            return other->emitError("the reference executor does not run '")
                   << other->getName() << "' yet";
          });
  if (failed(status))
    return failure();
  if (result && onValue)
    onValue(op, out);
  if (result)
    values[result] = std::move(out);
  return success();
}
