//===- WeightPlan.cpp - the weight blob of a compiled model ---------------===//
//
// Which constants the code reads go into the weight blob, each once, 64-byte
// aligned: linear weights packed for their kernel (fp32 tiles, int8 with
// column sums, int4 with group scales), others as they are.
//
//===----------------------------------------------------------------------===//

#include "codegen/llvm/CompilerImpl.h"

#include <cstring>

using namespace mlir;
using namespace mlir::slim;

namespace mlir::slim::codegen {

LogicalResult Compiler::planWeights() {
  auto add = [&](arith::ConstantOp cst, bool packed) -> LogicalResult {
    auto key = std::make_pair(weightKey(cst.getResult()), packed);
    if (out.weightIndex.count(key))
      return success();
    FailureOr<Tensor> t = constantTensor(cst);
    if (failed(t))
      return failure();
    int64_t offset = alignUp(out.weights.size());
    auto shape = tensorType(cst.getResult()).getShape();
    bool int8 = tensorType(cst.getResult()).getElementType().isInteger(8);
    out.weights.resize(
        offset + (packed && int8 ? rt::packedQLinearBytes(shape[0], shape[1])
                  : packed ? rt::packedLinearSize(shape[0], shape[1]) *
                                 int64_t(sizeof(float))
                           : int64_t(t->data.size())));
    if (packed && int8) {
      rt::packQLinearWeight(reinterpret_cast<const int8_t *>(t->data.data()),
                            shape[0], shape[1], out.weights.data() + offset);
    } else if (packed) {
      rt::packLinearWeight(reinterpret_cast<const float *>(t->data.data()),
                           shape[0], shape[1],
                           reinterpret_cast<float *>(out.weights.data() +
                                                     offset));
    } else {
      std::memcpy(out.weights.data() + offset, t->data.data(), t->data.size());
    }
    out.weightIndex[key] = offset;
    return success();
  };
  LogicalResult status = success();
  // The blob starts with the embedding tables of every entry point (the
  // first entry point compiled places them), of which a run reads a few
  // rows, up to a 4 KB boundary: the runtime maps that part from the file
  // and reads the rest, which every run reads in full, into 2 MB pages.
  if (out.weights.empty()) {
    if (sourceModule)
      sourceModule.walk([&](EmbeddingOp e) {
        auto cst = e.getTable().getDefiningOp<arith::ConstantOp>();
        if (cst && failed(add(cst, false)))
          status = failure();
      });
    out.tableWeightBytes = (int64_t(out.weights.size()) + 4095) / 4096 * 4096;
    out.weights.resize(size_t(out.tableWeightBytes));
  }
  // Linear weights are stored packed for the kernel (rt::packLinearWeight).
  func.walk([&](LinearOp op) { packedWeights.insert(op.getWeight()); });
  // int4 weights: packed with their group scales and zero points.
  llvm::DenseMap<Value, QLinearOp> int4Of;
  func.walk([&](QLinearOp op) {
    if (op.getWeight().getType().getElementType().isInteger(4))
      int4Of[op.getWeight()] = op;
    else
      packedWeights.insert(op.getWeight());
  });
  for (auto &[w, op] : int4Of) {
    auto key = std::make_pair(weightKey(w), true);
    if (out.weightIndex.count(key))
      continue;
    auto shape = op.getWeight().getType().getShape();
    int64_t group = static_cast<int64_t>(op.getGroupSize());
    // The packed layout holds 8 inputs per 32-bit word (rt::packQ4Weight).
    if (group <= 0 || group % 8 != 0)
      return op.emitError("codegen supports int4 qlinear with groups of a "
                          "multiple of 8 inputs, not ")
             << group;
    FailureOr<Tensor> q = constantTensor(w.getDefiningOp<arith::ConstantOp>());
    FailureOr<Tensor> sc =
        constantTensor(op.getScales().getDefiningOp<arith::ConstantOp>());
    FailureOr<Tensor> zp = failure();
    if (op.getZeroPoints())
      zp = constantTensor(op.getZeroPoints().getDefiningOp<arith::ConstantOp>());
    if (failed(q) || failed(sc) || (op.getZeroPoints() && failed(zp)))
      return failure();
    int64_t offset = alignUp(out.weights.size());
    const float *scales = reinterpret_cast<const float *>(sc->data.data());
    const uint8_t *zeros = op.getZeroPoints() ? zp->data.data() : nullptr;
    out.weights.resize(offset + rt::packedQ4Bytes(shape[0], shape[1], group,
                                                  scales, zeros));
    rt::packQ4Weight(q->data.data(), scales, zeros, shape[0], shape[1], group,
                     out.weights.data() + offset);
    out.weightIndex[key] = offset;
  }
  func.walk([&](arith::ConstantOp cst) {
    Value v = cst.getResult();
    // Unused constants (weights of dropped layers) are not stored.
    if (!isa<RankedTensorType>(v.getType()) || v.use_empty())
      return;
    bool linearOnly = true, packed = packedWeights.contains(v);
    for (OpOperand &use : v.getUses()) {
      bool weightUse = use.getOperandNumber() == 1 &&
                       isa<LinearOp, QLinearOp>(use.getOwner());
      // An int4 linear's weight, scales and zero points live in its packed
      // weight only.
      auto q = dyn_cast<QLinearOp>(use.getOwner());
      if (q && int4Of.count(q.getWeight()) && use.getOperandNumber() <= 3)
        weightUse = true;
      if (!weightUse)
        linearOnly = false;
    }
    if (int4Of.count(v) && linearOnly)
      return;
    if (packed && failed(add(cst, true)))
      status = failure();
    if ((!packed || !linearOnly) && failed(add(cst, false)))
      status = failure();
  });
  out.weights.resize(alignUp(out.weights.size()));
  return status;
}

} // namespace mlir::slim::codegen
