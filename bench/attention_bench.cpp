//===- attention_bench.cpp - the attention kernels at one shape ----------===//
//
// slim-attention-bench [B T H d [threads]]: self-attention of T tokens,
// H heads of dimension d, batch B (random normal q, k, v; no mask): the
// fp32 kernel and the int8 kernel on each path this CPU runs (VNNI, AMX),
// the best of 10 calls each, and how far each int8 output is from the
// fp32 one (max |d| / max |fp32|) and whether its bits equal the scalar
// path's (up to T = 256; past that the first vector path's).
//
//===----------------------------------------------------------------------===//

#include "bench/BestOf.h"
#include "runtime/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace slim::rt;

template <typename F> static double best(F &&f) { return bestOf(10, f); }

int main(int argc, char **argv) {
  int64_t B = 4, T = 1024, H = 4, d = 12;
  if (argc > 1)
    B = std::atoi(argv[1]);
  if (argc > 2)
    T = std::atoi(argv[2]);
  if (argc > 3)
    H = std::atoi(argv[3]);
  if (argc > 4)
    d = std::atoi(argv[4]);
  if (argc > 5)
    setThreadCount(std::atoi(argv[5]));
  AttentionShape s{B, T, T, H, H, d, d};
  std::mt19937 g(1);
  std::normal_distribution<float> n;
  std::vector<float> q(B * T * H * d), k(q.size()), v(q.size()),
      ref(q.size()), scalar(q.size()), o(q.size()), term(B * T, 0.0f);
  for (auto *x : {&q, &k, &v})
    for (float &e : *x)
      e = n(g);
  const float scale = 1.0f / std::sqrt(float(d));
  std::string error;
  double ms = best([&] {
    attention(q.data(), k.data(), v.data(), nullptr, nullptr, nullptr, s,
              false, scale, ref.data(), error);
  });
  std::printf("B=%lld T=%lld H=%lld d=%lld threads=%d\nfp32  %8.3f ms\n",
              (long long)B, (long long)T, (long long)H, (long long)d,
              threadCount(), ms);
  // The scalar path is the bit reference (slow: skipped past T = 256,
  // where the first vector path is the reference).
  bool haveRef = T <= 256;
  if (haveRef)
    attentionInt8(q.data(), k.data(), v.data(), term.data(), nullptr, s,
                  false, scale, scalar.data(), Int8AttentionPath::scalar);
  float mref = 0.0f;
  for (float x : ref)
    mref = std::max(mref, std::fabs(x));
  for (auto [path, name] : {std::pair{Int8AttentionPath::scalar, "scalar"},
                            std::pair{Int8AttentionPath::vnni, "vnni"},
                            std::pair{Int8AttentionPath::amx, "amx"}}) {
    if (path == Int8AttentionPath::scalar && !haveRef)
      continue;
    if (!attentionInt8(q.data(), k.data(), v.data(), term.data(), nullptr, s,
                       false, scale, o.data(), path))
      continue;
    if (!haveRef) {
      scalar = o;
      haveRef = true;
    }
    ms = best([&] {
      attentionInt8(q.data(), k.data(), v.data(), term.data(), nullptr, s,
                    false, scale, o.data(), path);
    });
    float err = 0.0f;
    for (size_t i = 0; i < o.size(); ++i)
      err = std::max(err, std::fabs(o[i] - ref[i]));
    std::printf("%-5s %8.3f ms  vs fp32 %.2e  bits %s the reference's\n",
                name, ms, err / mref,
                std::memcmp(o.data(), scalar.data(), o.size() * 4) == 0
                    ? "equal"
                    : "DIFFER from");
  }
}
