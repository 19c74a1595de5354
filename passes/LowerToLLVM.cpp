//===- LowerToLLVM.cpp - slim-lower-to-llvm: @main to kernel calls --------===//

#include "passes/Passes.h"

#include "codegen/llvm/ModelCompiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMLOWERTOLLVMPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

struct SlimLowerToLLVMPass
    : public mlir::slim::impl::SlimLowerToLLVMPassBase<SlimLowerToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("slim-lower-to-llvm: the module has no @main");
      return signalPassFailure();
    }
    CompiledModel plan;
    if (failed(lowerModelToLLVM(main, module, plan)))
      return signalPassFailure();
    Builder b(module.getContext());
    module->setAttr("slim.arena_bytes", b.getI64IntegerAttr(plan.arenaBytes));
    module->setAttr("slim.weights_bytes",
                    b.getI64IntegerAttr(plan.weights.size()));
    main.erase();
  }
};

} // namespace
