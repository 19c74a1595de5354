//===- NormKernelTest.cpp - the Halide norm kernels against a reference ---===//
//
// Compares slim_kernel_layer_norm / slim_kernel_rms_norm and the runtime's
// layerNorm / rmsNorm (AVX-512 rows where built for it) with a float64
// reference written from the formulas (tolerance: 1e-5 relative + 1e-6
// absolute), and checks that a bad call reports an error instead of
// aborting the process.
//
//===----------------------------------------------------------------------===//

#include "runtime/HalideErrors.h"
#include "runtime/Kernels.h"

#include "slim_kernel_layer_norm.h"
#include "slim_kernel_rms_norm.h"

#include "HalideBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

using Halide::Runtime::Buffer;

namespace {

struct Problem {
  int rows, d;
  Buffer<float, 2> x;
  Buffer<float, 1> g, b;
  Problem(int rows, int d) : rows(rows), d(d), x(d, rows), g(d), b(d) {
    std::mt19937 rng(42);
    std::normal_distribution<float> n(0.5f, 2.0f);
    x.for_each_value([&](float &v) { v = n(rng); });
    g.for_each_value([&](float &v) { v = n(rng); });
    b.for_each_value([&](float &v) { v = n(rng); });
  }
};

double reference(const Problem &p, int c, int r, bool rms, double eps) {
  double mean = 0, sq = 0;
  for (int k = 0; k < p.d; ++k)
    mean += p.x(k, r);
  mean = rms ? 0.0 : mean / p.d;
  for (int k = 0; k < p.d; ++k)
    sq += (p.x(k, r) - mean) * (p.x(k, r) - mean);
  return (p.x(c, r) - mean) / std::sqrt(sq / p.d + eps) * p.g(c) + p.b(c);
}

void checkAgainstReference(bool rms, int rows, int d) {
  Problem p(rows, d);
  Buffer<float, 2> y(d, rows);
  const float eps = 1e-5f;
  int rc = rms ? slim_kernel_rms_norm(p.x, p.g, p.b, eps, y)
               : slim_kernel_layer_norm(p.x, p.g, p.b, eps, y);
  ASSERT_EQ(rc, 0) << slim::rt::takeHalideError();
  double worst = 0;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < d; ++c) {
      double want = reference(p, c, r, rms, eps);
      double err = std::abs(y(c, r) - want) / (1e-6 + 1e-5 * std::abs(want));
      worst = std::max(worst, err);
    }
  EXPECT_LE(worst, 1.0) << (rms ? "rms_norm" : "layer_norm") << " " << rows
                        << "x" << d;
}

} // namespace

TEST(NormKernels, LayerNormMatchesReference) {
  slim::rt::installHalideErrorHandler();
  checkAgainstReference(false, 128, 768);
  checkAgainstReference(false, 3, 37); // tails in both dimensions
}

TEST(NormKernels, RmsNormMatchesReference) {
  slim::rt::installHalideErrorHandler();
  checkAgainstReference(true, 128, 768);
  checkAgainstReference(true, 5, 21);
}

TEST(NormKernels, RuntimeNormsMatchReferenceAtAnyThreadCount) {
  // slim::rt::layerNorm / rmsNorm (the AVX-512 rows of NormKernel.cpp on
  // this machine kind, else the Halide kernels): widths with and without a
  // tail of 16 and below one vector, without a bias, rows in runs sized by
  // the thread count.
  const int before = slim::rt::threadCount();
  for (int threads : {1, 2, 3})
    for (bool rms : {false, true})
      for (auto [rows, d] : {std::pair{197, 384}, {5, 37}, {3, 7}, {9, 80}})
        for (bool withBias : {true, false}) {
          slim::rt::setThreadCount(threads);
          Problem p(rows, d);
          if (!withBias)
            p.b.fill(0.0f);
          std::vector<float> y(size_t(rows) * d, NAN);
          std::string error;
          const float eps = 1e-5f;
          bool ok = rms ? slim::rt::rmsNorm(p.x.data(), rows, d, p.g.data(),
                                            withBias ? p.b.data() : nullptr,
                                            eps, y.data(), error)
                        : slim::rt::layerNorm(p.x.data(), rows, d, p.g.data(),
                                              withBias ? p.b.data() : nullptr,
                                              eps, y.data(), error);
          ASSERT_TRUE(ok) << error;
          for (int r = 0; r < rows; ++r)
            for (int c = 0; c < d; ++c) {
              double want = reference(p, c, r, rms, eps);
              ASSERT_LE(std::abs(y[size_t(r) * d + c] - want),
                        1e-6 + 1e-5 * std::abs(want))
                  << (rms ? "rms_norm " : "layer_norm ") << rows << "x" << d
                  << (withBias ? "" : " no bias") << " threads " << threads
                  << " at " << r << "," << c;
            }
        }
  slim::rt::setThreadCount(before);
}

TEST(NormKernels, BadCallReportsErrorInsteadOfAborting) {
  slim::rt::installHalideErrorHandler();
  Problem p(4, 64);
  Buffer<float, 1> shortScale(32);
  Buffer<float, 2> y(64, 4);
  int rc = slim_kernel_layer_norm(p.x, shortScale, p.b, 1e-5f, y);
  EXPECT_NE(rc, 0);
  std::string msg = slim::rt::takeHalideError();
  EXPECT_NE(msg.find("scale"), std::string::npos) << msg;
  EXPECT_TRUE(slim::rt::takeHalideError().empty());
}
