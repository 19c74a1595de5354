//===- ModelCompiler.cpp - slim functions to native code ------------------===//
//
// The stage sequence of a compilation (CompilerImpl.h says where each stage
// lives) and the entry points: lowering to LLVM and emitting the object.
//
//===----------------------------------------------------------------------===//

#include "codegen/llvm/CompilerImpl.h"


#include "reference/Executor.h"
#include "codegen/llvm/Glue.h"
#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"
#include "runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/DialectConversion.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"


#include <algorithm>
#include <functional>
#include <cstring>

using namespace mlir;
using namespace mlir::slim;
namespace rt = ::slim::rt;
using namespace mlir::slim::codegen;

namespace mlir::slim::codegen {

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

/// Moves each residual's body in front of it (the block argument becomes the
/// residual's input), so the ops run in one block in program order and the
/// residual stands for its closing add; the yield stays to name the branch.
static void flattenResiduals(Block &block) {
  for (Operation &op : llvm::make_early_inc_range(block)) {
    auto res = dyn_cast<ResidualOp>(op);
    if (!res)
      continue;
    Block &body = res.getBody().front();
    flattenResiduals(body);
    for (BlockArgument arg : body.getArguments())
      arg.replaceAllUsesWith(res.getInput());
    for (Operation &inner : llvm::make_early_inc_range(body.without_terminator()))
      inner.moveBefore(res);
  }
}

/// Applies the ops' folders (x * 1, x + 0, identity reshapes and
/// transposes, composed transposes, constants moved to the right of
/// commutative ops) before anything is planned. The
/// conversion driver would fold them itself, replacing results the memory
/// plan has already given buffers nobody would then write.
static void foldOps(func::FuncOp fn) {
  fn.walk([](Operation *op) {
    if (op->getNumResults() == 0 || op->hasTrait<OpTrait::ConstantLike>())
      return;
    SmallVector<OpFoldResult> folded;
    for (int round = 0; round < 8 && succeeded(op->fold(folded)); ++round) {
      // Updated in place (operands reordered or composed): once more.
      if (folded.empty() || folded.front() == OpFoldResult(op->getResult(0))) {
        folded.clear();
        continue;
      }
      auto value = dyn_cast<Value>(folded.front());
      if (!value || op->getNumResults() != 1)
        return; // a constant: no folder here makes one
      op->getResult(0).replaceAllUsesWith(value);
      op->erase();
      return;
    }
  });
}

LogicalResult Compiler::linearize(Block &block) {
  for (Operation &op : block) {
    if (isa<arith::ConstantOp, func::ReturnOp>(op))
      continue;
    bool residual = isa<ResidualOp>(op);
    if (op.getNumRegions() && !residual)
      return op.emitError("codegen does not handle this region op");
    stepOf[&op] = steps.size();
    steps.push_back({&op, /*residualAdd=*/residual});
  }
  return success();
}

void Compiler::collectGroups() {
  for (auto [k, step] : llvm::enumerate(steps)) {
    auto first = dyn_cast<QLinearOp>(step.op);
    if (step.residualAdd || !first || !first.getGroup())
      continue;
    SmallVector<QLinearOp, 3> group = first.getGroupMembers();
    for (QLinearOp member : ArrayRef(group).drop_front())
      sharedFrom[member] = int64_t(k);
    sharedQLinears[first] = group;
  }
}
void Compiler::collectFusedResiduals() {
  for (const Step &step : steps)
    if (auto res = dyn_cast<ResidualOp>(step.op);
        res && step.residualAdd && res.getFused()) {
      // The verifier has checked that the branch is such a linear.
      fusedResidual[res.getBranch().getDefiningOp()] = res;
      residualFused.insert(res);
    }
}

//===----------------------------------------------------------------------===//
// Function
//===----------------------------------------------------------------------===//

LogicalResult Compiler::emitFunction(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  OpBuilder builder(ctx);
  b = &builder;
  llvmModule = module;
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  builder.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> params(withCache ? 5 : 4, ptrTy);
  auto fn = builder.create<LLVM::LLVMFuncOp>(
      loc, entry,
      LLVM::LLVMFunctionType::get(builder.getI32Type(), params));
  Block *entryBlock = fn.addEntryBlock(builder);
  argInputs = entryBlock->getArgument(0);
  argOutputs = entryBlock->getArgument(1);
  argArena = entryBlock->getArgument(2);
  argWeights = entryBlock->getArgument(3);
  if (withCache)
    argCache = entryBlock->getArgument(4);
  errorBlock = builder.createBlock(&fn.getBody(), {}, {builder.getI32Type()},
                                   {loc});
  builder.create<LLVM::ReturnOp>(loc, errorBlock->getArgument(0));
  // The entry block only loads input and output pointers; the code starts
  // in `body`, where the slim ops are moved to be converted in place.
  Block *body = builder.createBlock(&fn.getBody());
  builder.setInsertionPointToEnd(entryBlock);
  builder.create<LLVM::BrOp>(loc, body);
  Block &source = func.getBody().front();
  body->getOperations().splice(body->end(), source.getOperations());

  nameSteps();
  ConversionTarget target(*ctx);
  target.addLegalDialect<LLVM::LLVMDialect>();
  RewritePatternSet patterns(ctx);
  populateKernelCallPatterns(patterns);
  {
    // Every op that cannot be lowered has said why; the driver's own
    // "failed to legalize" adds nothing.
    ScopedDiagnosticHandler quiet(ctx, [&](Diagnostic &diag) {
      return success(!reported.empty() &&
                     StringRef(diag.str()).starts_with("failed to legalize"));
    });
    if (failed(applyFullConversion(fn, target, std::move(patterns)))) {
      // Rolled back, the slim ops are in `fn` again and use the copy's
      // arguments: drop them before the copy goes.
      fn.erase();
      if (reported.empty())
        return emitError(loc, "internal error: the kernel-call lowering "
                              "of @")
               << func.getSymName() << " failed";
      return failure();
    }
  }
  for (const Step &step : steps)
    if (!lowered.count(step.op))
      return emitError(loc, "internal error: the conversion folded a step "
                            "of @")
             << func.getSymName() << " that codegen had planned";
  checkCalls(fn);
  return success();
}

LogicalResult Compiler::lower(ModuleOp into) {
  Block &entry = func.getBody().front();
  // Step functions: the cache layout (one slot per kv_attention, keys then
  // values, capacity rows each), the same for every entry point (so the
  // prefill and decode steps must agree on the element type too).
  int64_t cacheBytes = 0;
  std::map<int64_t, KvAttentionOp> slots;
  std::optional<bool> f16;
  WalkResult mixed = func.walk([&](KvAttentionOp a) {
    slots[a.getSlot()] = a;
    if (f16 && *f16 != a.getCacheF16())
      return WalkResult::interrupt();
    f16 = a.getCacheF16();
    return WalkResult::advance();
  });
  if (mixed.wasInterrupted())
    return func.emitError("@")
           << func.getSymName()
           << " mixes float16 and float32 KV cache slots";
  for (auto &[slot, a] : slots) {
    slotOffset[slot] = cacheBytes;
    auto k = a.getKey().getType(), v = a.getValue().getType();
    // float32, or float16 with cache_f16.
    cacheBytes += alignUp(int64_t(a.getCapacity()) *
                          (k.getDimSize(2) + v.getDimSize(2)) *
                          (a.getCacheF16() ? 2 : 4));
  }
  if (withCache) {
    if (slots.empty())
      return func.emitError("a step function without slim.kv_attention");
    if (out.kvCacheBytes && out.kvCacheBytes != cacheBytes)
      return func.emitError("the KV cache of @")
             << func.getSymName() << " (" << cacheBytes
             << " bytes) differs from the other step function's ("
             << out.kvCacheBytes << " bytes)";
    out.kvCacheBytes = cacheBytes;
    out.kvLayers = int64_t(slots.size());
    out.kvCapacity = int64_t(slots.begin()->second.getCapacity());
  }
  for (auto [k, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = tensorType(arg);
    auto d = dtypeOf(type.getElementType());
    if (!d)
      return func.emitError("input '")
             << argumentName(func, k) << "' has an unsupported element type "
             << type.getElementType();
    if (!withCache)
      out.inputs.push_back({argumentName(func, k), *d,
                            std::vector<int64_t>(type.getShape().begin(),
                                                 type.getShape().end())});
    storage[arg] = {Storage::Input, int64_t(k)};
  }
  for (unsigned k = 0; k < func.getNumResults(); ++k) {
    auto type = cast<RankedTensorType>(func.getResultTypes()[k]);
    auto d = dtypeOf(type.getElementType());
    if (!d)
      return func.emitError("output '")
             << resultName(func, k) << "' has an unsupported element type";
    if (!withCache)
      out.outputs.push_back({resultName(func, k), *d,
                             std::vector<int64_t>(type.getShape().begin(),
                                                  type.getShape().end())});
  }
  flattenResiduals(entry);
  foldOps(func);
  if (failed(linearize(entry)) || failed(planWeights()))
    return failure();
  collectGroups();
  collectFusedResiduals();
  // A result computed by a step is written straight into its output
  // buffer (the first output it is returned as), not copied out of the
  // arena at the end.
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    Operation *def = v.getDefiningOp();
    if (def && stepOf.count(def) && !storage.count(v))
      storage[v] = {Storage::Output, int64_t(k)};
  }
  for (const Step &step : steps)
    if (auto r = dyn_cast<ReshapeOp>(step.op);
        r && r.getView() && !storage.count(r.getResult()) &&
        !r.getInput().getDefiningOp<arith::ConstantOp>())
      viewReshapes.insert(r);
  planArena();

  func.getContext()->loadDialect<LLVM::LLVMDialect>();
  return emitFunction(into);
}

} // namespace mlir::slim::codegen

/// Lowers the glue functions the entry points call and puts them into
/// `into`: as LLVM functions replacing their declarations, or, stopped at an
/// earlier stage (tests), as a nested module @slim_glue.
static LogicalResult finishGlue(GlueModule &glue, ModuleOp into,
                                GlueModule::Stage stage) {
  if (failed(glue.lower(stage)))
    return failure();
  ModuleOp mod = glue.module();
  if (stage != GlueModule::Stage::LLVM) {
    mod.setSymName("slim_glue");
    Operation *nested = mod->clone();
    into.getBody()->push_back(nested);
    return success();
  }
  SymbolTable symbols(into);
  for (Operation &op : llvm::make_early_inc_range(*mod.getBody())) {
    auto fn = dyn_cast<LLVM::LLVMFuncOp>(op);
    if (!fn) {
      if (auto sym = dyn_cast<SymbolOpInterface>(op);
          sym && symbols.lookup(sym.getNameAttr()))
        continue;
      op.moveBefore(into.getBody(), into.getBody()->end());
      continue;
    }
    auto existing = symbols.lookup<LLVM::LLVMFuncOp>(fn.getName());
    if (existing && (fn.isExternal() || !existing.isExternal()))
      continue; // a library declaration (erff) both have
    if (existing)
      existing.erase();
    // Local to the model's object (a shared library exports only the API).
    if (!fn.isExternal()) {
      fn.setLinkage(LLVM::Linkage::Internal);
      fn->removeAttr(SymbolTable::getVisibilityAttrName());
    }
    op.moveBefore(into.getBody(), into.getBody()->end());
  }
  return success();
}

LogicalResult mlir::slim::lowerModelToLLVM(func::FuncOp func, ModuleOp into,
                                           CompiledModel &out) {
  GlueModule glue(func.getContext());
  if (failed(Compiler(func, out, glue).lower(into)))
    return failure();
  return finishGlue(glue, into, GlueModule::Stage::LLVM);
}

llvm::ArrayRef<CpuTarget> mlir::slim::cpuTargets(bool withAarch64) {
  static const CpuTarget targets[] = {
      {"host", "", "", "",
       "the CPU slimc runs on, every extension it has (default)"},
      {"x86-64-v3", "x86_64-unknown-linux-gnu", "x86-64-v3", "",
       "x86-64 with AVX2, FMA, F16C, BMI2 (Intel since Haswell, AMD since "
       "Zen)"},
      {"x86-64-v4", "x86_64-unknown-linux-gnu", "x86-64-v4", "+avx512vnni",
       "x86-64-v3 plus AVX-512 F/BW/DQ/VL/CD and VNNI (Intel Xeon since "
       "Cascade Lake, AMD since Zen 4)"},
      {"x86-64", "x86_64-unknown-linux-gnu", "x86-64-v3", "",
       "any x86-64-v3 CPU; the hot kernels also built for x86-64-v4 and "
       "chosen at start-up"},
      {"aarch64-linux", "aarch64-unknown-linux-gnu", "generic", "+neon",
       "64-bit ARM (ARMv8.0 with NEON: Graviton, Ampere, Raspberry Pi 4), "
       "Linux; cross-compiled"},
  };
  return llvm::ArrayRef<CpuTarget>(targets).drop_back(withAarch64 ? 0 : 1);
}

const CpuTarget *mlir::slim::findCpuTarget(StringRef name) {
  for (const CpuTarget &t : cpuTargets())
    if (name == t.name)
      return &t;
  return nullptr;
}

LogicalResult mlir::slim::emitObject(ModuleOp module,
                                     const CompileOptions &options,
                                     SmallVectorImpl<char> &object) {
  const unsigned optLevel = options.optLevel;
  const CpuTarget &cpu =
      options.target ? *options.target : cpuTargets().front();
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "slim_model");
  if (!llvmModule)
    return module.emitError("translation to LLVM IR failed");

  // Every target LLVM has (a cross target's too).
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  std::string triple = *cpu.triple ? std::string(cpu.triple)
                                   : llvm::sys::getDefaultTargetTriple(),
              error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError("no LLVM target for ") << triple << ": " << error;
  // The host's CPU and every feature it has; a named target's CPU (which
  // implies its features) and the features it adds.
  llvm::SubtargetFeatures features;
  std::string cpuName = cpu.cpu;
  if (cpuName.empty()) {
    cpuName = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features.AddFeature(f.first(), f.second);
  } else {
    for (StringRef f : llvm::split(StringRef(cpu.features), ','))
      if (!f.empty())
        features.AddFeature(f);
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features.getString(), targetOptions,
      llvm::Reloc::PIC_, std::nullopt,
      optLevel == 0 ? llvm::CodeGenOptLevel::None
                    : llvm::CodeGenOptLevel::Default));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);

  if (optLevel > 0) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::OptimizationLevel level =
        optLevel >= 3 ? llvm::OptimizationLevel::O3 : llvm::OptimizationLevel::O2;
    pb.buildPerModuleDefaultPipeline(level).run(*llvmModule, mam);
  }

  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return module.emitError("the target cannot emit object files");
  pm.run(*llvmModule);
  return success();
}

LogicalResult mlir::slim::lowerModuleToLLVM(ModuleOp source, ModuleOp into,
                                            CompiledModel &out,
                                            GlueModule::Stage glueStage) {
  auto main = source.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return source.emitError("the model has no function @main");
  GlueModule glue(source.getContext());
  if (failed(Compiler(main, out, glue).lower(into)))
    return failure();
  auto prefill = source.lookupSymbol<func::FuncOp>("prefill");
  auto decode = source.lookupSymbol<func::FuncOp>("decode");
  if (!prefill && !decode)
    return finishGlue(glue, into, glueStage);
  if (!prefill || !decode)
    return source.emitError("generation needs both @prefill and @decode "
                            "step functions (slim-decode-step)");
  // The step signature the runtime calls: ids, positions, logits row ->
  // logits [1, 1, V].
  for (func::FuncOp f : {prefill, decode}) {
    auto ins = f.getArgumentTypes();
    auto res = f.getResultTypes();
    if (ins.size() != 3 || res.size() != 1 ||
        cast<RankedTensorType>(res[0]).getRank() != 3 ||
        cast<RankedTensorType>(res[0]).getDimSize(1) != 1)
      return f.emitError("@")
             << f.getSymName()
             << " is not a step function (input_ids, positions, logits_row) "
                "-> logits [1, 1, V]";
  }
  if (cast<RankedTensorType>(decode.getArgumentTypes()[0]).getDimSize(1) != 1)
    return decode.emitError("@decode must take one token at a time");
  if (failed(Compiler(prefill, out, glue, "slim_model_prefill", true)
                 .lower(into)) ||
      failed(Compiler(decode, out, glue, "slim_model_decode", true)
                 .lower(into)))
    return failure();
  out.generates = true;
  out.prefillTokens =
      cast<RankedTensorType>(prefill.getArgumentTypes()[0]).getDimSize(1);
  out.vocabSize =
      cast<RankedTensorType>(decode.getResultTypes()[0]).getDimSize(2);
  if (cast<RankedTensorType>(prefill.getResultTypes()[0]).getDimSize(2) !=
      out.vocabSize)
    return prefill.emitError("@prefill and @decode have different "
                             "vocabularies");
  return finishGlue(glue, into, glueStage);
}

LogicalResult mlir::slim::compileModel(ModuleOp source,
                                       const CompileOptions &options,
                                       CompiledModel &out) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(source.getLoc());
  if (failed(lowerModuleToLLVM(source, *module, out)) ||
      failed(mlir::verify(*module)))
    return failure();
  return emitObject(*module, options, out.object);
}

