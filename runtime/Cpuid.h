//===- Cpuid.h - cpuid and the OS's saved register state -------*- C++ -*-===//
//
// For the code that decides what this CPU runs: CpuCheck.cpp (the start-up
// check, compiled for the baseline), Multiversion.cpp (the x86-64 target's
// choice of the v4 kernels) and QKernels.cpp (AMX). The functions are
// `static`: every translation unit keeps its own copy, compiled with its
// own flags, so the linker can never give the baseline check a copy
// compiled for AVX-512.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_CPUID_H
#define RUNTIME_CPUID_H

#if defined(__x86_64__)
#include <cpuid.h>
#include <cstdint>

namespace slim::rt::cpu {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

/// cpuid(leaf, sub); zeros for a leaf the CPU does not have.
static inline Regs cpuid(unsigned leaf, unsigned sub = 0) {
  Regs r;
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) >= leaf)
    __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

/// The register state the OS saves (XCR0); 0 without OSXSAVE.
static inline uint64_t osState() {
  if (!(cpuid(1).c & (1u << 27)))
    return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

/// XCR0 bits: the YMM state (SSE, AVX) and the ZMM state (also opmask,
/// ZMM_Hi256, Hi16_ZMM).
constexpr uint64_t kYmmState = 0x6, kZmmState = 0xE6;

} // namespace slim::rt::cpu
#endif

#endif // RUNTIME_CPUID_H
