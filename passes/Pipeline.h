//===- Pipeline.h - the pass pipeline slimc runs, for any driver -*- C++ -*-===//
//
// slimc's optimisation flags build their passes here, in one order:
//
//   slim-drop-layers → slim-ln-to-rmsnorm → slim-merge-tokens →
//   slim-last-logits (no generation) → slim-quantize →
//   slim-fuse-epilogues (opt-level ≥ 1) → [extra passes] →
//   slim-decode-step prefill, decode → slim-last-logits (generation)
//
// The same options, in the same syntax as slimc's flags, make the
// registered pipeline `slim-pipeline`, so that
//
//   slim-opt model.mlir --slim-pipeline='ln-to-rmsnorm=rms quantize=int8'
//
// writes what `slimc model.mlir --ln-to-rmsnorm --quantize=int8
// --emit=mlir` writes (test/Transforms/pipeline.test).
//
//===----------------------------------------------------------------------===//

#ifndef PASSES_PIPELINE_H
#define PASSES_PIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::slim {

struct SlimPipelineOptions : public PassPipelineOptions<SlimPipelineOptions> {
  Option<std::string> dropLayers{
      *this, "drop-layers",
      llvm::cl::desc("TARGET:N or TARGET:F (F < 1), TARGET one of attention, "
                     "mlp, block, joint: drop the most redundant modules by "
                     "calibration similarity (slim-drop-layers)")};
  ListOption<std::string> dropList{
      *this, "drop-list",
      llvm::cl::desc("drop exactly these (no scoring): attention:N, mlp:N, "
                     "or block indices with drop-layers=block:0")};
  Option<std::string> dropMode{*this, "drop-mode",
                               llvm::cl::desc("one-shot or iterative"),
                               llvm::cl::init("one-shot")};
  ListOption<int64_t> keepLayers{
      *this, "keep-layers", llvm::cl::desc("block indices never dropped")};
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("calibration data of drop-layers and static int8 "
                     "quantization (see slimc --help)")};
  Option<std::string> dropReport{
      *this, "drop-report",
      llvm::cl::desc("drop-layers writes its scores to PREFIX.json and "
                     "PREFIX.svg (slimc: OUT.drop-layers)")};
  Option<std::string> lnToRms{
      *this, "ln-to-rmsnorm",
      llvm::cl::desc("'rms' or 'crms': rewrite Pre-LN LayerNorms exactly "
                     "(slim-ln-to-rmsnorm); empty: off")};
  Option<std::string> tied{
      *this, "tied",
      llvm::cl::desc("with ln-to-rmsnorm, a token embedding shared with the "
                     "head: 'center' or 'untie'"),
      llvm::cl::init("center")};
  Option<std::string> mergeTokens{
      *this, "merge-tokens",
      llvm::cl::desc("token merging, slimc's syntax: r:N[,method:mctf,...] "
                     "(slim-merge-tokens; see slimc --help)")};
  Option<std::string> quantize{
      *this, "quantize",
      llvm::cl::desc("quantization, slimc's syntax: int8|int4[,act=...,...] "
                     "(slim-quantize; see slimc --help)")};
  Option<std::string> logits{
      *this, "logits",
      llvm::cl::desc("'all' or 'last' (slim-last-logits)"),
      llvm::cl::init("all")};
  Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("0 to 3; from 1 the epilogues fuse (slim-fuse-epilogues)"),
      llvm::cl::init(2)};
  Option<int64_t> maxSeqLen{
      *this, "max-seq-len",
      llvm::cl::desc("N > 0: prefill and decode steps over a KV cache of N "
                     "positions (slim-decode-step)"),
      llvm::cl::init(0)};
  Option<int64_t> prefillChunk{
      *this, "prefill-chunk",
      llvm::cl::desc("tokens per prefill step (0: the smaller of "
                     "max-seq-len and 128)"),
      llvm::cl::init(0)};
  Option<std::string> kvCache{
      *this, "kv-cache",
      llvm::cl::desc("with max-seq-len: the KV cache's element type, f32 or "
                     "f16 (slim-decode-step cache=)"),
      llvm::cl::init("f32")};
  Option<bool> print{
      *this, "print",
      llvm::cl::desc("print drop-layers' scores and quantize's table"),
      llvm::cl::init(false)};
};

/// Adds the passes `options` ask for to `pm`, in the order above; `extra`,
/// if given, adds passes before the decode steps (slimc --pass-pipeline).
/// Fails, with every reason passed to `error`, on an option value that does
/// not parse or options that do not go together.
LogicalResult buildSlimPipeline(
    OpPassManager &pm, const SlimPipelineOptions &options,
    llvm::function_ref<void(const llvm::Twine &)> error,
    llvm::function_ref<LogicalResult(OpPassManager &)> extra = {});

/// Registers `slim-pipeline` (slim-opt --slim-pipeline='...').
void registerSlimPipeline();

} // namespace mlir::slim

#endif // PASSES_PIPELINE_H
