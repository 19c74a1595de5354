//===- FuseEpilogues.cpp - slim-fuse-epilogues: activations into linears --===//
//
// act(linear(x)) with GELU (either form) or SiLU, where the linear has no
// other user, becomes one linear with `act = ...`: the kernel applies the
// activation to its accumulators before storing them, so the product is
// written once and never read back.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/slim/IR/SlimOps.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMFUSEEPILOGUESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

struct SlimFuseEpiloguesPass
    : public mlir::slim::impl::SlimFuseEpiloguesPassBase<
          SlimFuseEpiloguesPass> {
  void runOnOperation() override {
    SmallVector<Operation *> fused;
    getOperation().walk([&](Operation *op) {
      std::optional<LinearActivation> act;
      if (auto g = dyn_cast<GeluOp>(op))
        act = g.getApproximation() == GeluApproximation::tanh
                  ? LinearActivation::gelu_tanh
                  : LinearActivation::gelu_exact;
      else if (isa<SiluOp>(op))
        act = LinearActivation::silu;
      else if (isa<ReluOp>(op))
        act = LinearActivation::relu;
      if (!act)
        return;
      Operation *producer = op->getOperand(0).getDefiningOp();
      auto attr = LinearActivationAttr::get(op->getContext(), *act);
      if (auto lin = dyn_cast_or_null<LinearOp>(producer)) {
        if (lin.getActivation() || !lin->hasOneUse())
          return;
        lin.setActivationAttr(attr);
      } else if (auto q = dyn_cast_or_null<QLinearOp>(producer)) {
        if (q.getEpilogue() || !q->hasOneUse())
          return;
        q.setEpilogueAttr(attr);
      } else {
        return;
      }
      op->getResult(0).replaceAllUsesWith(producer->getResult(0));
      fused.push_back(op);
    });
    for (Operation *op : fused)
      op->erase();
  }
};

} // namespace
