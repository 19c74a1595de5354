//===- Quantize.cpp - slim-quantize: int8 weights, dynamic activations ----===//
//
// docs/passes.md §4: every slim.linear with a constant f32 weight
// (except the head, unless asked) becomes slim.qlinear with int8 weights,
// symmetric per output channel (s_o = max(max_i |W[o,i]|, 1e-5) / 127,
// q = round(W / s_o) ∈ [−127, 127]) and per-token activation scales
// computed by the kernel (act = dynamic). Norms, softmax, activations,
// residual adds and the embedding gather stay in float.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Weights.h"

#include "reference/Executor.h"
#include "runtime/Kernels.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMQUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

constexpr llvm::StringLiteral kPrefix = "ptq: ";

/// The head: a linear whose result reaches a graph output through
/// reshapes only.
/// The first of `patterns` that `names` (an op's weight and ONNX node
/// names) contains, or null: the rule of the pass's `keep` and `int8`.
const std::string *namedBy(const std::string &names,
                           ArrayRef<std::string> patterns) {
  for (const std::string &k : patterns)
    if (!k.empty() && names.find(k) != std::string::npos)
      return &k;
  return nullptr;
}

bool isHead(LinearOp lin) {
  SmallVector<Value> work = {lin.getResult()};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isa<func::ReturnOp>(user))
        return true;
      if (isa<ReshapeOp>(user))
        work.push_back(user->getResult(0));
    }
  }
  return false;
}

/// Calibration statistics of the values a pass asks for, over every batch
/// (the reference executor on the current float model).
struct Calibration {
  /// max |x| over the whole tensor.
  llvm::DenseMap<Value, float> amax;
  /// max |x[..., j]| per channel (last axis), for SmoothQuant.
  llvm::DenseMap<Value, std::vector<float>> channelMax;
  /// The K largest |x| (a min-heap), K = ⌈(1 − p/100) · N⌉, for the p-th
  /// percentile.
  llvm::DenseMap<Value, std::vector<float>> top;
};

LogicalResult calibrate(ModuleOp module, StringRef path,
                        const llvm::DenseSet<Value> &tensors,
                        const llvm::DenseSet<Value> &channels,
                        double percentile, Calibration &c) {
  for (auto func : module.getOps<func::FuncOp>()) {
    std::vector<std::vector<Tensor>> batches;
    if (failed(loadCalibrationBatches(func, path, kPrefix, batches)))
      return failure();
    Executor exec;
    exec.onValue = [&](Operation *op, const Tensor &t) {
      Value v = op->getResult(0);
      if (t.dtype != ::slim::rt::DType::F32)
        return;
      const float *p = reinterpret_cast<const float *>(t.data.data());
      int64_t n = t.numElements();
      if (tensors.contains(v)) {
        float &m = c.amax[v];
        for (int64_t i = 0; i < n; ++i)
          m = std::max(m, std::fabs(p[i]));
        if (percentile > 0) {
          double total = double(n) * double(batches.size());
          size_t k = size_t(std::max(
              1.0, std::ceil((1.0 - percentile / 100.0) * total)));
          std::vector<float> &heap = c.top[v];
          for (int64_t i = 0; i < n; ++i) {
            float a = std::fabs(p[i]);
            if (heap.size() < k) {
              heap.push_back(a);
              std::push_heap(heap.begin(), heap.end(), std::greater<float>());
            } else if (a > heap.front()) {
              std::pop_heap(heap.begin(), heap.end(), std::greater<float>());
              heap.back() = a;
              std::push_heap(heap.begin(), heap.end(), std::greater<float>());
            }
          }
        }
      }
      if (channels.contains(v) && !t.shape.empty()) {
        int64_t d = t.shape.back();
        std::vector<float> &m = c.channelMax[v];
        m.resize(d, 0.0f);
        for (int64_t i = 0; i < n; ++i)
          m[i % d] = std::max(m[i % d], std::fabs(p[i]));
      }
    };
    for (const auto &batch : batches) {
      std::vector<Tensor> outputs;
      if (failed(exec.run(func, batch, outputs)))
        return failure();
    }
  }
  return success();
}

struct SlimQuantizePass
    : public mlir::slim::impl::SlimQuantizePassBase<SlimQuantizePass> {
  using SlimQuantizePassBase::SlimQuantizePassBase;

  /// SmoothQuant (§4.3): per channel j of every norm output X read only by
  /// linears, s_j = max|X_j|^α / max_o |W[o,j]|^(1−α) (≥ 1e-5, the max over
  /// every linear reading X); g' = g / s, b' = b / s, W'[:, j] = W[:, j]·s_j.
  LogicalResult smooth(ModuleOp module, ArrayRef<LinearOp> todo);

  void runOnOperation() override;
};

LogicalResult SlimQuantizePass::smooth(ModuleOp module,
                                       ArrayRef<LinearOp> todo) {
  // The norms to smooth and the linears reading each.
  llvm::MapVector<Operation *, SmallVector<LinearOp>> groups;
  llvm::DenseSet<Operation *> candidates;
  for (LinearOp lin : todo)
    candidates.insert(lin);
  for (LinearOp lin : todo) {
    Value x = lin.getInput();
    // A residual body's argument is the residual's input: a norm there
    // (Post-LN) also feeds the residual add.
    bool throughResidual = false;
    while (auto arg = dyn_cast<BlockArgument>(x)) {
      auto res = dyn_cast<ResidualOp>(arg.getOwner()->getParentOp());
      if (!res)
        break;
      x = res.getInput();
      throughResidual = true;
    }
    Operation *p = x.getDefiningOp();
    if (!p || !isa<LayerNormOp, RmsNormOp, CrmsNormOp>(p))
      continue; // o / down projections: not smoothed
    if (throughResidual) {
      lin.emitError(kPrefix)
          << "smoothquant cannot fold scales for " << describeOp(lin)
          << " (producer " << describeOp(p) << " is not an exclusive norm)";
      return failure();
    }
    bool exclusive = isa<LayerNormOp, RmsNormOp>(p);
    for (Operation *user : p->getResult(0).getUsers())
      if (!candidates.contains(user) ||
          cast<LinearOp>(user).getInput() != p->getResult(0))
        exclusive = false;
    Value gain = p->getNumOperands() > 1 ? p->getOperand(1) : Value();
    if (auto ln = dyn_cast<LayerNormOp>(p))
      exclusive &= ln.getNormalizedAxis() ==
                   cast<RankedTensorType>(ln.getInput().getType()).getRank() - 1;
    if (!exclusive || !gain || !isFloatConstant(gain) ||
        (p->getNumOperands() > 2 && !isFloatConstant(p->getOperand(2)))) {
      lin.emitError(kPrefix)
          << "smoothquant cannot fold scales for " << describeOp(lin)
          << " (producer " << describeOp(p) << " is not an exclusive norm)";
      return failure();
    }
    groups[p].push_back(lin);
  }
  if (groups.empty())
    return success();
  llvm::DenseSet<Value> channels;
  for (auto &[norm, lins] : groups)
    channels.insert(norm->getResult(0));
  Calibration stats;
  if (failed(calibrate(module, calibration, {}, channels, 0, stats)))
    return failure();
  OpBuilder b(module.getContext());
  for (auto &[norm, lins] : groups) {
    const std::vector<float> &xmax = stats.channelMax.lookup(norm->getResult(0));
    int64_t d = int64_t(xmax.size());
    std::vector<float> wmax(d, 0.0f);
    std::vector<std::vector<float>> ws;
    for (LinearOp lin : lins) {
      ws.push_back(*floatValues(lin.getWeight()));
      int64_t out = lin.getWeight().getType().getShape()[0];
      for (int64_t o = 0; o < out; ++o)
        for (int64_t j = 0; j < d; ++j)
          wmax[j] = std::max(wmax[j], std::fabs(ws.back()[o * d + j]));
    }
    std::vector<float> s(d);
    for (int64_t j = 0; j < d; ++j)
      s[j] = std::max(1e-5f, float(std::pow(double(xmax[j]), alpha) /
                                   std::pow(std::max(double(wmax[j]), 1e-30),
                                            1.0 - alpha)));
    b.setInsertionPoint(norm);
    for (unsigned k = 1; k < norm->getNumOperands(); ++k) {
      std::vector<float> v = *floatValues(norm->getOperand(k));
      for (int64_t j = 0; j < d; ++j)
        v[j] /= s[j];
      std::string name = weightName(norm->getOperand(k));
      norm->setOperand(k, makeWeight(b, norm->getLoc(),
                                     (name.empty() ? "norm" : name) + ".smooth",
                                     {d}, v));
    }
    for (auto [lin, w] : llvm::zip(lins, ws)) {
      int64_t out = lin.getWeight().getType().getShape()[0];
      for (int64_t o = 0; o < out; ++o)
        for (int64_t j = 0; j < d; ++j)
          w[o * d + j] *= s[j];
      b.setInsertionPoint(lin);
      std::string name = weightName(lin.getWeight());
      lin.getWeightMutable().assign(
          makeWeight(b, lin.getLoc(),
                     (name.empty() ? "linear" : name) + ".smooth", {out, d}, w));
    }
    if (print) {
      float lo = *std::min_element(s.begin(), s.end()),
            hi = *std::max_element(s.begin(), s.end());
      llvm::errs() << "ptq: smoothquant " << describeOp(norm) << " -> "
                   << lins.size() << " linear(s), alpha "
                   << llvm::format("%.2f", double(alpha)) << ", scales "
                   << llvm::format("%.3g", lo) << " … "
                   << llvm::format("%.3g", hi) << "\n";
    }
  }
  eraseDeadConstants(module);
  return success();
}

void SlimQuantizePass::runOnOperation() {
  ModuleOp module = getOperation();
  bool int4 = weights == QuantWeights::int4,
       smoothOnly = weights == QuantWeights::none;
  QuantActs acts = act;
  if (acts == QuantActs::automatic)
    acts = QuantActs::dynamic;
  std::string mode = stringifyOption(acts).str();
  if (int4 && acts == QuantActs::static_) {
    module.emitError(kPrefix)
        << "int4 weights take act=dynamic (int8 activations on prefill "
           "rows) or act=none (float activations); act=static is not "
           "implemented";
    return signalPassFailure();
  }
  if (weights == QuantWeights::int8 && acts == QuantActs::none) {
    module.emitError(kPrefix) << "int8 weights need quantized activations "
                                 "(act=dynamic or static); weight-only is "
                                 "int4";
    return signalPassFailure();
  }
  if (mode == "static" && calibration.empty()) {
    module.emitError(kPrefix)
        << "static activation quantization requires a calibration set";
    return signalPassFailure();
  }
  if (!(percentile > 0 && percentile <= 100)) {
    module.emitError(kPrefix) << "percentile=" << double(percentile)
                              << " is not in (0, 100]";
    return signalPassFailure();
  }
  if (alpha != 0 && !(alpha > 0 && alpha < 1)) {
    module.emitError(kPrefix) << "smoothquant alpha " << double(alpha)
                              << " is not in (0, 1)";
    return signalPassFailure();
  }
  if (alpha > 0 && calibration.empty()) {
    module.emitError(kPrefix)
        << "smoothquant needs activation statistics: a calibration set";
    return signalPassFailure();
  }
  if (int4 && group != 32 && group != 64 && group != 128) {
    module.emitError(kPrefix) << "group_size=" << int64_t(group)
                              << " is not one of 32, 64, 128";
    return signalPassFailure();
  }
  if (convs && (int4 || smoothOnly)) {
    module.emitError(kPrefix)
        << "convs=1 quantizes the direct convolutions to int8, with int8 "
           "weights only (weights="
        << (int4 ? "int4" : "none") << ")";
    return signalPassFailure();
  }
  if (!int8.empty() && !int4) {
    module.emitError(kPrefix) << "int8=" << int8.front()
                              << " picks int8 linears among int4 ones "
                                 "(weights=int4)";
    return signalPassFailure();
  }
  // With weights=int4, the linears named in `int8` get int8 instead.
  llvm::DenseSet<Operation *> asInt8;
  // Check every candidate first: a failure changes nothing.
  SmallVector<LinearOp> todo;
  WalkResult walk = module.walk([&](LinearOp lin) {
    if (isHead(lin) && !head)
      return WalkResult::advance();
    std::string names = weightName(lin.getWeight()) + " " + describeOp(lin);
    if (const std::string *k = namedBy(names, keep)) {
      if (print)
        llvm::errs() << "ptq: " << describeOp(lin) << " stays float (keep="
                     << *k << ")\n";
      return WalkResult::advance();
    }
    if (!lin.getWeight().getDefiningOp<arith::ConstantOp>() ||
        !isFloatConstant(lin.getWeight())) {
      lin.emitError(kPrefix) << describeOp(lin) << " weight is not a constant";
      return WalkResult::interrupt();
    }
    int64_t k = lin.getWeight().getType().getShape()[1];
    bool int4Op = int4;
    if (int4 && namedBy(names, int8)) {
      asInt8.insert(lin);
      int4Op = false;
    }
    if (int4Op && k % group != 0) {
      lin.emitError(kPrefix) << describeOp(lin) << " in_features=" << k
                             << " not divisible by group_size=" << int64_t(group);
      return WalkResult::interrupt();
    }
    if (!int4Op && k * 127 * 127 >= (int64_t(1) << 31)) {
      lin.emitError(kPrefix) << describeOp(lin) << " K=" << k
                             << " risks int32 overflow";
      return WalkResult::interrupt();
    }
    todo.push_back(lin);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();
  SmallVector<AttentionOp> attentions;
  if (attention) {
    bool bad = false;
    if (smoothOnly) {
      module.emitError(kPrefix) << "attention=1 quantizes the attentions' "
                                   "products next to the linears; "
                                   "weights=none quantizes nothing";
      return signalPassFailure();
    }
    module.walk([&](AttentionOp a) {
      int64_t keys = a.getKey().getType().getShape()[1];
      if (keys > 65536) { // runtime/Kernels.h: kMaxInt8AttentionKeys
        a.emitError(kPrefix)
            << describeOp(a) << ": " << keys
            << " keys; an int8 attention takes at most 65536 (its int32 "
               "sums of p·v would overflow)";
        bad = true;
      }
      attentions.push_back(a);
    });
    module.walk([&](KvAttentionOp a) {
      a.emitError(kPrefix) << describeOp(a)
                           << ": attention=1 does not cover an attention "
                              "against a KV cache (it stays float)";
      bad = true;
    });
    if (bad)
      return signalPassFailure();
  }

  SmallVector<Conv2dOp> convOps;
  if (convs) {
    module.walk([&](Conv2dOp c) {
      std::string names = weightName(c.getWeight()) + " " + describeOp(c);
      if (const std::string *k = namedBy(names, keep)) {
        if (print)
          llvm::errs() << "ptq: " << describeOp(c) << " stays float (keep="
                       << *k << ")\n";
        return;
      }
      convOps.push_back(c);
    });
  }

  if (alpha > 0 && failed(smooth(module, todo)))
    return signalPassFailure();
  if (smoothOnly)
    return;
  for (AttentionOp a : attentions) {
    a.setInt8(true);
    if (print)
      llvm::errs() << "ptq: " << describeOp(a)
                   << " int8 (q·kᵀ and p·v in int32)\n";
  }

  // Static: one scale per linear input, max |x| (or its percentile) over
  // the calibration batches, on the (smoothed) float model.
  Calibration stats;
  if (mode == "static") {
    llvm::DenseSet<Value> inputs;
    for (LinearOp lin : todo)
      inputs.insert(lin.getInput());
    for (Conv2dOp c : convOps)
      inputs.insert(c.getInput());
    if (failed(calibrate(module, calibration, inputs, {},
                         calib == StaticCalibration::percentile ? double(percentile) : 0.0,
                         stats)))
      return signalPassFailure();
    SmallVector<std::pair<Operation *, Value>> readers;
    for (LinearOp lin : todo)
      readers.push_back({lin, lin.getInput()});
    for (Conv2dOp c : convOps)
      readers.push_back({c, c.getInput()});
    for (auto [op, input] : readers)
      if (!stats.amax.count(input)) {
        op->emitError(kPrefix) << describeOp(op)
                               << ": the calibration run did not see its "
                                  "input (act=static)";
        return signalPassFailure();
      }
  }
  // act=static: an input's scale, max |x| (or its percentile) / 127.
  auto staticScale = [&](Value input) {
    float range = stats.amax.lookup(input);
    if (calib == StaticCalibration::percentile) {
      const std::vector<float> &heap = stats.top.lookup(input);
      if (!heap.empty())
        range = heap.front();
    }
    return std::max(range, 1e-30f) / 127.0f;
  };

  // The direct convolutions (after calibration: it ran the float model).
  for (Conv2dOp c : convOps) {
    c.setInt8(true);
    if (mode == "static")
      c.setInputScaleAttr(FloatAttr::get(Float32Type::get(c.getContext()),
                                         staticScale(c.getInput())));
    if (print) {
      llvm::errs() << "ptq: " << describeOp(c) << " int8 (";
      if (c.getInputScale())
        llvm::errs() << "static input scale "
                     << c.getInputScale()->convertToFloat();
      else
        llvm::errs() << "dynamic input scales";
      llvm::errs() << ", int32 sums)\n";
    }
  }

  OpBuilder b(module.getContext());
  for (LinearOp lin : todo) {
    auto shape = lin.getWeight().getType().getShape();
    int64_t out = shape[0], in = shape[1];
    std::vector<float> w = *floatValues(lin.getWeight());
    b.setInsertionPoint(lin);
    std::string base = weightName(lin.getWeight());
    if (base.empty())
      base = "linear";
    Operation *ql;
    if (int4 && !asInt8.contains(lin)) {
      int64_t groups = in / group;
      std::vector<uint8_t> q(w.size()), zeros(out * groups, 8);
      std::vector<float> scales(out * groups);
      ::slim::rt::quantizeQ4(w.data(), out, in, group, symmetric, q.data(),
                             scales.data(), zeros.data());
      double worst = 0; // max |W − deq| / |d| over the layer
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) {
          int64_t g = o * groups + i / group;
          double d = std::fabs(scales[g]);
          double deq = (double(q[o * in + i]) - zeros[g]) * scales[g];
          if (d > 0)
            worst = std::max(worst, std::fabs(deq - w[o * in + i]) / d);
        }
      Value qw = makeWeightI8(
          b, lin.getLoc(), base + ".int4", {out, in},
          ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(q.data()),
                           q.size()),
          4);
      Value qs = makeWeight(b, lin.getLoc(), base + ".scale", {out, groups},
                            scales);
      Value qz;
      if (!symmetric)
        qz = makeWeightI8(
            b, lin.getLoc(), base + ".zero", {out, groups},
            ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(zeros.data()),
                             zeros.size()));
      ql = b.create<QLinearOp>(
          lin.getLoc(), lin.getType(), lin.getInput(), qw, qs, qz,
          lin.getBias(), /*residual=*/Value(), /*norm_scale=*/Value(),
          /*norm_bias=*/Value(),
          QuantActivationAttr::get(b.getContext(),
                                   acts == QuantActs::none
                                       ? QuantActivation::none
                                       : QuantActivation::dynamic),
          b.getI64IntegerAttr(group), FloatAttr(), lin.getActivationAttr(),
          PreNormAttr(), FloatAttr(), IntegerAttr());
      if (print)
        llvm::errs() << "ptq: " << describeOp(lin) << " [" << out << ", "
                     << in << "] -> int4 g" << group
                     << (symmetric ? " Q4_0" : " min/max")
                     << ", max |W - deq| = " << llvm::format("%.4f", worst)
                     << (symmetric ? " |d|" : " s")
                     << (acts == QuantActs::none ? ", float activations"
                                                 : ", W4A8")
                     << "\n";
    } else {
      std::vector<int8_t> q(w.size());
      std::vector<float> scales(out);
      double worst = 0; // max |W − q·s| / s over the layer
      for (int64_t o = 0; o < out; ++o) {
        float amax = 0.0f;
        for (int64_t i = 0; i < in; ++i)
          amax = std::max(amax, std::fabs(w[o * in + i]));
        float s = std::max(amax, 1e-5f) / 127.0f;
        scales[o] = s;
        for (int64_t i = 0; i < in; ++i) {
          float v = std::nearbyint(w[o * in + i] / s);
          v = std::min(127.0f, std::max(-127.0f, v));
          q[o * in + i] = int8_t(v);
          worst = std::max(worst, std::fabs(double(w[o * in + i]) - v * s) / s);
        }
      }
      Value qw = makeWeightI8(b, lin.getLoc(), base + ".int8", {out, in}, q);
      Value qs = makeWeight(b, lin.getLoc(), base + ".scale", {out}, scales);
      bool isStatic = mode == "static";
      FloatAttr actScale;
      if (isStatic)
        actScale = b.getF32FloatAttr(staticScale(lin.getInput()));
      ql = b.create<QLinearOp>(
          lin.getLoc(), lin.getType(), lin.getInput(), qw, qs, Value(),
          lin.getBias(), /*residual=*/Value(), /*norm_scale=*/Value(),
          /*norm_bias=*/Value(),
          QuantActivationAttr::get(b.getContext(),
                                   isStatic ? QuantActivation::static_
                                            : QuantActivation::dynamic),
          b.getI64IntegerAttr(0), actScale, lin.getActivationAttr(),
          PreNormAttr(), FloatAttr(), IntegerAttr());
      if (print)
        llvm::errs() << "ptq: " << describeOp(lin) << " [" << out << ", "
                     << in << "] -> int8 per channel, max |W - q*s| = "
                     << llvm::format("%.4f", worst) << " s"
                     << (isStatic ? ", activation scale " +
                                        std::to_string(actScale.getValueAsDouble())
                                  : std::string())
                     << "\n";
    }
    lin.getResult().replaceAllUsesWith(ql->getResult(0));
    lin.erase();
  }
  // Float weights no longer read.
  eraseDeadConstants(module);
}

} // namespace
