//===- SlimOps.h - slim dialect operations ----------------------*- C++ -*-===//

#ifndef DIALECTS_SLIM_IR_SLIMOPS_H
#define DIALECTS_SLIM_IR_SLIMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/slim/IR/SlimDialect.h"
#include "dialects/slim/IR/SlimEnums.h.inc"
#include "dialects/slim/IR/SlimInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/slim/IR/SlimOps.h.inc"

namespace mlir::slim {
/// The residual that reads `stream` as its input — the next block of a
/// residual chain — or null.
inline ResidualOp nextResidual(Value stream) {
  for (Operation *user : stream.getUsers())
    if (auto r = dyn_cast<ResidualOp>(user); r && r.getInput() == stream)
      return r;
  return {};
}

/// The window of a slim.im2col, slim.col2im (over its result image),
/// slim.conv2d or slim.pool2d as the runtime's WindowShape orders it: [B, C, H, W, kh, kw, strideH, strideW, padTop,
/// padLeft, dilH, dilW, outH, outW] (runtime/Kernels.h).
llvm::SmallVector<int64_t, 14> windowOf(Operation *op);
} // namespace mlir::slim

#endif // DIALECTS_SLIM_IR_SLIMOPS_H
