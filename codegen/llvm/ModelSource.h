//===- ModelSource.h - C source compiled beside the object -----*- C++ -*-===//
//
// The two C texts of a compiled model besides its object file: the model
// descriptor (slim_model: inputs, outputs, arena and weight sizes, profile
// names, generation parameters; runtime/ModelDesc.h's types) and, for a
// shared library, the public header with the C API.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_MODELSOURCE_H
#define CODEGEN_LLVM_MODELSOURCE_H

#include "codegen/llvm/ModelCompiler.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::slim {

/// The generated C file: the model description and, for embedded weights,
/// the weight blob itself (.incbin of `weightsBin`); `weightsFile` is the
/// external weights file the binary opens otherwise.
std::string modelDescSource(const CompiledModel &m, llvm::StringRef name,
                            llvm::StringRef weightsBin,
                            llvm::StringRef weightsFile, bool embedded,
                            bool byteTokens);

/// The public header of lib`name`.so: the inputs and outputs in a comment,
/// the descriptor types (taken from `modelDesc`, the text of
/// runtime/ModelDesc.h) and the C API.
std::string headerSource(const CompiledModel &m, llvm::StringRef name,
                         llvm::StringRef modelDesc);

} // namespace mlir::slim

#endif // CODEGEN_LLVM_MODELSOURCE_H
