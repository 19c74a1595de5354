//===- Weights.h - constant weights and messages shared by the passes -*- C++ -*-===//

#ifndef PASSES_WEIGHTS_H
#define PASSES_WEIGHTS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "runtime/Npy.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace mlir::slim {

/// The elements of an f32 constant (dense or dense_resource), or nullopt.
std::optional<std::vector<float>> floatValues(Value v);

/// Whether floatValues(v) would succeed, without copying the elements.
bool isFloatConstant(Value v);

/// `cst` (an arith.constant, dense or dense_resource) seen with another
/// shape of as many elements: a new constant sharing its data (a
/// dense_resource blob is stored once), or null when `cst` is not one.
Value reshapeConstant(OpBuilder &b, Value cst, llvm::ArrayRef<int64_t> shape);

/// A new f32 dense_resource constant named `name` (made unique).
Value makeWeight(OpBuilder &b, Location loc, llvm::StringRef name,
                 llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<float> data);

/// A new i8 dense_resource constant named `name` (made unique); with
/// `bits` = 4 an i4 tensor, still one value per byte.
Value makeWeightI8(OpBuilder &b, Location loc, llvm::StringRef name,
                   llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int8_t> data,
                   unsigned bits = 8);

/// The resource key of a dense_resource constant, or "".
std::string weightName(Value v);

/// Erases the constants under `root` that nothing reads any more (the
/// weights a rewrite replaced).
void eraseDeadConstants(Operation *root);

/// The calibration entries `path` names: the file itself; or the .npy
/// files of a directory, sorted by name; or, when it has none, its
/// subdirectories (one batch each), sorted. False, with `error` ("PATH:
/// why") when the path does not exist, is not a regular file or directory,
/// or is a directory with neither. slimc checks its --calibration with
/// this before importing, so every bad input is reported together.
bool listCalibrationFiles(llvm::StringRef path,
                          std::vector<std::string> &files, std::string &error);

/// Calibration batches, one vector of inputs each, in the function's
/// argument order. One input: `path` is a .npy file, a directory of them
/// (one batch each) or a directory of batch directories. Several inputs
/// (input_ids, attention_mask, position_ids, ...): `path` is a directory
/// holding NAME.npy for every input (NAME: the input's name), or a
/// directory of such directories, one batch each. Errors start with
/// `prefix`.
LogicalResult loadCalibrationBatches(
    func::FuncOp func, llvm::StringRef path, llvm::StringRef prefix,
    std::vector<std::vector<::slim::rt::NpyArray>> &batches);

/// "'slim.gelu' (node /h.0/mlp/Mul_5)": an op, and the ONNX node it came
/// from, for the passes' messages.
std::string describeOp(Operation *op);

/// Re-infers the result types of the ops of `body`, in order and through
/// slim.residual bodies, after token counts changed upstream (token
/// merging, decode steps). `adjust` sees every op with results first
/// (constants excepted): it may fix attributes and return false (then the
/// op's types are inferred), set the types itself and return true, or
/// fail. Ops that cannot infer keep their first operand's type (norms,
/// unary ops). When inference fails, `refuse` reports it (null: the op's
/// own inference message).
LogicalResult reinferTypes(
    Block &body, llvm::function_ref<FailureOr<bool>(Operation &)> adjust,
    llvm::function_ref<LogicalResult(Operation &)> refuse = nullptr);

} // namespace mlir::slim

#endif // PASSES_WEIGHTS_H
