//===- slim-import.cpp - ONNX / Hugging Face models to slim MLIR ----------===//

#include "importers/Import.h"
#include "passes/Passes.h"
#include "tools/Diagnostics.h"
#include "tools/OutputFile.h"
#include "tools/ShapeOption.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory category("slim-import options");
static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<model.onnx | hf-checkpoint-dir>"),
                                  cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("output file ('-' = stdout)"),
                                   cl::value_desc("file"), cl::init("-"),
                                   cl::cat(category));
static cl::opt<bool> emitBytecode("emit-bytecode",
                                  cl::desc("write MLIR bytecode, not text"),
                                  cl::cat(category));
static cl::opt<bool> elideWeights(
    "elide-weights",
    cl::desc("print weight blobs as <<elided>> (readable, not reloadable)"),
    cl::cat(category));
static slim::tools::InputOptions inputOptions(category);
static cl::opt<int64_t> seqLen(
    "seq-len",
    cl::desc("sequence length to compile a Hugging Face text model for "
             "(default: 128, capped by the model's maximum)"),
    cl::init(0), cl::cat(category));
static cl::opt<bool> tensorToNpy(
    "tensor-to-npy",
    cl::desc("convert an ONNX TensorProto file (.pb) to .npy instead"),
    cl::cat(category));
static cl::opt<bool> exposeIntermediates(
    "expose-intermediates",
    cl::desc("write a copy of the ONNX model with every node output as a "
             "graph output (for slim-verify --find-divergence); prints "
             "'NODE<TAB>OUTPUT' per node output"),
    cl::cat(category));
static cl::opt<bool> locations(
    "locations",
    cl::desc("print op locations (the ONNX node each op came from)"),
    cl::cat(category));
static cl::opt<bool> noRaise(
    "no-raise",
    cl::desc("keep the imported ONNX primitives (skip slim-raise)"),
    cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "slim-import: reads an ONNX model (opset 13-17, static shapes) or a "
      "Hugging Face checkpoint directory (config.json + model.safetensors; "
      "gpt2, llama, bert, vit) and writes it in the slim dialect, raised to "
      "transformer ops and slim.residual blocks.\n");

  mlir::MLIRContext ctx;
  slim::tools::DiagnosticPrinter diagnostics(&ctx, "slim-import");

  if (exposeIntermediates) {
    std::vector<std::pair<std::string, std::string>> nodes;
    std::string err;
    if (output == "-" ||
        !mlir::slim::exposeOnnxIntermediates(input, output, nodes, err)) {
      WithColor::error(errs(), "slim-import")
          << (err.empty() ? "--expose-intermediates needs -o FILE.onnx" : err)
          << "\n";
      return 1;
    }
    for (auto &[node, out] : nodes)
      outs() << node << "\t" << out << "\n";
    return 0;
  }
  if (tensorToNpy) {
    slim::rt::NpyArray array;
    std::string err;
    if (!mlir::slim::readOnnxTensorFile(input, array, err) ||
        (output == "-" ? (err = "--tensor-to-npy needs -o FILE.npy", true)
                       : !slim::rt::writeNpy(output, array, err))) {
      WithColor::error(errs(), "slim-import") << err << "\n";
      return 1;
    }
    return 0;
  }
  mlir::slim::ImportOptions importOptions;
  importOptions.seqLen = seqLen;
  if (std::string err; !slim::tools::parseInputOptions(
          inputOptions.shapes, inputOptions.binds, importOptions.shapes, importOptions.binds,
          err)) {
    WithColor::error(errs(), "slim-import") << err << "\n";
    return 1;
  }
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::slim::importModel(&ctx, input, importOptions);
  if (!module)
    return 1;
  if (!noRaise) {
    mlir::PassManager pm(&ctx);
    pm.addPass(mlir::slim::createSlimRaisePass());
    if (failed(pm.run(*module)))
      return 1;
  }
  std::string err = slim::tools::writeOutput(output, [&](raw_ostream &os) {
    if (emitBytecode)
      return succeeded(mlir::writeBytecodeToFile(*module, os));
    mlir::OpPrintingFlags flags;
    if (locations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    if (elideWeights)
      flags.elideLargeResourceString(0);
    module->print(os, flags);
    return true;
  });
  if (!err.empty()) {
    WithColor::error(errs(), "slim-import") << err << "\n";
    return 1;
  }
  return diagnostics.errors ? 1 : 0;
}
