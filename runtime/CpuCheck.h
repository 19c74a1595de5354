//===- CpuCheck.h - does this CPU have what the binary was built for? -----===//
//
// Every Slim binary records the target it was compiled for
// (`slimc --target`) and the instruction-set extensions its runtime build
// may use (TargetFeatures.cpp). Executables check them against the CPU
// (cpuid, and the OS's XSAVE state for the vector registers) before
// anything else runs and exit with 2 naming what is missing, instead of
// dying of an illegal instruction; shared libraries refuse
// slim_model_create with the same message.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_CPUCHECK_H
#define RUNTIME_CPUCHECK_H

#include <cstddef>

extern "C" {
/// The target name, e.g. "x86-64-v3" (`slimc --target`).
extern const char slim_runtime_target[];
/// The extensions, each preceded by a space (" avx avx2 fma ...").
extern const char slim_runtime_features[];
}

namespace slim::rt {

/// Writes the extensions of slim_runtime_features this CPU lacks into
/// `out` ("avx512f, avx512bw"; "" when none is missing) and returns their
/// count. Plain C only (no allocation, no libstdc++): it runs before the
/// program's static constructors.
int missingCpuFeatures(char *out, size_t size);

} // namespace slim::rt

#endif // RUNTIME_CPUCHECK_H
