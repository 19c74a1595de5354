//===- slim-opt.cpp - run slim passes on .mlir files -----------------------===//
//
// mlir-opt for Slim: the slim dialect, Slim's passes, and only the upstream
// dialects and passes Slim's pipeline uses (the InitAll* headers would cost
// ~30 s and 1.5 GB per translation unit on MLIR 19).
//
//===----------------------------------------------------------------------===//

#include "dialects/slim/IR/SlimDialect.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::slim::SlimDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::tensor::TensorDialect>();
  mlir::registerTransformsPasses(); // canonicalize, cse, inline, symbol-dce...
  mlir::slim::registerSlimPasses();
  mlir::slim::registerSlimPipeline(); // what slimc runs: --slim-pipeline='...'
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Slim optimizer driver: runs slim passes on .mlir input\n",
      registry));
}
