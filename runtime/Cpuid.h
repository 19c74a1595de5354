//===- Cpuid.h - cpuid and the OS's saved register state -------*- C++ -*-===//
//
// For the code that decides what this CPU runs: CpuCheck.cpp (the start-up
// check, compiled for the baseline), Multiversion.cpp (the x86-64 target's
// choice of the v4 kernels), QKernels.cpp and QAttention.cpp (AMX). The functions are
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
#include <cstdlib>
#include <cstring>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <immintrin.h>

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

/// Whether this CPU and OS run AMX-INT8 (cpuid, and Linux's permission to
/// use the tile data state, asked once per translation unit). SLIM_AMX=0
/// turns it off (to compare with the VNNI kernels).
static inline bool useAmx() {
  static const bool amx = [] {
    const char *env = std::getenv("SLIM_AMX");
    if (env && std::strcmp(env, "0") == 0)
      return false;
#if defined(__linux__)
    const unsigned d = cpuid(7).d;
    if (!(d & (1u << 24)) || !(d & (1u << 25))) // AMX-TILE, AMX-INT8
      return false;
    constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
#else
    return false;
#endif
  }();
  return amx;
}

/// Whether this CPU and OS run AVX-VNNI (256-bit vpdpbusd without
/// AVX-512: Intel's cores from Alder Lake on, AMD's from Zen 5 on).
/// SLIM_AVX_VNNI=0 turns it off (to compare with the vpmaddubsw kernel).
static inline bool hasAvxVnni() {
  static const bool vnni = [] {
    const char *env = std::getenv("SLIM_AVX_VNNI");
    if (env && std::strcmp(env, "0") == 0)
      return false;
    return (cpuid(7, 1).a >> 4 & 1u) && (osState() & kYmmState) == kYmmState;
  }();
  return vnni;
}

/// ldtilecfg's operand.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

/// The AMX kernels' shared rule: between kernel calls a thread's tiles
/// are configured as eight tiles of 16 rows × 64 bytes (QKernels.cpp's
/// blockAmx loads it once per thread and relies on it); a kernel that
/// needs other shapes (QAttention.cpp) loads its own and puts this one
/// back before it returns.
__attribute__((target("amx-tile"))) static inline void loadStandardTiles() {
  TileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);
}

} // namespace slim::rt::cpu
#endif

#endif // RUNTIME_CPUID_H
