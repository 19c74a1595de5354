//===- Profile.h - per-op profiling of compiled models ----------*- C++ -*-===//

#ifndef RUNTIME_PROFILE_H
#define RUNTIME_PROFILE_H

#include <cstdio>

namespace slim::rt {

/// Starts recording the time of every op (off by default).
void profileEnable(int numOps);
/// Prints a table of time per op and per op kind, slowest first.
void profilePrint(std::FILE *out, int runs, const char *const *names,
                  int numOps);

} // namespace slim::rt

#endif // RUNTIME_PROFILE_H
