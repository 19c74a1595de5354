//===- LnToRmsNorm.cpp - slim-ln-to-rmsnorm: exact Pre-LN -> Pre-RMSNorm --===//
//
// Analysis first, then edits: every precondition of docs/passes.md
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
#include "llvm/ADT/DenseSet.h"

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

/// One residual stream: a chain of residuals, each reading the previous
/// one's result, from the value x0 that starts it. Hierarchical models
/// (Swin) have one per stage, the next written from the previous one
/// through patch merging.
struct Stream {
  Value x0;
  int64_t afterBlock = -1; // the block before it (-1: none)
  SmallVector<ResidualOp> chain;
  SmallVector<Edit> writerEdits; // recentring what writes x0
  bool tiedTable = false;        // x0 reads an embedding table shared with the head
  Operation *unedited = nullptr; // a writer whose mean no weight edit removes
  std::string why;               // ... and what it is
  bool center = false;           // one mean subtraction after x0 instead
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
  LogicalResult checkReaders(Value v, int64_t afterBlock, bool direct);
  LogicalResult analyzeStream(Stream &s, bool derivedStart);
  LogicalResult checkNorm(LayerNormOp ln);
  bool derived(Value v) const;
  bool collectWriters(Value v, Stream &s);
  LogicalResult branchEnd(ResidualOp res);
  LogicalResult foldableConstant(Value w, Operation *user);
  LogicalResult collectConsumers(Value v, LayerNormOp ln,
                                 SmallVector<Operation *> path);
  Value recentred(Edit edit, OpBuilder &b);
  void applyCrms(Stream &s, OpBuilder &b);

  func::FuncOp func;
  bool untie, crms;
  SmallVector<Stream> streams;                 // in program order
  llvm::DenseSet<Value> zeroMean; // stream values and row rearrangements of them
  SmallVector<Value> added;       // ... entered by the stream being analysed
  Operation *derivedReader = nullptr; // a norm reading a rearranged stream
  Operation *rmsReader = nullptr;              // an RMSNorm on the main branch
  llvm::DenseMap<Operation *, SmallVector<Consumer>> consumers; // per LN
  SmallVector<LayerNormOp> norms;
  SmallVector<Edit> edits; // branch-end linears
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

/// A reshape keeping the last axis, a transpose leaving it last, or a slice
/// taking it whole: each output row is an input row, so its mean is kept.
static bool keepsRows(Operation *d) {
  if (!d || d->getNumOperands() == 0 || d->getNumResults() != 1)
    return false;
  auto in = dyn_cast<RankedTensorType>(d->getOperand(0).getType());
  auto out = dyn_cast<RankedTensorType>(d->getResult(0).getType());
  if (!in || !out || in.getRank() == 0 || out.getRank() == 0 ||
      in.getShape().back() != out.getShape().back())
    return false;
  if (isa<ReshapeOp>(d))
    return true;
  if (auto t = dyn_cast<TransposeOp>(d))
    return t.getPermutation().back() ==
           int64_t(t.getPermutation().size()) - 1;
  if (auto s = dyn_cast<SliceOp>(d))
    return s.getOffsets().back() == 0 && s.getStrides().back() == 1;
  return false;
}

/// A concat that only selects rows: along any axis but the last.
static bool joinsRows(Operation *d) {
  auto c = dyn_cast_or_null<ConcatOp>(d);
  if (!c)
    return false;
  int64_t rank = cast<RankedTensorType>(c.getType()).getRank();
  return normalizeAxis(static_cast<int64_t>(c.getAxis()), rank) != rank - 1;
}

/// `v` equals its old value minus each row's old mean once the accepted
/// streams are recentred: a value of such a stream, or rows selected from
/// such values (keepsRows, concats along other axes). A concat along the
/// last axis is not: it puts several rows' means into one row (Swin's
/// patch merging), which its norm would need.
bool Rewriter::derived(Value v) const {
  if (zeroMean.contains(v))
    return true;
  Operation *d = v.getDefiningOp();
  if (keepsRows(d))
    return derived(d->getOperand(0));
  if (joinsRows(d))
    return llvm::all_of(cast<ConcatOp>(d).getInputs(),
                        [&](Value x) { return derived(x); });
  return false;
}

/// Every reader of a main-branch value is a residual (reading it as its
/// stream), a norm, or a selection of rows whose readers are so in turn.
LogicalResult Rewriter::checkReaders(Value v, int64_t afterBlock,
                                     bool direct) {
  if (!zeroMean.insert(v).second)
    return success(); // reached before, through another concat input
  added.push_back(v);
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
      if (!direct && !derivedReader)
        derivedReader = ln;
      if (failed(checkNorm(ln)))
        return failure();
      continue;
    }
    if (isa<RmsNormOp>(user)) {
      rmsReader = user;
      continue;
    }
    if (keepsRows(user) || (joinsRows(user) && derived(user->getResult(0)))) {
      if (failed(checkReaders(user->getResult(0), afterBlock, false)))
        return failure();
      continue;
    }
    if (isa<ConcatOp>(user) && !joinsRows(user))
      return user->emitError(kPrefix)
             << "main-branch value after block " << afterBlock
             << " is read by " << describeOp(user)
             << ", which joins rows along the model dimension; the norm "
                "reading it needs each row's mean";
    return user->emitError(kPrefix)
           << "main-branch value after block " << afterBlock
           << " is read by " << describeOp(user)
           << ", which is not a norm, residual add or row rearrangement";
  }
  return success();
}

static bool isFoldable(Value w) {
  return w.getDefiningOp<arith::ConstantOp>() && isFloatConstant(w);
}

LogicalResult Rewriter::foldableConstant(Value w, Operation *user) {
  if (!isFoldable(w))
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
    if (keepsRows(d)) {
      v = d->getOperand(0);
    } else if (joinsRows(d)) {
      auto c = cast<ConcatOp>(d);
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
/// the patch-embedding or patch-merging linear, through adds, token concats
/// and reshapes, or a value derived from an earlier stream. False (with the
/// writer in `s.unedited`) when some writer's mean cannot be removed by
/// editing weights.
bool Rewriter::collectWriters(Value v, Stream &s) {
  if (v != s.x0 && derived(v))
    return true; // already zero-mean: rows of an earlier stream
  Operation *d = v.getDefiningOp();
  int64_t dim = cast<RankedTensorType>(v.getType()).getShape().back();
  auto lastDimMatches = [&](Value x) {
    auto t = cast<RankedTensorType>(x.getType());
    return t.getRank() >= 1 && t.getShape().back() == dim;
  };
  auto refuse = [&](Operation *op, const std::string &why) {
    s.unedited = op;
    s.why = why;
    return false;
  };
  if (auto add = dyn_cast_or_null<AddOp>(d)) {
    if (!lastDimMatches(add.getLhs()) || !lastDimMatches(add.getRhs()))
      return refuse(add, "broadcasts along the model dimension");
    for (Value operand : {add.getLhs(), add.getRhs()}) {
      if (operand.getDefiningOp<arith::ConstantOp>()) {
        if (!isFoldable(operand))
          return refuse(add, "adds a constant that is not a float tensor");
        s.writerEdits.push_back(
            {Edit::Rows, add, operand == add.getLhs() ? 0u : 1u});
      } else if (!collectWriters(operand, s)) {
        return false;
      }
    }
    return true;
  }
  if (auto cat = dyn_cast_or_null<ConcatOp>(d)) {
    if (!joinsRows(cat))
      return refuse(cat, "concatenates along the model dimension");
    for (auto [k, operand] : llvm::enumerate(cat.getInputs())) {
      if (operand.getDefiningOp<arith::ConstantOp>()) {
        if (!isFoldable(operand))
          return refuse(cat, "concatenates a constant that is not a float tensor");
        s.writerEdits.push_back({Edit::Rows, cat, unsigned(k)});
      } else if (!collectWriters(operand, s)) {
        return false;
      }
    }
    return true;
  }
  if (auto emb = dyn_cast_or_null<EmbeddingOp>(d)) {
    if (!isFoldable(emb.getTable()))
      return refuse(emb, "reads a table that is not a float constant");
    if (!emb.getTable().hasOneUse())
      s.tiedTable = true;
    s.writerEdits.push_back({Edit::Rows, emb, 0});
    return true;
  }
  if (auto lin = dyn_cast_or_null<LinearOp>(d)) {
    if (!isFoldable(lin.getWeight()) ||
        (lin.getBias() && !isFoldable(lin.getBias())))
      return refuse(lin, "has weights that are not float constants");
    s.writerEdits.push_back({Edit::Outputs, lin, 1});
    return true;
  }
  if (d && isa<ReshapeOp>(d) && keepsRows(d))
    return collectWriters(d->getOperand(0), s);
  if (!d)
    return refuse(nullptr, describeValue(v));
  return refuse(d, "is not a linear, embedding or constant");
}

/// One stream alone: its readers, its blocks' norms and branch ends.
LogicalResult Rewriter::analyzeStream(Stream &s, bool derivedStart) {
  size_t normsBefore = norms.size();
  if (failed(checkReaders(s.x0, s.afterBlock, true)))
    return failure();
  for (ResidualOp res : s.chain) {
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
    if (failed(checkReaders(res.getResult(), res.getLayer(), true)))
      return failure();
  }
  // Recentring the stream changes what an RMSNorm reading it computes.
  if (rmsReader && (norms.size() > normsBefore || derivedStart))
    return rmsReader->emitError(kPrefix)
           << describeOp(rmsReader)
           << " reads the main branch next to LayerNorms; it does not "
              "discard the mean, so recentring would change its output";
  return success();
}

LogicalResult Rewriter::analyze() {
  // The streams, in program order: each residual not continuing a chain
  // starts one.
  llvm::DenseSet<Operation *> chained;
  int64_t lastBlock = -1;
  for (Operation &op : func.getBody().front()) {
    auto first = dyn_cast<ResidualOp>(op);
    if (!first || chained.contains(first))
      continue;
    Stream s;
    s.x0 = first.getInput();
    s.afterBlock = lastBlock;
    for (Value v = s.x0; ResidualOp res = nextResidual(v);) {
      s.chain.push_back(res);
      chained.insert(res);
      lastBlock = res.getLayer();
      v = res.getResult();
    }
    streams.push_back(std::move(s));
  }
  // Each stream on its own: one that cannot be rewritten keeps its
  // LayerNorms (its error becomes a remark) while others are rewritten;
  // the pass fails only when no stream can be, or when a refused stream
  // starts from rows of a rewritten one (their values would change).
  struct Refusal {
    uint64_t firstBlock, lastBlock;
    Location loc;
    std::string message;
  };
  SmallVector<Refusal> refused;
  SmallVector<Stream> accepted;
  for (Stream &s : streams) {
    size_t normsBefore = norms.size(), editsBefore = edits.size();
    Operation *derivedBefore = derivedReader;
    bool derivedStart = derived(s.x0);
    added.clear();
    rmsReader = nullptr;
    std::optional<std::pair<Location, std::string>> error;
    LogicalResult result = success();
    {
      ScopedDiagnosticHandler capture(
          func.getContext(), [&](Diagnostic &d) -> LogicalResult {
            if (d.getSeverity() != DiagnosticSeverity::Error)
              return failure(); // not ours: pass it on
            if (!error)
              error.emplace(d.getLocation(), d.str());
            return success();
          });
      result = analyzeStream(s, derivedStart);
    }
    if (succeeded(result)) {
      if (norms.size() > normsBefore || derivedStart)
        accepted.push_back(s);
      continue;
    }
    // Undo what the stream entered.
    for (size_t k = normsBefore; k < norms.size(); ++k)
      consumers.erase(norms[k]);
    norms.truncate(normsBefore);
    edits.truncate(editsBefore);
    for (Value v : added)
      zeroMean.erase(v);
    derivedReader = derivedBefore;
    Location loc = error ? error->first : s.x0.getLoc();
    std::string message = error ? error->second : std::string(kPrefix);
    if (derivedStart)
      return emitError(loc) << message;
    refused.push_back({s.chain.front().getLayer(), s.chain.back().getLayer(),
                       loc, message});
  }
  streams.assign(accepted.begin(), accepted.end());
  if (norms.empty()) {
    if (refused.empty())
      return success(); // already RMSNorm (or no norms): nothing to do
    auto diag = emitError(refused.front().loc) << refused.front().message;
    if (refused.size() > 1)
      diag.attachNote() << refused.size() - 1
                        << " more residual streams were refused likewise";
    return failure();
  }
  for (const Refusal &r : refused) {
    std::string why = r.message.substr(
        StringRef(r.message).starts_with(kPrefix) ? kPrefix.size() : 0);
    auto remark = emitRemark(r.loc) << kPrefix;
    if (r.firstBlock == r.lastBlock)
      remark << "block " << r.firstBlock << " keeps its LayerNorms: " << why;
    else
      remark << "blocks " << r.firstBlock << "-" << r.lastBlock
             << " keep their LayerNorms: " << why;
  }
  if (crms && (streams.size() > 1 || !refused.empty() || derivedReader))
    return (derivedReader ? derivedReader : func.getOperation())
               ->emitError(kPrefix)
           << "variant=crms needs one residual stream read only by norms and "
              "residual adds; this model has "
           << streams.size() + refused.size() << " streams"
           << (derivedReader ? " and a norm reading rearranged stream rows"
                             : "")
           << " (use variant=rms)";
  // The start of each stream: weight edits where possible (tied=untie
  // copies a table shared with the head); else one mean subtraction.
  for (Stream &s : streams) {
    bool editable = collectWriters(s.x0, s);
    s.center = !editable || (s.tiedTable && !untie);
  }
  return success();
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
  for (Stream &s : streams) {
    if (!s.center) {
      edits.append(s.writerEdits);
      continue;
    }
    if (s.unedited || !s.tiedTable) {
      int64_t layer = s.chain.empty() ? -1 : s.chain.front().getLayer();
      Operation *at = s.unedited ? s.unedited : s.x0.getParentBlock()->getParentOp();
      at->emitRemark(kPrefix)
          << "the stream entering block " << layer << " is written by "
          << (s.unedited ? describeOp(s.unedited) + ", which " + s.why
                         : s.why)
          << "; its mean cannot be removed by editing weights, so one mean "
             "subtraction follows it";
    }
    // Keep every writer; subtract each row's mean from x0.
    b.setInsertionPointAfterValue(s.x0);
    Location loc = s.x0.getLoc();
    Value mean = b.create<ReduceMeanOp>(loc, s.x0, b.getDenseI64ArrayAttr({-1}),
                                        /*keepdims=*/true);
    Value centered = b.create<SubOp>(loc, s.x0, mean);
    s.x0.replaceUsesWithIf(centered, [&](OpOperand &use) {
      return use.getOwner() != mean.getDefiningOp() &&
             use.getOwner() != centered.getDefiningOp();
    });
    s.x0 = centered;
  }
  for (const Edit &e : edits) {
    e.user->setOperand(e.index, recentred(e, b));
    // A linear's bias goes with its weight.
    if (auto lin = dyn_cast<LinearOp>(e.user); lin && lin.getBias())
      lin->setOperand(2, recentred({Edit::Outputs, lin, 2}, b));
  }
  if (crms)
    return applyCrms(streams.front(), b);
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
void Rewriter::applyCrms(Stream &s, OpBuilder &b) {
  Value stream = s.x0;
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
  for (ResidualOp res : s.chain) {
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
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      Rewriter rewriter(func, tied == TiedEmbedding::untie,
                        variant == NormVariant::crms);
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
