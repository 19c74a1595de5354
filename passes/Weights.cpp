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
  std::vector<std::string> dirs;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (llvm::StringRef(it->path()).ends_with(".npy"))
      files.push_back(it->path());
    else if (llvm::sys::fs::is_directory(it->path()))
      dirs.push_back(it->path());
  }
  if (files.empty())
    files = std::move(dirs);
  llvm::sort(files);
  if (files.empty()) {
    error = path.str() + ": a directory without .npy files or batch "
                         "directories";
    return false;
  }
  return true;
}

namespace {

/// The model's input names (slim.name), "arg0", ... where none is given.
std::vector<std::string> inputNames(func::FuncOp func) {
  std::vector<std::string> names;
  for (unsigned k = 0; k < func.getNumArguments(); ++k) {
    auto name = func.getArgAttrOfType<StringAttr>(k, "slim.name");
    names.push_back(name ? name.str() : "arg" + std::to_string(k));
  }
  return names;
}

/// One batch from a directory holding NAME.npy for every input; every
/// input it lacks is listed in `error`.
bool readBatchDirectory(llvm::StringRef dir,
                        const std::vector<std::string> &names,
                        std::vector<::slim::rt::NpyArray> &batch,
                        std::string &error) {
  std::vector<std::string> missing;
  for (const std::string &name : names) {
    std::string file = (dir + "/" + name + ".npy").str();
    if (!llvm::sys::fs::exists(file)) {
      missing.push_back(name + ".npy");
      continue;
    }
    ::slim::rt::NpyArray t;
    if (!::slim::rt::readNpy(file, t, error))
      return false;
    batch.push_back(std::move(t));
  }
  if (missing.empty())
    return true;
  error = dir.str() + ": a calibration batch needs one .npy per model input; "
                      "missing " +
          llvm::join(missing, ", ");
  return false;
}

} // namespace

LogicalResult loadCalibrationBatches(
    func::FuncOp func, llvm::StringRef path, llvm::StringRef prefix,
    std::vector<std::vector<::slim::rt::NpyArray>> &batches) {
  std::vector<std::string> names = inputNames(func);
  std::vector<std::string> entries;
  std::string error;
  if (!listCalibrationFiles(path, entries, error))
    return func.emitError(prefix) << "calibration " << error;
  // Several inputs: PATH itself holds NAME.npy for each (one batch), or
  // each subdirectory of PATH does (one batch each).
  if (names.size() > 1 && llvm::sys::fs::is_directory(path) &&
      !llvm::sys::fs::is_directory(entries.front()))
    entries = {path.str()};
  for (const std::string &entry : entries) {
    std::vector<::slim::rt::NpyArray> batch;
    if (llvm::sys::fs::is_directory(entry)) {
      if (!readBatchDirectory(entry, names, batch, error))
        return func.emitError(prefix) << "calibration: " << error;
    } else if (names.size() != 1) {
      return func.emitError(prefix)
             << "calibration: @" << func.getSymName() << " has "
             << names.size() << " inputs (" << llvm::join(names, ", ")
             << "): give a directory holding NAME.npy for each, or one "
                "such directory per batch";
    } else {
      ::slim::rt::NpyArray t;
      if (!::slim::rt::readNpy(entry, t, error))
        return func.emitError(prefix) << "calibration: " << error;
      batch.push_back(std::move(t));
    }
    batches.push_back(std::move(batch));
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
