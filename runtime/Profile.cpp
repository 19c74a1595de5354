//===- Profile.cpp - per-op profiling of compiled models ------------------===//

#include "runtime/Profile.h"
#include "runtime/ModelDesc.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace slim::rt {

namespace {

bool enabled = false;
std::vector<double> totalNs;
std::vector<long> calls;
std::chrono::steady_clock::time_point started;

} // namespace

void profileEnable(int numOps) {
  enabled = true;
  totalNs.assign(numOps, 0.0);
  calls.assign(numOps, 0);
}

void profilePrint(std::FILE *out, int runs, const char *const *names,
                  const int64_t *flops, int numOps, double peakGflops) {
  double all = 0;
  for (double t : totalNs)
    all += t;
  runs = std::max(runs, 1);
  std::vector<int> order(numOps);
  for (int i = 0; i < numOps; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [](int a, int b) { return totalNs[a] > totalNs[b]; });
  // "  123.4 GFLOP/s  98.1% of peak" for ops with known FLOPs.
  // f: the FLOPs done (each op's per-call FLOPs times its calls: a decode
  // step runs once per token).
  auto rate = [&](double f, double ns) {
    if (f <= 0 || ns <= 0)
      return std::string();
    double g = f / ns;
    char buf[64];
    if (peakGflops > 0)
      std::snprintf(buf, sizeof buf, "  %7.1f GFLOP/s %5.1f%% of peak", g,
                    100.0 * g / peakGflops);
    else
      std::snprintf(buf, sizeof buf, "  %7.1f GFLOP/s", g);
    return std::string(buf);
  };
  std::fprintf(out, "profile: %.3f ms per run over %d run(s)\n",
               all / runs / 1e6, runs);
  std::fprintf(out, "  %-9s %7s  %s\n", "ms/run", "%", "op");
  // Every op that ran, slowest first.
  for (int i = 0; i < numOps; ++i) {
    int k = order[i];
    if (totalNs[k] <= 0)
      continue;
    std::fprintf(out, "  %9.3f %6.1f%%  %s%s\n", totalNs[k] / runs / 1e6,
                 all > 0 ? 100.0 * totalNs[k] / all : 0.0, names[k],
                 rate(flops ? double(flops[k]) * double(calls[k]) : 0,
                      totalNs[k])
                     .c_str());
  }
  // Per kind: the op name up to the first space ("decode: slim.linear"
  // for the step functions' ops); kinds that did not run are left out.
  std::map<std::string, std::pair<double, double>> kinds; // ns, flops
  for (int i = 0; i < numOps; ++i) {
    if (totalNs[i] <= 0)
      continue;
    std::string n = names[i];
    size_t cut = n.find(' ');
    if (cut != std::string::npos && cut > 0 && n[cut - 1] == ':')
      cut = n.find(' ', cut + 1);
    auto &kind = kinds[n.substr(0, cut)];
    kind.first += totalNs[i];
    kind.second += flops ? double(flops[i]) * double(calls[i]) : 0;
  }
  std::vector<std::pair<std::string, std::pair<double, double>>> byKind(
      kinds.begin(), kinds.end());
  std::sort(byKind.begin(), byKind.end(), [](auto &a, auto &b) {
    return a.second.first > b.second.first;
  });
  std::fprintf(out, "per op kind:\n");
  for (auto &[kind, v] : byKind)
    std::fprintf(out, "  %9.3f %6.1f%%  %s%s\n", v.first / runs / 1e6,
                 all > 0 ? 100.0 * v.first / all : 0.0, kind.c_str(),
                 rate(v.second, v.first).c_str());
}

} // namespace slim::rt

extern "C" int32_t slim_prof_begin(int32_t) {
  if (slim::rt::enabled)
    slim::rt::started = std::chrono::steady_clock::now();
  return 0;
}

extern "C" int32_t slim_prof_end(int32_t op) {
  if (slim::rt::enabled && op >= 0 && op < int32_t(slim::rt::totalNs.size())) {
    slim::rt::totalNs[op] += std::chrono::duration<double, std::nano>(
                                 std::chrono::steady_clock::now() -
                                 slim::rt::started)
                                 .count();
    ++slim::rt::calls[op];
  }
  return 0;
}
