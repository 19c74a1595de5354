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
      if (!act)
        return;
      auto lin = op->getOperand(0).getDefiningOp<LinearOp>();
      if (!lin || lin.getActivation() || !lin->hasOneUse())
        return;
      lin.setActivationAttr(
          LinearActivationAttr::get(op->getContext(), *act));
      op->getResult(0).replaceAllUsesWith(lin.getResult());
      fused.push_back(op);
    });
    for (Operation *op : fused)
      op->erase();
  }
};

} // namespace
