//===- Passes.h - Slim's passes ---------------------------------*- C++ -*-===//

#ifndef PASSES_PASSES_H
#define PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/Pass.h"

#include "dialects/slim/IR/SlimOps.h"

namespace mlir::slim {

// The values of the passes' enum options (llvm::cl::values in Passes.td
// name them on the command line).

/// slim-ln-to-rmsnorm: a token embedding shared with the head.
enum class TiedEmbedding { center, untie };
/// slim-ln-to-rmsnorm: Pre-RMSNorm or Pre-CRMSNorm.
enum class NormVariant { rms, crms };
/// slim-quantize: the weight format.
enum class QuantWeights { int8, int4, none };
/// slim-quantize: how activations are quantized (automatic: dynamic for
/// int8, none for int4).
enum class QuantActs { automatic, dynamic, static_, none };
/// slim-quantize: act=static's scales from max |x| or a percentile.
enum class StaticCalibration { minmax, percentile };
/// slim-drop-layers: what is dropped.
enum class DropTarget { attention, mlp, block, joint };
/// slim-drop-layers: score once or once per dropped module.
enum class DropMode { one_shot, iterative };
/// slim-lower-to-llvm: how far the glue functions are lowered.
enum class GlueStage { linalg, buffers, llvm };

/// The option spellings ("int8", "one-shot", ...), for messages.
StringRef stringifyOption(TiedEmbedding v);
StringRef stringifyOption(NormVariant v);
StringRef stringifyOption(QuantWeights v);
StringRef stringifyOption(QuantActs v);
StringRef stringifyOption(DropTarget v);
StringRef stringifyOption(DropMode v);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::slim

#endif // PASSES_PASSES_H
