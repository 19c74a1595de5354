//===- DecodeStep.cpp - slim-decode-step: KV-cache step functions ---------===//
//
// A causal decoder imported for a window of N tokens, @main(input_ids
// [1, N]) -> logits [1, N, V], becomes the source of a step function
// @NAME(input_ids [1, C], positions [1, C], logits_row [1, 1]) -> logits
// [1, 1, V] that processes C new tokens at positions p … p+C−1 against a
// KV cache of N positions held by the runtime:
//
//   - every causal self-attention becomes slim.kv_attention (one cache
//     slot per attention op, numbered in order: layers removed by
//     slim-drop-layers have none);
//   - what the window fixed to 0 … N−1 reads the positions input instead:
//     RoPE positions, position-embedding gathers, and a [1, N, d] position
//     table added to the token embeddings (rows gathered by position);
//   - the head reads one row, `logits_row` of the C (the last real token
//     of a padded prefill chunk);
//   - every shape is re-inferred for C tokens.
//
// slimc builds a prefill step (C = the prefill chunk) and a decode step
// (C = 1) beside @main; the runtime calls them to generate. Whatever else
// depends on the window (a constant mask, a slice of the token axis) is
// refused with the op that does.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Weights.h"

#include "reference/Executor.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMDECODESTEPPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

constexpr const char *kPrefix = "decode-step: ";

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Whether `v` is an integer constant holding 0, 1, …, n−1 (any leading
/// unit axes).
bool isIota(Value v, int64_t n) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst || tensorType(v).getNumElements() != n)
    return false;
  FailureOr<Tensor> t = constantTensor(cst);
  if (failed(t))
    return false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t x;
    if (t->dtype == ::slim::rt::DType::I64)
      x = reinterpret_cast<const int64_t *>(t->data.data())[i];
    else if (t->dtype == ::slim::rt::DType::I32)
      x = reinterpret_cast<const int32_t *>(t->data.data())[i];
    else
      return false;
    if (x != i)
      return false;
  }
  return true;
}

class StepBuilder {
public:
  StepBuilder(func::FuncOp src, int64_t tokens, StringRef name,
              bool cacheF16)
      : src(src), tokens(tokens), name(name), cacheF16(cacheF16) {}

  LogicalResult build();

private:
  LogicalResult checkSource();
  LogicalResult rewrite();
  LogicalResult reinfer(Block &body);

  func::FuncOp src, step;
  int64_t tokens, window = 0;
  StringRef name;
  bool cacheF16;
  Value positions, logitsRow;
};

LogicalResult StepBuilder::checkSource() {
  // Token ids, and optionally position ids (Hugging Face's position_ids)
  // read only by RoPE: the step's positions take their place.
  if (src.getNumArguments() == 2) {
    SmallVector<Value> work = {src.getArgument(1)};
    bool rope = false;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<ReshapeOp>(user)) {
          work.push_back(user->getResult(0));
          continue;
        }
        rope |= isa<RopeOp>(user);
        if (!isa<RopeOp>(user))
          return src.emitError(kPrefix)
                 << "@" << src.getSymName() << "'s second input is read by "
                 << describeOp(user)
                 << "; a decoder step takes token ids, and position ids "
                    "only when RoPE alone reads them";
      }
    }
    if (!rope)
      return src.emitError(kPrefix)
             << "@" << src.getSymName() << " has 2 inputs and RoPE does not "
                "read the second; a decoder step takes token ids, and "
                "position ids only when RoPE alone reads them";
  } else if (src.getNumArguments() != 1) {
    return src.emitError(kPrefix)
           << "@" << src.getSymName() << " has " << src.getNumArguments()
           << " inputs; a decoder step takes the token ids (and position "
              "ids read only by RoPE)";
  }
  auto ids = tensorType(src.getArgument(0));
  if (ids.getRank() != 2 || ids.getDimSize(0) != 1 ||
      !ids.getElementType().isSignlessInteger())
    return src.emitError(kPrefix)
           << "the input of @" << src.getSymName()
           << " must be token ids [1, N] (one sequence), got " << ids;
  window = ids.getDimSize(1);
  if (tokens < 1 || tokens > window)
    return src.emitError(kPrefix)
           << "tokens=" << tokens << " must be between 1 and the window of @"
           << src.getSymName() << " (" << window << ")";
  if (src.getNumResults() != 1)
    return src.emitError(kPrefix)
           << "@" << src.getSymName() << " has " << src.getNumResults()
           << " outputs; a decoder step returns the logits only";
  bool anyAttention = false;
  WalkResult w = src.walk([&](AttentionOp a) {
    anyAttention = true;
    if (!a.getCausal() || a.getSizes() || a.getKeyBias() || a.getBias() ||
        a.getKey().getType().getDimSize(1) != window ||
        a.getQuery().getType().getDimSize(1) != window) {
      a.emitError(kPrefix)
          << describeOp(a)
          << " is not a causal self-attention over the whole window; only "
             "decoders get a KV cache";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (w.wasInterrupted())
    return failure();
  if (!anyAttention)
    return src.emitError(kPrefix) << "@" << src.getSymName()
                                  << " has no attention to cache";
  return success();
}

LogicalResult StepBuilder::rewrite() {
  MLIRContext *ctx = src.getContext();
  OpBuilder b(ctx);
  auto i64 = b.getI64Type();
  auto posType = RankedTensorType::get({1, window}, i64);
  // The new inputs, typed for the window until everything is re-inferred.
  step.insertArgument(1, posType, b.getDictionaryAttr(b.getNamedAttr(
                                      "slim.name", b.getStringAttr("positions"))),
                      step.getLoc());
  step.insertArgument(2, RankedTensorType::get({1, 1}, i64),
                      b.getDictionaryAttr(b.getNamedAttr(
                          "slim.name", b.getStringAttr("logits_row"))),
                      step.getLoc());
  positions = step.getArgument(1);
  logitsRow = step.getArgument(2);
  Value givenPositions =
      step.getNumArguments() == 4 ? step.getArgument(3) : Value();
  step.getArgument(0).setType(RankedTensorType::get({1, tokens},
                                                    tensorType(step.getArgument(0)).getElementType()));

  // Positions: RoPE angles, position-embedding gathers, position tables.
  SmallVector<Operation *> ops;
  step.walk([&](Operation *op) { ops.push_back(op); });
  int64_t slot = 0;
  for (Operation *op : ops) {
    if (auto rope = dyn_cast<RopeOp>(op)) {
      Value p = rope.getPositions();
      while (auto r = p.getDefiningOp<ReshapeOp>())
        p = r.getInput();
      if (givenPositions && p == givenPositions) {
        rope.getPositionsMutable().assign(positions);
        continue;
      }
      if (!isIota(rope.getPositions(), window))
        return rope.emitError(kPrefix)
               << describeOp(op) << " rotates by positions that are not 0 … "
               << window - 1 << "; a step cannot move them";
      rope.getPositionsMutable().assign(positions);
      continue;
    }
    if (auto emb = dyn_cast<EmbeddingOp>(op)) {
      if (!emb.getIndices().getDefiningOp<arith::ConstantOp>())
        continue;
      if (!isIota(emb.getIndices(), window))
        return emb.emitError(kPrefix)
               << describeOp(op) << " gathers constant rows that are not the "
               << "positions 0 … " << window - 1;
      emb.getIndicesMutable().assign(positions);
      continue;
    }
    if (isa<AddOp>(op)) {
      for (unsigned k = 0; k < 2; ++k) {
        Value table = op->getOperand(k);
        auto cst = table.getDefiningOp<arith::ConstantOp>();
        auto t = tensorType(table);
        auto other = tensorType(op->getOperand(1 - k));
        if (!cst || !isFloatConstant(table) || other.getRank() != 3 ||
            other.getDimSize(1) != window)
          continue;
        bool posTable = (t.getRank() == 3 && t.getDimSize(0) == 1 &&
                         t.getDimSize(1) == window) ||
                        (t.getRank() == 2 && t.getDimSize(0) == window);
        if (!posTable || t.getShape().back() != other.getDimSize(2))
          continue;
        // The same bytes seen as a [N, d] table (sharing the blob, so the
        // binary stores it once), rows gathered by position.
        b.setInsertionPoint(op);
        SmallVector<int64_t> rowsShape = {window, t.getShape().back()};
        Value rows = reshapeConstant(b, cst.getResult(), rowsShape);
        Value gathered =
            b.create<EmbeddingOp>(op->getLoc(), rows, positions);
        op->setOperand(k, gathered);
        break;
      }
      continue;
    }
    if (auto a = dyn_cast<AttentionOp>(op)) {
      b.setInsertionPoint(a);
      auto kv = b.create<KvAttentionOp>(
          a.getLoc(), a.getQuery(), a.getKey(), a.getValue(), positions,
          a.getNumHeadsAttr(), a.getNumKvHeadsAttr(),
          b.getI64IntegerAttr(slot++), b.getI64IntegerAttr(window),
          a.getScaleAttr(), cacheF16 ? b.getUnitAttr() : UnitAttr());
      a.getResult().replaceAllUsesWith(kv.getResult());
      a.erase();
      continue;
    }
  }

  // The head reads the one row the caller asks for.
  auto ret = cast<func::ReturnOp>(step.getBody().back().getTerminator());
  Operation *head = ret.getOperand(0).getDefiningOp();
  if (!head || !isa<LinearOp, QLinearOp>(head) ||
      tensorType(head->getOperand(0)).getRank() != 3 ||
      tensorType(head->getOperand(0)).getDimSize(1) != window)
    return ret.emitError(kPrefix)
           << "the output of @" << src.getSymName()
           << " must be logits [1, " << window
           << ", vocab] from a linear head (not restricted to the last "
              "position)";
  b.setInsertionPoint(head);
  Value x = head->getOperand(0);
  int64_t d = tensorType(x).getDimSize(2);
  Value flat = b.create<ReshapeOp>(
      head->getLoc(), RankedTensorType::get({window, d}, tensorType(x).getElementType()), x);
  Value row = b.create<EmbeddingOp>(head->getLoc(), flat, logitsRow);
  head->setOperand(0, row);

  // The given position ids are replaced by the step's positions.
  if (givenPositions) {
    // The reshapes that carried them to RoPE are dead now.
    for (bool erased = true; erased;) {
      erased = false;
      SmallVector<Operation *> dead;
      step.walk([&](ReshapeOp r) {
        if (r->use_empty())
          dead.push_back(r);
      });
      for (Operation *op : dead)
        op->erase();
      erased = !dead.empty();
    }
    if (!givenPositions.use_empty())
      return step.emitError(kPrefix) << "position ids still read after the "
                                        "rewrite";
    step.eraseArgument(3);
  }

  // Re-type for C tokens.
  positions.setType(RankedTensorType::get({1, tokens}, i64));
  return reinfer(step.getBody().front());
}

LogicalResult StepBuilder::reinfer(Block &body) {
  auto refuse = [&](Operation &op) -> LogicalResult {
    return op.emitError(kPrefix)
           << describeOp(&op) << " depends on the " << window
           << "-token window (a constant or a static shape of that "
              "length); it cannot run on "
           << tokens << " token(s) at a time";
  };
  auto adjust = [&](Operation &op) -> FailureOr<bool> {
    if (auto sl = dyn_cast<SliceOp>(op)) {
      auto in = tensorType(sl.getInput());
      SmallVector<int64_t> sizes(sl.getSizes());
      if (in.getRank() >= 2 && in.getDimSize(1) != window &&
          sizes[1] == window) {
        if (sl.getOffsets()[1] != 0 || sl.getStrides()[1] != 1)
          return refuse(op);
        sizes[1] = in.getDimSize(1);
        sl.setSizesAttr(DenseI64ArrayAttr::get(op.getContext(), sizes));
      }
      return false;
    }
    if (!isa<ReshapeOp, BroadcastOp>(op))
      return false;
    auto in = tensorType(op.getOperand(0));
    auto outType = tensorType(op.getResult(0));
    SmallVector<int64_t> shape(outType.getShape());
    bool reshape = isa<ReshapeOp>(op);
    if (reshape ? in.getNumElements() != outType.getNumElements()
                : in.getRank() >= 2 && in.getDimSize(1) != window &&
                      shape.size() >= 2 && shape[1] == window) {
      // The token axis: the first one of the window's length.
      auto it = llvm::find(shape, window);
      if (it == shape.end())
        return refuse(op);
      *it = in.getRank() >= 2 ? in.getDimSize(1) : tokens;
      auto t = RankedTensorType::get(shape, outType.getElementType());
      if (reshape && t.getNumElements() != in.getNumElements())
        return refuse(op);
      op.getResult(0).setType(t);
    }
    return true;
  };
  return reinferTypes(body, adjust, refuse);
}

LogicalResult StepBuilder::build() {
  if (failed(checkSource()))
    return failure();
  auto module = src->getParentOfType<ModuleOp>();
  if (module.lookupSymbol(name))
    return src.emitError(kPrefix) << "the module already has a @" << name;
  step = src.clone();
  step.setSymName(name);
  module.push_back(step);
  auto cleanup = [&]() {
    step.erase();
    return failure();
  };
  if (failed(rewrite()))
    return cleanup();
  auto ret = cast<func::ReturnOp>(step.getBody().back().getTerminator());
  step.setType(FunctionType::get(step.getContext(),
                                 step.getBody().front().getArgumentTypes(),
                                 ret.getOperandTypes()));
  step->setAttr("slim.kv_capacity",
                OpBuilder(step).getI64IntegerAttr(window));
  if (failed(mlir::verify(step)))
    return cleanup();
  eraseDeadConstants(step);
  return success();
}

struct SlimDecodeStepPass
    : public mlir::slim::impl::SlimDecodeStepPassBase<SlimDecodeStepPass> {
  using SlimDecodeStepPassBase::SlimDecodeStepPassBase;
  void runOnOperation() override {
    auto src = getOperation().lookupSymbol<func::FuncOp>(source);
    if (!src) {
      getOperation().emitError(kPrefix) << "no function @" << source;
      return signalPassFailure();
    }
    if (cache != "f32" && cache != "f16") {
      getOperation().emitError(kPrefix)
          << "cache=" << cache << ": expected f32 or f16";
      return signalPassFailure();
    }
    if (failed(StepBuilder(src, tokens, name, cache == "f16").build()))
      signalPassFailure();
  }
};

} // namespace
