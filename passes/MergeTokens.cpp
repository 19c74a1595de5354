//===- MergeTokens.cpp - slim-merge-tokens: ToMe bipartite token merging --===//
//
// Analysis first (every precondition of docs/passes.md §2.5 on the
// whole function), then the rewrite: a slim.token_merge after the attention
// residual of each scheduled block, proportional attention in later blocks,
// size-weighted mean-pooling readouts, and every shape after the first
// merge re-inferred.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMMERGETOKENSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

constexpr llvm::StringLiteral kPrefix = "token-merge: ";

/// One block: its attention residual and the attention in it.
struct Block {
  ResidualOp attention;
  AttentionOp attn;
};

/// The ops of `res`'s body that compute `roots` (in program order), or
/// failure when one has regions.
FailureOr<SmallVector<Operation *>> bodySlice(ResidualOp res,
                                              ArrayRef<Value> roots) {
  mlir::Block &body = res.getBody().front();
  llvm::SetVector<Operation *> slice;
  SmallVector<Value> work(roots.begin(), roots.end());
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != &body || !slice.insert(def))
      continue;
    if (def->getNumRegions())
      return failure();
    work.append(def->operand_begin(), def->operand_end());
  }
  SmallVector<Operation *> ordered;
  for (Operation &op : body)
    if (slice.contains(&op))
      ordered.push_back(&op);
  return ordered;
}

/// Moves `ops` of `res`'s body in front of it, reading its input instead
/// of the block argument.
void hoist(ArrayRef<Operation *> ops, ResidualOp res) {
  Value arg = res.getBody().front().getArgument(0);
  for (Operation *op : ops) {
    op->moveBefore(res);
    op->replaceUsesOfWith(arg, res.getInput());
  }
}

class Merger {
public:
  Merger(func::FuncOp func, const SlimMergeTokensPassOptions &options)
      : func(func), options(options) {}
  LogicalResult analyze();
  LogicalResult apply();

private:
  LogicalResult checkBody(ResidualOp res, int64_t layer);
  LogicalResult findKeys(Block &block);
  LogicalResult checkReadout(Value v);
  int64_t detectProtected(Value x0);
  SmallVector<int64_t> schedule(int64_t layers);
  LogicalResult reinfer(mlir::Block &body);

  func::FuncOp func;
  const SlimMergeTokensPassOptions &options;
  SmallVector<Block> blocks;
  Value x0;
  SmallVector<ReduceMeanOp> meanPools;
  /// Returned per-token values (with `unmerge`).
  SmallVector<OpOperand *> perTokenOutputs;
  llvm::SmallPtrSet<Operation *, 8> fullTokenSlices;
  int64_t protectedTokens = 0;
};

LogicalResult Merger::checkBody(ResidualOp res, int64_t layer) {
  for (Operation &op : res.getBody().front()) {
    if (auto a = dyn_cast<AttentionOp>(op)) {
      if (a.getCausal())
        return a.emitError(kPrefix)
               << "block " << layer
               << " uses a causal/windowed mask; merging would break it";
      if (a.getKeyBias())
        return a.emitError(kPrefix)
               << "block " << layer
               << " masks padding keys (key_bias); merged tokens would mix "
                  "padding with tokens";
      if (a.getBias())
        return a.emitError(kPrefix)
               << "block " << layer
               << " adds a per-position bias to its attention (relative "
                  "positions or window masks); merged tokens have no single "
                  "position";
      continue;
    }
    if (isa<RopeOp>(op))
      return op.emitError(kPrefix)
             << "block " << layer
             << " applies position-dependent attention (" << describeOp(&op)
             << "); merged tokens have no single position";
    if (isa<arith::ConstantOp, LayerNormOp, RmsNormOp, CrmsNormOp, LinearOp, GeluOp,
            SiluOp, ErfOp, TanhOp, SqrtOp, ExpOp, SigmoidOp, NegOp, ReluOp,
            CosOp, SinOp, LogOp, AbsOp, FloorOp, CeilOp, RoundOp, YieldOp>(
            op))
      continue;
    if (isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp>(op)) {
      // Per-token unless an operand brings its own token axis (a constant
      // with more than one row along axis 1 would be position-dependent).
      bool perToken = true;
      for (Value v : op.getOperands())
        if (v.getDefiningOp<arith::ConstantOp>()) {
          auto t = cast<RankedTensorType>(v.getType());
          if (t.getRank() >= 2 && t.getDimSize(t.getRank() - 2) != 1)
            perToken = false;
        }
      if (perToken)
        continue;
    }
    if (auto sl = dyn_cast<SliceOp>(op)) {
      // Splitting a fused projection along the last axis is per-token.
      auto in = sl.getInput().getType();
      if (in.getRank() == 3 && sl.getOffsets()[1] == 0 &&
          sl.getSizes()[1] == in.getDimSize(1) && sl.getStrides()[1] == 1) {
        fullTokenSlices.insert(sl);
        continue;
      }
    }
    return op.emitError(kPrefix)
           << describeOp(&op) << " in block " << layer
           << " mixes tokens spatially";
  }
  return success();
}

/// ToMe's metric reads the attention's keys, which must be a linear (or a
/// last-axis slice of one) of the norm that reads the block input (a Pre-LN
/// block): those ops move in front of the residual.
LogicalResult Merger::findKeys(Block &block) {
  Value k = block.attn.getKey();
  if (auto sl = k.getDefiningOp<SliceOp>())
    k = sl.getInput();
  auto lin = k.getDefiningOp<LinearOp>();
  Operation *norm = lin ? lin.getInput().getDefiningOp() : nullptr;
  Value arg = block.attention.getBody().front().getArgument(0);
  if (!lin || !norm || !isa<LayerNormOp, RmsNormOp, CrmsNormOp>(norm) ||
      norm->getOperand(0) != arg ||
      !lin.getWeight().getDefiningOp<arith::ConstantOp>() ||
      !isFloatConstant(lin.getWeight()) ||
      (lin.getBias() && !isFloatConstant(lin.getBias())))
    return block.attn.emitError(kPrefix)
           << "the keys of " << describeOp(block.attn) << " in block "
           << block.attention.getLayer()
           << " are not a constant linear of the normalized block input; "
              "ToMe's metric (keys averaged over heads) cannot be formed";
  return success();
}

/// The last main-branch value may reach the outputs only through a CLS
/// slice or a mean over tokens (after per-token ops such as the final norm).
LogicalResult Merger::checkReadout(Value v) {
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (isa<func::ReturnOp>(user)) {
      if (!options.unmerge)
        return user->emitError(kPrefix)
               << "graph output is per-token; set unmerge_outputs=true";
      perTokenOutputs.push_back(&use); // unmerged before the return
      continue;
    }
    if (auto sl = dyn_cast<SliceOp>(user)) {
      auto in = sl.getInput().getType();
      if (in.getRank() == 3 && sl.getOffsets()[1] + sl.getSizes()[1] <=
                                   std::max<int64_t>(protectedTokens, 1) &&
          sl.getOffsets()[1] < std::max<int64_t>(protectedTokens, 1))
        continue; // CLS (or distillation token) readout
    }
    if (auto rm = dyn_cast<ReduceMeanOp>(user)) {
      auto axes = rm.getAxes();
      auto in = rm.getInput().getType();
      if (in.getRank() == 3 && axes.size() == 1 &&
          (axes[0] == 1 || axes[0] == -2)) {
        meanPools.push_back(rm);
        continue;
      }
    }
    if (isa<LayerNormOp, RmsNormOp, CrmsNormOp, LinearOp, GeluOp, SiluOp,
            TanhOp>(user) &&
        use.getOperandNumber() == 0) {
      if (failed(checkReadout(user->getResult(0))))
        return failure();
      continue;
    }
    return user->emitError(kPrefix)
           << describeOp(user) << " after the last block mixes tokens "
           << "spatially";
  }
  return success();
}

/// CLS / distillation tokens: constant [1, k, d] tokens concatenated in
/// front of the patch tokens (possibly before a position embedding add).
int64_t Merger::detectProtected(Value x) {
  Operation *d = x.getDefiningOp();
  if (auto add = dyn_cast_or_null<AddOp>(d)) {
    for (Value operand : {add.getLhs(), add.getRhs()})
      if (int64_t p = detectProtected(operand))
        return p;
    return 0;
  }
  if (auto cat = dyn_cast_or_null<ConcatOp>(d)) {
    if (cat.getAxis() != 1 && cat.getAxis() != -2)
      return 0;
    int64_t p = 0;
    for (Value in : cat.getInputs()) {
      if (!in.getDefiningOp<arith::ConstantOp>())
        break;
      p += cast<RankedTensorType>(in.getType()).getDimSize(1);
    }
    return p;
  }
  return 0;
}

SmallVector<int64_t> Merger::schedule(int64_t layers) {
  if (!options.schedule.empty())
    return SmallVector<int64_t>(options.schedule.begin(),
                                options.schedule.end());
  SmallVector<int64_t> rs;
  double r = double(options.r);
  int64_t lo = int64_t(std::floor(r * (1.0 - options.inflect)));
  int64_t hi = 2 * options.r - lo;
  for (int64_t l = 0; l < layers; ++l)
    rs.push_back(layers == 1 ? options.r
                             : int64_t(std::floor(lo + double(l) * double(hi - lo) /
                                                           double(layers - 1))));
  return rs;
}

LogicalResult Merger::analyze() {
  ResidualOp first;
  for (Operation &op : func.getBody().front())
    if ((first = dyn_cast<ResidualOp>(op)))
      break;
  if (!first)
    return func.emitError(kPrefix)
           << "@" << func.getSymName()
           << " has no residual blocks (run slim-raise first)";
  x0 = first.getInput();
  auto t0 = dyn_cast<RankedTensorType>(x0.getType());
  if (!t0 || t0.getRank() != 3)
    return first.emitError(kPrefix)
           << "the residual stream must be [batch, tokens, dim], got "
           << x0.getType();
  protectedTokens = options.protectedTokens >= 0 ? options.protectedTokens
                                                 : detectProtected(x0);
  Value v = x0;
  while (ResidualOp res = nextResidual(v)) {
    if (failed(checkBody(res, res.getLayer())))
      return failure();
    if (res.getKind() == ResidualKind::attention) {
      AttentionOp attn;
      for (Operation &op : res.getBody().front())
        if (auto a = dyn_cast<AttentionOp>(op))
          attn = a;
      if (!attn)
        return res.emitError(kPrefix)
               << "attention residual of block " << res.getLayer()
               << " has no slim.attention";
      blocks.push_back({res, attn});
      if (options.method != MergeMethod::mctf && failed(findKeys(blocks.back())))
        return failure();
    }
    // Besides the next residual, a main-branch value may only feed norms
    // inside that residual (checked above) or, after the last block, the
    // readout.
    for (Operation *user : v.getUsers())
      if (user != res)
        return user->emitError(kPrefix)
               << describeOp(user) << " reads the residual stream between "
               << "blocks; merged tokens would change what it sees";
    v = res.getResult();
  }
  if (blocks.empty())
    return func.emitError(kPrefix) << "no attention blocks to merge after";
  return checkReadout(v);
}

/// Re-infers the result types of every op in `body` (in order) from their
/// operands, after token counts changed upstream.
LogicalResult Merger::reinfer(mlir::Block &body) {
  return reinferTypes(body, [&](Operation &op) -> FailureOr<bool> {
    if (auto sl = dyn_cast<SliceOp>(op); sl && fullTokenSlices.contains(sl)) {
      SmallVector<int64_t> sizes(sl.getSizes());
      sizes[1] = sl.getInput().getType().getDimSize(1);
      sl.setSizesAttr(DenseI64ArrayAttr::get(op.getContext(), sizes));
    }
    if (isa<ReshapeOp>(op)) {
      if (cast<RankedTensorType>(op.getOperand(0).getType()).getNumElements() !=
          cast<RankedTensorType>(op.getResult(0).getType()).getNumElements())
        return op.emitError(kPrefix)
               << describeOp(&op) << " reshapes the token axis; it cannot "
               << "follow a merge";
      return true;
    }
    return false;
  });
}

LogicalResult Merger::apply() {
  SmallVector<int64_t> rs = schedule(blocks.size());
  if (int64_t(rs.size()) != int64_t(blocks.size()))
    return func.emitError(kPrefix)
           << "schedule has " << rs.size() << " entries for "
           << blocks.size() << " blocks";
  OpBuilder b(func.getContext());
  int64_t tokens = cast<RankedTensorType>(x0.getType()).getDimSize(1);
  int64_t batch = cast<RankedTensorType>(x0.getType()).getDimSize(0);
  Value sizes; // null while every size is 1
  // With per-token outputs to unmerge: the current row of every original
  // token (iota before the first merge).
  Value source;
  bool anyMerge = false;
  for (auto [l, block] : llvm::enumerate(blocks)) {
    // Proportional attention for every block after a merge.
    if (sizes && options.propAttn)
      block.attn.getSizesMutable().assign(sizes);
    int64_t r = rs[l];
    if (r < 0)
      return block.attention.emitError(kPrefix)
             << "r_" << l << "=" << r << " is negative";
    if (r > 0 && options.fraction > 0.0)
      r = int64_t(std::floor(options.fraction *
                             double(tokens - protectedTokens)));
    bool mctf = options.method == MergeMethod::mctf;
    int64_t cap = (tokens - protectedTokens) / 2;
    if (mctf) // MCTF also keeps at least 10 tokens
      cap = std::max<int64_t>(0, std::min(cap, tokens - 10));
    if (r > cap) {
      block.attention.emitWarning(kPrefix)
          << "r_" << l << "=" << r << " clamped to " << cap;
      r = cap;
    }
    if (r == 0)
      continue;
    ResidualOp res = block.attention;
    if (!sizes) {
      auto st = RankedTensorType::get({batch, tokens}, b.getF32Type());
      b.setInsertionPoint(res);
      sizes = b.create<arith::ConstantOp>(
          res.getLoc(), DenseElementsAttr::get(st, 1.0f));
    }
    if (!source && !perTokenOutputs.empty()) {
      int64_t t0 = cast<RankedTensorType>(x0.getType()).getDimSize(1);
      std::vector<int64_t> iota(batch * t0);
      for (int64_t k = 0; k < batch * t0; ++k)
        iota[k] = k % t0;
      b.setInsertionPoint(res);
      source = b.create<arith::ConstantOp>(
          res.getLoc(),
          DenseElementsAttr::get(
              RankedTensorType::get({batch, t0}, b.getI64Type()),
              ArrayRef<int64_t>(iota)));
    }
    if (mctf) {
      // MCTF: the metric is the hidden states, and the attention each token
      // received is needed: the ops computing the attention's queries and
      // keys from the block input.
      mlir::Block &body = res.getBody().front();
      FailureOr<SmallVector<Operation *>> ordered =
          bodySlice(res, {block.attn.getQuery(), block.attn.getKey()});
      if (failed(ordered))
        return block.attn.emitError(kPrefix)
               << "mctf needs attention probabilities at block "
               << res.getLayer();
      Value merged = res.getResult(), q = block.attn.getQuery(),
            k = block.attn.getKey();
      if (options.oneStepAhead != 0) {
        // One step ahead: a look-ahead attention on the block input gives
        // the received attention, the input merges, and the block (its
        // attention too) runs on the merged tokens. The queries and keys
        // are computed once more, outside, for the look-ahead.
        IRMapping map;
        map.map(body.getArgument(0), res.getInput());
        b.setInsertionPoint(res);
        for (Operation *op : *ordered)
          b.clone(*op, map);
        q = map.lookup(q);
        k = map.lookup(k);
        merged = res.getInput();
      } else {
        // After the attention: its queries and keys move in front of the
        // residual, where slim.attention_received reads them too.
        hoist(*ordered, res);
      }
      b.setInsertionPoint(res);
      auto received = b.create<AttentionReceivedOp>(
          block.attn.getLoc(), q, k, block.attn.getSizes(),
          block.attn.getNumHeadsAttr(), block.attn.getNumKvHeadsAttr(),
          block.attn.getScaleAttr());
      if (options.oneStepAhead != 0)
        b.setInsertionPoint(res);
      else
        b.setInsertionPointAfter(res);
      // Mode 1 needs the row of every token of this block (its groups):
      // the merge's map, started from iota here.
      Value groupsIn;
      if (options.oneStepAhead == 1) {
        if (source)
          return block.attention.emitError(kPrefix)
                 << "one_step_ahead=1 (MCTF's default) cannot be combined "
                    "with unmerge; set one_step_ahead=0 or 2";
        std::vector<int64_t> iota(batch * tokens);
        for (int64_t t = 0; t < batch * tokens; ++t)
          iota[t] = t % tokens;
        groupsIn = b.create<arith::ConstantOp>(
            res.getLoc(),
            DenseElementsAttr::get(
                RankedTensorType::get({batch, tokens}, b.getI64Type()),
                ArrayRef<int64_t>(iota)));
      }
      Value sizesIn = sizes;
      auto tm = b.create<TokenMergeOp>(
          res.getLoc(), merged, merged, sizes, groupsIn ? groupsIn : source,
          received.getResult(), b.getI64IntegerAttr(r),
          b.getI64IntegerAttr(protectedTokens),
          MergeMethodAttr::get(b.getContext(), MergeMethod::mctf),
          b.getF32FloatAttr(float(options.tauSim)),
          b.getF32FloatAttr(float(options.tauInfo)),
          b.getF32FloatAttr(float(options.tauSize)),
          b.getBoolAttr(options.bidirectional));
      if (options.oneStepAhead != 0)
        res.getInputMutable().assign(tm.getResult()); // not the look-ahead's
      else
        merged.replaceAllUsesExcept(tm.getResult(), tm.getOperation());
      sizes = tm.getResultSizes();
      if (source)
        source = tm.getResultSource();
      // Mode 2: the block's own attention sees the merged tokens' sizes.
      if (options.oneStepAhead == 2 && options.propAttn)
        block.attn.getSizesMutable().assign(sizes);
      if (options.oneStepAhead == 1) {
        // Mode 1: the block's attention becomes the look-ahead
        // probabilities with merged rows and columns applied to the merged
        // tokens' values: Â·V̂ = group_mean over each row's queries of
        // (A · V̂ gathered back to every key token), weights ā·s.
        AttentionOp attn = block.attn;
        Value groups = tm.getResultSource();
        b.setInsertionPoint(attn);
        Location loc = attn.getLoc();
        Value vFull = b.create<UnmergeOp>(loc, attn.getValue(), groups);
        Value full = b.create<AttentionOp>(
            loc, q, k, vFull, options.propAttn ? sizesIn : Value(), Value(),
            Value(),
            attn.getNumHeadsAttr(), attn.getNumKvHeadsAttr(), UnitAttr(),
            attn.getScaleAttr(), attn.getInt8Attr());
        Value w = b.create<MulOp>(loc, received.getResult(), sizesIn);
        Value rows = b.create<GroupMeanOp>(loc, full, groups, w,
                                           b.getI64IntegerAttr(tokens - r));
        attn.getResult().replaceAllUsesWith(rows);
        attn.erase();
        // The block's own queries and keys are dead now.
        for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
          if (isOpTriviallyDead(&op))
            op.erase();
      }
      tokens -= r;
      anyMerge = true;
      if (failed(reinfer(func.getBody().front())))
        return failure();
      continue;
    }
    // ToMe's metric: this attention's keys averaged over the kv heads. The
    // ops computing the keys from the block input (its norm, the key or
    // fused qkv linear, a slice) move in front of the residual, so the
    // keys are computed once and also read outside: reshaped to
    // [B, T, Hkv, dh] and averaged over the heads.
    // (findKeys checked that norm, linear and slice are all there is.)
    hoist(*bodySlice(res, {block.attn.getKey()}), res);
    b.setInsertionPointAfter(res);
    Value keys = block.attn.getKey();
    auto kt = cast<RankedTensorType>(keys.getType());
    int64_t kvHeads = static_cast<int64_t>(block.attn.getNumKvHeads());
    int64_t dh = block.attn.getHeadDim();
    Value heads = b.create<ReshapeOp>(
        res.getLoc(),
        RankedTensorType::get(
            {kt.getDimSize(0), kt.getDimSize(1), kvHeads, dh},
            kt.getElementType()),
        keys);
    Value metric = b.create<ReduceMeanOp>(
        res.getLoc(), heads, b.getDenseI64ArrayAttr({2}), false);
    auto tm = b.create<TokenMergeOp>(
        res.getLoc(), res.getResult(), metric, sizes, source, Value(),
        b.getI64IntegerAttr(r), b.getI64IntegerAttr(protectedTokens),
        MergeMethodAttr::get(b.getContext(), MergeMethod::tome),
        b.getF32FloatAttr(1.0f), b.getF32FloatAttr(20.0f),
        b.getF32FloatAttr(40.0f), b.getBoolAttr(true));
    res.getResult().replaceAllUsesExcept(tm.getResult(), tm.getOperation());
    sizes = tm.getResultSizes();
    if (source)
      source = tm.getResultSource();
    tokens -= r;
    anyMerge = true;
    // Later ops see T − r tokens from here on (the next merge is built on
    // their new types).
    if (failed(reinfer(func.getBody().front())))
      return failure();
  }
  if (!anyMerge)
    return success(); // r = 0 everywhere: nothing inserted
  // Mean pooling over tokens becomes Σ s·h / Σ s.
  for (ReduceMeanOp rm : meanPools) {
    b.setInsertionPoint(rm);
    Location loc = rm.getLoc();
    auto st = cast<RankedTensorType>(sizes.getType());
    Value s3 = b.create<ReshapeOp>(
        loc, RankedTensorType::get({st.getDimSize(0), st.getDimSize(1), 1},
                                   st.getElementType()),
        sizes);
    Value weighted = b.create<MulOp>(loc, rm.getInput(), s3);
    Value num = b.create<ReduceMeanOp>(loc, weighted, rm.getAxesAttr(),
                                       rm.getKeepdims());
    Value den = b.create<ReduceMeanOp>(loc, s3, rm.getAxesAttr(),
                                       rm.getKeepdims());
    Value pooled = b.create<DivOp>(loc, num, den);
    rm.getResult().replaceAllUsesWith(pooled);
    rm.erase();
  }
  // Per-token outputs: every original token gets its merged token's row.
  for (OpOperand *use : perTokenOutputs) {
    b.setInsertionPoint(use->getOwner());
    use->set(b.create<UnmergeOp>(use->getOwner()->getLoc(), use->get(),
                                 source));
  }
  return reinfer(func.getBody().front());
}

struct SlimMergeTokensPass
    : public mlir::slim::impl::SlimMergeTokensPassBase<SlimMergeTokensPass> {
  using SlimMergeTokensPassBase::SlimMergeTokensPassBase;

  void runOnOperation() override {
    int64_t ahead = oneStepAhead;
    if (ahead == -1) // the spec's default: 1 for MCTF
      ahead = method == MergeMethod::mctf ? 1 : 0;
    if (ahead != 0 &&
        ((ahead != 1 && ahead != 2) || method != MergeMethod::mctf)) {
      getOperation().emitError(kPrefix)
          << "one_step_ahead=" << int64_t(oneStepAhead)
          << ": expected 0, or 1 or 2 with method=mctf";
      return signalPassFailure();
    }
    if (!(tauSim > 0) || !(tauInfo > 0) || !(tauSize > 0)) {
      getOperation().emitError(kPrefix) << "tau_sim, tau_info and tau_size "
                                           "must be positive";
      return signalPassFailure();
    }
    if (r < 0) {
      getOperation().emitError(kPrefix) << "r=" << r << " is negative";
      return signalPassFailure();
    }
    SlimMergeTokensPassOptions opts;
    opts.r = r;
    opts.fraction = fraction;
    if (!(fraction >= 0.0 && fraction < 1.0)) {
      getOperation().emitError(kPrefix)
          << "fraction=" << double(fraction) << " must be in [0, 1)";
      return signalPassFailure();
    }
    opts.inflect = inflect;
    opts.schedule = schedule;
    opts.method = method;
    opts.propAttn = propAttn;
    opts.protectedTokens = protectedTokens;
    opts.unmerge = unmerge;
    opts.tauSim = tauSim;
    opts.tauInfo = tauInfo;
    opts.tauSize = tauSize;
    opts.bidirectional = bidirectional;
    opts.oneStepAhead = ahead;
    bool all0 = schedule.empty() ? r == 0
                                 : llvm::all_of(schedule, [](int64_t x) {
                                     return x == 0;
                                   });
    if (all0)
      return; // r = 0: nothing to do, nothing checked
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      Merger merger(func, opts);
      if (failed(merger.analyze()) || failed(merger.apply()))
        return signalPassFailure();
    }
  }
};

} // namespace
