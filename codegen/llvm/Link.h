//===- Link.h - a compiled model linked into an executable or library -*- C++ -*-===//
//
// The last step of slimc: the model's object file and its generated C
// descriptor (ModelSource.h), linked by the system compiler driver with
// Slim's runtime and Halide kernel libraries into an executable or a shared
// library that exports the C API and nothing of the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_LINK_H
#define CODEGEN_LLVM_LINK_H

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir::slim {

/// Where the link step finds its tools and libraries.
struct RuntimeLibraries {
  /// The compiler driver (clang), which also compiles the descriptor.
  std::string cxx;
  /// The directory holding runtime/ModelDesc.h, which the descriptor
  /// includes.
  std::string includeDir;
  /// The executable's entry point (libslim_main) and the C API a shared
  /// library exports (libslim_api).
  std::string mainLib, apiLib;
  /// The runtime library first, then the Halide kernel libraries.
  std::vector<std::string> libs;
  /// The -fsanitize= value of a sanitizer build of the runtime, or "".
  std::string sanitize;
  /// Whether the libraries are the ThreadSanitizer builds.
  bool tsan = false;
  /// The target triple of a cross target ("" for this machine's).
  std::string triple;
};

enum class LinkKind { Executable, SharedLibrary };

/// Links `object` and the C source `descriptor` into `output`; returns ""
/// or the error (the driver's exit status and its command line).
std::string linkModel(const RuntimeLibraries &libs, LinkKind kind,
                      llvm::StringRef descriptor, llvm::StringRef object,
                      llvm::StringRef output);

} // namespace mlir::slim

#endif // CODEGEN_LLVM_LINK_H
