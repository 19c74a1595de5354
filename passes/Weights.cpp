//===- Weights.cpp - reading and writing constant weights in passes -------===//

#include "passes/Weights.h"
#include "runtime/Files.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include "dialects/slim/IR/SlimOps.h"
#include "llvm/Support/FileSystem.h"

namespace mlir::slim {

std::optional<std::vector<float>> floatValues(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto range = dense.getValues<float>();
    return std::vector<float>(range.begin(), range.end());
  }
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(attr))
    if (auto data = res.tryGetAsArrayRef())
      return std::vector<float>(data->begin(), data->end());
  return std::nullopt;
}

bool isFloatConstant(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return false;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.getElementType().isF32();
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(attr))
    return res.tryGetAsArrayRef().has_value();
  return false;
}

Value reshapeConstant(OpBuilder &b, Value cst, llvm::ArrayRef<int64_t> shape) {
  auto op = cst ? cst.getDefiningOp<arith::ConstantOp>() : arith::ConstantOp();
  if (!op)
    return {};
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(cst.getType()).getElementType());
  if (auto res = dyn_cast<DenseResourceElementsAttr>(op.getValue()))
    return b.create<arith::ConstantOp>(
        op.getLoc(), DenseResourceElementsAttr::get(type, res.getRawHandle()));
  if (auto dense = dyn_cast<DenseElementsAttr>(op.getValue()))
    return b.create<arith::ConstantOp>(op.getLoc(), dense.reshape(type));
  return {};
}

Value makeWeight(OpBuilder &b, Location loc, llvm::StringRef name,
                 llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<float> data) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  auto attr = DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(data));
  return b.create<arith::ConstantOp>(loc, attr);
}

Value makeWeightI8(OpBuilder &b, Location loc, llvm::StringRef name,
                   llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int8_t> data,
                   unsigned bits) {
  auto type = RankedTensorType::get(shape, b.getIntegerType(bits));
  auto attr = DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign<int8_t>(data));
  return b.create<arith::ConstantOp>(loc, attr);
}

bool listCalibrationFiles(llvm::StringRef path,
                          std::vector<std::string> &files, std::string &error) {
  files.clear();
  if (!llvm::sys::fs::exists(path)) {
    error = path.str() + ": No such file or directory";
    return false;
  }
  if (!llvm::sys::fs::is_directory(path)) {
    if (std::string why = ::slim::rt::notARegularFile(path.str());
        !why.empty()) {
      error = path.str() + ": " + why;
      return false;
    }
    files.push_back(path.str());
    return true;
  }
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::StringRef(it->path()).ends_with(".npy"))
      files.push_back(it->path());
  llvm::sort(files);
  if (files.empty()) {
    error = path.str() + ": a directory without .npy files";
    return false;
  }
  return true;
}

LogicalResult loadCalibrationBatches(
    func::FuncOp func, llvm::StringRef path, llvm::StringRef prefix,
    std::vector<std::vector<::slim::rt::NpyArray>> &batches) {
  if (func.getNumArguments() != 1)
    return func.emitError(prefix)
           << "calibration supports models with one input; @"
           << func.getSymName() << " has " << func.getNumArguments();
  std::vector<std::string> files;
  std::string error;
  if (!listCalibrationFiles(path, files, error))
    return func.emitError(prefix) << "calibration " << error;
  for (const std::string &file : files) {
    ::slim::rt::NpyArray t;
    std::string error;
    if (!::slim::rt::readNpy(file, t, error))
      return func.emitError(prefix) << "calibration: " << error;
    batches.push_back({std::move(t)});
  }
  return success();
}

void eraseDeadConstants(Operation *root) {
  SmallVector<Operation *> dead;
  root->walk([&](arith::ConstantOp c) {
    if (c->use_empty())
      dead.push_back(c);
  });
  for (Operation *c : dead)
    c->erase();
}

std::string describeOp(Operation *op) {
  std::string s = "'" + op->getName().getStringRef().str() + "'";
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    s += " (node " + name.getName().str() + ")";
  return s;
}

std::string weightName(Value v) {
  auto cst = v ? v.getDefiningOp<arith::ConstantOp>() : arith::ConstantOp();
  if (!cst)
    return "";
  if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
    return res.getRawHandle().getKey().str();
  return "";
}

LogicalResult reinferTypes(
    Block &body, llvm::function_ref<FailureOr<bool>(Operation &)> adjust,
    llvm::function_ref<LogicalResult(Operation &)> refuse) {
  for (Operation &op : body) {
    if (auto res = dyn_cast<ResidualOp>(op)) {
      Block &inner = res.getBody().front();
      inner.getArgument(0).setType(res.getInput().getType());
      if (failed(reinferTypes(inner, adjust, refuse)))
        return failure();
      res.getResult().setType(res.getInput().getType());
      continue;
    }
    if (op.getNumResults() == 0 || isa<arith::ConstantOp>(op))
      continue;
    FailureOr<bool> handled = adjust(op);
    if (failed(handled))
      return failure();
    if (*handled)
      continue;
    if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
      SmallVector<Type> types;
      std::optional<Location> loc;
      if (!refuse)
        loc = op.getLoc();
      if (failed(infer.inferReturnTypes(
              op.getContext(), loc, op.getOperands(),
              op.getRawDictionaryAttrs(), op.getPropertiesStorage(),
              op.getRegions(), types)))
        return refuse ? refuse(op) : failure();
      for (auto [r, t] : llvm::zip(op.getResults(), types))
        r.setType(t);
      continue;
    }
    // Norms, unary elementwise ops: the result has the input's type.
    op.getResult(0).setType(op.getOperand(0).getType());
  }
  return success();
}

} // namespace mlir::slim
