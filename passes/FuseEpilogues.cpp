//===- FuseEpilogues.cpp - slim-fuse-epilogues: activations into linears --===//
//
// act(linear(x)) with GELU (either form), SiLU or ReLU, where the linear has
// no other user, becomes one linear with `act = ...`: the kernel applies the
// activation to its accumulators before storing them, so the product is
// written once and never read back. Reshapes and transposes between the
// linear and the activation (a convolution's linear back to NCHW) do not
// stop it: an elementwise activation commutes with them. One rewrite
// pattern per activation; a pattern that does not apply says why through
// notifyMatchFailure. Layout chains the moved activation had separated
// (NHWC -> NCHW -> NHWC between two convolutions) then become reshapes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaiseUtils.h"

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <optional>

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMFUSEEPILOGUESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

LinearActivation activationOf(GeluOp g) {
  return g.getApproximation() == GeluApproximation::tanh
             ? LinearActivation::gelu_tanh
             : LinearActivation::gelu_exact;
}
LinearActivation activationOf(SiluOp) { return LinearActivation::silu; }
LinearActivation activationOf(ReluOp) { return LinearActivation::relu; }
/// Clip(0, 6) is ReLU6, Clip(0, +inf) ReLU; other bounds have no epilogue.
std::optional<LinearActivation> activationOf(ClampOp c) {
  float lo = c.getMin().convertToFloat(), hi = c.getMax().convertToFloat();
  if (lo != 0.0f)
    return std::nullopt;
  if (hi == 6.0f)
    return LinearActivation::relu6;
  if (std::isinf(hi) && hi > 0)
    return LinearActivation::relu;
  return std::nullopt;
}

/// act(linear(x)) -> linear(x) act = ..., and the same for a qlinear's
/// epilogue; act(layout(linear(x))), with reshapes and transposes of one
/// user each between them, -> layout(linear(x) act = ...).
template <typename ActOp>
struct FoldActivation : public OpRewritePattern<ActOp> {
  using OpRewritePattern<ActOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ActOp op,
                                PatternRewriter &rewriter) const override {
    Operation *producer = op->getOperand(0).getDefiningOp();
    while (isa_and_nonnull<ReshapeOp, TransposeOp>(producer) &&
           producer->hasOneUse())
      producer = producer->getOperand(0).getDefiningOp();
    auto lin = dyn_cast_or_null<LinearOp>(producer);
    auto q = dyn_cast_or_null<QLinearOp>(producer);
    if (!lin && !q)
      return rewriter.notifyMatchFailure(op, "its operand is not a linear");
    if ((lin && lin.getActivation()) || (q && q.getEpilogue()))
      return rewriter.notifyMatchFailure(op, "the linear has an epilogue");
    if (!producer->hasOneUse())
      return rewriter.notifyMatchFailure(op, "the linear has other users");
    std::optional<LinearActivation> act = activationOf(op);
    if (!act)
      return rewriter.notifyMatchFailure(op, "no epilogue computes it");
    auto attr = LinearActivationAttr::get(op->getContext(), *act);
    rewriter.modifyOpInPlace(producer, [&] {
      if (lin)
        lin.setActivationAttr(attr);
      else
        q.setEpilogueAttr(attr);
    });
    rewriter.replaceOp(op, op->getOperand(0));
    return success();
  }
};

struct SlimFuseEpiloguesPass
    : public mlir::slim::impl::SlimFuseEpiloguesPassBase<
          SlimFuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldActivation<GeluOp>, FoldActivation<SiluOp>,
                 FoldActivation<ReluOp>, FoldActivation<ClampOp>>(
        &getContext());
    // Only the matched ops: no folding or erasing of anything else.
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<GeluOp, SiluOp, ReluOp, ClampOp>(op))
        ops.push_back(op);
    });
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingOps;
    (void)applyOpPatternsAndFold(ops, std::move(patterns), config);
    // An activation that sat between a convolution's NHWC -> NCHW
    // transpose and the next one's NCHW -> NHWC leaves a round trip that
    // moves nothing: one reshape now.
    getOperation().walk(
        [](func::FuncOp func) { raise::simplifyLayoutChains(func); });
  }
};

} // namespace
