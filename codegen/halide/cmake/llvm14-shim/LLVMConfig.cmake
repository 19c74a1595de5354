# Halide 14's CMake package calls find_dependency(LLVM 14.0.6) only to define
# the Halide::LLVM interface target, which Slim never links (Halide::Halide and
# Halide::Generator do not depend on it). Loading the real LLVM 14 package here
# would redefine LLVM targets that MLIR 19's package has already imported at
# the top level ("Some (but not all) targets in this export set were already
# defined"). This file satisfies that one find_dependency and defines nothing.
set(LLVM_FOUND TRUE)
set(LLVM_PACKAGE_VERSION 14.0.6)
