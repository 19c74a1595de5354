//===- KernelCalls.cpp - one runtime kernel call per op -------------------===//
//
// The conversion patterns that lower each op of a slim function to a call
// of its runtime kernel (runtime/KernelABI.h) with the sizes as constants
// and the buffers as pointers into the inputs, outputs, arena or weight
// blob; glue ops (reshapes that copy, slices, elementwise leftovers) call
// functions outlined by codegen/llvm/Glue.cpp. Fused forms follow the
// decisions slim-fuse-kernels wrote into the IR. Then checkCalls adds the
// status check and the profiler hooks around every call.
//
//===----------------------------------------------------------------------===//

#include "codegen/llvm/CompilerImpl.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/Transforms/DialectConversion.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::slim;

static_assert(int(ResizeMode::cubic) == 2 &&
                  int(ResizeCoordinates::tf_half_pixel_for_nn) == 4 &&
                  int(NearestMode::ceil) == 3,
              "slim.resize's enums are rt::ResizeParams' codes, in order");
static_assert(int(PadMode::constant) == int(::slim::rt::PadMode::Constant) &&
                  int(PadMode::reflect) == int(::slim::rt::PadMode::Reflect) &&
                  int(PadMode::edge) == int(::slim::rt::PadMode::Edge) &&
                  int(PadMode::wrap) == int(::slim::rt::PadMode::Wrap),
              "slim.pad's modes are the kernel's, in order");

namespace mlir::slim::codegen {

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

template <>
LogicalResult Compiler::lowerOp(arith::ConstantOp) {
  return success(); // in the weight blob (weightPtr)
}

/// The add that closes a residual (its body's ops, flattened, came before).
template <>
LogicalResult Compiler::lowerOp(ResidualOp res) {
  if (residualFused.count(res))
    return success(); // added in its linear's epilogue
  Value branch = res.getBranch();
  if (res.getInput().getType() == branch.getType() &&
      branch.getType() == res.getResult().getType())
    return call("slim_k_add", {ptr(res.getInput()), ptr(branch),
                               i64(tensorType(branch).getNumElements()),
                               ptr(res.getResult())});
  return call("slim_k_binary",
              {i32(int(rt::Binary::Add)), ptr(res.getInput()),
               shp(res.getInput()), rank(res.getInput()), ptr(branch),
               shp(branch), rank(branch), ptr(res.getResult()),
               shp(res.getResult()), rank(res.getResult())});
}

template <>
LogicalResult Compiler::lowerOp(SiluMulOp sm) {
  Value result = resultOf(sm);
  return call("slim_k_silu_mul",
              {ptr(sm.getGate()), ptr(sm.getUp()),
               i64(tensorType(result).getNumElements()), ptr(result)});
}

/// Same-shape products of at least 2^16 elements (SwiGLU's gate · up in a
/// prefill) have a kernel that splits them between the threads; the rest
/// are glue.
template <>
LogicalResult Compiler::lowerOp(MulOp mul) {
  Value result = resultOf(mul);
  const int64_t n = tensorType(result).getNumElements();
  if (mul.getLhs().getType() != result.getType() ||
      mul.getRhs().getType() != result.getType() || n < (int64_t(1) << 16))
    return lowerGlue(mul);
  return call("slim_k_mul", {ptr(mul.getLhs()), ptr(mul.getRhs()), i64(n),
                             ptr(result)});
}

/// Same-shape adds have a kernel; broadcasting ones are glue.
template <>
LogicalResult Compiler::lowerOp(AddOp add) {
  Value result = resultOf(add);
  if (add.getLhs().getType() != result.getType() ||
      add.getRhs().getType() != result.getType())
    return lowerGlue(add);
  return call("slim_k_add", {ptr(add.getLhs()), ptr(add.getRhs()),
                             i64(tensorType(result).getNumElements()),
                             ptr(result)});
}

/// Transposes run the tiled kernel (loops over the output read one input
/// element per cache line when the innermost axis moves).
template <>
LogicalResult Compiler::lowerOp(TransposeOp t) {
  Value x = t.getInput(), result = resultOf(t);
  if (tensorType(result).getNumElements() == 0)
    return success();
  int64_t bytes = elemSize(x);
  if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
    return t.emitError("codegen transposes elements of 1, 2, 4 or 8 bytes, "
                       "not ")
           << bytes;
  return call("slim_k_transpose",
              {ptr(x), shp(x), rank(x), shapeArray(t.getPermutation()),
               i32(bytes), ptr(result)});
}

LogicalResult Compiler::lowerGlue(Operation *op) {
  if (viewReshapes.count(op))
    return success(); // a view: no data moves
  Value result = resultOf(op);
  // An empty result (a slice past the end): nothing to compute, and the
  // glue lowering leaves no function for it.
  if (tensorType(result).getNumElements() == 0)
    return success();
  FailureOr<std::string> fn = glue.outline(op);
  if (failed(fn))
    return failure();
  SmallVector<Value> args;
  for (Value v : op->getOperands())
    args.push_back(ptr(v));
  args.push_back(ptr(result));
  return call(*fn, args);
}

/// Outputs not computed in place are copied out of the arena (or the
/// weights or inputs) into the caller's buffers; then the entry point
/// returns 0.
template <>
LogicalResult Compiler::lowerOp(func::ReturnOp ret) {
  auto ptrTy = LLVM::LLVMPointerType::get(b->getContext());
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    auto st = storage.find(resolve(v));
    if (st != storage.end() && st->second.kind == Storage::Output &&
        st->second.index == int64_t(k))
      continue; // already there
    Value slot = b->create<LLVM::GEPOp>(loc, ptrTy, ptrTy, argOutputs,
                                        ArrayRef<LLVM::GEPArg>{int32_t(k)});
    Value dst = b->create<LLVM::LoadOp>(loc, ptrTy, slot);
    if (failed(call(glue.outlineCopy(tensorType(v)), {ptr(v), dst})))
      return failure();
  }
  b->create<LLVM::ReturnOp>(loc, i32(0));
  return success();
}

template <>
LogicalResult Compiler::lowerOp(LinearOp l) {
  Value result = resultOf(l);
  auto w = l.getWeight().getType().getShape();
  int64_t rows = tensorType(l.getInput()).getNumElements() / w[1];
  if (!l.getWeight().getDefiningOp<arith::ConstantOp>()) {
    if (l.getResidual())
      return l.emitError("codegen runs a residual in the epilogue of "
                         "a linear with a constant weight only");
    return call("slim_k_linear_runtime_weight",
                {ptr(l.getInput()), i64(rows), i64(w[1]),
                 ptr(l.getWeight()), opt(l.getBias()), i64(w[0]),
                 i32(int(linearAct(l))), ptr(result)});
  }
  return call("slim_k_linear",
              {ptr(l.getInput()), i64(rows), i64(w[1]),
               weightPtr(l.getWeight(), /*packed=*/true),
               opt(l.getBias()), i64(w[0]), i32(int(linearAct(l))),
               opt(l.getResidual()), ptr(result)});
}

LogicalResult Compiler::lowerNorm(Operation *n) {
  Value result = resultOf(n);
  Value x = n->getOperand(0);
  int64_t d = tensorType(x).getShape().back();
  Value bias, scale = n->getOperand(1);
  float eps;
  StringRef kernel = "slim_k_rms_norm";
  if (auto ln = dyn_cast<LayerNormOp>(n)) {
    d = 1;
    for (int64_t a = ln.getNormalizedAxis(); a < tensorType(x).getRank();
         ++a)
      d *= tensorType(x).getDimSize(a);
    bias = ln.getBias();
    eps = ln.getEpsilon().convertToFloat();
    kernel = "slim_k_layer_norm";
  } else {
    auto rn = cast<RmsNormOp>(n);
    bias = rn.getBias();
    eps = rn.getEpsilon().convertToFloat();
  }
  return call(kernel, {ptr(x), i64(tensorType(x).getNumElements() / d),
                       i64(d), ptr(scale), opt(bias), f32(eps),
                       ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(QLinearOp q) {
  if (sharedFrom.count(q))
    return success(); // run by the first qlinear of its input
  Value result = resultOf(q);
  if (q.getWeight().getType().getElementType().isInteger(4)) {
    if (q.getAct() == QuantActivation::static_ || q.getGroupSize() == 0)
      return q.emitError("codegen supports int4 qlinear with group-wise "
                         "weights and act = none or dynamic only");
    if (!q.getWeight().getDefiningOp<arith::ConstantOp>() ||
        !q.getScales().getDefiningOp<arith::ConstantOp>() ||
        (q.getZeroPoints() &&
         !q.getZeroPoints().getDefiningOp<arith::ConstantOp>()))
      return q.emitError("codegen needs constant int4 weights, scales "
                         "and zero points");
    auto w = q.getWeight().getType().getShape();
    int64_t rows = tensorType(q.getInput()).getNumElements() / w[1];
    return call("slim_k_q4linear",
                {ptr(q.getInput()), i64(rows), i64(w[1]),
                 weightPtr(q.getWeight(), /*packed=*/true),
                 i64(static_cast<int64_t>(q.getGroupSize())),
                 opt(q.getBias()), i64(w[0]), i32(int(linearAct(q))),
                 i32(q.getAct() == QuantActivation::dynamic),
                 ptr(result)});
  }
  if (!q.isPerChannelInt8())
    return q.emitError("codegen supports int8 qlinear with per-channel "
                       "weights and act = dynamic or static only");
  if (!q.getWeight().getDefiningOp<arith::ConstantOp>())
    return q.emitError("codegen needs constant qlinear weights");
  auto w = q.getWeight().getType().getShape();
  int64_t rows = tensorType(q.getInput()).getNumElements() / w[1];
  Value actScale = f32(q.getActScale()
                           ? q.getActScale()->convertToFloat()
                           : 0.0f);
  bool norm = q.getNorm().has_value();
  auto shared = sharedQLinears.find(q);
  if (norm && q.getResidual())
    return q.emitError("codegen does not run a norm and a residual in "
                       "one qlinear");
  if (shared != sharedQLinears.end() || norm) {
    // Up to three linears of this input, maybe normalized first; the
    // profile counts them as one op.
    SmallVector<QLinearOp, 3> group{q};
    if (shared != sharedQLinears.end())
      group = shared->second;
    SmallVector<Value> args{
        ptr(q.getInput()), i64(rows),
        i64(w[1]), actScale, i32(group.size())};
    std::string names;
    for (size_t i = 0; i < size_t(rt::kMaxSharedQLinears); ++i) {
      if (i < group.size()) {
        QLinearOp p = group[i];
        args.append({weightPtr(p.getWeight(), /*packed=*/true),
                     ptr(p.getScales()), opt(p.getBias()),
                     i64(p.getWeight().getType().getShape()[0]),
                     i32(int(linearAct(p))), ptr(p.getResult())});
        if (i > 0) {
          out.opFlops[profileIndex] += stepFlops({p});
          if (std::string n = locName(p.getLoc()); !n.empty())
            names += " + " + n;
        }
        continue;
      }
      args.append({nullPtr(), nullPtr(), nullPtr(), i64(0), i32(0),
                   nullPtr()});
    }
    if (norm) {
      bool ln = *q.getNorm() == PreNorm::layer_norm;
      args.append({i32(ln ? 2 : 1), ptr(q.getNormScale()),
                   opt(q.getNormBias()),
                   f32(q.getNormEps()->convertToFloat())});
      // The norm's node name: the last of the fused location.
      std::string normName;
      if (auto f = dyn_cast<FusedLoc>(q.getLoc());
          f && f.getLocations().size() > 1)
        normName = locName(f.getLocations().back());
      names += std::string(" (after slim.") +
               (ln ? "layer_norm" : "rms_norm") +
               (normName.empty() ? "" : " " + normName) + ")";
    } else {
      args.append({i32(0), nullPtr(), nullPtr(), f32(0.0f)});
    }
    out.opNames[profileIndex] += names;
    return call("slim_k_qlinear_shared", args);
  }
  return call("slim_k_qlinear",
              {ptr(q.getInput()), i64(rows), i64(w[1]),
               weightPtr(q.getWeight(), /*packed=*/true),
               ptr(q.getScales()), opt(q.getBias()), i64(w[0]),
               actScale, i32(int(linearAct(q))), opt(q.getResidual()),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(CrmsNormOp cn) {
  Value result = resultOf(cn);
  Value x = cn.getInput();
  int64_t w = tensorType(x).getShape().back();
  return call("slim_k_crms_norm",
              {ptr(x), i64(tensorType(x).getNumElements() / w), i64(w),
               f32(cn.getEpsilon().convertToFloat()), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(EmbeddingOp e) {
  Value result = resultOf(e);
  auto t = e.getTable().getType().getShape();
  bool wide = tensorType(e.getIndices()).getElementType().isInteger(64);
  if (!wide && !tensorType(e.getIndices()).getElementType().isInteger(32))
    return e.emitError("codegen needs int32 or int64 indices");
  return call(wide ? "slim_k_embedding_i64" : "slim_k_embedding_i32",
              {ptr(e.getTable()), i64(t[0]), i64(t[1]),
               ptr(e.getIndices()),
               i64(tensorType(e.getIndices()).getNumElements()),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(AttentionOp a) {
  Value result = resultOf(a);
  auto q = a.getQuery().getType().getShape();
  auto k = a.getKey().getType().getShape();
  int64_t kv = static_cast<int64_t>(a.getNumKvHeads());
  return call("slim_k_attention",
              {ptr(a.getQuery()), ptr(a.getKey()), ptr(a.getValue()),
               opt(a.getSizes()), opt(a.getKeyBias()),
               opt(a.getBias()),
               i64(a.getBias() ? tensorType(a.getBias()).getDimSize(0)
                               : 0),
               i64(q[0]),
               i64(q[1]), i64(k[1]),
               i64(static_cast<int64_t>(a.getNumHeads())), i64(kv),
               i64(a.getHeadDim()),
               i64(a.getValue().getType().getShape()[2] / kv),
               i32(a.getCausal()), f32(a.getEffectiveScale()),
               i32(a.getInt8()), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(KvAttentionOp a) {
  Value result = resultOf(a);
  if (!withCache)
    return a.emitError("slim.kv_attention belongs in a step function "
                       "(@prefill or @decode)");
  auto q = a.getQuery().getType().getShape();
  auto ptrTy = LLVM::LLVMPointerType::get(b->getContext());
  Value slotPtr = b->create<LLVM::GEPOp>(
      loc, ptrTy, b->getI8Type(), argCache,
      ArrayRef<LLVM::GEPArg>{i64(slotOffset.at(a.getSlot()))});
  return call("slim_k_kv_attention",
              {ptr(a.getQuery()), ptr(a.getKey()), ptr(a.getValue()),
               ptr(a.getPositions()), i64(q[1]),
               i64(static_cast<int64_t>(a.getNumHeads())),
               i64(static_cast<int64_t>(a.getNumKvHeads())),
               i64(a.getHeadDim()), i64(a.getValueDim()),
               i64(static_cast<int64_t>(a.getCapacity())), slotPtr,
               i32(a.getCacheF16()), f32(a.getEffectiveScale()),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(TokenMergeOp tm) {
  auto x = tensorType(tm.getInput()).getShape();
  Value source = tm.getSource();
  int64_t t0 = source ? tensorType(source).getDimSize(1) : 0;
  return call("slim_k_token_merge",
              {ptr(tm.getInput()), ptr(tm.getMetric()), ptr(tm.getSizes()),
               i64(x[0]), i64(x[1]), i64(x[2]),
               i64(tensorType(tm.getMetric()).getShape()[2]),
               i64(static_cast<int64_t>(tm.getR())),
               i64(static_cast<int64_t>(tm.getProtectedTokens())),
               ptr(tm.getResult()), ptr(tm.getResultSizes()),
               opt(source), i64(t0), opt(tm.getResultSource()),
               opt(tm.getReceived()),
               f32(tm.getTauSim().convertToFloat()),
               f32(tm.getTauInfo().convertToFloat()),
               f32(tm.getTauSize().convertToFloat()),
               i32(tm.getBidirectional())});
}

template <>
LogicalResult Compiler::lowerOp(AttentionReceivedOp a) {
  Value result = resultOf(a);
  auto q = a.getQuery().getType().getShape();
  auto k = a.getKey().getType().getShape();
  return call("slim_k_attention_received",
              {ptr(a.getQuery()), ptr(a.getKey()), opt(a.getSizes()),
               i64(q[0]), i64(q[1]), i64(k[1]),
               i64(static_cast<int64_t>(a.getNumHeads())),
               i64(static_cast<int64_t>(a.getNumKvHeads())),
               i64(a.getHeadDim()), f32(a.getEffectiveScale()),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(GroupMeanOp g) {
  Value result = resultOf(g);
  auto x = tensorType(g.getInput()).getShape();
  return call("slim_k_group_mean",
              {ptr(g.getInput()), ptr(g.getGroups()),
               ptr(g.getWeights()), i64(x[0]), i64(x[1]),
               i64(static_cast<int64_t>(g.getNumGroups())), i64(x[2]),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(UnmergeOp u) {
  Value result = resultOf(u);
  auto x = tensorType(u.getInput()).getShape();
  return call("slim_k_unmerge",
              {ptr(u.getInput()), ptr(u.getSource()), i64(x[0]),
               i64(x[1]), i64(tensorType(u.getSource()).getDimSize(1)),
               i64(x[2]), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(RopeOp r) {
  Value result = resultOf(r);
  auto x = r.getInput().getType().getShape();
  if (!r.getPositions().getType().getElementType().isInteger(64))
    return r.emitError("codegen needs int64 rope positions");
  int64_t heads = static_cast<int64_t>(r.getNumHeads());
  return call("slim_k_rope",
              {ptr(r.getInput()), ptr(r.getPositions()),
               i32(r.getPositions().getType().getRank() == 2), i64(x[0]),
               i64(x[1]), i64(heads), i64(x[2] / heads),
               f32(r.getTheta().convertToFloat()),
               i32(r.getInterleaved()), ptr(result)});
}

LogicalResult Compiler::lowerUnary(Operation *u) {
  Value result = resultOf(u);
  return call("slim_k_unary", {i32(int(unaryKind(u))),
                               ptr(u->getOperand(0)),
                               i64(tensorType(result).getNumElements()),
                               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(Im2ColOp op) {
  Value result = resultOf(op);
  return call("slim_k_im2col",
              {ptr(op.getInput()), shapeArray(windowOf(op)),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(Col2ImOp op) {
  return call("slim_k_col2im", {ptr(op.getInput()), opt(op.getBias()),
                                shapeArray(windowOf(op)),
                                ptr(resultOf(op))});
}

template <>
LogicalResult Compiler::lowerOp(Conv2dOp c) {
  Value result = resultOf(c);
  return call("slim_k_conv2d",
              {ptr(c.getInput()), ptr(c.getWeight()), opt(c.getBias()),
               shapeArray(windowOf(c)),
               i64(c.getWeight().getType().getDimSize(0)),
               i64(c.getGroups()), i32(c.getChannelsLast()),
               i32(int(linearAct(c.getActivation()))), i32(c.getInt8()),
               f32(c.getInputScale() ? c.getInputScale()->convertToFloat()
                                     : 0.0f),
               ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(Pool2dOp p) {
  Value result = resultOf(p);
  return call("slim_k_pool2d",
              {i32(p.getKind() == PoolKind::max ? 0 : 1),
               ptr(p.getInput()), shapeArray(windowOf(p)),
               i64(p.getPads()[2]), i64(p.getPads()[3]),
               i32(p.getCountIncludePad()), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(ReduceOp r) {
  Value result = resultOf(r);
  Value x = r.getInput();
  std::vector<int64_t> axes =
      sortedAxes(r.getAxes(), tensorType(x).getRank());
  return call("slim_k_reduce",
              {i32(int(r.getKind())), ptr(x), shp(x), rank(x),
               shapeArray(axes), i32(int(axes.size())), ptr(result)});
}

/// slim.gather and slim.gather_elements (`elements`): operands (input,
/// indices), an `axis` attribute.
LogicalResult Compiler::lowerGather(Operation *g, bool elements) {
  Value result = resultOf(g);
  Value x = g->getOperand(0), idx = g->getOperand(1);
  auto bytes = [&](Value v) {
    return i32(int(tensorType(v).getElementTypeBitWidth() / 8));
  };
  int64_t axis = *normalizeAxis(
      g->getAttrOfType<IntegerAttr>("axis").getValue().getSExtValue(),
      tensorType(x).getRank());
  if (!elements)
    return call("slim_k_gather",
                {ptr(x), bytes(x), shp(x), rank(x), i64(axis), ptr(idx),
                 bytes(idx), i64(tensorType(idx).getNumElements()),
                 ptr(result)});
  return call("slim_k_gather_elements",
              {ptr(x), bytes(x), shp(x), rank(x), i64(axis), ptr(idx),
               bytes(idx), shp(idx), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(PadOp p) {
  Value result = resultOf(p);
  Value x = p.getInput();
  Type et = tensorType(x).getElementType();
  int dtype = et.isInteger(32) ? 1 : et.isInteger(64) ? 2 : 0;
  return call("slim_k_pad", {i32(int(p.getMode())), i32(dtype), ptr(x),
                             shp(x), rank(x), shapeArray(p.getPads()),
                             f32(p.getValue().convertToFloat()),
                             ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(ResizeOp r) {
  Value result = resultOf(r);
  Value x = r.getInput();
  SmallVector<int64_t> scaleBits;
  for (float s : r.getScales())
    scaleBits.push_back(int64_t(llvm::bit_cast<uint32_t>(s)));
  return call("slim_k_resize",
              {ptr(x), shp(x), shp(result), rank(x),
               shapeArray(scaleBits), i32(int(r.getMode())),
               i32(int(r.getCoordinates())),
               i32(int(r.getNearestMode())),
               f32(r.getCubicCoeffA().convertToFloat()),
               i32(r.getExcludeOutside()), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(ArgReduceOp a) {
  Value result = resultOf(a);
  Value x = a.getInput();
  int64_t axis = *normalizeAxis(static_cast<int64_t>(a.getAxis()),
                                tensorType(x).getRank());
  return call("slim_k_arg_reduce",
              {i32(int(a.getKind())), ptr(x), shp(x), rank(x), i64(axis),
               i32(a.getSelectLastIndex()), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(LogSoftmaxOp s) {
  Value result = resultOf(s);
  int64_t axis = *normalizeAxis(static_cast<int64_t>(s.getAxis()),
                                tensorType(result).getRank());
  return call("slim_k_log_softmax", {ptr(s.getInput()), shp(result),
                                     rank(result), i64(axis),
                                     ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(SoftmaxOp s) {
  Value result = resultOf(s);
  int64_t axis = *normalizeAxis(static_cast<int64_t>(s.getAxis()),
                                tensorType(result).getRank());
  return call("slim_k_softmax", {ptr(s.getInput()), shp(result),
                                 rank(result), i64(axis), ptr(result)});
}

template <>
LogicalResult Compiler::lowerOp(MatMulOp m) {
  Value result = resultOf(m);
  Value l = m.getLhs(), r = m.getRhs();
  return call("slim_k_matmul",
              {ptr(l), shp(l), rank(l), ptr(r), shp(r), rank(r),
               ptr(result), shp(result), rank(result)});
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

LogicalResult Compiler::finish(Operation *op, LogicalResult lowered,
                               RewriterBase &rewriter) {
  if (failed(lowered)) {
    reported.insert(op); // the lowering said why
    return failure();
  }
  rewriter.eraseOp(op);
  return success();
}

template <typename OpTy>
struct Compiler::KernelCall : OpConversionPattern<OpTy> {
  KernelCall(Compiler &c, MLIRContext *ctx, PatternBenefit benefit = 1)
      : OpConversionPattern<OpTy>(ctx, benefit), c(c) {}
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    c.begin(op, rewriter);
    return c.finish(op, lower(op), rewriter);
  }
  /// Op kinds that share one lowering take it here.
  LogicalResult lower(OpTy op) const {
    if constexpr (llvm::is_one_of<OpTy, LayerNormOp, RmsNormOp>::value)
      return c.lowerNorm(op);
    else if constexpr (llvm::is_one_of<OpTy, GeluOp, SiluOp>::value)
      return c.lowerUnary(op);
    else if constexpr (llvm::is_one_of<OpTy, GatherOp,
                                       GatherElementsOp>::value)
      return c.lowerGather(op, std::is_same_v<OpTy, GatherElementsOp>);
    else
      return c.lowerOp(op);
  }
  Compiler &c;
};

/// Any other op: the glue ops run as outlined functions (Glue.cpp); the
/// rest have no lowering, which it says (once per op).
struct Compiler::GlueCall : ConversionPattern {
  GlueCall(Compiler &c, MLIRContext *ctx)
      : ConversionPattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), c(c) {}
  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value>,
                  ConversionPatternRewriter &rewriter) const override {
    if (isGlueOp(op)) {
      c.begin(op, rewriter);
      return c.finish(op, c.lowerGlue(op), rewriter);
    }
    if (c.reported.insert(op).second)
      op->emitError("codegen does not support '") << op->getName() << "' yet";
    return failure();
  }
  Compiler &c;
};

void Compiler::populateKernelCallPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<KernelCall<arith::ConstantOp>, KernelCall<func::ReturnOp>,
               KernelCall<ResidualOp>, KernelCall<SiluMulOp>,
               KernelCall<LinearOp>, KernelCall<LayerNormOp>,
               KernelCall<RmsNormOp>, KernelCall<QLinearOp>,
               KernelCall<CrmsNormOp>, KernelCall<EmbeddingOp>,
               KernelCall<AttentionOp>, KernelCall<KvAttentionOp>,
               KernelCall<TokenMergeOp>, KernelCall<AttentionReceivedOp>,
               KernelCall<GroupMeanOp>, KernelCall<UnmergeOp>,
               KernelCall<RopeOp>, KernelCall<GeluOp>, KernelCall<SiluOp>,
               KernelCall<Im2ColOp>, KernelCall<Col2ImOp>,
               KernelCall<Conv2dOp>,
               KernelCall<Pool2dOp>, KernelCall<ReduceOp>,
               KernelCall<GatherOp>, KernelCall<GatherElementsOp>,
               KernelCall<PadOp>, KernelCall<ResizeOp>,
               KernelCall<ArgReduceOp>, KernelCall<LogSoftmaxOp>,
               KernelCall<SoftmaxOp>, KernelCall<MatMulOp>,
               KernelCall<TransposeOp>, GlueCall>(*this, ctx);
  // Ahead of the any-op pattern, which also matches adds and products.
  patterns.add<KernelCall<AddOp>, KernelCall<MulOp>>(*this, ctx,
                                                    /*benefit=*/2);
}

} // namespace mlir::slim::codegen
