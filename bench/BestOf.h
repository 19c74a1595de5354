//===- BestOf.h - the benchmarks' timer ------------------------*- C++ -*-===//
//
// The shortest of `calls` calls of f, in milliseconds (the kernels'
// benchmarks report the best call: the least disturbed by other work).
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_BENCH_BESTOF_H
#define SLIM_BENCH_BESTOF_H

#include <algorithm>
#include <chrono>

template <typename F> double bestOf(int calls, F &&f) {
  double ms = 1e30;
  for (int r = 0; r < calls; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms = std::min(ms, std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t0)
                          .count());
  }
  return ms;
}

#endif // SLIM_BENCH_BESTOF_H
