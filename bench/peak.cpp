//===- peak.cpp - this machine's fp32 FMA and int8 VNNI throughput --------===//
//
// The peaks kernel efficiencies are reported against (`--peak-gflops` of
// the compiled binaries' --profile, bench/run.py): fp32 fused multiply-add
// and, where the CPU has AVX-512 VNNI, int8 dot products (vpdpbusd), each on
// 1 thread and on every core, as the median of 7 runs of ~0.2 s; and the
// streaming memory read bandwidth (the bound of memory-bound decode steps).
//
//   build/bin/slim-peak [--json]
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
#if defined(__AVX512VNNI__)
#include <immintrin.h>
#endif

namespace {

using F16 = float __attribute__((vector_size(64))); // 16 floats

/// 24 independent accumulator chains (enough to cover the FMA latency on
/// two pipes); returns a value so the work is not optimized away.
float fmaLoop(long iterations) {
  F16 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = F16{} + float(i);
  F16 a = F16{} + 1.0000001f, b = F16{} + 0.9999999f;
  for (long n = 0; n < iterations; ++n) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
      acc[i] = acc[i] * a + b;
    asm volatile("" : "+v"(a)); // keep a loop-variant
  }
  F16 sum = F16{};
  for (int i = 0; i < 24; ++i)
    sum += acc[i];
  return sum[0];
}
constexpr double kFlopsPerIteration = 24 * 16 * 2;

/// The same with 256-bit vectors and 12 chains (AVX2 has 16 registers):
/// the peak of code built for x86-64-v3 (slimc --target=x86-64-v3).
using F8 = float __attribute__((vector_size(32)));
float fmaLoop256(long iterations) {
  F8 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = F8{} + float(i);
  F8 a = F8{} + 1.0000001f, b = F8{} + 0.9999999f;
  for (long n = 0; n < iterations; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      acc[i] = acc[i] * a + b;
    asm volatile("" : "+v"(a));
  }
  F8 sum = F8{};
  for (int i = 0; i < 12; ++i)
    sum += acc[i];
  return sum[0];
}
constexpr double kFlopsPerIteration256 = 12 * 8 * 2;

#if defined(__AVX512VNNI__)
int vnniLoop(long iterations) {
  __m512i acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long n = 0; n < iterations; ++n) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    asm volatile("" : "+v"(a));
  }
  __m512i sum = _mm512_setzero_si512();
  for (int i = 0; i < 24; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return _mm512_reduce_add_epi32(sum);
}
// 64 u8×s8 products and their sums per instruction: 128 ops.
constexpr double kOpsPerVnniIteration = 24 * 64 * 2;
#endif

/// The median rate (units per ns, i.e. G/s) of `threads` threads each
/// doing `work(t)` (`perThread` units) at once, over `runs` runs after
/// `skip` untimed ones.
template <typename Work>
double medianRate(int threads, int runs, int skip, double perThread,
                  Work work) {
  std::vector<double> rates;
  for (int run = 0; run < skip + runs; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    std::vector<double> sink(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = double(work(t)); });
    for (auto &th : pool)
      th.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                   .count();
    if (run >= skip) // sink keeps the work from being optimized away
      rates.push_back(perThread * threads / s / 1e9 + 0.0 * sink[0]);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

/// Median over 7 runs of the rate (G ops/s) of `threads` copies of `loop`.
template <typename Loop>
double measure(Loop loop, double opsPerIteration, int threads) {
  const long iterations = 2000000;
  return medianRate(threads, 7, 0, opsPerIteration * iterations,
                    [&](int) { return loop(iterations); });
}

/// Streaming read bandwidth (GB/s) of `threads` threads, each summing its
/// own 256 MB buffer (far beyond the caches) with 8 vector accumulators:
/// the bound of memory-bound kernels such as a decode step's weight
/// stream. Median of 7 passes after one to fault the pages in.
double readBandwidth(int threads) {
  const size_t n = (256u << 20) / sizeof(float);
  std::vector<std::vector<F16>> bufs(threads,
                                     std::vector<F16>(n / 16, F16{} + 1.0f));
  return medianRate(threads, 7, 1, double(n) * sizeof(float), [&](int t) {
    const F16 *p = bufs[t].data();
    F16 acc[8] = {};
    for (size_t i = 0; i + 8 <= n / 16; i += 8)
      for (int j = 0; j < 8; ++j)
        acc[j] += p[i + j];
    F16 sum = F16{};
    for (int j = 0; j < 8; ++j)
      sum += acc[j];
    return sum[0];
  });
}

} // namespace

int main(int argc, char **argv) {
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  int cores = std::max(1u, std::thread::hardware_concurrency());
  double f1 = measure(fmaLoop, kFlopsPerIteration, 1);
  double fn = measure(fmaLoop, kFlopsPerIteration, cores);
  double a1 = measure(fmaLoop256, kFlopsPerIteration256, 1);
  double v1 = 0, vn = 0;
#if defined(__AVX512VNNI__)
  v1 = measure(vnniLoop, kOpsPerVnniIteration, 1);
  vn = measure(vnniLoop, kOpsPerVnniIteration, cores);
#endif
  double b1 = readBandwidth(1), bn = readBandwidth(cores);
  if (json) {
    std::printf("{\"cores\": %d, \"fp32_gflops_1\": %.1f, \"fp32_gflops_all\": "
                "%.1f, \"int8_vnni_gops_1\": %.1f, \"int8_vnni_gops_all\": %.1f, "
                "\"read_gbs_1\": %.1f, \"read_gbs_all\": %.1f, "
                "\"fp32_avx2_gflops_1\": %.1f}\n",
                cores, f1, fn, v1, vn, b1, bn, a1);
    return 0;
  }
  std::printf("fp32 FMA:   %7.1f GFLOP/s on 1 thread, %7.1f on %d\n", f1, fn,
              cores);
  std::printf("fp32 FMA, 256-bit (AVX2): %7.1f GFLOP/s on 1 thread\n", a1);
  if (v1 > 0)
    std::printf("int8 VNNI:  %7.1f GOP/s on 1 thread, %7.1f on %d\n", v1, vn,
                cores);
  else
    std::printf("int8 VNNI:  not available on this CPU\n");
  std::printf("memory read: %6.1f GB/s on 1 thread, %7.1f on %d\n", b1, bn,
              cores);
  return 0;
}
