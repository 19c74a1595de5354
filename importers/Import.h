//===- Import.h - model importers -------------------------------*- C++ -*-===//
//
// ONNX files and Hugging Face checkpoint directories into the slim dialect.
// Errors are reported as diagnostics on the context (each naming the file,
// node or tensor at fault); a null module means the import failed.
//
//===----------------------------------------------------------------------===//

#ifndef IMPORTERS_IMPORT_H
#define IMPORTERS_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "runtime/Npy.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::slim {

struct ImportOptions {
  /// Sequence length a Hugging Face text model is compiled for (shapes are
  /// static); 0 = min(128, the model's maximum).
  int64_t seqLen = 0;
  /// Static shapes for ONNX inputs with dynamic dimensions, by input name.
  std::map<std::string, std::vector<int64_t>> shapes;
  /// ONNX inputs fixed to the contents of a .npy file (input name -> path):
  /// they become initializers, so shape parameters a model takes as inputs
  /// (pads, scales, sizes, a target shape) fold at import.
  std::map<std::string, std::string> binds;
};

/// Imports an ONNX model (opset 13-17) as slim primitives in `func.func
/// @main`. Initializers become dense_resource weights named after them.
OwningOpRef<ModuleOp> importOnnx(MLIRContext *ctx, llvm::StringRef path,
                                 const ImportOptions &options = {});

/// importOnnx on an in-memory model (`name` is used in messages).
OwningOpRef<ModuleOp> importOnnxFromBuffer(MLIRContext *ctx,
                                           llvm::StringRef bytes,
                                           llvm::StringRef name,
                                           const ImportOptions &options = {});

/// Imports a Hugging Face checkpoint directory (config.json +
/// model.safetensors) of a supported model_type as raised slim ops.
OwningOpRef<ModuleOp> importHuggingFace(MLIRContext *ctx, llvm::StringRef dir,
                                        const ImportOptions &options = {});

/// importHuggingFace on in-memory config.json text and model.safetensors
/// bytes (`name` stands for the directory in messages).
OwningOpRef<ModuleOp>
importHuggingFaceFromMemory(MLIRContext *ctx, std::string configText,
                            std::vector<uint8_t> safetensors,
                            llvm::StringRef name,
                            const ImportOptions &options = {});

/// A directory is a Hugging Face checkpoint; anything else is read as ONNX.
OwningOpRef<ModuleOp> importModel(MLIRContext *ctx, llvm::StringRef path,
                                  const ImportOptions &options = {});

/// Reads a serialized ONNX TensorProto (the node tests' input_N.pb) as an
/// array (float32, int64, int32, bool). False with `error` set on failure.
bool readOnnxTensorFile(llvm::StringRef path, ::slim::rt::NpyArray &out,
                        std::string &error);

/// Writes a copy of the ONNX model at `path` whose graph outputs also list
/// every node's outputs (typed by ONNX shape inference), for comparing
/// intermediate values; `nodeOutputs` gets (node name, output name) pairs.
bool exposeOnnxIntermediates(llvm::StringRef path, llvm::StringRef outPath,
                             std::vector<std::pair<std::string, std::string>>
                                 &nodeOutputs,
                             std::string &error);

/// Registers the dialects the importers create ops of.
void registerImportDialects(MLIRContext *ctx);

} // namespace mlir::slim

#endif // IMPORTERS_IMPORT_H
