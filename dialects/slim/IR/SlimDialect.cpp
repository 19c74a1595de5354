//===- SlimDialect.cpp - the slim dialect ---------------------------------===//

#include "dialects/slim/IR/SlimDialect.h"
#include "dialects/slim/IR/SlimOps.h"

using namespace mlir;
using namespace mlir::slim;

#include "dialects/slim/IR/SlimDialect.cpp.inc"

void SlimDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/slim/IR/SlimOps.cpp.inc"
      >();
}
