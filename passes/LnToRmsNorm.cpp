//===- LnToRmsNorm.cpp - slim-ln-to-rmsnorm: exact Pre-LN -> Pre-RMSNorm --===//
//
// Analysis first, then edits: every precondition of shared/spec/PASSES.md
// §3.6 is checked on the whole function before the first weight changes,
// so a failure leaves the module as it was.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMLNTORMSNORMPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

constexpr llvm::StringLiteral kPrefix = "ln-to-rms: ";

std::string describeValue(Value v) {
  if (Operation *d = v.getDefiningOp())
    return "the result of " + describeOp(d);
  return "function argument #" +
         std::to_string(cast<BlockArgument>(v).getArgNumber());
}

/// One weight edit: replace operand `index` of `user` by a recentred copy.
struct Edit {
  enum Kind { Rows, Outputs } kind;
  Operation *user;
  unsigned index;
};

/// A linear that reads a main-branch norm's output (possibly through
/// slices and reshapes that keep the last axis): CRMS folds the norm's gain
/// and bias into it.
struct Consumer {
  LinearOp linear;
  SmallVector<Operation *> path; // slices / reshapes between norm and linear
};

class Rewriter {
public:
  Rewriter(func::FuncOp func, bool untie, bool crms)
      : func(func), untie(untie), crms(crms) {}

  /// Checks everything; on success `apply()` makes the edits.
  LogicalResult analyze();
  void apply();
  bool nothingToDo() const { return norms.empty(); }

private:
  LogicalResult checkReaders(Value v, int64_t afterBlock);
  LogicalResult checkNorm(LayerNormOp ln);
  LogicalResult collectWriters(Value v);
  LogicalResult branchEnd(ResidualOp res);
  LogicalResult foldableConstant(Value w, Operation *user);
  LogicalResult collectConsumers(Value v, LayerNormOp ln,
                                 SmallVector<Operation *> path);
  Value recentred(Edit edit, OpBuilder &b);
  void applyCrms(Value stream, OpBuilder &b);

  func::FuncOp func;
  bool untie, crms;
  Value x0;
  Operation *rmsReader = nullptr;              // an RMSNorm on the main branch
  SmallVector<ResidualOp> chain;               // the residuals, in order
  llvm::DenseMap<Operation *, SmallVector<Consumer>> consumers; // per LN
  SmallVector<LayerNormOp> norms;
  SmallVector<Edit> edits;
  bool tiedTable = false;
  llvm::DenseMap<std::pair<Value, int>, Value> done; // (constant, kind)
};

LogicalResult Rewriter::checkNorm(LayerNormOp ln) {
  int64_t rank = ln.getInput().getType().getRank();
  if (ln.getNormalizedAxis() != rank - 1)
    return ln.emitError(kPrefix)
           << describeOp(ln) << " normalizes over axes ["
           << ln.getNormalizedAxis() << ", " << rank
           << "); only last-axis LayerNorm supported";
  // The gain and bias stay as they are (RMSNorm takes the same ones); CRMS
  // folds them into the linears that read the norm.
  norms.push_back(ln);
  if (crms && failed(collectConsumers(ln.getResult(), ln, {})))
    return failure();
  return success();
}

LogicalResult Rewriter::collectConsumers(Value v, LayerNormOp ln,
                                         SmallVector<Operation *> path) {
  int64_t d = ln.getInput().getType().getShape().back();
  for (Operation *user : v.getUsers()) {
    if (auto lin = dyn_cast<LinearOp>(user); lin && lin.getInput() == v) {
      if (failed(foldableConstant(lin.getWeight(), lin)) ||
          (lin.getBias() && failed(foldableConstant(lin.getBias(), lin))))
        return failure();
      consumers[ln].push_back({lin, path});
      continue;
    }
    auto keepsLastAxis = [&](Operation *op) {
      auto t = cast<RankedTensorType>(op->getResult(0).getType());
      if (t.getRank() == 0 || t.getShape().back() != d)
        return false;
      if (auto sl = dyn_cast<SliceOp>(op))
        return sl.getOffsets().back() == 0 && sl.getStrides().back() == 1;
      return isa<ReshapeOp>(op);
    };
    if (isa<SliceOp, ReshapeOp>(user) && keepsLastAxis(user)) {
      SmallVector<Operation *> longer = path;
      longer.push_back(user);
      if (failed(collectConsumers(user->getResult(0), ln, longer)))
        return failure();
      continue;
    }
    return user->emitError(kPrefix)
           << "variant=crms: the output of " << describeOp(ln)
           << " is read by " << describeOp(user)
           << ", which is not a linear; its gain and bias cannot be folded";
  }
  return success();
}

/// Every reader of a main-branch value is a residual (reading it as its
/// stream) or a norm.
LogicalResult Rewriter::checkReaders(Value v, int64_t afterBlock) {
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (isa<func::ReturnOp>(user))
      return user->emitError(kPrefix)
             << "main branch " << describeValue(v)
             << " is a graph output; its values would change";
    if (auto res = dyn_cast<ResidualOp>(user)) {
      if (use.getOperandNumber() == 0)
        continue;
    }
    if (auto ln = dyn_cast<LayerNormOp>(user)) {
      // A norm whose output is itself the next residual's stream is a
      // Post-LN block.
      for (Operation *next : ln->getUsers())
        if (auto res = dyn_cast<ResidualOp>(next))
          return res.emitError(kPrefix)
                 << "block " << res.getLayer()
                 << " is Post-LN; equivalence holds only for Pre-LN";
      if (failed(checkNorm(ln)))
        return failure();
      continue;
    }
    if (isa<RmsNormOp>(user)) {
      rmsReader = user;
      continue;
    }
    return user->emitError(kPrefix)
           << "main-branch value after block " << afterBlock
           << " is read by " << describeOp(user)
           << ", which is not a norm or residual add";
  }
  return success();
}

LogicalResult Rewriter::foldableConstant(Value w, Operation *user) {
  if (!w.getDefiningOp<arith::ConstantOp>() || !isFloatConstant(w))
    return user->emitError(kPrefix)
           << describeValue(w) << " (operand of " << describeOp(user)
           << ") is not a foldable constant (run before quantization)";
  return success();
}

/// The value `v` is a selection and rearrangement of whole rows (the last
/// axis kept intact) of: reshapes keeping the last axis, transposes that
/// leave it last, slices and self-concats along other axes (Swin's window
/// reversal, cyclic shift and unpadding after its out-projection). Such
/// ops keep every row's mean, so recentring the source recentres `v`.
static Value rowSource(Value v) {
  while (Operation *d = v.getDefiningOp()) {
    auto in = [&](unsigned k) {
      return cast<RankedTensorType>(d->getOperand(k).getType());
    };
    int64_t dim = cast<RankedTensorType>(v.getType()).getShape().back();
    if (isa<ReshapeOp>(d) && in(0).getShape().back() == dim) {
      v = d->getOperand(0);
    } else if (auto t = dyn_cast<TransposeOp>(d);
               t && t.getPermutation().back() ==
                        int64_t(t.getPermutation().size()) - 1) {
      v = t.getInput();
    } else if (auto s = dyn_cast<SliceOp>(d);
               s && in(0).getShape().back() == dim &&
               s.getOffsets().back() == 0 && s.getStrides().back() == 1) {
      v = s.getInput();
    } else if (auto c = dyn_cast<ConcatOp>(d)) {
      int64_t rank = in(0).getRank();
      if (normalizeAxis(static_cast<int64_t>(c.getAxis()), rank) == rank - 1)
        return v;
      Value src = rowSource(c.getInputs().front());
      for (Value x : c.getInputs())
        if (rowSource(x) != src)
          return v;
      return src;
    } else {
      return v;
    }
  }
  return v;
}

/// The branch must end in a linear whose weights can be recentred (then
/// possibly rows rearranged, see rowSource).
LogicalResult Rewriter::branchEnd(ResidualOp res) {
  Value branch = rowSource(res.getBranch());
  Operation *end = branch.getDefiningOp();
  if (auto q = dyn_cast_or_null<QLinearOp>(end))
    return q.emitError(kPrefix)
           << describeValue(q.getWeight())
           << " is not a foldable constant (run before quantization)";
  auto lin = dyn_cast_or_null<LinearOp>(end);
  if (!lin)
    return (end ? end->emitError() : res.emitError())
           << kPrefix << "residual branch of block " << res.getLayer()
           << " ends with "
           << (end ? describeOp(end) : std::string("its input"))
           << "; its mean cannot be removed by editing weights";
  if (failed(foldableConstant(lin.getWeight(), lin)) ||
      (lin.getBias() && failed(foldableConstant(lin.getBias(), lin))))
    return failure();
  edits.push_back({Edit::Outputs, lin, 1});
  return success();
}

/// Everything that writes x0: embedding tables, position/type/CLS vectors,
/// the patch-embedding linear, through adds and token concats.
LogicalResult Rewriter::collectWriters(Value v) {
  Operation *d = v.getDefiningOp();
  int64_t dim = cast<RankedTensorType>(v.getType()).getShape().back();
  auto lastDimMatches = [&](Value x) {
    auto t = cast<RankedTensorType>(x.getType());
    return t.getRank() >= 1 && t.getShape().back() == dim;
  };
  if (auto add = dyn_cast_or_null<AddOp>(d)) {
    if (!lastDimMatches(add.getLhs()) || !lastDimMatches(add.getRhs()))
      return add.emitError(kPrefix)
             << "the embedding sum " << describeOp(add)
             << " broadcasts along the model dimension; its mean cannot be "
                "removed by editing weights";
    for (Value operand : {add.getLhs(), add.getRhs()}) {
      if (operand.getDefiningOp<arith::ConstantOp>()) {
        if (failed(foldableConstant(operand, add)))
          return failure();
        edits.push_back({Edit::Rows, add, operand == add.getLhs() ? 0u : 1u});
      } else if (failed(collectWriters(operand))) {
        return failure();
      }
    }
    return success();
  }
  if (auto cat = dyn_cast_or_null<ConcatOp>(d)) {
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    if (normalizeAxis(static_cast<int64_t>(cat.getAxis()), rank) == rank - 1)
      return cat.emitError(kPrefix)
             << describeOp(cat)
             << " concatenates along the model dimension; its mean cannot be "
                "removed by editing weights";
    for (auto [k, operand] : llvm::enumerate(cat.getInputs())) {
      if (operand.getDefiningOp<arith::ConstantOp>()) {
        if (failed(foldableConstant(operand, cat)))
          return failure();
        edits.push_back({Edit::Rows, cat, unsigned(k)});
      } else if (failed(collectWriters(operand))) {
        return failure();
      }
    }
    return success();
  }
  if (auto emb = dyn_cast_or_null<EmbeddingOp>(d)) {
    if (failed(foldableConstant(emb.getTable(), emb)))
      return failure();
    if (!emb.getTable().hasOneUse())
      tiedTable = true;
    edits.push_back({Edit::Rows, emb, 0});
    return success();
  }
  if (auto lin = dyn_cast_or_null<LinearOp>(d)) {
    if (failed(foldableConstant(lin.getWeight(), lin)) ||
        (lin.getBias() && failed(foldableConstant(lin.getBias(), lin))))
      return failure();
    edits.push_back({Edit::Outputs, lin, 1});
    return success();
  }
  if (d && isa<ReshapeOp>(d) &&
      cast<RankedTensorType>(d->getOperand(0).getType()).getShape().back() ==
          dim)
    return collectWriters(d->getOperand(0)); // keeps the last axis
  return (d ? d->emitError() : func.emitError())
         << kPrefix << "the embedding sum is written by "
         << (d ? describeOp(d) : describeValue(v))
         << "; its mean cannot be removed by editing weights";
}

LogicalResult Rewriter::analyze() {
  ResidualOp first;
  for (Operation &op : func.getBody().front())
    if ((first = dyn_cast<ResidualOp>(op)))
      break;
  if (!first)
    return success(); // no residual structure: nothing to rewrite
  x0 = first.getInput();
  Value v = x0;
  int64_t lastBlock = -1;
  if (failed(checkReaders(v, lastBlock)))
    return failure();
  while (true) {
    ResidualOp res;
    for (Operation *user : v.getUsers())
      if (auto r = dyn_cast<ResidualOp>(user); r && r.getInput() == v)
        res = r;
    if (!res)
      break;
    // Pre-LN: the body reads the stream only through norms.
    Block &body = res.getBody().front();
    for (Operation *user : body.getArgument(0).getUsers()) {
      if (auto ln = dyn_cast<LayerNormOp>(user)) {
        if (failed(checkNorm(ln)))
          return failure();
        continue;
      }
      if (isa<RmsNormOp>(user)) {
        rmsReader = user;
        continue;
      }
      return res.emitError(kPrefix)
             << "block " << res.getLayer()
             << " is Post-LN; equivalence holds only for Pre-LN";
    }
    if (failed(branchEnd(res)))
      return failure();
    chain.push_back(res);
    lastBlock = res.getLayer();
    v = res.getResult();
    if (failed(checkReaders(v, lastBlock)))
      return failure();
  }
  if (norms.empty())
    return success(); // already RMSNorm (or no norms): nothing to do
  // Recentring the stream changes what an RMSNorm reading it computes.
  if (rmsReader)
    return rmsReader->emitError(kPrefix)
           << describeOp(rmsReader)
           << " reads the main branch next to LayerNorms; it does not "
              "discard the mean, so recentring would change its output";
  return collectWriters(x0);
}

/// A recentred copy of the constant operand an edit names.
Value Rewriter::recentred(Edit edit, OpBuilder &b) {
  Value w = edit.user->getOperand(edit.index);
  auto key = std::make_pair(w, int(edit.kind));
  if (Value v = done.lookup(key))
    return v;
  auto shape = cast<RankedTensorType>(w.getType()).getShape();
  std::vector<float> data = *floatValues(w);
  int64_t d = shape.back();
  if (edit.kind == Edit::Rows) {
    // Each row (last axis) minus its mean, in double.
    for (size_t r = 0; r < data.size() / d; ++r) {
      double mean = 0;
      for (int64_t i = 0; i < d; ++i)
        mean += data[r * d + i];
      mean /= double(d);
      for (int64_t i = 0; i < d; ++i)
        data[r * d + i] = float(data[r * d + i] - mean);
    }
  } else {
    // W' = P·W on [out, in]: each column minus its mean over the outputs;
    // a bias [out] likewise (the same code with in = 1).
    int64_t out = shape[0], in = shape.size() == 2 ? shape[1] : 1;
    for (int64_t i = 0; i < in; ++i) {
      double mean = 0;
      for (int64_t o = 0; o < out; ++o)
        mean += data[o * in + i];
      mean /= double(out);
      for (int64_t o = 0; o < out; ++o)
        data[o * in + i] = float(data[o * in + i] - mean);
    }
  }
  std::string base = weightName(w);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(w);
  Value v = makeWeight(b, w.getLoc(),
                       base.empty() ? std::string("centered") : base + ".centered", shape,
                       data);
  done[key] = v;
  return v;
}

void Rewriter::apply() {
  OpBuilder b(func.getContext());
  Value stream = x0; // the start of the (now zero-mean) main branch
  if (tiedTable && !untie) {
    // tied=center: keep the shared table and every other writer; one
    // mean subtraction after the embedding sum.
    b.setInsertionPointAfterValue(x0);
    Location loc = x0.getLoc();
    Value mean = b.create<ReduceMeanOp>(loc, x0, b.getDenseI64ArrayAttr({-1}),
                                        /*keepdims=*/true);
    Value centered = b.create<SubOp>(loc, x0, mean);
    x0.replaceUsesWithIf(centered, [&](OpOperand &use) {
      return use.getOwner() != mean.getDefiningOp() &&
             use.getOwner() != centered.getDefiningOp();
    });
    stream = centered;
    edits.erase(std::remove_if(edits.begin(), edits.end(),
                               [&](const Edit &e) {
                                 return !isa<LinearOp>(e.user) ||
                                        !e.user->getParentOfType<ResidualOp>();
                               }),
                edits.end());
  }
  for (const Edit &e : edits) {
    e.user->setOperand(e.index, recentred(e, b));
    // A linear's bias goes with its weight.
    if (auto lin = dyn_cast<LinearOp>(e.user); lin && lin.getBias())
      lin->setOperand(2, recentred({Edit::Outputs, lin, 2}, b));
  }
  if (crms)
    return applyCrms(stream, b);
  for (LayerNormOp ln : norms) {
    b.setInsertionPoint(ln);
    auto rms = b.create<RmsNormOp>(ln.getLoc(), ln.getType(), ln.getInput(),
                                   ln.getScale(), ln.getBias(),
                                   ln.getEpsilonAttr());
    ln.replaceAllUsesWith(rms.getResult());
    ln.erase();
  }
}

/// Pre-CRMSNorm (§3.3) on top of the recentring: the zero-mean stream is
/// carried as its first d−1 coordinates; every norm becomes crms_norm with
/// its gain and bias folded into the linears that read it.
void Rewriter::applyCrms(Value stream, OpBuilder &b) {
  auto type = cast<RankedTensorType>(stream.getType());
  int64_t d = type.getShape().back();
  auto narrow = [&](Type t) {
    auto r = cast<RankedTensorType>(t);
    SmallVector<int64_t> shape(r.getShape());
    shape.back() -= 1;
    return RankedTensorType::get(shape, r.getElementType());
  };
  // The start of the stream: drop its last coordinate (−Σ of the others).
  b.setInsertionPointAfterValue(stream);
  SmallVector<int64_t> offsets(type.getRank(), 0), strides(type.getRank(), 1);
  SmallVector<int64_t> sizes(type.getShape());
  sizes.back() = d - 1;
  auto head = b.create<SliceOp>(stream.getLoc(), stream,
                                b.getDenseI64ArrayAttr(offsets),
                                b.getDenseI64ArrayAttr(sizes),
                                b.getDenseI64ArrayAttr(strides));
  stream.replaceUsesWithIf(head.getResult(), [&](OpOperand &use) {
    Operation *user = use.getOwner();
    return user != head && (isa<LayerNormOp>(user) ||
                            (isa<ResidualOp>(user) && use.getOperandNumber() == 0));
  });
  // Every residual: d−1 wide in and out; its branch-end linear keeps the
  // first d−1 rows of its (recentred) weight and bias.
  for (ResidualOp res : chain) {
    Block &body = res.getBody().front();
    body.getArgument(0).setType(narrow(body.getArgument(0).getType()));
    auto lin = cast<LinearOp>(res.getBranch().getDefiningOp());
    b.setInsertionPoint(lin);
    for (unsigned idx : {1u, 2u}) {
      if (idx == 2 && !lin.getBias())
        continue;
      Value w = lin->getOperand(idx);
      auto wt = cast<RankedTensorType>(w.getType());
      int64_t in = wt.getRank() == 2 ? wt.getShape()[1] : 1;
      std::vector<float> data = *floatValues(w);
      data.resize((d - 1) * in);
      SmallVector<int64_t> shape(wt.getShape());
      shape[0] = d - 1;
      std::string base = weightName(w);
      lin->setOperand(idx, makeWeight(b, w.getLoc(),
                                      (base.empty() ? std::string("crms")
                                                    : base + ".crms"),
                                      shape, data));
    }
    lin.getResult().setType(narrow(lin.getResult().getType()));
    res.getResult().setType(narrow(res.getResult().getType()));
  }
  // Norms: crms_norm, and W_f = W·diag(g), b_f = b + W·β folded into each
  // reader, then W_c[:, i] = W_f[:, i] − W_f[:, d−1] for i < d−1.
  for (LayerNormOp ln : norms) {
    std::vector<float> g = *floatValues(ln.getScale());
    std::vector<float> beta(d, 0.0f);
    if (ln.getBias())
      beta = *floatValues(ln.getBias());
    b.setInsertionPoint(ln);
    auto cn = b.create<CrmsNormOp>(ln.getLoc(), ln.getInput().getType(),
                                   ln.getInput(), ln.getEpsilonAttr());
    for (Consumer &c : consumers[ln]) {
      // Re-type the slices / reshapes on the way (last axis d -> d−1).
      for (Operation *op : c.path) {
        if (auto sl = dyn_cast<SliceOp>(op)) {
          SmallVector<int64_t> sz(sl.getSizes());
          sz.back() = d - 1;
          sl.setSizesAttr(b.getDenseI64ArrayAttr(sz));
        }
        op->getResult(0).setType(narrow(op->getResult(0).getType()));
      }
      LinearOp lin = c.linear;
      std::vector<float> w = *floatValues(lin.getWeight());
      int64_t out = lin.getWeight().getType().getShape()[0];
      std::vector<float> wc(out * (d - 1)), bias(out, 0.0f);
      if (lin.getBias())
        bias = *floatValues(lin.getBias());
      bool anyBias = lin.getBias() != nullptr;
      for (int64_t o = 0; o < out; ++o) {
        double acc = bias[o];
        for (int64_t i = 0; i < d; ++i)
          acc += double(w[o * d + i]) * beta[i];
        bias[o] = float(acc);
        anyBias |= acc != 0.0;
        double last = double(w[o * d + d - 1]) * g[d - 1];
        for (int64_t i = 0; i < d - 1; ++i)
          wc[o * (d - 1) + i] = float(double(w[o * d + i]) * g[i] - last);
      }
      b.setInsertionPoint(lin);
      std::string base = weightName(lin.getWeight());
      lin->setOperand(1, makeWeight(b, lin.getLoc(),
                                    base.empty() ? std::string("crms")
                                                 : base + ".crms",
                                    {out, d - 1}, wc));
      if (anyBias) {
        Value nb = makeWeight(b, lin.getLoc(),
                              base.empty() ? std::string("crms.bias")
                                           : base + ".crms.bias",
                              {out}, bias);
        if (lin.getBias())
          lin->setOperand(2, nb);
        else
          lin.getBiasMutable().assign(nb);
      }
    }
    ln.replaceAllUsesWith(cn.getResult());
    ln.erase();
  }
}

struct SlimLnToRmsNormPass
    : public mlir::slim::impl::SlimLnToRmsNormPassBase<SlimLnToRmsNormPass> {
  using SlimLnToRmsNormPassBase::SlimLnToRmsNormPassBase;

  void runOnOperation() override {
    if (tied != "center" && tied != "untie") {
      getOperation().emitError(kPrefix)
          << "tied=" << tied << " is not one of center, untie";
      return signalPassFailure();
    }
    if (variant != "rms" && variant != "crms") {
      getOperation().emitError(kPrefix)
          << "variant=" << variant << " is not one of rms, crms";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      Rewriter rewriter(func, tied == "untie", variant == "crms");
      if (failed(rewriter.analyze()))
        return signalPassFailure();
      if (rewriter.nothingToDo()) {
        func.emitWarning(kPrefix)
            << "no LayerNorm reads the main branch of @" << func.getSymName()
            << "; nothing to rewrite";
        continue;
      }
      rewriter.apply();
      // The weights the rewrite replaced (and intermediates it made) are
      // dead now: drop them so no stale copy is carried along.
      eraseDeadConstants(func);
    }
  }
};

} // namespace
