//===- qlinear_bench.cpp - decode-shaped linear throughput by format ------===//
//
// One-row (T = 1, a decode step) linear layers of GPT-2-small's shapes
// ([2304, 768], [768, 768], [3072, 768], [768, 3072]), 12 layers of each
// (GPT-2-small: ≈ 340 MB in fp32), in fp32 (the packed Halide kernel), int8 (W8A8, VNNI) and int4
// (Q4_0 in groups of 32 and 128; weight-only, and with --rows ≥ 8 also
// W4A8: activations as int8). Prints, per format, the
// median over 9 passes of ms per pass, weights per second and the bytes
// streamed per second.
//
//   build/bin/slim-qlinear-bench [--threads N] [--rows R] [--layers L]
//                                [--shape OUT,IN] [--fp32-only]
//   build/bin/slim-qlinear-bench-x86-64-v3 …  (the x86-64-v3 runtime)
//
// --rows R (default 1) times R rows instead (R = 128: prefill-shaped).
// --shape OUT,IN times that one shape instead of the four (IN a multiple
// of 128; e.g. 50257,768: GPT-2-small's head).
// --fp32-only times only the fp32 linear.
// --layers L (default 12, GPT-2-small) sets how many layers' weights
// stream: this machine's L3 is 260 MiB, so GPT-2-small's int8 (85 MB) and
// int4 (53 MB) projections stay cached between passes; 96 layers (int4
// 425 MB, int8 680 MB) stream from DRAM as a large model's would.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include "HalideRuntime.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

using namespace slim::rt;

namespace {

struct LinearShape {
  int64_t out, in;
};
std::vector<LinearShape> kShapes = {
    {2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
int kLayers = 12;

/// Weights in 2 MB pages, as the runtime holds a model's weights
/// (Model.cpp, hugePageMemory): with 4 KB pages the streaming kernels
/// would also time TLB misses the compiled models do not have.
template <typename T> struct HugePages {
  using value_type = T;
  HugePages() = default;
  template <typename U> HugePages(const HugePages<U> &) {}
  T *allocate(size_t n) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = (n * sizeof(T) + kHuge - 1) / kHuge * kHuge;
    void *p = std::aligned_alloc(kHuge, bytes);
    if (!p)
      throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);
    return static_cast<T *>(p);
  }
  void deallocate(T *p, size_t) { std::free(p); }
  template <typename U> bool operator==(const HugePages<U> &) const {
    return true;
  }
  template <typename U> bool operator!=(const HugePages<U> &) const {
    return false;
  }
};
template <typename T> using Weights = std::vector<T, HugePages<T>>;

template <typename F> double medianMs(F pass) {
  pass(); // warm-up
  std::vector<double> ms;
  for (int r = 0; r < 9; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    pass();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1, rows = 1;
  bool fp32Only = false;
  for (int i = 1; i < argc; ++i)
    fp32Only |= std::strcmp(argv[i], "--fp32-only") == 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0)
      threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rows") == 0)
      rows = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--layers") == 0)
      kLayers = std::max(1, std::atoi(argv[i + 1]));
    long long o = 0, n = 0;
    if (std::strcmp(argv[i], "--shape") == 0 &&
        std::sscanf(argv[i + 1], "%lld,%lld", &o, &n) == 2 && o > 0 &&
        n > 0 && n % 128 == 0)
      kShapes = {{o, n}};
    else if (std::strcmp(argv[i], "--shape") == 0) {
      std::fprintf(stderr, "--shape wants OUT,IN with IN a multiple of 128\n");
      return 2;
    }
  }
  setThreadCount(threads);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  int64_t weights = 0;
  std::vector<Weights<float>> wf; // packed fp32
  std::vector<Weights<uint8_t>> w8, w4, w4b;
  std::vector<std::vector<float>> s8;
  std::vector<LinearShape> shapes;
  for (int l = 0; l < kLayers; ++l)
    for (const LinearShape &s : kShapes) {
      std::vector<float> w(s.out * s.in);
      for (float &v : w)
        v = dist(rng);
      shapes.push_back(s);
      weights += s.out * s.in;
      wf.emplace_back(packedLinearSize(s.out, s.in));
      packLinearWeight(w.data(), s.out, s.in, wf.back().data());
      if (fp32Only)
        continue;
      std::vector<int8_t> q(w.size());
      std::vector<float> sc(s.out);
      for (int64_t o = 0; o < s.out; ++o) {
        float m = 1e-5f;
        for (int64_t i = 0; i < s.in; ++i)
          m = std::max(m, std::fabs(w[o * s.in + i]));
        sc[o] = m / 127.0f;
        for (int64_t i = 0; i < s.in; ++i)
          q[o * s.in + i] = int8_t(std::nearbyint(w[o * s.in + i] / sc[o]));
      }
      w8.emplace_back(packedQLinearBytes(s.out, s.in));
      packQLinearWeight(q.data(), s.out, s.in, w8.back().data());
      s8.push_back(sc);
      for (int64_t group : {32, 128}) {
        std::vector<uint8_t> q4(w.size());
        std::vector<float> d(s.out * (s.in / group));
        quantizeQ4(w.data(), s.out, s.in, group, true, q4.data(), d.data(),
                   nullptr);
        auto &dst = group == 32 ? w4 : w4b;
        dst.emplace_back(packedQ4Bytes(s.out, s.in, group, d.data(), nullptr));
        packQ4Weight(q4.data(), d.data(), nullptr, s.out, s.in, group,
                     dst.back().data());
      }
    }
  int64_t widest = 0;
  for (const LinearShape &s : kShapes)
    widest = std::max({widest, s.in, s.out});
  std::vector<float> x(size_t(rows * widest)), y(size_t(rows * widest));
  for (float &v : x)
    v = dist(rng) * 50;
  std::string error;
  auto report = [&](const char *name, double ms, double bytes) {
    std::printf("%-20s %8.2f ms  %7.2f G multiply-adds/s  %6.2f GB/s\n",
                name, ms, double(weights) * rows / ms / 1e6, bytes / ms / 1e6);
  };
  auto total = [](const auto &v) {
    double b = 0;
    for (const auto &e : v)
      b += double(e.size()) * sizeof(e[0]);
    return b;
  };
  std::printf("%d layers x %zu shape(s) (first [%lld, %lld]), %d row(s), "
              "%d thread(s)\n",
              kLayers, kShapes.size(), (long long)kShapes[0].out,
              (long long)kShapes[0].in, rows, threads);
  report("fp32", medianMs([&] {
           for (size_t i = 0; i < shapes.size(); ++i)
             linear(x.data(), rows, shapes[i].in, wf[i].data(), nullptr,
                    shapes[i].out, y.data(), error);
         }),
         total(wf));
  if (fp32Only)
    return 0;
  report("int8 (W8A8)", medianMs([&] {
           for (size_t i = 0; i < shapes.size(); ++i)
             qlinear(x.data(), rows, shapes[i].in, w8[i].data(), s8[i].data(),
                     nullptr, shapes[i].out, y.data());
         }),
         total(w8) + total(s8));
  for (bool int8Acts : {false, true}) {
    for (int64_t group : {32, 128}) {
      std::string name = std::string(group == 32 ? "int4 Q4_0 g32" : "int4 Q4_0 g128") +
                         (int8Acts ? " W4A8" : "");
      report(name.c_str(), medianMs([&] {
               auto &w = group == 32 ? w4 : w4b;
               for (size_t i = 0; i < shapes.size(); ++i)
                 q4linear(x.data(), rows, shapes[i].in, w[i].data(), group,
                          nullptr, shapes[i].out, y.data(), error,
                          LinearAct::None, int8Acts);
             }),
             total(group == 32 ? w4 : w4b));
    }
  }
  return 0;
}
