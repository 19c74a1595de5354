//===- Multiversion.cpp - which kernels the x86-64 runtime runs -----------===//

#include "runtime/Multiversion.h"

#ifdef SLIM_DISPATCH_V4
#include "runtime/Cpuid.h"

bool slim::rt::useX86V4() {
  static const bool v4 = [] {
    // The OS saves the ZMM and mask state; AVX-512 F, DQ, CD, BW, VL and
    // VNNI: the x86-64-v4 build's -march.
    const cpu::Regs r = cpu::cpuid(7);
    const unsigned ebx = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) |
                         (1u << 31);
    return (cpu::osState() & cpu::kZmmState) == cpu::kZmmState &&
           (r.b & ebx) == ebx && (r.c & (1u << 11));
  }();
  return v4;
}
#endif
