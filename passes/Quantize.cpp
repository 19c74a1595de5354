//===- Quantize.cpp - slim-quantize: int8 weights, dynamic activations ----===//
//
// shared/spec/PASSES.md §4: every slim.linear with a constant f32 weight
// (except the head, unless asked) becomes slim.qlinear with int8 weights,
// symmetric per output channel (s_o = max(max_i |W[o,i]|, 1e-5) / 127,
// q = round(W / s_o) ∈ [−127, 127]) and per-token activation scales
// computed by the kernel (act = dynamic). Norms, softmax, activations,
// residual adds and the embedding gather stay in float.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Weights.h"

#include "codegen/exec/Executor.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

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

struct SlimQuantizePass
    : public mlir::slim::impl::SlimQuantizePassBase<SlimQuantizePass> {
  using SlimQuantizePassBase::SlimQuantizePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (weights != "int8") {
      module.emitError(kPrefix) << "weights=" << weights
                                << " is not implemented (int8 only)";
      return signalPassFailure();
    }
    if (act == "static" && calibration.empty()) {
      module.emitError(kPrefix)
          << "static activation quantization requires a calibration set";
      return signalPassFailure();
    }
    if (act != "dynamic" && act != "static") {
      module.emitError(kPrefix) << "act=" << act
                                << " is not one of dynamic, static";
      return signalPassFailure();
    }
    // Check every candidate first: a failure changes nothing.
    SmallVector<LinearOp> todo;
    WalkResult walk = module.walk([&](LinearOp lin) {
      if (isHead(lin) && !head)
        return WalkResult::advance();
      if (!lin.getWeight().getDefiningOp<arith::ConstantOp>() ||
          !isFloatConstant(lin.getWeight())) {
        lin.emitError(kPrefix) << describeOp(lin)
                               << " weight is not a constant";
        return WalkResult::interrupt();
      }
      int64_t k = lin.getWeight().getType().getShape()[1];
      if (k * 127 * 127 >= (int64_t(1) << 31)) {
        lin.emitError(kPrefix)
            << describeOp(lin) << " K=" << k << " risks int32 overflow";
        return WalkResult::interrupt();
      }
      todo.push_back(lin);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    // Static: max |x| of every quantized linear's input over the
    // calibration batches (the reference executor, unmodified model).
    llvm::DenseMap<Value, float> amax;
    if (act == "static") {
      llvm::DenseSet<Value> inputs;
      for (LinearOp lin : todo)
        inputs.insert(lin.getInput());
      for (auto func : module.getOps<func::FuncOp>()) {
        std::vector<std::vector<Tensor>> batches;
        if (failed(loadCalibrationBatches(func, calibration, kPrefix, batches)))
          return signalPassFailure();
        Executor exec;
        exec.onValue = [&](Operation *op, const Tensor &t) {
          Value v = op->getResult(0);
          if (!inputs.contains(v) || t.dtype != ::slim::rt::DType::F32)
            return;
          const float *p = reinterpret_cast<const float *>(t.data.data());
          float &m = amax[v];
          for (int64_t i = 0; i < t.numElements(); ++i)
            m = std::max(m, std::fabs(p[i]));
        };
        for (const auto &batch : batches) {
          std::vector<Tensor> outputs;
          if (failed(exec.run(func, batch, outputs)))
            return signalPassFailure();
        }
      }
      for (LinearOp lin : todo)
        if (!amax.count(lin.getInput())) {
          lin.emitError(kPrefix) << describeOp(lin)
                                 << ": the calibration run did not see its "
                                    "input (act=static)";
          return signalPassFailure();
        }
    }

    OpBuilder b(module.getContext());
    for (LinearOp lin : todo) {
      auto shape = lin.getWeight().getType().getShape();
      int64_t out = shape[0], in = shape[1];
      std::vector<float> w = *floatValues(lin.getWeight());
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
      b.setInsertionPoint(lin);
      std::string base = weightName(lin.getWeight());
      if (base.empty())
        base = "linear";
      Value qw = makeWeightI8(b, lin.getLoc(), base + ".int8", {out, in}, q);
      Value qs = makeWeight(b, lin.getLoc(), base + ".scale", {out}, scales);
      bool isStatic = act == "static";
      FloatAttr actScale;
      if (isStatic)
        actScale = b.getF32FloatAttr(
            std::max(amax.lookup(lin.getInput()), 1e-30f) / 127.0f);
      auto ql = b.create<QLinearOp>(
          lin.getLoc(), lin.getType(), lin.getInput(), qw, qs, Value(),
          lin.getBias(),
          QuantActivationAttr::get(b.getContext(),
                                   isStatic ? QuantActivation::static_
                                            : QuantActivation::dynamic),
          b.getI64IntegerAttr(0), actScale);
      if (print)
        llvm::errs() << "ptq: " << describeOp(lin) << " [" << out << ", "
                     << in << "] -> int8 per channel, max |W - q*s| = "
                     << llvm::format("%.4f", worst) << " s"
                     << (isStatic ? ", activation scale " +
                                        std::to_string(actScale.getValueAsDouble())
                                  : std::string())
                     << "\n";
      lin.getResult().replaceAllUsesWith(ql.getResult());
      lin.erase();
    }
    // Float weights no longer read.
    eraseDeadConstants(module);
  }
};

} // namespace
