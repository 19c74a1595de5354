//===- ModelCompiler.h - slim functions to native code ----------*- C++ -*-===//
//
// Lowers a slim function to an LLVM-dialect function that calls the
// runtime's kernels (runtime/KernelABI.h) on a weight blob and an arena,
// plans the arena (buffer lifetimes -> interference graph -> coloring), and
// emits an object file in-process for the host CPU.
//
// The generated entry point is
//   int32_t slim_model_compute(void **inputs, void **outputs, uint8_t *arena,
//                          const uint8_t *weights);
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_MODELCOMPILER_H
#define CODEGEN_LLVM_MODELCOMPILER_H

#include "codegen/llvm/Glue.h"
#include "runtime/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::slim {

struct TensorInfo {
  std::string name;
  ::slim::rt::DType dtype;
  std::vector<int64_t> shape;
};

struct CompiledModel {
  std::vector<TensorInfo> inputs, outputs;
  /// Every constant the code reads, 64-byte aligned (linear weights packed
  /// as [in, out]).
  std::vector<uint8_t> weights;
  /// The first bytes of `weights` (a 4 KB multiple) hold the embedding
  /// tables, of which a run reads a few rows; every run reads the rest in
  /// full. The runtime maps the tables from the weights file and reads the
  /// rest into 2 MB pages.
  int64_t tableWeightBytes = 0;
  int64_t arenaBytes = 0;
  /// Bytes the arena would need without reuse (for the report).
  int64_t unplannedBytes = 0;
  int64_t numKernelCalls = 0;
  /// One name per profiled step ("slim.linear /h.0/attn/c_attn/Gemm").
  std::vector<std::string> opNames;
  /// Floating-point operations of each profiled step (multiply-adds count
  /// 2; 0 where not counted: data movement, elementwise ops).
  std::vector<int64_t> opFlops;
  /// The kind of each profiled step: its op's name, with the precision
  /// of a quantized product ("slim.qlinear int4", "slim.attention int8";
  /// slimc --emit=plan, the latency predictor of slim-budget).
  std::vector<std::string> opKinds;
  /// The object file with slim_model_compute (and the step functions).
  llvm::SmallVector<char, 0> object;

  /// Generation (a causal decoder with @prefill and @decode step functions,
  /// slim-decode-step): the KV cache the runtime allocates for them, its
  /// capacity in positions, the prefill chunk and the vocabulary.
  bool generates = false;
  int64_t kvCacheBytes = 0, kvCapacity = 0, kvLayers = 0;
  int64_t prefillTokens = 0, vocabSize = 0;

  /// Where each weight was stored (planning state shared by the entry
  /// points: (blob or attribute, packed) -> byte offset).
  std::map<std::pair<const void *, bool>, int64_t> weightIndex;
};

/// A CPU target of `slimc --target`: what the generated code may use and
/// which runtime build it links.
struct CpuTarget {
  /// The --target name ("host", "x86-64-v3", "x86-64-v4", "aarch64-linux").
  const char *name;
  /// The LLVM target triple; "" for slimc's own.
  const char *triple;
  /// LLVM CPU and extra features; "" for the CPU slimc runs on.
  const char *cpu, *features;
  /// One line for --help.
  const char *help;
};

/// Every target this slimc can compile for, the default (host) first
/// (aarch64-linux only when `withAarch64`: this build has its runtime).
llvm::ArrayRef<CpuTarget> cpuTargets(bool withAarch64 = true);
/// The target named `name`, or null.
const CpuTarget *findCpuTarget(llvm::StringRef name);

struct CompileOptions {
  /// LLVM optimization level for the glue code (0-3).
  unsigned optLevel = 2;
  /// The CPU the code is for (cpuTargets().front(): this machine).
  const CpuTarget *target = nullptr;
};

/// Plans buffers and weights and appends the LLVM-dialect code for `func`
/// (slim_model_compute, shape constants, kernel declarations) to `into`.
/// Fills `out` except `object`.
LogicalResult lowerModelToLLVM(func::FuncOp func, ModuleOp into,
                               CompiledModel &out);

/// Lowers @main to slim_model_compute and, when the module has them, the
/// step functions @prefill and @decode (slim-decode-step) to
///   int32_t slim_model_prefill / slim_model_decode(void **inputs,
///       void **outputs, uint8_t *arena, const uint8_t *weights,
///       uint8_t *kv_cache);
/// sharing one weight blob and one arena (sized for the largest).
/// `glueStage` < LLVM stops the glue functions early and nests them in
/// `into` as module @slim_glue (for tests; `into` then cannot be emitted).
LogicalResult lowerModuleToLLVM(
    ModuleOp source, ModuleOp into, CompiledModel &out,
    GlueModule::Stage glueStage = GlueModule::Stage::LLVM);

/// Translates an LLVM-dialect module to an object file for the target of
/// `options` (this machine when it has none).
LogicalResult emitObject(ModuleOp module, const CompileOptions &options,
                         llvm::SmallVectorImpl<char> &object);

/// Compiles @main and the step functions of `module` (raised or not; every
/// slim op the runtime has a kernel for). Errors are emitted at the
/// offending op.
LogicalResult compileModel(ModuleOp module, const CompileOptions &options,
                           CompiledModel &out);

} // namespace mlir::slim

#endif // CODEGEN_LLVM_MODELCOMPILER_H
