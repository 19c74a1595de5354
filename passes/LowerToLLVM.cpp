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
  using SlimLowerToLLVMPassBase::SlimLowerToLLVMPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("slim-lower-to-llvm: the module has no @main");
      return signalPassFailure();
    }
    GlueModule::Stage stage = GlueModule::Stage::LLVM;
    if (glueStage == GlueStage::linalg)
      stage = GlueModule::Stage::Linalg;
    else if (glueStage == GlueStage::buffers)
      stage = GlueModule::Stage::Buffers;
    CompiledModel plan;
    // Lowered into a scratch module first: the source functions and the
    // LLVM functions must not share one symbol table while lowering.
    OwningOpRef<ModuleOp> lowered = ModuleOp::create(module.getLoc());
    if (failed(lowerModuleToLLVM(module, *lowered, plan, stage)))
      return signalPassFailure();
    Builder b(module.getContext());
    module->setAttr("slim.arena_bytes", b.getI64IntegerAttr(plan.arenaBytes));
    module->setAttr("slim.weights_bytes",
                    b.getI64IntegerAttr(plan.weights.size()));
    if (plan.tableWeightBytes > 0)
      module->setAttr("slim.table_weights_bytes",
                      b.getI64IntegerAttr(plan.tableWeightBytes));
    if (plan.generates)
      module->setAttr("slim.kv_cache_bytes",
                      b.getI64IntegerAttr(plan.kvCacheBytes));
    for (StringRef name : {"main", "prefill", "decode"})
      if (auto f = module.lookupSymbol<func::FuncOp>(name))
        f.erase();
    // Constants the functions read became offsets into the weight blob.
    for (Operation &op : llvm::make_early_inc_range(*lowered->getBody()))
      op.moveBefore(module.getBody(), module.getBody()->end());
  }
};

} // namespace
