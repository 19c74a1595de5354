//===- Glue.h - slim glue ops through linalg, bufferization, LLVM -*- C++ -*-===//
//
// The heavy ops of a model (linears, attention, norms, activations, the
// embedding gather, same-shape adds) are calls of the Halide and runtime
// kernels. Everything else -- broadcasting elementwise arithmetic, where,
// reductions, transposes, slices, concatenations, reshapes and the copies
// into the caller's output buffers -- is generated code: each such op is
// outlined into a function on tensors built from linalg / tensor / arith /
// math ops,
//
//   func.func @slim_glue_3(%x: tensor<1x128x2304xf32>,
//                          %out: memref<1x128x768xf32>) -> i32 {
//     %s = tensor.extract_slice %x[0, 0, 768] [1, 128, 768] [1, 1, 1] ...
//     bufferization.materialize_in_destination %s in restrict writable %out
//     return %c0_i32 : i32
//   }
//
// then one-shot bufferized across function boundaries (identity layouts, the
// result written straight into the out-parameter), lowered to loops and to
// the LLVM dialect with bare-pointer arguments, and called from the model's
// entry points like a kernel (`i32 @slim_glue_3(ptr, ptr)`). Ops with the
// same name, attributes and types share one function.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_GLUE_H
#define CODEGEN_LLVM_GLUE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LogicalResult.h"

#include <map>
#include <string>

namespace mlir::slim {

/// True for the ops lowered as generated glue code (see above).
bool isGlueOp(Operation *op);

class GlueModule {
public:
  /// How far `lower` goes: linalg on tensors, buffers (after one-shot
  /// bufferization), or the LLVM dialect. The earlier stages are for tests.
  enum class Stage { Linalg, Buffers, LLVM };

  explicit GlueModule(MLIRContext *ctx);

  /// The symbol of the function computing `op` (an isGlueOp op): arguments
  /// are its operands, then the result buffer; it returns 0.
  FailureOr<std::string> outline(Operation *op);
  /// A function copying a tensor of `type` into a buffer of the same size
  /// (reshapes, outputs).
  std::string outlineCopy(RankedTensorType type);

  /// Bufferizes and lowers every outlined function up to `stage`.
  LogicalResult lower(Stage stage);

  ModuleOp module() { return *mod; }
  bool empty() { return byKey.empty(); }

private:
  template <typename BuildFn>
  std::string getOrCreate(const std::string &key, TypeRange inputs,
                          RankedTensorType outType, BuildFn build);

  OwningOpRef<ModuleOp> mod;
  std::map<std::string, std::string> byKey;
};

} // namespace mlir::slim

#endif // CODEGEN_LLVM_GLUE_H
