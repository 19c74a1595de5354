//===- Profile.h - per-op profiling of compiled models ----------*- C++ -*-===//

#ifndef RUNTIME_PROFILE_H
#define RUNTIME_PROFILE_H

#include <cstdint>
#include <cstdio>

namespace slim::rt {

/// Starts recording the time of every op (off by default).
void profileEnable(int numOps);
/// Prints a table of time per op and per op kind, slowest first, with the
/// GFLOP/s of ops whose FLOPs are known (`flops` may be null) and, given
/// the machine's peak (> 0), their percentage of it.
void profilePrint(std::FILE *out, int runs, const char *const *names,
                  const int64_t *flops, int numOps, double peakGflops = 0);

} // namespace slim::rt

#endif // RUNTIME_PROFILE_H
