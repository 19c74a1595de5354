//===- FuseKernels.cpp - slim-fuse-kernels: codegen's fusion decisions ----===//
//
// Decides which neighbouring ops run in one kernel call and writes each
// decision into the IR, where codegen reads it and lit tests pin it:
//
//   - groups: consecutive int8 qlinears of one input (attention's query, key
//     and value) get `group = n` on the first: one call quantizes the input
//     once for all of them;
//   - residuals: a residual sublayer whose branch is a linear (or a lone
//     int8 qlinear) becomes `fused` and the linear gets `residual(%stream)`:
//     the add runs in its epilogue and the branch is never stored;
//   - norms: a layer_norm / rms_norm read only by the int8 qlinears of one
//     call is folded into them (`norm = ...`): the kernel normalizes each row
//     before quantizing it and the normalized tensor is never stored;
//   - SwiGLU: silu(gate) · up with the silu read by the mul only becomes
//     one slim.silu_mul;
//   - views: a reshape that is not returned and not of a constant gets
//     `view`: its result shares its input's buffer.
//
// The preconditions are those of the kernels (runtime/KernelABI.h): int8
// per-channel weights with dynamic or static activations, constant weights.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/slim/IR/SlimOps.h"
#include "runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMFUSEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

bool isConstant(Value v) { return v && v.getDefiningOp<arith::ConstantOp>(); }

/// An int8 qlinear the fused kernels run: constant per-channel int8
/// weights, dynamic or static activations.
bool isPlainInt8QLinear(QLinearOp q) {
  return q && q.isPerChannelInt8() && isConstant(q.getWeight());
}

struct SlimFuseKernelsPass
    : public mlir::slim::impl::SlimFuseKernelsPassBase<SlimFuseKernelsPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp f) {
      f.walk([&](Block *block) { groupQLinears(*block); });
      SmallVector<ResidualOp> residuals;
      f.walk([&](ResidualOp r) { residuals.push_back(r); });
      for (ResidualOp r : residuals)
        fuseResidual(r);
      SmallVector<QLinearOp> qlinears;
      f.walk([&](QLinearOp q) { qlinears.push_back(q); });
      for (QLinearOp q : qlinears)
        fuseNorm(q);
      SmallVector<MulOp> muls;
      f.walk([&](MulOp m) { muls.push_back(m); });
      for (MulOp m : muls)
        fuseSiluMul(m);
      markViews(f);
    });
  }

  /// The qlinears after the first of each group (they take no residual).
  llvm::DenseSet<Operation *> members;

  /// Consecutive plain int8 qlinears of one input, act and act_scale (only
  /// constants between them) become a group: the members move right after
  /// the first, the constants they read before it.
  void groupQLinears(Block &block) {
    for (Operation *op = block.empty() ? nullptr : &block.front(); op;
         op = op->getNextNode()) {
      auto first = dyn_cast<QLinearOp>(op);
      if (!isPlainInt8QLinear(first) || first.getGroup())
        continue;
      SmallVector<QLinearOp> group{first};
      for (Operation *next = op->getNextNode();
           next && group.size() < size_t(::slim::rt::kMaxSharedQLinears);
           next = next->getNextNode()) {
        if (isa<arith::ConstantOp>(next))
          continue;
        auto q = dyn_cast<QLinearOp>(next);
        if (!isPlainInt8QLinear(q) || q.getInput() != first.getInput() ||
            q.getAct() != first.getAct() ||
            q.getActScale() != first.getActScale() || q.getGroup())
          break;
        group.push_back(q);
      }
      if (group.size() < 2)
        continue;
      Operation *last = first;
      for (QLinearOp q : ArrayRef(group).drop_front()) {
        members.insert(q);
        for (Value v : q->getOperands())
          if (auto c = v.getDefiningOp<arith::ConstantOp>();
              c && c->getBlock() == &block && first->isBeforeInBlock(c))
            c->moveBefore(first);
        q->moveAfter(last);
        last = q;
      }
      first.setGroupAttr(
          IntegerAttr::get(IntegerType::get(&getContext(), 64), group.size()));
      ++numGroups;
      op = last;
    }
  }

  /// input + linear(...) with the linear's result used by the add only and
  /// all three of one type: the linear adds the input (the body's argument)
  /// in its epilogue and the residual, `fused`, adds nothing.
  void fuseResidual(ResidualOp res) {
    Value branch = res.getBranch();
    Operation *def = branch.getDefiningOp();
    if (res.getFused() || !def || def->getBlock() != &res.getBody().front() ||
        !branch.hasOneUse() || res.getInput().getType() != branch.getType() ||
        branch.getType() != res.getResult().getType())
      return;
    Value stream = res.getBody().front().getArgument(0);
    if (auto l = dyn_cast<LinearOp>(def)) {
      if (l.getResidual() || !isConstant(l.getWeight()))
        return;
      l.getResidualMutable().assign(stream);
    } else if (auto q = dyn_cast<QLinearOp>(def)) {
      if (!isPlainInt8QLinear(q) || q.getGroup() || members.contains(q) ||
          q.getResidual())
        return;
      q.getResidualMutable().assign(stream);
    } else {
      return;
    }
    res.setFused(true);
    ++numResiduals;
  }

  /// norm(x) read only by this qlinear (or by its group), over rows of the
  /// linear's input width: the qlinears read x and normalize it.
  void fuseNorm(QLinearOp q) {
    if (!isPlainInt8QLinear(q) || q.getNorm() || q.getResidual())
      return;
    Operation *norm = q.getInput().getDefiningOp();
    if (!isa_and_nonnull<LayerNormOp, RmsNormOp>(norm))
      return;
    SmallVector<QLinearOp, 3> group = q.getGroupMembers();
    auto type = cast<RankedTensorType>(norm->getOperand(0).getType());
    int64_t from = type.getRank() - 1, width = 1;
    if (auto ln = dyn_cast<LayerNormOp>(norm))
      from = ln.getNormalizedAxis();
    for (int64_t a = from; a < type.getRank(); ++a)
      width *= type.getDimSize(a);
    if (width != q.getWeight().getType().getShape()[1] ||
        !llvm::all_of(norm->getUsers(), [&](Operation *u) {
          return llvm::is_contained(group, u);
        }))
      return;
    // A gain and bias over several axes (all but the last of size 1) are
    // read as the [in] vectors the kernel takes.
    Value scale = norm->getOperand(1), bias;
    FloatAttr eps;
    PreNorm kind = PreNorm::rms_norm;
    if (auto ln = dyn_cast<LayerNormOp>(norm)) {
      kind = PreNorm::layer_norm;
      bias = ln.getBias();
      eps = ln.getEpsilonAttr();
    } else {
      auto rn = cast<RmsNormOp>(norm);
      bias = rn.getBias();
      eps = rn.getEpsilonAttr();
    }
    int64_t in = q.getWeight().getType().getShape()[1];
    for (Value v : {scale, bias})
      if (v && cast<RankedTensorType>(v.getType()).getShape() !=
                   ArrayRef<int64_t>{in})
        return;
    for (QLinearOp member : group) {
      // The norm's location goes with it (the profile names both).
      member->setLoc(FusedLoc::get(&getContext(),
                                   {member->getLoc(), norm->getLoc()}));
      member.getInputMutable().assign(norm->getOperand(0));
      member.getNormScaleMutable().assign(scale);
      if (bias)
        member.getNormBiasMutable().assign(bias);
      member.setNormAttr(PreNormAttr::get(&getContext(), kind));
      member.setNormEpsAttr(
          FloatAttr::get(Float32Type::get(&getContext()), eps.getValueAsDouble()));
    }
    norm->erase();
    ++numNorms;
  }

  /// silu(gate) · up, the silu read by the mul only, all of one type: one
  /// slim.silu_mul.
  void fuseSiluMul(MulOp mul) {
    if (mul.getLhs() == mul.getRhs() ||
        mul.getLhs().getType() != mul.getRhs().getType() ||
        mul.getLhs().getType() != mul.getType())
      return;
    for (auto [gate, up] : {std::pair(mul.getLhs(), mul.getRhs()),
                            std::pair(mul.getRhs(), mul.getLhs())}) {
      auto silu = gate.getDefiningOp<SiluOp>();
      if (!silu || !silu->hasOneUse())
        continue;
      OpBuilder b(mul);
      auto fused = b.create<SiluMulOp>(mul.getLoc(), mul.getType(),
                                       silu.getInput(), up);
      mul.getResult().replaceAllUsesWith(fused.getResult());
      mul.erase();
      silu.erase();
      ++numSiluMuls;
      return;
    }
  }

  /// Reshapes whose result can share their input's buffer: not returned
  /// (written into the caller's buffer) and not of a constant.
  void markViews(func::FuncOp f) {
    f.walk([&](ReshapeOp r) {
      if (r.getView() || isConstant(r.getInput()) ||
          llvm::any_of(r->getUsers(),
                       [](Operation *u) { return isa<func::ReturnOp>(u); }))
        return;
      r.setView(true);
      ++numViews;
    });
  }
};

} // namespace
