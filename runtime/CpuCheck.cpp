//===- CpuCheck.cpp - does this CPU have what the binary was built for? ---===//
//
// Compiled for the baseline x86-64 (no -march): it must run on any CPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuCheck.h"
#include "runtime/Cpuid.h"

#include <cstdint>
#include <cstring>

namespace {

#if defined(__x86_64__)
using slim::rt::cpu::kYmmState;
using slim::rt::cpu::kZmmState;

struct Feature {
  const char *name;
  int leaf, sub;     // cpuid leaf and subleaf
  char reg;          // 'b', 'c' or 'd' (or 'a')
  int bit;
  uint64_t osState;  // XCR0 bits the OS must enable
};

constexpr Feature kFeatures[] = {
    {"pni", 1, 0, 'c', 0, 0},
    {"ssse3", 1, 0, 'c', 9, 0},
    {"sse4_1", 1, 0, 'c', 19, 0},
    {"sse4_2", 1, 0, 'c', 20, 0},
    {"popcnt", 1, 0, 'c', 23, 0},
    {"avx", 1, 0, 'c', 28, kYmmState},
    {"fma", 1, 0, 'c', 12, kYmmState},
    {"f16c", 1, 0, 'c', 29, kYmmState},
    {"movbe", 1, 0, 'c', 22, 0},
    {"avx2", 7, 0, 'b', 5, kYmmState},
    {"bmi1", 7, 0, 'b', 3, 0},
    {"bmi2", 7, 0, 'b', 8, 0},
    {"abm", int(0x80000001u), 0, 'c', 5, 0},
    {"avx512f", 7, 0, 'b', 16, kZmmState},
    {"avx512dq", 7, 0, 'b', 17, kZmmState},
    {"avx512ifma", 7, 0, 'b', 21, kZmmState},
    {"avx512cd", 7, 0, 'b', 28, kZmmState},
    {"avx512bw", 7, 0, 'b', 30, kZmmState},
    {"avx512vl", 7, 0, 'b', 31, kZmmState},
    {"avx512vbmi", 7, 0, 'c', 1, kZmmState},
    {"avx512_vbmi2", 7, 0, 'c', 6, kZmmState},
    {"gfni", 7, 0, 'c', 8, 0},
    {"vaes", 7, 0, 'c', 9, 0},
    {"vpclmulqdq", 7, 0, 'c', 10, 0},
    {"avx512_vnni", 7, 0, 'c', 11, kZmmState},
    {"avx512_bitalg", 7, 0, 'c', 12, kZmmState},
    {"avx512_vpopcntdq", 7, 0, 'c', 14, kZmmState},
    {"avx512_fp16", 7, 0, 'd', 23, kZmmState},
    {"avx_vnni", 7, 1, 'a', 4, kYmmState},
    {"avx512_bf16", 7, 1, 'a', 5, kZmmState},
};

bool has(const Feature &f, uint64_t os) {
  const slim::rt::cpu::Regs r =
      slim::rt::cpu::cpuid(unsigned(f.leaf), unsigned(f.sub));
  unsigned v = f.reg == 'a' ? r.a : f.reg == 'b' ? r.b : f.reg == 'c' ? r.c : r.d;
  return (v >> f.bit & 1u) && (os & f.osState) == f.osState;
}
#endif

/// Appends `s` to out[0 … size) (always terminated).
[[maybe_unused]] void append(char *out, size_t size, const char *s) {
  size_t n = std::strlen(out), m = std::strlen(s);
  if (n + 1 >= size)
    return;
  if (m > size - n - 1)
    m = size - n - 1;
  std::memcpy(out + n, s, m);
  out[n + m] = '\0';
}

} // namespace

int slim::rt::missingCpuFeatures(char *out, size_t size) {
  if (size)
    out[0] = '\0';
  int missing = 0;
#if defined(__x86_64__)
  const uint64_t os = slim::rt::cpu::osState();
  // Each name of the recorded list, in turn.
  const char *p = slim_runtime_features;
  while (*p) {
    while (*p == ' ')
      ++p;
    const char *end = p;
    while (*end && *end != ' ')
      ++end;
    if (end == p)
      break;
    char name[32] = {0};
    std::memcpy(name, p, size_t(end - p) < sizeof name - 1 ? size_t(end - p)
                                                          : sizeof name - 1);
    bool ok = false, known = false;
    for (const Feature &f : kFeatures)
      if (!std::strcmp(f.name, name)) {
        known = true;
        ok = has(f, os);
      }
    // A name this table lacks cannot be checked: it counts as missing, so
    // that a name added to TargetFeatures.cpp alone fails every test.
    if (!known || !ok) {
      append(out, size, missing ? ", " : "");
      append(out, size, name);
      ++missing;
    }
    p = end;
  }
#endif
  return missing;
}
