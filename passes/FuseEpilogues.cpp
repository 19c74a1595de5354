//===- FuseEpilogues.cpp - slim-fuse-epilogues: activations into linears --===//
//
// act(linear(x)) with GELU (either form), SiLU, ReLU, ReLU6 or HardSwish,
// where the linear has no other user, becomes one linear with `act = ...`:
// the kernel applies the activation to its accumulators before storing
// them, so the product is written once and never read back. The same for
// a direct convolution (slim.conv2d `activation`). Reshapes and transposes between the
// linear and the activation (a convolution's linear back to NCHW) do not
// stop it: an elementwise activation commutes with them. One rewrite
// pattern per activation; a pattern that does not apply says why through
// notifyMatchFailure. Layout chains the moved activation had separated
// (NHWC -> NCHW -> NHWC between two convolutions) then become reshapes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaiseUtils.h"
#include "passes/Weights.h"

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

/// The op an activation can fuse into: a linear (`activation`), a
/// qlinear (`epilogue`) or a direct convolution (`activation`).
struct EpilogueOwner {
  Operation *op = nullptr;

  static EpilogueOwner of(Operation *producer) {
    if (isa_and_nonnull<LinearOp, QLinearOp, Conv2dOp>(producer))
      return {producer};
    return {};
  }
  explicit operator bool() const { return op; }
  bool hasEpilogue() const {
    if (auto l = dyn_cast<LinearOp>(op))
      return bool(l.getActivation());
    if (auto q = dyn_cast<QLinearOp>(op))
      return bool(q.getEpilogue());
    return bool(cast<Conv2dOp>(op).getActivation());
  }
  void set(PatternRewriter &rewriter, LinearActivation act) const {
    auto attr = LinearActivationAttr::get(op->getContext(), act);
    rewriter.modifyOpInPlace(op, [&] {
      if (auto l = dyn_cast<LinearOp>(op))
        l.setActivationAttr(attr);
      else if (auto q = dyn_cast<QLinearOp>(op))
        q.setEpilogueAttr(attr);
      else
        cast<Conv2dOp>(op).setActivationAttr(attr);
    });
  }
};

/// act(linear(x)) -> linear(x) act = ..., and the same for a qlinear's
/// epilogue and a direct convolution; act(layout(linear(x))), with reshapes
/// and transposes of one user each between them, -> layout(linear(x) act =
/// ...).
template <typename ActOp>
struct FoldActivation : public OpRewritePattern<ActOp> {
  using OpRewritePattern<ActOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ActOp op,
                                PatternRewriter &rewriter) const override {
    Operation *producer = op->getOperand(0).getDefiningOp();
    while (isa_and_nonnull<ReshapeOp, TransposeOp>(producer) &&
           producer->hasOneUse())
      producer = producer->getOperand(0).getDefiningOp();
    EpilogueOwner owner = EpilogueOwner::of(producer);
    if (!owner)
      return rewriter.notifyMatchFailure(
          op, "its operand is not a linear or a convolution");
    if (owner.hasEpilogue())
      return rewriter.notifyMatchFailure(op, "the producer has an epilogue");
    if (!producer->hasOneUse())
      return rewriter.notifyMatchFailure(op, "the producer has other users");
    std::optional<LinearActivation> act = activationOf(op);
    if (!act)
      return rewriter.notifyMatchFailure(op, "no epilogue computes it");
    owner.set(rewriter, *act);
    rewriter.replaceOp(op, op->getOperand(0));
    return success();
  }
};

/// A depthwise convolution whose input is an NHWC -> NCHW transpose (a
/// linear's result, an image back in NCHW) runs on the NHWC tensor
/// (channels_last) and the transpose moves after it; an elementwise
/// activation after that transpose moves before it. The transposes left
/// then meet the next linear's NCHW -> NHWC and cancel
/// (simplifyLayoutChains).
void convolveChannelsLast(func::FuncOp func) {
  SmallVector<Conv2dOp> convs;
  func.walk([&](Conv2dOp c) { convs.push_back(c); });
  const SmallVector<int64_t> toNchw = {0, 3, 1, 2};
  for (Conv2dOp c : convs) {
    auto tr = c.getInput().getDefiningOp<TransposeOp>();
    if (c.getChannelsLast() || !tr || tr.getPermutation() != ArrayRef(toNchw))
      continue;
    ArrayRef<int64_t> w = c.getWeight().getType().getShape();
    int64_t channels =
        cast<RankedTensorType>(c.getInput().getType()).getDimSize(1);
    if (w[1] != 1 || w[0] != channels || int64_t(c.getGroups()) != channels)
      continue; // not depthwise
    OpBuilder b(c);
    auto conv = b.create<Conv2dOp>(
        c.getLoc(), tr.getInput(), c.getWeight(), c.getBias(),
        c.getStridesAttr(), c.getPadsAttr(), c.getDilationsAttr(),
        c.getGroupsAttr(), b.getUnitAttr(), c.getActivationAttr(),
        c.getInt8Attr(), c.getInputScaleAttr());
    auto back = b.create<TransposeOp>(c.getLoc(), c.getType(), conv,
                                      b.getDenseI64ArrayAttr(toNchw));
    c.replaceAllUsesWith(back.getResult());
    c.erase();
    if (tr->use_empty())
      tr.erase();
  }
  // clamp(transpose(x)) -> transpose(clamp(x)) where the transpose has no
  // other user.
  SmallVector<ClampOp> clamps;
  func.walk([&](ClampOp c) { clamps.push_back(c); });
  for (ClampOp c : clamps) {
    auto tr = c.getInput().getDefiningOp<TransposeOp>();
    if (!tr || !tr->hasOneUse())
      continue;
    OpBuilder b(c);
    auto moved = b.create<ClampOp>(c.getLoc(), tr.getInput().getType(),
                                   tr.getInput(), c.getMinAttr(),
                                   c.getMaxAttr());
    auto after = b.create<TransposeOp>(tr.getLoc(), c.getType(), moved,
                                       tr.getPermutationAttr());
    c.replaceAllUsesWith(after.getResult());
    c.erase();
    tr.erase();
  }
}

/// The one element of a scalar f32 constant, or nullopt.
std::optional<float> scalarConstant(Value v) {
  std::optional<std::vector<float>> values = floatValues(v);
  if (!values || values->size() != 1)
    return std::nullopt;
  return (*values)[0];
}

/// HardSwish as the ONNX importer writes it, x · clamp(x · (1/6) + 1/2, 0,
/// 1), after a linear or a convolution (through reshapes and transposes of
/// no other user): its epilogue. x is read twice, by the gate and the product.
struct FoldHardSwish : public OpRewritePattern<MulOp> {
  using OpRewritePattern<MulOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (int side = 0; side < 2; ++side) {
      Value x = op->getOperand(side);
      auto clamp = op->getOperand(1 - side).getDefiningOp<ClampOp>();
      if (!clamp || clamp.getMin().convertToFloat() != 0.0f ||
          clamp.getMax().convertToFloat() != 1.0f || !clamp->hasOneUse())
        continue;
      auto add = clamp.getInput().getDefiningOp<AddOp>();
      if (!add || !add->hasOneUse())
        continue;
      auto scaled = add->getOperand(0).getDefiningOp<MulOp>();
      std::optional<float> half = scalarConstant(add->getOperand(1));
      if (!scaled || !scaled->hasOneUse() || !half || *half != 0.5f)
        continue;
      std::optional<float> sixth = scalarConstant(scaled->getOperand(1));
      if (scaled->getOperand(0) != x || !sixth || *sixth != 1.0f / 6.0f)
        continue;
      // x: the gate's and the product's, nothing else's.
      if (!llvm::all_of(x.getUsers(), [&](Operation *u) {
            return u == op.getOperation() || u == scaled.getOperation();
          }))
        continue;
      Operation *producer = x.getDefiningOp();
      while (isa_and_nonnull<ReshapeOp, TransposeOp>(producer) &&
             producer->getOperand(0).hasOneUse())
        producer = producer->getOperand(0).getDefiningOp();
      EpilogueOwner owner = EpilogueOwner::of(producer);
      if (!owner || owner.hasEpilogue())
        continue;
      if (producer != x.getDefiningOp() && !producer->hasOneUse())
        continue;
      owner.set(rewriter, LinearActivation::hardswish);
      rewriter.replaceOp(op, x);
      rewriter.eraseOp(clamp); // the gate, now unread
      rewriter.eraseOp(add);
      rewriter.eraseOp(scaled);
      return success();
    }
    return rewriter.notifyMatchFailure(
        op, "not a HardSwish after a linear or a convolution");
  }
};

struct SlimFuseEpiloguesPass
    : public mlir::slim::impl::SlimFuseEpiloguesPassBase<
          SlimFuseEpiloguesPass> {
  void runOnOperation() override {
    foldActivations();
    // An activation that sat between a convolution's NHWC -> NCHW
    // transpose and the next one's NCHW -> NHWC leaves a round trip that
    // moves nothing: one reshape now.
    getOperation().walk([](func::FuncOp func) {
      convolveChannelsLast(func);
      raise::simplifyLayoutChains(func);
    });
    // The clamps convolveChannelsLast moved next to a channels-last
    // convolution fuse into it now.
    foldActivations();
  }

  /// Every activation (GELU, SiLU, ReLU, clamps, HardSwish's product) into
  /// the linear or convolution that feeds it, where one can take it.
  void foldActivations() {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldActivation<GeluOp>, FoldActivation<SiluOp>,
                 FoldActivation<ReluOp>, FoldActivation<ClampOp>,
                 FoldHardSwish>(&getContext());
    // Only the matched ops: no folding or erasing of anything else.
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<GeluOp, SiluOp, ReluOp, ClampOp, MulOp>(op))
        ops.push_back(op);
    });
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingOps;
    (void)applyOpPatternsAndFold(ops, std::move(patterns), config);
  }
};

} // namespace
