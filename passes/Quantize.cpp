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

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Format.h"

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
    if (act == "static") {
      module.emitError(kPrefix)
          << "static activation quantization requires a calibration set "
             "(not implemented yet: use act=dynamic)";
      return signalPassFailure();
    }
    if (act != "dynamic") {
      module.emitError(kPrefix) << "act=" << act
                                << " is not implemented (dynamic only)";
      return signalPassFailure();
    }
    // Check every candidate first: a failure changes nothing.
    SmallVector<LinearOp> todo;
    WalkResult walk = module.walk([&](LinearOp lin) {
      if (isHead(lin) && !head)
        return WalkResult::advance();
      if (!lin.getWeight().getDefiningOp<arith::ConstantOp>() ||
          !floatValues(lin.getWeight())) {
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
      auto ql = b.create<QLinearOp>(
          lin.getLoc(), lin.getType(), lin.getInput(), qw, qs, Value(),
          lin.getBias(),
          QuantActivationAttr::get(b.getContext(), QuantActivation::dynamic),
          b.getI64IntegerAttr(0), FloatAttr());
      if (print)
        llvm::errs() << "ptq: " << describeOp(lin) << " [" << out << ", "
                     << in << "] -> int8 per channel, max |W - q*s| = "
                     << llvm::format("%.4f", worst) << " s\n";
      lin.getResult().replaceAllUsesWith(ql.getResult());
      lin.erase();
    }
    // Float weights no longer read.
    eraseDeadConstants(module);
  }
};

} // namespace
