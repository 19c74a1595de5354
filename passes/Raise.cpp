//===- Raise.cpp - slim-raise: primitives to transformer ops --------------===//
//
// Runs in stages over each function: fold (transposes compose, constants
// move right), then the local rewrites of RaisePatterns.cpp (linear layers,
// norms, activations), attention with RoPE and grouped-query repeats
// (RaiseAttention.cpp), the layout chains around sequence-first
// projections, and last the residual structure. Each stage matches use-def
// patterns whose intermediate values have no other users, builds the
// raised op and leaves the old ops to dead-code elimination. What almost
// matches is reported with a remark saying which part failed: a softmax
// that is not raised into attention, and a norm-like mean with the reason
// the norm patterns gave.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaiseUtils.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMRAISEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::raise;

namespace {

//===----------------------------------------------------------------------===//
// Layout chains
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Residual structure
//===----------------------------------------------------------------------===//

/// The ops computing `y` from `x` (and constants) only, in block order, when
/// every intermediate is used only inside; empty otherwise.
SmallVector<Operation *> branchOps(Value x, Value y, Operation *add) {
  Operation *root = y.getDefiningOp();
  if (!root || root->getBlock() != add->getBlock())
    return {};
  // The ops computed from x: what does not depend on it (a padding mask
  // from an input, shared by every layer) stays outside the branch.
  llvm::SmallPtrSet<Operation *, 32> fromX;
  SmallVector<Value> frontier = {x};
  while (!frontier.empty()) {
    Value v = frontier.pop_back_val();
    for (Operation *user : v.getUsers())
      if (user->getBlock() == add->getBlock() && user->isBeforeInBlock(add) &&
          fromX.insert(user).second)
        llvm::append_range(frontier, user->getResults());
  }
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> work = {root};
  bool readsX = false;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!slice.insert(op))
      continue;
    for (Value operand : op->getOperands()) {
      if (operand == x) {
        readsX = true;
        continue;
      }
      Operation *d = operand.getDefiningOp();
      if (!d)
        continue; // another function input (a gain, a mask): not the stream
      if (d->hasTrait<OpTrait::ConstantLike>())
        continue;
      if (d->getBlock() != add->getBlock())
        return {};
      if (!fromX.contains(d))
        continue; // computed from inputs only (a mask): not the stream
      work.push_back(d);
    }
  }
  if (!readsX)
    return {};
  for (Operation *op : slice)
    for (Operation *user : op->getUsers())
      if (user != add && !slice.contains(user))
        return {};
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return ordered;
}

void raiseResiduals(func::FuncOp func) {
  int64_t layer = -1;
  bool sawAttention = false;
  SmallVector<AddOp> adds;
  for (Operation &op : func.getBody().front())
    if (auto add = dyn_cast<AddOp>(op))
      adds.push_back(add);
  for (AddOp add : adds) {
    if (add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType() ||
        cast<RankedTensorType>(add.getType()).getRank() < 3)
      continue;
    for (auto [x, y] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      SmallVector<Operation *> ops = branchOps(x, y, add);
      if (ops.empty())
        continue;
      bool attention = llvm::any_of(
          ops, [](Operation *op) { return isa<AttentionOp>(op); });
      bool mlp = llvm::any_of(
          ops, [](Operation *op) { return isa<LinearOp, QLinearOp>(op); });
      if (!attention && !mlp)
        continue;
      // An attention residual opens a layer; the MLP after it shares it.
      if (attention || !sawAttention)
        ++layer;
      sawAttention = attention;
      OpBuilder b(add);
      auto residual = b.create<ResidualOp>(
          add.getLoc(), add.getType(), x,
          ResidualKindAttr::get(b.getContext(), attention
                                                    ? ResidualKind::attention
                                                    : ResidualKind::mlp),
          b.getI64IntegerAttr(layer));
      Block *body = b.createBlock(&residual.getBody(), {}, {x.getType()},
                                  {x.getLoc()});
      for (Operation *op : ops)
        op->moveBefore(body, body->end());
      b.setInsertionPointToEnd(body);
      b.create<YieldOp>(add.getLoc(), y);
      x.replaceUsesWithIf(body->getArgument(0), [&](OpOperand &use) {
        return residual->isProperAncestor(use.getOwner());
      });
      add.replaceAllUsesWith(residual.getResult());
      add.erase();
      break;
    }
  }
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

LogicalResult cleanup(Operation *op) {
  RewritePatternSet none(op->getContext());
  GreedyRewriteConfig config;
  config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
  return applyPatternsAndFoldGreedily(op, std::move(none), config);
}

/// Applies `patterns` to `func` in program order (so unnamed weights are
/// numbered as the layers come), folding as it goes.
void applyInOrder(func::FuncOp func, RewritePatternSet &&patterns,
                  RewriterBase::Listener *listener = nullptr) {
  GreedyRewriteConfig config;
  config.useTopDownTraversal = true;
  config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
  config.listener = listener;
  (void)applyPatternsAndFoldGreedily(func, std::move(patterns), config);
}

/// The last reason each pattern gave for not applying, by the location of
/// the op it was tried on.
struct FailureReasons : public RewriterBase::Listener {
  void notifyMatchFailure(
      Location loc, function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    reasonCallback(diag);
    reasons[loc] = diag.str();
  }
  DenseMap<Location, std::string> reasons;
};

/// Why the norm patterns did not take up `mean`: the reason given at the
/// furthest mul or div it feeds (within a norm's depth) that was a
/// candidate at all, or "".
std::string normFailure(ReduceMeanOp mean, const FailureReasons &failures) {
  std::string why;
  SmallVector<Operation *> frontier = {mean};
  llvm::SmallPtrSet<Operation *, 16> seen;
  for (int depth = 0; depth < 6 && !frontier.empty(); ++depth) {
    SmallVector<Operation *> next;
    for (Operation *op : frontier)
      for (Operation *user : op->getUsers()) {
        if (!seen.insert(user).second)
          continue;
        next.push_back(user);
        if (!isa<MulOp, DivOp>(user))
          continue;
        auto it = failures.reasons.find(user->getLoc());
        if (it != failures.reasons.end() && it->second != kNotANormCandidate)
          why = it->second;
      }
    frontier = std::move(next);
  }
  return why;
}

struct SlimRaisePass : public mlir::slim::impl::SlimRaisePassBase<SlimRaisePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    int64_t unnamedWeights = 0;
    if (failed(cleanup(module)))
      return signalPassFailure();
    for (auto func : module.getOps<func::FuncOp>()) {
      FailureReasons normFailures;
      {
        RewritePatternSet linears(ctx);
        populateLinearPatterns(linears, unnamedWeights);
        populateWindowPatterns(linears);
        applyInOrder(func, std::move(linears));
        RewritePatternSet norms(ctx);
        populateNormPatterns(norms);
        applyInOrder(func, std::move(norms), &normFailures);
        RewritePatternSet activations(ctx);
        populateActivationPatterns(activations);
        applyInOrder(func, std::move(activations));
      }
      {
        FailureReasons attentionFailures;
        RewritePatternSet attention(ctx);
        populateAttentionPatterns(attention);
        applyInOrder(func, std::move(attention), &attentionFailures);
        func.walk([&](SoftmaxOp sm) {
          auto it = attentionFailures.reasons.find(sm.getLoc());
          if (it != attentionFailures.reasons.end())
            sm.emitRemark("slim-raise: softmax not raised into "
                          "slim.attention: ")
                << it->second;
        });
      }
      (void)cleanup(func);
      { // one padding mask for all layers (each built its own)
        IRRewriter rewriter(func.getContext());
        DominanceInfo dom(func);
        eliminateCommonSubExpressions(rewriter, dom, func);
      }
      { // Conv1D reshape sandwiches around new attention
        RewritePatternSet linears(ctx);
        populateLinearPatterns(linears, unnamedWeights);
        applyInOrder(func, std::move(linears));
      }
      commuteRowPermutations(func); // sequence-first projections
      {
        RewritePatternSet sink(ctx);
        populateSinkTransposePatterns(sink);
        applyInOrder(func, std::move(sink));
      }
      simplifyLayoutChains(func);
      splitSlicedLinears(func);
      (void)cleanup(func);
      { // the transposes sunk into sums meet the norms' own
        IRRewriter rewriter(func.getContext());
        DominanceInfo dom(func);
        eliminateCommonSubExpressions(rewriter, dom, func);
      }
      raiseResiduals(func);
      (void)cleanup(func);
      // What is left of a norm pattern (a mean of squares or differences,
      // or one that is subtracted or divided by) is worth a remark too, with
      // the norm patterns' reason; a pooling mean (over H and W of NCHW) is
      // not.
      func.walk([&](ReduceMeanOp op) {
        SmallVector<int64_t> axes(op.getAxes());
        for (int64_t &a : axes)
          a = *normalizeAxis(a, op.getInput().getType().getRank());
        llvm::sort(axes);
        if (op.getInput().getType().getRank() == 4 &&
            axes == SmallVector<int64_t>{2, 3})
          return;
        bool normLike =
            isa_and_nonnull<PowOp, MulOp, SubOp>(op.getInput().getDefiningOp()) ||
            llvm::any_of(op->getUsers(), [](Operation *u) {
              return isa<AddOp, SubOp, DivOp>(u);
            });
        if (!normLike)
          return;
        std::string why = normFailure(op, normFailures);
        op.emitRemark("slim-raise: reduce_mean left unraised (not part of a "
                      "recognized layer_norm or rms_norm pattern")
            << (why.empty() ? "" : ": " + why) << ")";
      });
    }
  }
};

} // namespace

/// The packed projection's rows per slice: no [B, T, 3·D] result written
/// and copied into three; slim-fuse-kernels then groups the three linears
/// on their shared input like separate q, k, v projections.
void raise::splitSlicedLinears(func::FuncOp func) {
  SmallVector<LinearOp> linears;
  func.walk([&](LinearOp l) { linears.push_back(l); });
  for (LinearOp lin : linears) {
    if (lin.getResidual() || lin.getActivation() || lin.use_empty() ||
        !isFloatConstant(lin.getWeight()) ||
        (lin.getBias() && !isFloatConstant(lin.getBias())))
      continue;
    auto type = cast<RankedTensorType>(lin.getType());
    const int64_t rank = type.getRank(), last = rank - 1;
    bool parts = true;
    for (Operation *user : lin->getUsers()) {
      auto s = dyn_cast<SliceOp>(user);
      if (!s) {
        parts = false;
        break;
      }
      for (int64_t d = 0; d < rank; ++d)
        parts &= s.getStrides()[d] == 1 &&
                 (d == last || (s.getOffsets()[d] == 0 &&
                                s.getSizes()[d] == type.getDimSize(d)));
    }
    if (!parts)
      continue;
    std::vector<float> w = *floatValues(lin.getWeight());
    std::optional<std::vector<float>> bias;
    if (lin.getBias())
      bias = floatValues(lin.getBias());
    const int64_t in = lin.getWeight().getType().getDimSize(1);
    const std::string name = weightName(lin.getWeight());
    SmallVector<SliceOp> slices;
    for (Operation *user : lin->getUsers())
      slices.push_back(cast<SliceOp>(user));
    for (SliceOp s : slices) {
      const int64_t o = s.getOffsets()[last], n = s.getSizes()[last];
      OpBuilder b(s);
      Value wp = makeWeight(
          b, s.getLoc(), name.empty() ? "linear_part" : name + "_part", {n, in},
          ArrayRef<float>(w).slice(o * in, n * in));
      Value bp;
      if (bias)
        bp = makeWeight(b, s.getLoc(), name.empty() ? "bias_part" : name + "_bias_part",
                        {n}, ArrayRef<float>(*bias).slice(o, n));
      auto part = b.create<LinearOp>(lin.getLoc(), s.getType(), lin.getInput(),
                                     wp, bp, Value(), LinearActivationAttr());
      s.replaceAllUsesWith(part.getResult());
      s.erase();
    }
    lin.erase();
  }
}

/// A chain of reshapes and transposes that leaves the elements in row-major
/// order (Conv patch embedding followed by flatten + transpose, head splits
/// undone) is one reshape. Checked by pushing the flat index through the
/// chain.
void raise::simplifyLayoutChains(func::FuncOp func) {
  SmallVector<Operation *> tails;
  func.walk([&](Operation *op) {
    if (isa<ReshapeOp, TransposeOp>(op))
      tails.push_back(op);
  });
  // Replaced chains, erased at the end (tail first) so that no op in
  // `tails` is freed while the loop runs.
  SmallVector<SmallVector<Operation *>> replaced;
  llvm::SmallPtrSet<Operation *, 16> inReplaced;
  for (Operation *tail : llvm::reverse(tails)) {
    if (inReplaced.count(tail))
      continue;
    SmallVector<Operation *> chain = {tail};
    Value src = tail->getOperand(0);
    while (Operation *d = src.getDefiningOp()) {
      if (!isa<ReshapeOp, TransposeOp>(d) || !d->hasOneUse())
        break;
      chain.push_back(d);
      src = d->getOperand(0);
    }
    if (chain.size() < 2 ||
        !llvm::any_of(chain, [](Operation *op) { return isa<TransposeOp>(op); }))
      continue;
    int64_t n = tensorType(src).getNumElements();
    if (n > (1 << 22))
      continue;
    // idx[k] = which source element sits at position k.
    std::vector<int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    for (Operation *op : llvm::reverse(chain)) {
      auto tr = dyn_cast<TransposeOp>(op);
      if (!tr)
        continue;
      ArrayRef<int64_t> in = tensorType(tr.getInput()).getShape();
      ArrayRef<int64_t> perm = tr.getPermutation();
      int64_t rank = in.size();
      SmallVector<int64_t> inStride(rank, 1), outShape;
      for (int64_t d = rank - 2; d >= 0; --d)
        inStride[d] = inStride[d + 1] * in[d + 1];
      for (int64_t p : perm)
        outShape.push_back(in[p]);
      std::vector<int64_t> next(n);
      SmallVector<int64_t> c(rank, 0);
      for (int64_t k = 0; k < n; ++k) {
        int64_t off = 0;
        for (int64_t d = 0; d < rank; ++d)
          off += c[d] * inStride[perm[d]];
        next[k] = idx[off];
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++c[d] < outShape[d])
            break;
          c[d] = 0;
        }
      }
      idx.swap(next);
    }
    bool identity = true;
    for (int64_t k = 0; k < n && identity; ++k)
      identity = idx[k] == k;
    if (!identity)
      continue;
    OpBuilder b(tail);
    Value result = src;
    if (src.getType() != tail->getResult(0).getType())
      result = b.create<ReshapeOp>(tail->getLoc(), tail->getResult(0).getType(),
                                   src);
    tail->getResult(0).replaceAllUsesWith(result);
    inReplaced.insert(chain.begin(), chain.end());
    replaced.push_back(std::move(chain));
  }
  for (auto &chain : replaced)
    for (Operation *op : chain) // tail first: each is unused by then
      if (op->use_empty())
        op->erase();
}
