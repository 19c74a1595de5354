//===- SlimDialect.h - the slim dialect -------------------------*- C++ -*-===//

#ifndef DIALECTS_SLIM_IR_SLIMDIALECT_H
#define DIALECTS_SLIM_IR_SLIMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/slim/IR/SlimDialect.h.inc"

#endif // DIALECTS_SLIM_IR_SLIMDIALECT_H
