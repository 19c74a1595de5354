//===- Multiversion.cpp - which kernels the x86-64 runtime runs -----------===//

#include "runtime/Multiversion.h"

#ifdef SLIM_DISPATCH_V4
#include <cpuid.h>

bool slim::rt::useX86V4() {
  static const bool v4 = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
      return false; // no OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) // the OS saves the ZMM and mask state
      return false;
    if (__get_cpuid_max(0, nullptr) < 7)
      return false;
    __cpuid_count(7, 0, a, b, c, d);
    // AVX-512 F, DQ, CD, BW, VL and VNNI: the x86-64-v4 build's -march.
    const unsigned ebx = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) |
                         (1u << 31);
    return (b & ebx) == ebx && (c & (1u << 11));
  }();
  return v4;
}
#endif
