//===- Executor.h - the reference executor ----------------------*- C++ -*-===//
//
// Runs a slim function op by op on host tensors with the runtime's kernels
// (the ones compiled binaries call). slim-run drives it; passes that need
// calibration run it at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef REFERENCE_EXECUTOR_H
#define REFERENCE_EXECUTOR_H

#include "dialects/slim/IR/SlimOps.h"
#include "runtime/Kernels.h"
#include "runtime/Npy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <vector>

namespace mlir::slim {

using Tensor = ::slim::rt::NpyArray;

class Executor {
public:
  /// Called after each slim.residual with its input and output.
  std::function<void(ResidualOp, const Tensor &input, const Tensor &output)>
      onResidual;
  /// Called after every op (nested ones included) with its first result.
  std::function<void(Operation *, const Tensor &result)> onValue;

  /// Runs `func` with one tensor per argument (dtype and shape must match
  /// exactly). Errors are emitted as diagnostics at the failing op or, for
  /// inputs, at the function.
  LogicalResult run(func::FuncOp func, ArrayRef<Tensor> inputs,
                    std::vector<Tensor> &outputs);

private:
  LogicalResult runBlock(Block &block, std::vector<Tensor> *results);
  LogicalResult runOp(Operation *op);
  /// The tensor of a value already computed (never inserts: references
  /// into `values` stay valid until the next insertion).
  const Tensor &get(Value v) {
    auto it = values.find(v);
    assert(it != values.end() && "value used before it is computed");
    return it->second;
  }
  const std::vector<float> &packed(Value weight);
  /// out += residual (a residual slim-fuse-kernels put on a linear), when
  /// there is one.
  void addResidual(Value residual, Tensor &out);
  /// An int8 qlinear weight, packed for the int8 kernel (once).
  const std::vector<uint8_t> &packedQ(Value weight);

  llvm::DenseMap<Value, Tensor> values;
  llvm::DenseMap<Value, std::vector<float>> packedWeights;
  llvm::DenseMap<Value, std::vector<uint8_t>> packedQWeights;
  llvm::DenseMap<Value, std::vector<uint8_t>> packedQ4Weights;
};

/// The runtime dtype of an element type (f32, i64, i32, i1, i8).
std::optional<::slim::rt::DType> dtypeOf(Type elementType);
/// A zero-filled tensor of `v`'s type.
Tensor allocateFor(Value v);
/// The data of a constant (dense or resource), as a tensor.
FailureOr<Tensor> constantTensor(arith::ConstantOp op);

/// The runtime's fused epilogue for a linear's activation attribute.
::slim::rt::LinearAct linearAct(LinearOp op);
::slim::rt::LinearAct linearAct(QLinearOp op);
::slim::rt::LinearAct linearAct(std::optional<LinearActivation> act);
/// The runtime kernel for an elementwise slim op (gelu, silu, erf, tanh,
/// sqrt, exp, sigmoid, neg / add, sub, mul, div, pow).
::slim::rt::Unary unaryKind(Operation *op);
::slim::rt::Binary binaryKind(Operation *op);

/// The slim.name of argument/result `index` of `func`, or "argN"/"resultN".
std::string argumentName(func::FuncOp func, unsigned index);
std::string resultName(func::FuncOp func, unsigned index);

/// The tensor type as a user reads it: "float32 [1, 8, 64]".
std::string describe(Type type);
std::string describe(const Tensor &t);

} // namespace mlir::slim

#endif // REFERENCE_EXECUTOR_H
