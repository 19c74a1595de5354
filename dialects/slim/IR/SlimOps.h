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

#define GET_OP_CLASSES
#include "dialects/slim/IR/SlimOps.h.inc"

#endif // DIALECTS_SLIM_IR_SLIMOPS_H
