//===- Multiversion.h - the x86-64 runtime's AVX-512 kernels -----*- C++ -*-===//
//
// `slimc --target=x86-64` links one runtime for every x86-64 CPU from
// Haswell on: compiled for x86-64-v3 (with SLIM_PORTABLE), plus a second
// copy of the AVX-512 kernel files (LinearKernel, AttentionKernel,
// NormKernel, QKernels, Q4Kernels, QAttention) compiled for x86-64-v4 with
// VNNI, in
// which every symbol is made local except the entry points below, renamed
// slim_v4_NAME (runtime/multiversion.py: nothing of the v4 copy — inline
// functions, template instances — can be picked by the linker for the v3
// code). Each entry point of the v3 build calls its slim_v4_ twin when
// the CPU has AVX-512 F/BW/DQ/VL/CD and VNNI (checked once). The Halide
// kernels of that target are built for both levels and Halide picks one
// per call (its multi-target dispatch).
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_MULTIVERSION_H
#define RUNTIME_MULTIVERSION_H

#include "runtime/Kernels.h"

#if defined(SLIM_PORTABLE) && !defined(__AVX512F__)
#define SLIM_DISPATCH_V4 1

namespace slim::rt {
/// Whether this CPU and OS run the x86-64-v4 kernels (cpuid and XCR0,
/// checked on the first call).
bool useX86V4();
} // namespace slim::rt

// The v4 copies: the same C++ functions under C names (same parameters,
// same calling convention).
extern "C" {
bool slim_v4_linearPackedAvx512(const float *, int64_t, int64_t,
                                const float *, const float *, int64_t,
                                float *, slim::rt::LinearAct, const float *);
bool slim_v4_linearNarrowAvx512(const float *, int64_t, int64_t,
                                const float *, const float *, int64_t,
                                float *, slim::rt::LinearAct, const float *);
bool slim_v4_attentionAvx512(const float *, const float *, const float *,
                             const float *, const float *,
                             const slim::rt::AttentionShape &, bool, float,
                             float *);
bool slim_v4_attentionInt8(const float *, const float *, const float *,
                           const float *, const float *,
                           const slim::rt::AttentionShape &, bool, float,
                           float *, slim::rt::Int8AttentionPath);
bool slim_v4_attentionReceivedAvx512(const float *, const float *,
                                     const float *,
                                     const slim::rt::AttentionShape &, float,
                                     float *);
bool slim_v4_normAvx512(bool, const float *, int64_t, int64_t, const float *,
                        const float *, float, float *);
bool slim_v4_normRowAvx512(bool, const float *, int64_t, const float *,
                           const float *, float, float *);
void slim_v4_quantizeRows(const float *, int64_t, int64_t, uint8_t *, float *,
                          float);
void slim_v4_qgemmInt32(const uint8_t *, int64_t, int64_t, const uint8_t *,
                        int64_t, int32_t *);
void slim_v4_qlinear(const float *, int64_t, int64_t, const uint8_t *,
                     const float *, const float *, int64_t, float *,
                     slim::rt::LinearAct, float, const float *);
void slim_v4_qlinearShared(const float *, int64_t, int64_t, float,
                           const slim::rt::QLinearPart *, int,
                           const slim::rt::RowNorm *);
void slim_v4_quantizeRowsW4A8(const float *, int64_t, int64_t, int64_t,
                              int8_t *, float *, int32_t *);
bool slim_v4_q4linear(const float *, int64_t, int64_t, const uint8_t *,
                      int64_t, const float *, int64_t, float *, std::string &,
                      slim::rt::LinearAct, bool);
}

/// In a v3 entry point of the x86-64 runtime: return the v4 twin's result
/// on a CPU that runs it.
#define SLIM_V4(name, ...)                                                     \
  do {                                                                         \
    if (::slim::rt::useX86V4())                                                \
      return slim_v4_##name(__VA_ARGS__);                                      \
  } while (0)
#else
#define SLIM_V4(name, ...)                                                     \
  do {                                                                         \
  } while (0)
#endif

#endif // RUNTIME_MULTIVERSION_H
