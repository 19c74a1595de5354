//===- conv_bench.cpp - the direct convolution and pooling kernels ------===//
//
// slim-conv-bench [threads]: the window kernels that do not run as a
// matrix product — depthwise convolutions (NCHW and NHWC), a grouped
// convolution, max and average pooling — at the shapes of the hybrid
// fixtures (MobileViT-style at 256², MobileNetV3 at 224²), batch 1, the
// best of 20 calls each, in GFLOP/s (a multiply-add is 2 FLOP; a pooled
// tap 1): the Halide kernel, and the C++ loop where the runtime has one
// for the shape (rt::conv2dLoops; rt::conv2d runs it there), with the
// largest difference of their outputs; and the int8 convolution
// (slim.conv2d int8: quantization of input and weights included) with its
// error against fp32 (max |d| / max |fp32|). Compare with `slim-peak`'s
// fp32 FMA figure of the same run.
//
//===----------------------------------------------------------------------===//

#include "bench/BestOf.h"
#include "runtime/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace slim::rt;

template <typename F> static double best(F &&f) { return bestOf(20, f); }

struct Case {
  const char *name;
  int64_t c, h, w, d, k, stride, groups;
  bool nhwc;
  int pool; // 0 conv, 1 max, 2 avg
};

int main(int argc, char **argv) {
  if (argc > 1)
    setThreadCount(std::atoi(argv[1]));
  const Case cases[] = {
      {"dw3x3 s1 NCHW 32x128x128", 32, 128, 128, 32, 3, 1, 32, false, 0},
      {"dw3x3 s2 NCHW 64x128x128", 64, 128, 128, 64, 3, 2, 64, false, 0},
      {"dw3x3 s1 NHWC 128x64x64", 128, 64, 64, 128, 3, 1, 128, true, 0},
      {"dw3x3 s2 NHWC 96x64x64", 96, 64, 64, 96, 3, 2, 96, true, 0},
      {"dw5x5 s1 NCHW 120x28x28", 120, 28, 28, 120, 5, 1, 120, false, 0},
      {"dw3x3 s1 NCHW 576x7x7", 576, 7, 7, 576, 3, 1, 576, false, 0},
      {"grouped 3x3 g4 NCHW 64x56x56", 64, 56, 56, 64, 3, 1, 4, false, 0},
      {"maxpool 3x3 s2 64x112x112", 64, 112, 112, 64, 3, 2, 64, false, 1},
      {"avgpool 2x2 s2 96x64x64", 96, 64, 64, 96, 2, 2, 96, false, 2},
  };
  std::mt19937 g(1);
  std::normal_distribution<float> n;
  std::printf("%-30s %10s %10s %9s %9s %9s %9s %9s\n", "kernel", "C++ ms",
              "Halide ms", "C++ GF/s", "Hal GF/s", "max|d|", "int8 ms",
              "int8 err");
  for (const Case &c : cases) {
    const int64_t pad = c.pool == 2 ? 0 : c.k / 2;
    const int64_t oh = (c.h + 2 * pad - c.k) / c.stride + 1;
    const int64_t ow = (c.w + 2 * pad - c.k) / c.stride + 1;
    WindowShape s{1, c.c, c.h, c.w, c.k, c.k, c.stride, c.stride, pad, pad,
                  1, 1, oh, ow};
    std::vector<float> x(c.c * c.h * c.w), w(c.d * (c.c / c.groups) * c.k *
                                             c.k),
        b(c.d), y1(c.d * oh * ow), y2(y1.size());
    for (auto *v : {&x, &w, &b})
      for (float &e : *v)
        e = n(g);
    std::string error;
    double a = 0, h;
    bool loops = false;
    if (c.pool) {
      const bool mx = c.pool == 1;
      h = best([&] {
        pool2d(mx, x.data(), s, pad, pad, false, y2.data(), error);
      });
    } else {
      loops = conv2dLoops(x.data(), w.data(), b.data(), s, c.d, c.groups,
                          y1.data(), c.nhwc);
      if (loops)
        a = best([&] {
          conv2dLoops(x.data(), w.data(), b.data(), s, c.d, c.groups,
                      y1.data(), c.nhwc);
        });
      h = best([&] {
        conv2dHalide(x.data(), w.data(), b.data(), s, c.d, c.groups,
                     y2.data(), c.nhwc, error);
      });
    }
    if (!error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    const double flop = double(c.d) * oh * ow * (c.c / c.groups) * c.k * c.k *
                        (c.pool ? 1 : 2);
    char q8[2][32] = {"-", "-"};
    if (!c.pool) {
      std::vector<float> yq(y2.size());
      const double ms = best([&] {
        conv2d(x.data(), w.data(), b.data(), s, c.d, c.groups, yq.data(),
               c.nhwc, error, LinearAct::None, /*int8=*/true);
      });
      double d = 0, m = 0;
      for (size_t i = 0; i < yq.size(); ++i) {
        d = std::max(d, double(std::abs(yq[i] - y2[i])));
        m = std::max(m, double(std::abs(y2[i])));
      }
      std::snprintf(q8[0], 32, "%.3f", ms);
      std::snprintf(q8[1], 32, "%.1e", d / m);
    }
    if (!loops) {
      std::printf("%-30s %10s %10.3f %9s %9.1f %9s %9s %9s\n", c.name, "-", h,
                  "-", flop / h / 1e6, "-", q8[0], q8[1]);
      continue;
    }
    float diff = 0;
    for (size_t i = 0; i < y1.size(); ++i)
      diff = std::max(diff, std::abs(y1[i] - y2[i]));
    std::printf("%-30s %10.3f %10.3f %9.1f %9.1f %9.2e %9s %9s\n", c.name, a,
                h, flop / a / 1e6, flop / h / 1e6, diff, q8[0], q8[1]);
  }
}
