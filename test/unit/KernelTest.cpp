//===- KernelTest.cpp - attention, activations, softmax vs float64 ---------===//
//
// The runtime's Halide-backed kernels (rt::attention, rt::unary for the
// GELU forms and SiLU, rt::softmax over the last axis, the flat add,
// SiLU·mul and the embedding gather) against float64
// references written from the formulas. Tolerance: 2e-6 absolute + 2e-5
// relative per element (fast_exp and Halide's erf are exact to a few
// float ulp; the rest is float rounding of sums of ≤ 200 terms).
//
// (Over 800 lines: one float64 reference per kernel, each next to its
// cases.)
//
//===----------------------------------------------------------------------===//

#include "runtime/Half.h"
#include "runtime/Kernels.h"

#include "HalideRuntime.h"

#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>
#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace slim::rt;

namespace {

std::vector<float> randomVector(size_t n, unsigned seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// A random int8 weight [out, in] (uniform in [−127, 127] from `rng`),
/// packed for qlinear.
std::vector<uint8_t> randomPackedQLinear(int64_t out, int64_t in,
                                         std::mt19937 &rng) {
  std::uniform_int_distribution<int> wd(-127, 127);
  std::vector<int8_t> w(out * in);
  for (auto &v : w)
    v = int8_t(wd(rng));
  std::vector<uint8_t> packed(packedQLinearBytes(out, in));
  packQLinearWeight(w.data(), out, in, packed.data());
  return packed;
}

void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 const char *what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::abs(got[i] - want[i]), 2e-6 + 2e-5 * std::abs(want[i]))
        << what << " element " << i << ": got " << got[i] << ", want "
        << want[i];
}

std::vector<double> attentionReference(const std::vector<float> &q,
                                       const std::vector<float> &k,
                                       const std::vector<float> &v,
                                       const float *sizes,
                                       const AttentionShape &s, bool causal,
                                       double scale,
                                       const float *keyBias = nullptr,
                                       const float *bias = nullptr) {
  std::vector<double> out(s.batch * s.queries * s.heads * s.valueDim);
  int64_t group = s.heads / s.kvHeads;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t t = 0; t < s.queries; ++t) {
        int64_t kh = h / group;
        std::vector<double> logit(s.keys, -INFINITY);
        double mx = -INFINITY;
        for (int64_t j = 0; j < s.keys; ++j) {
          if (causal && j > t + (s.keys - s.queries))
            continue;
          double dot = 0;
          for (int64_t e = 0; e < s.headDim; ++e)
            dot += double(q[((b * s.queries + t) * s.heads + h) * s.headDim + e]) *
                   k[((b * s.keys + j) * s.kvHeads + kh) * s.headDim + e];
          logit[j] = dot * scale + (sizes ? std::log(double(sizes[b * s.keys + j])) : 0.0) +
                     (keyBias ? double(keyBias[b * s.keys + j]) : 0.0) +
                     (bias ? double(bias[(((b % s.biasGroups) * s.heads + h) *
                                              s.queries + t) * s.keys + j])
                           : 0.0);
          mx = std::max(mx, logit[j]);
        }
        double total = 0;
        for (double &l : logit)
          total += (l = std::exp(l - mx));
        for (int64_t e = 0; e < s.valueDim; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < s.keys; ++j)
            acc += logit[j] * v[((b * s.keys + j) * s.kvHeads + kh) * s.valueDim + e];
          out[((b * s.queries + t) * s.heads + h) * s.valueDim + e] = acc / total;
        }
      }
  return out;
}

struct AttentionCase {
  AttentionShape shape;
  bool causal, sizes;
  // A key bias: 0 none; the last keys of batch row b (b + 1 of them, at
  // most S - 1) padded with 1 float's lowest value (Hugging Face's
  // finfo.min), 2 -inf (PyTorch's bool masks); 3 a graded bias.
  int keyBias = 0;
  // A [G, H, T, S] bias (G = shape.biasGroups > 0): relative-position
  // values with Swin's -100 window masks on some (window, query, key).
  bool bias = false;
};

class AttentionTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(AttentionTest, MatchesFloat64Reference) {
  const AttentionCase &c = GetParam();
  const AttentionShape &s = c.shape;
  auto q = randomVector(s.batch * s.queries * s.heads * s.headDim, 1);
  auto k = randomVector(s.batch * s.keys * s.kvHeads * s.headDim, 2);
  auto v = randomVector(s.batch * s.keys * s.kvHeads * s.valueDim, 3);
  std::vector<float> sizes(s.batch * s.keys);
  for (size_t j = 0; j < sizes.size(); ++j)
    sizes[j] = float(1 + j % 4);
  const float *sz = c.sizes ? sizes.data() : nullptr;
  std::vector<float> bias(s.batch * s.keys, 0.0f);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t j = 0; j < s.keys; ++j) {
      bool pad = j >= s.keys - std::min(b + 1, s.keys - 1);
      bias[b * s.keys + j] = c.keyBias == 1 && pad ? -3.4028234663852886e38f
                             : c.keyBias == 2 && pad ? -INFINITY
                             : c.keyBias == 3        ? -0.25f * float(j % 5)
                                                     : 0.0f;
    }
  const float *kb = c.keyBias ? bias.data() : nullptr;
  std::vector<float> full;
  if (c.bias) {
    full = randomVector(s.biasGroups * s.heads * s.queries * s.keys, 4);
    for (size_t e = 0; e < full.size(); ++e)
      if ((e / s.keys) % s.biasGroups != 0 && (e * 7) % 3 == 0)
        full[e] = -100.0f;
  }
  const float *fb = c.bias ? full.data() : nullptr;
  float scale = 1.0f / std::sqrt(float(s.headDim));
  const std::vector<double> want =
      attentionReference(q, k, v, sz, s, c.causal, scale, kb, fb);
  // The kernel splits heads into runs of query tiles by the thread count.
  const int before = threadCount();
  for (int threads : {1, 2, 5}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    setThreadCount(threads);
    std::vector<float> out(s.batch * s.queries * s.heads * s.valueDim, NAN);
    std::string error;
    ASSERT_TRUE(attention(q.data(), k.data(), v.data(), sz, kb, fb, s, c.causal,
                          scale, out.data(), error))
        << error;
    expectClose(out, want, "attention");
  }
  setThreadCount(before);
}

// The int8 attention (slim.attention int8) on the same cases: every path
// this build and CPU run (scalar C++, VNNI, AMX) gives the same bits, as
// does rt::attention(…, int8); and the result stays near the float64
// reference — a loose bound (6% of the largest output: the 8-bit
// probabilities of flat rows cost up to a few percent, see
// runtime/QAttention.cpp) that catches a wrong layout or scale, not the
// quantization error (OneHotAndUniformAreExact pins that down).
TEST_P(AttentionTest, Int8PathsGiveTheSameBitsNearFloat64) {
  const AttentionCase &c = GetParam();
  const AttentionShape &s = c.shape;
  auto q = randomVector(s.batch * s.queries * s.heads * s.headDim, 1);
  auto k = randomVector(s.batch * s.keys * s.kvHeads * s.headDim, 2);
  auto v = randomVector(s.batch * s.keys * s.kvHeads * s.valueDim, 3);
  std::vector<float> sizes(s.batch * s.keys), keyBias(s.batch * s.keys, 0.0f),
      term(s.batch * s.keys);
  for (size_t j = 0; j < sizes.size(); ++j)
    sizes[j] = float(1 + j % 4);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t j = 0; j < s.keys; ++j)
      if (c.keyBias && j >= s.keys - std::min(b + 1, s.keys - 1))
        keyBias[b * s.keys + j] = c.keyBias == 2 ? -INFINITY : -1e30f;
  for (size_t j = 0; j < term.size(); ++j)
    term[j] = (c.sizes ? std::log(sizes[j]) : 0.0f) + keyBias[j];
  const float *sz = c.sizes ? sizes.data() : nullptr;
  const float *kb = c.keyBias ? keyBias.data() : nullptr;
  std::vector<float> full;
  if (c.bias)
    full = randomVector(s.biasGroups * s.heads * s.queries * s.keys, 4);
  const float *fb = c.bias ? full.data() : nullptr;
  const float scale = 1.0f / std::sqrt(float(s.headDim));
  const size_t n = s.batch * s.queries * s.heads * s.valueDim;
  std::vector<float> ref(n, NAN), got(n, NAN);
  std::string error;
  ASSERT_TRUE(attention(q.data(), k.data(), v.data(), sz, kb, fb, s, c.causal,
                        scale, ref.data(), error, /*int8=*/true))
      << error;
  int paths = 0;
  for (auto path : {Int8AttentionPath::scalar, Int8AttentionPath::vnni,
                    Int8AttentionPath::amx}) {
    std::fill(got.begin(), got.end(), NAN);
    if (!attentionInt8(q.data(), k.data(), v.data(), term.data(), fb, s,
                       c.causal, scale, got.data(), path))
      continue;
    ++paths;
    EXPECT_EQ(std::memcmp(got.data(), ref.data(), n * 4), 0)
        << "path " << int(path) << " differs from rt::attention's int8";
  }
  EXPECT_GE(paths, 1);
  const std::vector<double> want =
      attentionReference(q, k, v, sz, s, c.causal, scale, kb, fb);
  double top = 0, worst = 0;
  for (size_t i = 0; i < n; ++i) {
    top = std::max(top, std::abs(want[i]));
    worst = std::max(worst, std::abs(double(ref[i]) - want[i]));
  }
  EXPECT_LE(worst, 0.06 * top);
}

// Exact cases of the int8 attention: a zero query sees every key alike
// (p̂ = 255 each), so the output is the mean of the dequantized values,
// v̂·sv with sv = max|v[:, c]|/127 per column; a query that matches one
// key far better than the rest (logit gap 25: 255·e^-25 rounds to 0)
// gets that key's v̂·sv exactly — for each key in turn, so a key whose
// probability met another key's values (the kPos order) fails.
TEST(AttentionInt8, OneHotAndUniformAreExact) {
  const int64_t S = 150, d = 16, dv = 20;
  AttentionShape s{1, 1, S, 1, 1, d, dv};
  auto v = randomVector(S * dv, 7);
  std::vector<double> sv(dv, 0.0), mean(dv, 0.0);
  for (int64_t c = 0; c < dv; ++c) {
    for (int64_t j = 0; j < S; ++j)
      sv[c] = std::max(sv[c], double(std::abs(v[j * dv + c])));
    sv[c] = float(sv[c]) / 127.0f;
  }
  auto vhat = [&](int64_t j, int64_t c) {
    return std::nearbyint(v[j * dv + c] / sv[c]);
  };
  for (int64_t c = 0; c < dv; ++c) {
    for (int64_t j = 0; j < S; ++j)
      mean[c] += vhat(j, c) * sv[c];
    mean[c] /= double(S);
  }
  std::vector<float> q(d, 0.0f), k(S * d), term(S, 0.0f), out(dv);
  for (int64_t j = 0; j < S; ++j)
    for (int64_t e = 0; e < d; ++e)
      k[j * d + e] = float((j * 7 + e * 3) % 11) - 5.0f;
  for (auto path : {Int8AttentionPath::scalar, Int8AttentionPath::vnni,
                    Int8AttentionPath::amx}) {
    if (!attentionInt8(q.data(), k.data(), v.data(), term.data(), nullptr, s,
                       false, 1.0f, out.data(), path))
      continue;
    for (int64_t c = 0; c < dv; ++c)
      EXPECT_NEAR(out[c], mean[c], 1e-6) << "uniform, column " << c;
    // One-hot: key j* = 100·e0, every other key 0, q = e0: logits 25
    // (scale 1/4) against 0.
    std::vector<float> q1(d, 0.0f), k1(S * d, 0.0f);
    q1[0] = 1.0f;
    for (int64_t hot : {int64_t(0), int64_t(1), int64_t(5), int64_t(17),
                        int64_t(63), int64_t(64), int64_t(100), S - 1}) {
      std::fill(k1.begin(), k1.end(), 0.0f);
      k1[hot * d] = 100.0f;
      ASSERT_TRUE(attentionInt8(q1.data(), k1.data(), v.data(), term.data(),
                                nullptr, s, false, 0.25f, out.data(), path));
      for (int64_t c = 0; c < dv; ++c)
        EXPECT_NEAR(out[c], vhat(hot, c) * sv[c], 1e-6)
            << "one-hot key " << hot << ", column " << c << ", path "
            << int(path);
    }
  }
}

// {batch, queries, keys, heads, kvHeads, headDim, valueDim}: DeiT-like
// (T=197, not a multiple of the 8-row tile), causal GPT-like, GQA, T < 8
// (the one-row schedule), decode (T=1 against a longer key sequence),
// head dims that are not a vector multiple, token sizes (log-size bias),
// a value width of 48 (a block of 32 value columns, then one of 16) with
// keys ending in a block of 16 (S = 45: 32 + 16 scores, the last 3 keys
// past a whole 16 copied one by one).
INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttentionCase{{1, 197, 197, 3, 3, 64, 64}, false, false},
                      AttentionCase{{1, 37, 37, 2, 2, 32, 32}, true, false},
                      AttentionCase{{2, 16, 16, 4, 2, 16, 16}, true, false},
                      AttentionCase{{1, 5, 5, 2, 1, 8, 8}, false, true},
                      AttentionCase{{1, 1, 40, 2, 2, 24, 24}, true, false},
                      AttentionCase{{2, 23, 23, 3, 3, 20, 12}, false, true},
                      AttentionCase{{1, 12, 20, 2, 2, 16, 16}, true, true},
                      AttentionCase{{1, 45, 45, 2, 2, 48, 48}, false, true},
                      // Key biases: padding masks at batch 2 and 3.
                      AttentionCase{{2, 13, 13, 4, 4, 8, 8}, false, false, 1},
                      AttentionCase{{3, 37, 37, 2, 2, 16, 16}, false, false, 2},
                      AttentionCase{{2, 9, 9, 2, 1, 32, 32}, true, false, 1},
                      AttentionCase{{2, 45, 45, 2, 2, 48, 48}, false, true, 3},
                      // Full biases: one for all rows (relative positions;
                      // value width 8 takes the Halide kernel, 16 the
                      // AVX-512 one), one per window of 4 (windows as the
                      // batch), with a key bias and causal too.
                      AttentionCase{{2, 16, 16, 2, 2, 8, 8, 1}, false, false, 0, true},
                      AttentionCase{{2, 16, 16, 2, 2, 16, 16, 1}, false, false, 0, true},
                      AttentionCase{{8, 16, 16, 3, 3, 8, 8, 4}, false, false, 0, true},
                      AttentionCase{{8, 49, 49, 3, 3, 32, 32, 4}, false, false, 0, true},
                      AttentionCase{{4, 12, 12, 2, 2, 16, 16, 2}, true, true, 1, true}));

// kvAttention, step by step: a prompt of 5 tokens (the tiled kernel), then
// single tokens and a pair (the few-query loops, their heads split between
// the threads), each against the float64 reference over the whole sequence
// so far; GQA (4 heads over 2) and a value width unlike the key width
// (widths that leave tails after 16- and 8-lane vectors, and the widths
// with register paths). The cache rows
// the steps wrote are the keys and values given (float16: those rounded by
// floatToHalf, which the reference then reads), and a write past the
// capacity is refused.
struct KvCase {
  bool f16;
  int64_t d, dv;
};
class KvAttention : public ::testing::TestWithParam<KvCase> {};

TEST_P(KvAttention, StepsMatchFloat64ReferenceOverTheWholeSequence) {
  const auto [f16, d, dv] = GetParam();
  const int64_t H = 4, Hkv = 2, capacity = 12, total = 10;
  auto q = randomVector(total * H * d, 11);
  auto k = randomVector(total * Hkv * d, 12);
  auto v = randomVector(total * Hkv * dv, 13);
  // What the cache holds: k and v, or their float16 roundings.
  auto stored = [&](std::vector<float> x) {
    if (f16)
      for (float &e : x)
        e = halfToFloat(floatToHalf(e));
    return x;
  };
  const std::vector<float> kc = stored(k), vc = stored(v);
  const int64_t slotElems = capacity * Hkv * (d + dv);
  std::vector<float> slot32(f16 ? 0 : slotElems, NAN);
  std::vector<uint16_t> slot16(f16 ? slotElems : 0, 0x7e00); // NaN
  void *slot = f16 ? static_cast<void *>(slot16.data()) : slot32.data();
  auto cached = [&](int64_t i) {
    return f16 ? halfToFloat(slot16[i]) : slot32[i];
  };
  float scale = 1.0f / std::sqrt(float(d));
  std::string error;
  int64_t p = 0;
  for (int64_t tokens : {5, 1, 1, 2, 1}) {
    std::vector<int64_t> pos(tokens);
    for (int64_t t = 0; t < tokens; ++t)
      pos[t] = p + t;
    std::vector<float> out(tokens * H * dv, NAN);
    ASSERT_TRUE(kvAttention(q.data() + p * H * d, k.data() + p * Hkv * d,
                            v.data() + p * Hkv * dv, pos.data(), tokens, H,
                            Hkv, d, dv, capacity, slot, f16, scale,
                            out.data(), error))
        << error;
    // The reference: all p + tokens keys, the last `tokens` queries.
    std::vector<float> qs(q.begin() + p * H * d,
                          q.begin() + (p + tokens) * H * d);
    std::vector<float> ks(kc.begin(), kc.begin() + (p + tokens) * Hkv * d);
    std::vector<float> vs(vc.begin(), vc.begin() + (p + tokens) * Hkv * dv);
    expectClose(out,
                attentionReference(qs, ks, vs, nullptr,
                                   {1, tokens, p + tokens, H, Hkv, d, dv},
                                   true, scale),
                "kv_attention");
    p += tokens;
  }
  for (int64_t i = 0; i < total * Hkv * d; ++i)
    ASSERT_EQ(cached(i), kc[i]) << "cached key " << i;
  for (int64_t i = 0; i < total * Hkv * dv; ++i)
    ASSERT_EQ(cached(capacity * Hkv * d + i), vc[i]) << "cached value " << i;
  std::vector<int64_t> pos = {11, 12};
  std::vector<float> out(2 * H * dv);
  EXPECT_FALSE(kvAttention(q.data(), k.data(), v.data(), pos.data(), 2, H, Hkv,
                           d, dv, capacity, slot, f16, scale, out.data(),
                           error));
  EXPECT_EQ(error, "the KV cache holds 12 positions; positions 11 to 12 do "
                   "not fit");
}

INSTANTIATE_TEST_SUITE_P(Caches, KvAttention,
                         ::testing::Values(KvCase{false, 24, 8},
                                           KvCase{true, 24, 8},
                                           KvCase{true, 64, 40},
                                           // The register paths (widths
                                           // 32, 64, 128 with AVX-512).
                                           KvCase{false, 64, 64},
                                           KvCase{true, 64, 64},
                                           KvCase{true, 32, 128}));

// The scalar float16 conversions (Half.h) against the CPU's own
// (vcvtps2ph / vcvtph2ps, where it has F16C): every half back to float,
// and floats around every rounding boundary — ties, the largest half,
// overflow, subnormals.
#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t hardwareHalf(float x) {
  return _cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
__attribute__((target("f16c"))) float hardwareFloat(uint16_t h) {
  return _cvtsh_ss(h);
}
bool haveF16c() { return __builtin_cpu_supports("f16c"); }
#else
uint16_t hardwareHalf(float) { return 0; }
float hardwareFloat(uint16_t) { return 0; }
bool haveF16c() { return false; }
#endif

TEST(Half, ScalarConversionsMatchTheHardware) {
  const bool hw = haveF16c();
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = halfToFloat(uint16_t(h));
    if (std::isnan(f)) {
      EXPECT_EQ(h & 0x7c00u, 0x7c00u);
      continue;
    }
    EXPECT_EQ(floatToHalf(f), h) << "round trip of half " << h;
    if (hw)
      EXPECT_EQ(hardwareFloat(uint16_t(h)), f) << "half " << h;
  }
  // Ties by construction: halfway between neighbouring halves.
  EXPECT_EQ(floatToHalf(1.0f + 1.0f / 2048), 0x3c00u);     // to even: down
  EXPECT_EQ(floatToHalf(1.0f + 3.0f / 2048), 0x3c02u);     // to even: up
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00u);               // to inf
  EXPECT_EQ(floatToHalf(65519.99f), 0x7bffu);              // 65504
  EXPECT_EQ(floatToHalf(2.9802322e-8f), 0x0000u);          // 2^−25: to 0
  EXPECT_EQ(floatToHalf(8.9406967e-8f), 0x0002u);          // 1.5 · 2^−24
  if (!hw)
    return;
  std::mt19937 rng(5);
  std::vector<float> xs = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f,
                           -65520.0f, 1e-8f, 6.1e-5f, 1e30f, -INFINITY};
  for (int i = 0; i < 200000; ++i) {
    // Random floats across the half range and just beyond it: exponents
    // 2^−27 … 2^17, any mantissa (low bits too: the rounding reads them).
    uint32_t bits = (rng() & 0x807fffffu) | ((100u + rng() % 45u) << 23);
    float f;
    std::memcpy(&f, &bits, 4);
    xs.push_back(f);
  }
  for (float x : xs)
    EXPECT_EQ(floatToHalf(x), hardwareHalf(x)) << "float " << x;
}

double geluErf(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double geluTanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
double silu(double x) { return x / (1 + std::exp(-x)); }

TEST(ActivationKernels, MatchFloat64Reference) {
  // Wide range incl. large magnitudes (exp clamping), a tail that is not a
  // vector multiple, and exact zeros.
  auto x = randomVector(70001, 7, 4.0f);
  x[0] = 0.0f;
  x[1] = 90.0f;
  x[2] = -90.0f;
  x[3] = 1e-8f;
  struct {
    Unary op;
    double (*ref)(double);
    const char *name;
  } cases[] = {{Unary::GeluExact, geluErf, "gelu_erf"},
               {Unary::GeluTanh, geluTanh, "gelu_tanh"},
               {Unary::Silu, silu, "silu"}};
  for (auto &c : cases) {
    std::vector<float> y(x.size(), NAN);
    unary(c.op, x.data(), int64_t(x.size()), y.data());
    std::vector<double> want(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = c.ref(x[i]);
    expectClose(y, want, c.name);
  }
}

TEST(AttentionReceivedKernel, MatchesFloat64Reference) {
  // GQA (6 heads over 2 kv heads), token counts that are not tile or
  // vector multiples (19: the last 8-query tile overlaps the one before,
  // whose rows must not count twice) and fewer queries than a tile, with
  // and without log-size bias, at thread counts that split heads
  // differently; the result is a probability average, so it sums to 1 per
  // batch item.
  const int before = threadCount();
  for (auto [T, S] : {std::pair<int64_t, int64_t>{19, 19}, {5, 7}})
  for (int threads : {1, 2, 5}) {
  SCOPED_TRACE("T " + std::to_string(T) + " threads " + std::to_string(threads));
  setThreadCount(threads);
  const int64_t B = 2, H = 6, Hkv = 2, dh = 8;
  auto q = randomVector(B * T * H * dh, 21), k = randomVector(B * S * Hkv * dh, 22);
  std::vector<float> sizes(B * S);
  for (size_t j = 0; j < sizes.size(); ++j)
    sizes[j] = float(1 + j % 4);
  const float scale = 0.35f;
  for (bool withSizes : {false, true}) {
    std::vector<float> got(B * S, NAN);
    std::string error;
    ASSERT_TRUE(attentionReceived(q.data(), k.data(),
                                  withSizes ? sizes.data() : nullptr,
                                  {B, T, S, H, Hkv, dh, dh}, scale, got.data(),
                                  error))
        << error;
    std::vector<double> want(B * S, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < T; ++t) {
          std::vector<double> logit(S);
          double mx = -INFINITY, sum = 0.0;
          for (int64_t j = 0; j < S; ++j) {
            double dot = 0.0;
            for (int64_t e = 0; e < dh; ++e)
              dot += double(q[((b * T + t) * H + h) * dh + e]) *
                     k[((b * S + j) * Hkv + h / (H / Hkv)) * dh + e];
            logit[j] = dot * scale +
                       (withSizes ? std::log(double(sizes[b * S + j])) : 0.0);
            mx = std::max(mx, logit[j]);
          }
          for (int64_t j = 0; j < S; ++j)
            sum += std::exp(logit[j] - mx);
          for (int64_t j = 0; j < S; ++j)
            want[b * S + j] += std::exp(logit[j] - mx) / sum / double(H * T);
        }
    expectClose(got, want, withSizes ? "received (sizes)" : "received");
    for (int64_t b = 0; b < B; ++b) {
      double total = 0.0;
      for (int64_t j = 0; j < S; ++j)
        total += got[b * S + j];
      EXPECT_NEAR(total, 1.0, 1e-5);
    }
  }
  }
  setThreadCount(before);
}

TEST(ElementwiseKernels, AddAndSiluMulMatchFloat64Reference) {
  auto a = randomVector(70001, 11, 4.0f), b = randomVector(70001, 12);
  a[1] = 90.0f;
  a[2] = -90.0f;
  std::vector<float> y(a.size(), NAN);
  std::vector<double> want(a.size());
  addFlat(a.data(), b.data(), int64_t(a.size()), y.data());
  for (size_t i = 0; i < a.size(); ++i)
    want[i] = double(a[i]) + double(b[i]);
  expectClose(y, want, "add");
  std::fill(y.begin(), y.end(), NAN);
  siluMul(a.data(), b.data(), int64_t(a.size()), y.data());
  for (size_t i = 0; i < a.size(); ++i)
    want[i] = silu(a[i]) * double(b[i]);
  expectClose(y, want, "silu_mul");
}

TEST(EmbeddingKernel, GathersRowsAndRefusesIdsOutsideTheVocabulary) {
  const int64_t vocab = 37, d = 21; // d not a vector multiple
  auto table = randomVector(vocab * d, 13);
  std::vector<int64_t> ids = {0, 36, 5, 5, 17, 1, 36, 0, 2, 30,
                              11, 12, 13, 14, 15, 16, 3}; // 17: a tail
  std::vector<float> y(ids.size() * d, NAN);
  std::string error;
  ASSERT_TRUE(embedding(table.data(), vocab, d, ids.data(),
                        int64_t(ids.size()), y.data(), error))
      << error;
  for (size_t n = 0; n < ids.size(); ++n)
    for (int64_t c = 0; c < d; ++c)
      ASSERT_EQ(y[n * d + c], table[ids[n] * d + c]) << "id " << n;
  ids[9] = vocab;
  std::fill(y.begin(), y.end(), NAN);
  EXPECT_FALSE(embedding(table.data(), vocab, d, ids.data(),
                         int64_t(ids.size()), y.data(), error));
  EXPECT_EQ(error, "embedding index 37 at position 9 is outside the "
                   "vocabulary [0, 37)");
  EXPECT_TRUE(std::isnan(y[0])) << "nothing is written before the check";
}

TEST(SoftmaxKernel, LastAxisMatchesFloat64Reference) {
  for (int64_t d : {1, 7, 197, 1000}) {
    int64_t rows = 13;
    auto x = randomVector(rows * d, 11, 5.0f);
    x[0] = 80.0f; // large logits must not overflow
    std::vector<float> y(x.size(), NAN);
    softmax(x.data(), {rows, d}, 1, y.data());
    std::vector<double> want(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mx = -INFINITY, total = 0;
      for (int64_t c = 0; c < d; ++c)
        mx = std::max(mx, double(x[r * d + c]));
      for (int64_t c = 0; c < d; ++c)
        total += std::exp(x[r * d + c] - mx);
      for (int64_t c = 0; c < d; ++c)
        want[r * d + c] = std::exp(x[r * d + c] - mx) / total;
    }
    expectClose(y, want, "softmax");
  }
}

TEST(CrmsNormKernel, MatchesRmsNormOfTheFullZeroMeanVector) {
  // y = x / sqrt((Σx² + (Σx)²)/d + eps) over rows of d−1; equivalently the
  // RMSNorm of z = [x, −Σx] restricted to its first d−1 coordinates.
  for (int64_t width : {1, 15, 63, 767}) {
    int64_t rows = 9, d = width + 1;
    auto x = randomVector(rows * width, 31, 3.0f);
    std::vector<float> y(x.size(), NAN);
    std::string error;
    ASSERT_TRUE(crmsNorm(x.data(), rows, width, 1e-5f, y.data(), error)) << error;
    std::vector<double> want(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double total = 0, sq = 0;
      for (int64_t c = 0; c < width; ++c) {
        total += x[r * width + c];
        sq += double(x[r * width + c]) * x[r * width + c];
      }
      double last = -total; // z's d-th coordinate
      double inv = 1.0 / std::sqrt((sq + last * last) / double(d) + 1e-5);
      for (int64_t c = 0; c < width; ++c)
        want[r * width + c] = x[r * width + c] * inv;
    }
    expectClose(y, want, "crms_norm");
  }
}

TEST(LinearKernel, PackedLayoutsMatchFloat64Reference) {
  // Widths below the 48-wide tile (Wᵀ layout), multiples of it, and a width
  // with a partial last tile (the shifted tile); rows below and above the
  // 8-row block and not a multiple of it; reductions that are and are not
  // multiples of the 128-long chunk; with and without bias.
  struct Case {
    int64_t rows, in, out;
    bool bias;
  } cases[] = {{1, 16, 10, true},     {5, 64, 48, false},
               {9, 128, 96, true},     {13, 256, 100, true},
               {128, 200, 147, false}, {3, 384, 1001, true},
               {77, 32, 96, true},     {130, 64, 200, true},
               // The AVX2 kernel's rows in packed chunks of 360 (3 chunks
               // at 1 thread, the last of 1 row) and its runs of 256
               // inputs (2).
               {721, 300, 96, true}};
  for (const Case &c : cases) {
    auto x = randomVector(c.rows * c.in, 51);
    auto w = randomVector(c.out * c.in, 52);
    auto b = randomVector(c.out, 53);
    std::vector<float> wt(packedLinearSize(c.out, c.in), NAN);
    packLinearWeight(w.data(), c.out, c.in, wt.data());
    std::vector<double> want(c.rows * c.out);
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t o = 0; o < c.out; ++o) {
        double acc = c.bias ? b[o] : 0.0;
        for (int64_t k = 0; k < c.in; ++k)
          acc += double(x[r * c.in + k]) * w[o * c.in + k];
        want[r * c.out + o] = acc;
      }
    // Tasks take runs of tiles, sized by the thread count, or, when there
    // are few tiles (147 and 96 wide) or many rows (128 and 130 at 2
    // threads, 130 at 3), runs of rows with every tile.
    const int before = threadCount();
    for (int threads : {1, 2, 3}) {
      setThreadCount(threads);
      std::vector<float> y(c.rows * c.out, NAN);
      std::string error;
      ASSERT_TRUE(linear(x.data(), c.rows, c.in, wt.data(),
                         c.bias ? b.data() : nullptr, c.out, y.data(), error))
          << error;
      // Sums of up to 384 products of N(0,1) values: float rounding ~1e-5.
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], want[i], 1e-4 + 1e-5 * std::abs(want[i]))
            << "rows " << c.rows << " in " << c.in << " out " << c.out
            << " threads " << threads << " element " << i;
    }
    setThreadCount(before);
  }
}

TEST(LinearKernel, ActivationThenResidualMatchFloat64Reference) {
  // y = act(x·W + b) [+ residual]: in the AVX-512 kernel's epilogue (48
  // wide and more, incl. the shifted last tile of 147), as second passes
  // below the tile (10 wide); a few rows (one block of 5) and 19 (8 + 8 +
  // 3); with and without the residual; the AVX2 kernel's epilogue after
  // its second run of inputs (300).
  struct Case {
    int64_t rows, in, out;
  } cases[] = {{5, 40, 10}, {19, 72, 96}, {19, 64, 147}, {19, 300, 96}};
  struct {
    LinearAct act;
    double (*ref)(double);
    const char *name;
  } acts[] = {{LinearAct::None, [](double v) { return v; }, "none"},
              {LinearAct::GeluExact, geluErf, "gelu_erf"},
              {LinearAct::GeluTanh, geluTanh, "gelu_tanh"},
              {LinearAct::Silu, silu, "silu"}};
  for (const Case &c : cases) {
    auto x = randomVector(c.rows * c.in, 54);
    auto w = randomVector(c.out * c.in, 55, 0.3f);
    auto b = randomVector(c.out, 56);
    auto res = randomVector(c.rows * c.out, 57, 5.0f);
    std::vector<float> wt(packedLinearSize(c.out, c.in), NAN);
    packLinearWeight(w.data(), c.out, c.in, wt.data());
    for (auto &a : acts)
      for (bool withResidual : {true, false}) {
        std::vector<double> want(c.rows * c.out);
        for (int64_t r = 0; r < c.rows; ++r)
          for (int64_t o = 0; o < c.out; ++o) {
            double acc = b[o];
            for (int64_t k = 0; k < c.in; ++k)
              acc += double(x[r * c.in + k]) * w[o * c.in + k];
            want[r * c.out + o] =
                a.ref(acc) + (withResidual ? res[r * c.out + o] : 0.0);
          }
        std::vector<float> y(c.rows * c.out, NAN);
        std::string error;
        ASSERT_TRUE(linear(x.data(), c.rows, c.in, wt.data(), b.data(), c.out,
                           y.data(), error, a.act,
                           withResidual ? res.data() : nullptr))
            << error;
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], want[i], 2e-5 + 1e-5 * std::abs(want[i]))
              << a.name << (withResidual ? " + residual" : "") << " out "
              << c.out << " element " << i;
      }
  }
}

TEST(QLinearKernel, ResidualIsAddedAfterTheActivation) {
  // qlinear(..., residual) = qlinear(...) + residual, bit for bit (the
  // same float add, in the epilogue instead of a second pass); 330
  // outputs end in a masked part of a tile.
  const int64_t rows = 11, in = 48, out = 330;
  std::mt19937 rng(31);
  const std::vector<uint8_t> packed = randomPackedQLinear(out, in, rng);
  auto x = randomVector(rows * in, 64, 2.0f);
  auto ws = randomVector(out, 65, 0.01f);
  auto b = randomVector(out, 66);
  auto res = randomVector(rows * out, 67, 4.0f);
  std::vector<float> plain(rows * out), fused(rows * out, NAN);
  qlinear(x.data(), rows, in, packed.data(), ws.data(), b.data(), out,
          plain.data(), LinearAct::GeluTanh);
  qlinear(x.data(), rows, in, packed.data(), ws.data(), b.data(), out,
          fused.data(), LinearAct::GeluTanh, 0.0f, res.data());
  for (size_t i = 0; i < plain.size(); ++i)
    ASSERT_EQ(fused[i], plain[i] + res[i]) << "element " << i;
}

TEST(QLinearKernel, Int8SumsAreBitExactAndOutputsMatchTheFormula) {
  // Shapes: rows below/above the 8-row block, inputs not a multiple of 4,
  // outputs not a multiple of the 48-wide tile; 7 tiles in runs of
  // several per task; 100 rows split between the threads (2 and 3:
  // runs of 50 and of 34, 34, 32 rows). Where the CPU has AMX-INT8,
  // blocks of 16 rows with inputs a multiple of 64 take the tile kernel
  // (the last three cases: 16 rows exactly, 2 blocks + 8 rows with a
  // partial last tile, blocks of each thread's run of 50 rows).
  struct Case {
    int64_t rows, in, out;
  } cases[] = {{1, 7, 5},      {4, 64, 64},     {6, 130, 100},
               {9, 768, 200}, {17, 96, 330},   {100, 96, 150},
               {16, 64, 48},  {40, 128, 100}, {100, 192, 150}};
  std::mt19937 rng(5);
  for (const Case &c : cases) {
    std::vector<int8_t> w(c.out * c.in);
    std::uniform_int_distribution<int> wd(-127, 127);
    for (auto &v : w)
      v = int8_t(wd(rng));
    auto x = randomVector(c.rows * c.in, 61, 2.0f);
    std::vector<uint8_t> packed(packedQLinearBytes(c.out, c.in));
    packQLinearWeight(w.data(), c.out, c.in, packed.data());
    int64_t kp = (c.in + 3) / 4 * 4;
    std::vector<uint8_t> xq(c.rows * kp);
    std::vector<float> xs(c.rows);
    quantizeRows(x.data(), c.rows, c.in, xq.data(), xs.data());
    std::vector<int32_t> acc(c.rows * c.out);
    // Every thread count gives the same integers (tasks take runs of tiles
    // sized by it).
    const int before = threadCount();
    for (int threads : {3, 1, 2}) {
      std::vector<int32_t> sums(c.rows * c.out, -1);
      setThreadCount(threads);
      qgemmInt32(xq.data(), c.rows, c.in, packed.data(), c.out, sums.data());
      if (threads != 3)
        ASSERT_EQ(sums, acc) << "threads " << threads;
      acc = sums;
    }
    setThreadCount(before);
    for (int64_t r = 0; r < c.rows; ++r) {
      // Quantization: |x − q·s| ≤ s/2 and |q| ≤ 127.
      for (int64_t k = 0; k < c.in; ++k) {
        int q = int(xq[r * kp + k]) - 128;
        ASSERT_LE(std::abs(q), 127);
        ASSERT_LE(std::abs(x[r * c.in + k] - q * xs[r]), xs[r] * 0.5f * 1.0001f);
        // … exactly round-to-nearest-even of x · (1/s), in every loop.
        ASSERT_EQ(q, int(std::nearbyint(x[r * c.in + k] * (1.0f / xs[r]))))
            << "row " << r << " input " << k;
      }
      for (int64_t k = c.in; k < kp; ++k) // padding: q = 0
        ASSERT_EQ(xq[r * kp + k], 128) << "row " << r << " padding " << k;
      for (int64_t o = 0; o < c.out; ++o) {
        int64_t want = 0; // the plain integer reference
        for (int64_t k = 0; k < c.in; ++k)
          want += int64_t(int(xq[r * kp + k]) - 128) * w[o * c.in + k];
        ASSERT_EQ(acc[r * c.out + o], want)
            << "rows " << c.rows << " in " << c.in << " out " << c.out;
      }
    }
    // The float epilogue: y = acc · s_row · s_o + b.
    std::vector<float> ws(c.out, 0.01f), b(c.out, 0.5f), y(c.rows * c.out);
    qlinear(x.data(), c.rows, c.in, packed.data(), ws.data(), b.data(), c.out,
            y.data());
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t o = 0; o < c.out; ++o) {
        double want = double(acc[r * c.out + o]) * xs[r] * 0.01 + 0.5;
        ASSERT_NEAR(y[r * c.out + o], want, 1e-5 * std::abs(want) + 1e-6);
      }
  }
}

TEST(QLinearKernel, FusedActivationsMatchFloat64Reference) {
  // The int8 epilogue applies the activation in registers (VecMath.h on
  // AVX-512 hosts, a separate pass elsewhere): act(y) against the double
  // reference of the same y without it. Biases span the activations'
  // range (and ±90, ±1e4: the clamps) while the products stay small; 330
  // outputs end in a masked part of a tile; 11 rows leave a block of 3.
  const int64_t rows = 11, in = 40, out = 330;
  std::mt19937 rng(9);
  const std::vector<uint8_t> packed = randomPackedQLinear(out, in, rng);
  auto x = randomVector(rows * in, 62, 2.0f);
  std::vector<float> ws(out, 1e-5f), b(out);
  for (int64_t o = 0; o < out; ++o)
    b[o] = -12.0f + 24.0f * float(o) / float(out - 1);
  b[0] = 90.0f, b[1] = -90.0f, b[2] = 1e4f, b[3] = -1e4f, b[4] = 0.0f;
  std::vector<float> plain(rows * out);
  qlinear(x.data(), rows, in, packed.data(), ws.data(), b.data(), out,
          plain.data());
  struct {
    LinearAct act;
    double (*ref)(double);
    const char *name;
  } cases[] = {{LinearAct::GeluExact, geluErf, "gelu_erf"},
               {LinearAct::GeluTanh, geluTanh, "gelu_tanh"},
               {LinearAct::Silu, silu, "silu"}};
  for (auto &c : cases) {
    std::vector<float> y(rows * out, NAN);
    qlinear(x.data(), rows, in, packed.data(), ws.data(), b.data(), out,
            y.data(), c.act);
    std::vector<double> want(y.size());
    for (size_t i = 0; i < y.size(); ++i)
      want[i] = c.ref(plain[i]);
    expectClose(y, want, c.name);
  }
}

TEST(QLinearKernel, SharedInputGivesEachLinearsOwnOutput) {
  // qlinearShared (query, key and value of one input) = three qlinear
  // calls, bit for bit: other output counts (one of them not a whole
  // tile), activations and biases, at 1, 2 and 3 threads (one parallel
  // loop over all their tiles; with 99 rows, at 2 and 3 threads, one task
  // per run of rows doing all three).
  for (const int64_t rows : {13, 99}) {
    const int64_t in = 72;
    const int64_t outs[3] = {64, 40, 96};
    const LinearAct acts[3] = {LinearAct::None, LinearAct::GeluExact,
                               LinearAct::Silu};
    std::mt19937 rng(21);
    auto x = randomVector(rows * in, 63, 3.0f);
    std::vector<std::vector<uint8_t>> packed(3);
    std::vector<std::vector<float>> scales(3), biases(3), want(3);
    for (int p = 0; p < 3; ++p) {
      packed[p] = randomPackedQLinear(outs[p], in, rng);
      scales[p] = randomVector(outs[p], 70 + p, 0.01f);
      biases[p] = randomVector(outs[p], 80 + p, 1.0f);
      want[p].resize(rows * outs[p]);
      qlinear(x.data(), rows, in, packed[p].data(), scales[p].data(),
              biases[p].data(), outs[p], want[p].data(), acts[p]);
    }
    const int before = threadCount();
    for (int threads : {1, 2, 3}) {
      setThreadCount(threads);
      std::vector<std::vector<float>> got(3);
      QLinearPart parts[3];
      for (int p = 0; p < 3; ++p) {
        got[p].assign(rows * outs[p], NAN);
        parts[p] = {packed[p].data(), scales[p].data(), biases[p].data(),
                    outs[p], acts[p], got[p].data()};
      }
      qlinearShared(x.data(), rows, in, 0.0f, parts, 3);
      for (int p = 0; p < 3; ++p)
        ASSERT_EQ(got[p], want[p])
            << "linear " << p << ", rows " << rows << ", threads " << threads;
    }
    setThreadCount(before);
  }
}

TEST(QLinearKernel, NormBeforeQuantizationIsTheNormThenTheLinear) {
  // qlinearShared with a RowNorm = layerNorm / rmsNorm into a tensor, then
  // qlinearShared of it, bit for bit: LayerNorm with a bias and RMSNorm
  // without, a width that is not a multiple of 16 (the norm's masked tail
  // and the quantization's scalar tail), 99 rows at 1–3 threads (row runs
  // of every thread count, split rows at 2 and 3).
  const int64_t rows = 99, in = 72;
  const int64_t outs[2] = {64, 40};
  std::mt19937 rng(31);
  auto x = randomVector(rows * in, 64, 3.0f);
  auto g = randomVector(in, 65, 1.0f), beta = randomVector(in, 66, 0.5f);
  std::vector<std::vector<uint8_t>> packed(2);
  std::vector<std::vector<float>> scales(2), biases(2);
  for (int p = 0; p < 2; ++p) {
    packed[p] = randomPackedQLinear(outs[p], in, rng);
    scales[p] = randomVector(outs[p], 90 + p, 0.01f);
    biases[p] = randomVector(outs[p], 95 + p, 1.0f);
  }
  const int before = threadCount();
  for (bool rms : {false, true}) {
    const float *bias = rms ? nullptr : beta.data();
    for (float staticScale : {0.0f, 0.05f})
      for (int threads : {1, 2, 3}) {
        setThreadCount(threads);
        std::vector<float> normed(rows * in);
        std::string error;
        ASSERT_TRUE((rms ? rmsNorm : layerNorm)(x.data(), rows, in, g.data(),
                                                bias, 1e-5f, normed.data(),
                                                error))
            << error;
        std::vector<std::vector<float>> want(2), got(2);
        QLinearPart wantParts[2], gotParts[2];
        for (int p = 0; p < 2; ++p) {
          want[p].assign(rows * outs[p], NAN);
          got[p].assign(rows * outs[p], NAN);
          wantParts[p] = {packed[p].data(), scales[p].data(),
                          biases[p].data(), outs[p], LinearAct::None,
                          want[p].data()};
          gotParts[p] = wantParts[p];
          gotParts[p].y = got[p].data();
        }
        qlinearShared(normed.data(), rows, in, staticScale, wantParts, 2);
        const RowNorm norm{rms, g.data(), bias, 1e-5f};
        qlinearShared(x.data(), rows, in, staticScale, gotParts, 2, &norm);
        for (int p = 0; p < 2; ++p)
          ASSERT_EQ(got[p], want[p])
              << (rms ? "rms_norm" : "layer_norm") << ", static scale "
              << staticScale << ", linear " << p << ", threads " << threads;
      }
  }
  setThreadCount(before);
}

TEST(QLinearKernel, StaticScaleClampsToTheInt8Range) {
  // With a calibrated scale, values past ±127·s (and infinities) clamp to
  // ±127; within range q = round(x / s). 101 inputs: the 64-wide loop,
  // the 16-wide one twice and the scalar tail (infinities in each part).
  const int64_t n = 101;
  std::vector<float> x(n);
  for (int64_t k = 0; k < n; ++k)
    x[k] = -9.0f + 0.173f * float(k);
  x[3] = 1e9f, x[30] = -1e9f, x[50] = INFINITY, x[70] = -INFINITY,
  x[99] = INFINITY, x[100] = -INFINITY;
  std::vector<uint8_t> xq(104);
  float s = 0.0f;
  quantizeRows(x.data(), 1, n, xq.data(), &s, 0.02f);
  EXPECT_EQ(s, 0.02f);
  for (int64_t k = 0; k < n; ++k) {
    const float want = std::min(127.0f, std::max(-127.0f, std::nearbyint(x[k] * (1.0f / 0.02f))));
    EXPECT_EQ(int(xq[k]) - 128, int(want)) << "input " << k << " = " << x[k];
  }
  for (int64_t k = n; k < 104; ++k)
    EXPECT_EQ(xq[k], 128); // padding: the zero point
}

TEST(TokenMerge, DuplicateTokenWithProportionalAttentionChangesNoOtherOutput) {
  // PASSES.md §2.4: token 5 is an exact copy of token 2 (an A/B pair), so
  // ToMe merges exactly that pair into one token of size 2. Attention over
  // the merged tokens with log-size bias gives every other query the output
  // it had over the full sequence.
  const int64_t T = 9, d = 8;
  auto x = randomVector(T * d, 41);
  std::copy(x.begin() + 2 * d, x.begin() + 3 * d, x.begin() + 5 * d);
  std::vector<float> ones(T, 1.0f), y((T - 1) * d), sizes(T - 1);
  MergeOptions merge;
  merge.r = 1;
  merge.protectedTokens = 1;
  tokenMerge(x.data(), x.data(), ones.data(), 1, T, d, d, merge, y.data(),
             sizes.data());
  float total = 0;
  for (float s : sizes)
    total += s;
  EXPECT_EQ(total, float(T)) << "sizes must add up to T";
  // Token 2 (A) merged into token 5 (B): the output is CLS, A = {4, 6, 8}
  // (index order), then B = {1, 3, 5, 7}; token 5 has size 2.
  const int64_t order[] = {0, 4, 6, 8, 1, 3, 5, 7};
  for (int64_t k = 0; k < T - 1; ++k) {
    EXPECT_EQ(sizes[k], order[k] == 5 ? 2.0f : 1.0f) << "row " << k;
    for (int64_t e = 0; e < d; ++e)
      EXPECT_EQ(y[k * d + e], x[order[k] * d + e]) << "row " << k;
  }
  AttentionShape full{1, T, T, 2, 2, d / 2, d / 2};
  AttentionShape merged{1, T - 1, T - 1, 2, 2, d / 2, d / 2};
  std::vector<float> outFull(T * d), outMerged((T - 1) * d);
  std::string error;
  ASSERT_TRUE(attention(x.data(), x.data(), x.data(), nullptr, nullptr, nullptr, full, false,
                        0.5f, outFull.data(), error));
  ASSERT_TRUE(attention(y.data(), y.data(), y.data(), sizes.data(), nullptr, nullptr, merged,
                        false, 0.5f, outMerged.data(), error));
  for (int64_t k = 0; k < T - 1; ++k)
    for (int64_t e = 0; e < d; ++e)
      EXPECT_NEAR(outMerged[k * d + e], outFull[order[k] * d + e], 1e-5)
          << "query " << order[k];
  // Without the log-size bias the duplicate's weight is lost: O(1) error.
  ASSERT_TRUE(attention(y.data(), y.data(), y.data(), nullptr, nullptr, nullptr, merged, false,
                        0.5f, outMerged.data(), error));
  double worst = 0;
  for (int64_t k = 0; k < T - 1; ++k)
    for (int64_t e = 0; e < d; ++e)
      worst = std::max(worst, double(std::abs(outMerged[k * d + e] -
                                              outFull[order[k] * d + e])));
  EXPECT_GT(worst, 1e-3);
}

TEST(BinaryKernel, FastPathsAgreeWithBroadcastRule) {
  // Equal shapes, a trailing bias, a scalar on either side, a leading-1
  // operand, and a middle-axis broadcast (the generic path): each element
  // checked against the NumPy rule computed by hand.
  struct Case {
    Shape as, bs, ys;
  } cases[] = {{{2, 3, 5}, {2, 3, 5}, {2, 3, 5}}, {{2, 3, 5}, {5}, {2, 3, 5}},
               {{1}, {4, 6}, {4, 6}},            {{4, 6}, {}, {4, 6}},
               {{1, 3, 5}, {2, 3, 5}, {2, 3, 5}}, {{2, 1, 5}, {2, 3, 5}, {2, 3, 5}},
               {{3, 1}, {3, 4}, {3, 4}}};
  for (const Case &c : cases) {
    auto a = randomVector(numElements(c.as), 21);
    auto b = randomVector(numElements(c.bs), 22);
    for (Binary op : {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div}) {
      std::vector<float> y(numElements(c.ys), NAN);
      binary(op, a.data(), c.as, b.data(), c.bs, y.data(), c.ys);
      int64_t n = numElements(c.ys);
      for (int64_t i = 0; i < n; ++i) {
        // Index of i in each operand under broadcasting.
        auto offset = [&](const Shape &xs) {
          int64_t off = 0, stride = 1, rem = i;
          std::vector<int64_t> idx(c.ys.size());
          for (int d = int(c.ys.size()) - 1; d >= 0; --d) {
            idx[d] = rem % c.ys[d];
            rem /= c.ys[d];
          }
          for (int d = int(xs.size()) - 1; d >= 0; --d) {
            int64_t yd = d + int64_t(c.ys.size() - xs.size());
            off += (xs[d] == 1 ? 0 : idx[yd]) * stride;
            stride *= xs[d];
          }
          return off;
        };
        float l = a[offset(c.as)], r = b[offset(c.bs)];
        float want = op == Binary::Add   ? l + r
                     : op == Binary::Sub ? l - r
                     : op == Binary::Mul ? l * r
                                         : l / r;
        ASSERT_EQ(y[i], want) << "element " << i;
      }
    }
  }
}

} // namespace

// int4 group-wise weights: Q4_0 within |d| of the weight and min/max within
// s/2 (the range includes every weight), pack -> unpack gives back q bit for
// bit, and the kernel equals a float64 product with the dequantized weights
// for every row-block size (1 … 9 rows, the one-row decode path included),
// outputs not a multiple of the 32-wide tile, groups of 32, 64 and 128.
// Q4_0's d are bfloat16s (quantizeQ4 rounds them) and are packed so, in
// half the bytes; d that are not (given by hand, here nudged by 2^-20) and
// the min/max variant's are packed as float32.
TEST(Q4Kernel, QuantizePackAndProductMatchReferences) {
  for (int variant : {0, 1, 2})
    for (int64_t group : {32, 64, 128}) {
      const bool symmetric = variant != 1, floatScales = variant != 0;
      const int64_t out = 45, in = 256;
      auto w = randomVector(out * in, 21 + group, 0.1f);
      w[7] = 0.9f; // an outlier
      std::vector<uint8_t> q(out * in), zeros(out * (in / group), 0);
      std::vector<float> scales(out * (in / group));
      quantizeQ4(w.data(), out, in, group, symmetric, q.data(), scales.data(),
                 zeros.data());
      if (symmetric)
        for (float d : scales) {
          uint32_t bits;
          std::memcpy(&bits, &d, 4);
          ASSERT_EQ(bits & 0xffffu, 0u) << "a Q4_0 scale not a bfloat16";
        }
      if (variant == 2)
        for (float &d : scales)
          d *= 1.0f + 0x1p-20f;
      const int64_t tiles = (out + 31) / 32;
      EXPECT_EQ(packedQ4Bytes(out, in, group, scales.data(),
                              symmetric ? nullptr : zeros.data()),
                64 + tiles * (in * 16 + (in / group) * 32 *
                                            (floatScales ? 4 : 2) *
                                            (symmetric ? 1 : 2)));
      std::vector<double> deq(out * in);
      for (int64_t o = 0; o < out; ++o)
        for (int64_t k = 0; k < in; ++k) {
          int64_t g = o * (in / group) + k / group;
          double d = scales[g], z = symmetric ? 8 : zeros[g];
          ASSERT_LE(q[o * in + k], 15);
          deq[o * in + k] = (double(q[o * in + k]) - z) * d;
          double bound = symmetric ? std::fabs(d) : 0.5 * d + 1e-7;
          ASSERT_LE(std::fabs(deq[o * in + k] - w[o * in + k]), bound * 1.0001)
              << (symmetric ? "Q4_0" : "min/max") << " g" << group
              << " element " << o << "," << k;
        }
      std::vector<uint8_t> packed(packedQ4Bytes(
          out, in, group, scales.data(), symmetric ? nullptr : zeros.data())),
          back(out * in);
      packQ4Weight(q.data(), scales.data(), symmetric ? nullptr : zeros.data(),
                   out, in, group, packed.data());
      unpackQ4Weight(packed.data(), out, in, back.data());
      ASSERT_EQ(back, q);
      auto bias = randomVector(out, 5);
      // Tasks take runs of tiles sized by the thread count.
      for (int64_t rows : {1, 2, 3, 7, 8, 9}) {
        auto x = randomVector(rows * in, 40 + rows);
        std::vector<float> y(rows * out, NAN);
        std::string error;
        const int before = threadCount();
        setThreadCount(int(1 + rows % 3));
        ASSERT_TRUE(q4linear(x.data(), rows, in, packed.data(), group,
                             bias.data(), out, y.data(), error))
            << error;
        setThreadCount(before);
        std::vector<double> want(rows * out);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t o = 0; o < out; ++o) {
            double acc = bias[o];
            for (int64_t k = 0; k < in; ++k)
              acc += double(x[r * in + k]) * deq[o * in + k];
            want[r * out + o] = acc;
          }
        expectClose(y, want, "q4linear");
      }
    }
}

// W4A8 (int8 activations; one row, a decode step, blocks of 5 and their
// remainders, and blocks of 16 on AMX tiles where the CPU has AMX-INT8):
// the kernel equals an integer reference bit for bit — each row quantized (s = max|x|/127, q =
// round-to-even(x/s)), int32 sums per group, then per group one fma of d
// with the sum (I − 8·S for Q4_0; with zero points a second fma of −z·d
// with S), and y = fma(total, s, b). Against the float product with the
// same int4 weights, the error is the activations' rounding: at most
// (s/2)·Σ|ŵ| per output (|x − s·q| ≤ s/2), plus float rounding.
TEST(Q4Kernel, W4A8EqualsIntegerReference) {
  for (bool symmetric : {true, false})
    // Even and odd numbers of groups (the AMX kernel takes them in pairs).
    for (auto [group, in] : {std::pair<int64_t, int64_t>{32, 256}, {64, 256},
                             {128, 256}, {32, 96}, {64, 192}, {128, 384}}) {
      const int64_t out = 45, groups = in / group;
      auto w = randomVector(out * in, 71 + group + in, 0.1f);
      std::vector<uint8_t> q(out * in), zeros(out * groups, 0);
      std::vector<float> d(out * groups);
      quantizeQ4(w.data(), out, in, group, symmetric, q.data(), d.data(),
                 zeros.data());
      std::vector<uint8_t> packed(packedQ4Bytes(
          out, in, group, d.data(), symmetric ? nullptr : zeros.data()));
      packQ4Weight(q.data(), d.data(), symmetric ? nullptr : zeros.data(), out,
                   in, group, packed.data());
      auto bias = randomVector(out, 6);
      for (int64_t rows : {1, 2, 3, 5, 8, 9, 11, 12, 13, 16, 35}) {
        auto x = randomVector(rows * in, 90 + rows);
        x[3] = 7.5f; // an outlier sets row 0's scale
        std::vector<float> y(rows * out, NAN);
        std::string error;
        const int before = threadCount();
        setThreadCount(int(1 + rows % 3));
        ASSERT_TRUE(q4linear(x.data(), rows, in, packed.data(), group,
                             bias.data(), out, y.data(), error,
                             LinearAct::None, /*int8Acts=*/true))
            << error;
        setThreadCount(before);
        for (int64_t r = 0; r < rows; ++r) {
          const float *xr = x.data() + r * in;
          float amax = 0.0f;
          for (int64_t k = 0; k < in; ++k)
            amax = std::max(amax, std::fabs(xr[k]));
          const float s = amax > 0.0f ? amax / 127.0f : 1.0f, inv = 1.0f / s;
          std::vector<int32_t> xq(in);
          for (int64_t k = 0; k < in; ++k)
            xq[k] = int32_t(std::nearbyint(xr[k] * inv));
          for (int64_t o = 0; o < out; ++o) {
            float total = 0.0f;
            double exact = 0.0, wabs = 0.0;
            for (int64_t g = 0; g < groups; ++g) {
              int32_t sum = 0, sx = 0;
              for (int64_t k = g * group; k < (g + 1) * group; ++k) {
                sum += int32_t(q[o * in + k]) * xq[k];
                sx += xq[k];
              }
              const float dg = d[o * groups + g];
              if (symmetric) {
                total = std::fma(dg, float(sum - 8 * sx), total);
              } else {
                const float zd = float(zeros[o * groups + g]) * dg;
                total = std::fma(dg, float(sum), total);
                total = std::fma(-zd, float(sx), total);
              }
              const double z = symmetric ? 8 : zeros[o * groups + g];
              for (int64_t k = g * group; k < (g + 1) * group; ++k) {
                double wk = (double(q[o * in + k]) - z) * dg;
                exact += double(xr[k]) * wk;
                wabs += std::fabs(wk);
              }
            }
            const float want = std::fma(total, s, bias[o]);
            ASSERT_EQ(y[r * out + o], want)
                << (symmetric ? "Q4_0" : "min/max") << " g" << group
                << " rows " << rows << " element " << r << "," << o;
            ASSERT_LE(std::fabs(double(y[r * out + o]) - (exact + bias[o])),
                      0.5 * s * wabs * 1.0001 + 1e-5)
                << "row " << r << " output " << o;
          }
        }
      }
    }
}

namespace {
/// One convolution by the C++ loops (false when they have none for the
/// shape) or by the Halide kernel.
bool convolve(bool halide, const float *x, const float *w, const float *b,
              const slim::rt::WindowShape &s, int64_t out, int64_t groups,
              float *y, bool channelsLast = false) {
  if (!halide)
    return slim::rt::conv2dLoops(x, w, b, s, out, groups, y, channelsLast);
  std::string error;
  EXPECT_TRUE(slim::rt::conv2dHalide(x, w, b, s, out, groups, y,
                                     channelsLast, error))
      << error;
  return true;
}
} // namespace

/// Depthwise 3 × 3 and 5 × 5 convolutions at strides 1 and 2, paddings
/// 0 … 2 on each side, inputs narrower than the window and odd sizes, by
/// the Halide kernel and by the C++ loops where they apply, against a
/// float64 reference: within 1e-5 relative to the largest |output| (the
/// products summed in another order).
// … and on NHWC (channels_last) the same values as on NCHW.
TEST(ConvKernel, DepthwiseMatchesFloat64Reference) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (bool halide : {false, true})
  for (int64_t k : {3, 5})
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1, 2})
        for (auto [h, w] : {std::pair<int64_t, int64_t>{9, 13}, {2, 2},
                            {5, 1}, {16, 33}}) {
          slim::rt::WindowShape s{2, 3, h, w, k, k, stride, stride, pad,
                                  pad == 2 ? 1 : pad, 1, 1, 0, 0};
          s.outH = (h + s.padTop + pad - k) / stride + 1;
          s.outW = (w + s.padLeft + pad - k) / stride + 1;
          if (h + s.padTop + pad < k || w + s.padLeft + pad < k)
            continue;
          std::vector<float> x(2 * 3 * h * w), wt(3 * k * k), bias(3),
              y(2 * 3 * s.outH * s.outW);
          for (auto *v : {&x, &wt, &bias})
            for (float &e : *v)
              e = u(rng);
          if (!convolve(halide, x.data(), wt.data(), bias.data(), s, 3, 3,
                        y.data()))
            continue;
          double worst = 0, scale = 0;
          for (int64_t b = 0; b < 2; ++b)
            for (int64_t c = 0; c < 3; ++c)
              for (int64_t oh = 0; oh < s.outH; ++oh)
                for (int64_t ow = 0; ow < s.outW; ++ow) {
                  double acc = bias[c];
                  for (int64_t i = 0; i < k; ++i)
                    for (int64_t j = 0; j < k; ++j) {
                      const int64_t ih = oh * stride - s.padTop + i,
                                    iw = ow * stride - s.padLeft + j;
                      if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                        acc += double(wt[(c * k + i) * k + j]) *
                               x[((b * 3 + c) * h + ih) * w + iw];
                    }
                  const int64_t e = ((b * 3 + c) * s.outH + oh) * s.outW + ow;
                  worst = std::max(worst, std::abs(y[e] - acc));
                  scale = std::max(scale, std::abs(acc));
                }
          EXPECT_LE(worst, 1e-5 * scale)
              << (halide ? "Halide " : "loops ") << k << "x" << k << ", stride "
                                         << stride << ", pad " << pad << ", "
                                         << h << "x" << w;
          // channels_last: the same convolution on NHWC (x and y
          // transposed) gives the same values.
          std::vector<float> xl(x.size()), yl(y.size());
          for (int64_t b = 0; b < 2; ++b)
            for (int64_t c = 0; c < 3; ++c)
              for (int64_t i = 0; i < h * w; ++i)
                xl[(b * h * w + i) * 3 + c] = x[(b * 3 + c) * h * w + i];
          if (!convolve(halide, xl.data(), wt.data(), bias.data(), s, 3, 3,
                        yl.data(), /*channelsLast=*/true))
            continue;
          const int64_t plane = s.outH * s.outW;
          for (int64_t b = 0; b < 2; ++b)
            for (int64_t c = 0; c < 3; ++c)
              for (int64_t i = 0; i < plane; ++i)
                ASSERT_NEAR(yl[(b * plane + i) * 3 + c],
                            y[(b * 3 + c) * plane + i], 1e-5 * scale)
                    << "channels_last, " << k << "x" << k << ", stride "
                    << stride << ", pad " << pad << ", " << h << "x" << w;
        }
}

// channels_last with more channels than one vector (blocks of 16 and a
// masked rest; 150 channels: 8 blocks, then 2 more; 96 and 192: the Halide
// kernel's blocks of 3 and 4 vectors) equals the NCHW kernel, which the
// test above checks against float64; by the loops and by Halide.
TEST(ConvKernel, DepthwiseChannelsLastOfManyChannelsEqualsNchw) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (bool halide : {false, true})
  for (int64_t C : {40, 96, 150, 192})
    for (int64_t stride : {1, 2}) {
      const int64_t h = 9, w = 11, k = 3;
      slim::rt::WindowShape s{1, C, h, w, k, k, stride, stride, 1, 1, 1, 1,
                              0, 0};
      s.outH = (h + 2 - k) / stride + 1;
      s.outW = (w + 2 - k) / stride + 1;
      std::vector<float> x(C * h * w), wt(C * k * k), bias(C),
          y(C * s.outH * s.outW), xl(x.size()), yl(y.size());
      for (auto *v : {&x, &wt, &bias})
        for (float &e : *v)
          e = u(rng);
      ASSERT_TRUE(convolve(true, x.data(), wt.data(), bias.data(), s, C, C,
                           y.data()));
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < h * w; ++i)
          xl[i * C + c] = x[c * h * w + i];
      if (!convolve(halide, xl.data(), wt.data(), bias.data(), s, C, C,
                    yl.data(), /*channelsLast=*/true))
        continue;
      const int64_t plane = s.outH * s.outW;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < plane; ++i)
          ASSERT_NEAR(yl[i * C + c], y[c * plane + i], 1e-5)
              << (halide ? "Halide, " : "loops, ") << C
              << " channels, stride " << stride << ", channel " << c;
    }
}

/// The Halide convolution for any groups, strides, dilations and
/// asymmetric padding (wide planes take its vector tiles, narrow ones the
/// narrower schedules), and rt::conv2d (which picks the loops or Halide),
/// against a float64 reference within 1e-5 relative.
TEST(ConvKernel, GroupedDilatedMatchesFloat64Reference) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct Case {
    int64_t c, d, groups, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  };
  const Case cases[] = {
      {4, 6, 2, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {8, 8, 4, 11, 13, 3, 2, 2, 3, 0, 2, 1, 0, 2, 1},
      {3, 3, 3, 7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},
      {6, 12, 6, 20, 37, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
      {2, 4, 1, 5, 3, 3, 3, 1, 1, 1, 0, 0, 2, 2, 2},
      {16, 16, 16, 6, 70, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1},
  };
  for (const Case &c : cases)
    for (bool dispatch : {false, true}) {
      const int64_t oh =
          (c.h + c.pt + c.pb - (c.kh - 1) * c.dh - 1) / c.sh + 1;
      const int64_t ow =
          (c.w + c.pl + c.pr - (c.kw - 1) * c.dw - 1) / c.sw + 1;
      slim::rt::WindowShape s{2,    c.c,  c.h,  c.w,  c.kh, c.kw, c.sh,
                              c.sw, c.pt, c.pl, c.dh, c.dw, oh,   ow};
      const int64_t cg = c.c / c.groups, dg = c.d / c.groups;
      std::vector<float> x(2 * c.c * c.h * c.w), wt(c.d * cg * c.kh * c.kw),
          bias(c.d), y(2 * c.d * oh * ow);
      for (auto *v : {&x, &wt, &bias})
        for (float &e : *v)
          e = u(rng);
      std::string error;
      if (dispatch)
        ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s,
                                     c.d, c.groups, y.data(), false, error))
            << error;
      else
        convolve(true, x.data(), wt.data(), bias.data(), s, c.d, c.groups,
                 y.data());
      double worst = 0, scale = 0;
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t d = 0; d < c.d; ++d)
          for (int64_t i0 = 0; i0 < oh; ++i0)
            for (int64_t j0 = 0; j0 < ow; ++j0) {
              double acc = bias[d];
              for (int64_t ci = 0; ci < cg; ++ci)
                for (int64_t i = 0; i < c.kh; ++i)
                  for (int64_t j = 0; j < c.kw; ++j) {
                    const int64_t ih = i0 * c.sh - c.pt + i * c.dh,
                                  iw = j0 * c.sw - c.pl + j * c.dw;
                    if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w)
                      continue;
                    const int64_t ch = d / dg * cg + ci;
                    acc += double(wt[((d * cg + ci) * c.kh + i) * c.kw + j]) *
                           x[((b * c.c + ch) * c.h + ih) * c.w + iw];
                  }
              const double got = y[((b * c.d + d) * oh + i0) * ow + j0];
              worst = std::max(worst, std::abs(got - acc));
              scale = std::max(scale, std::abs(acc));
            }
      EXPECT_LE(worst, 1e-5 * scale)
          << (dispatch ? "conv2d " : "Halide ") << c.c << "→" << c.d
          << " channels in " << c.groups << " groups, " << c.kh << "x"
          << c.kw << ", plane " << c.h << "x" << c.w;
    }
}

/// rt::conv2d's fused activation (slim.conv2d act) on each path — the
/// NCHW 3 × 3 loop, the Halide kernel (5 × 5), NHWC — equals the
/// convolution without it followed by the activation's definition, within
/// 1e-6 relative (the vector exp and erf).
TEST(ConvKernel, FusedActivationEqualsDefinition) {
  using slim::rt::LinearAct;
  std::mt19937 rng(15);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  auto define = [](LinearAct act, double v) {
    switch (act) {
    case LinearAct::None: return v;
    case LinearAct::GeluExact: return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    case LinearAct::GeluTanh:
      return 0.5 * v *
             (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    case LinearAct::Silu: return v / (1 + std::exp(-v));
    case LinearAct::Relu: return std::max(v, 0.0);
    case LinearAct::Relu6: return std::min(6.0, std::max(0.0, v));
    case LinearAct::HardSwish:
      return v * std::min(1.0, std::max(0.0, v / 6 + 0.5));
    }
    return v;
  };
  const int64_t C = 40, h = 9, w = 21;
  for (int64_t k : {3, 5})
    for (bool nhwc : {false, true})
      for (LinearAct act :
           {LinearAct::GeluExact, LinearAct::GeluTanh, LinearAct::Silu,
            LinearAct::Relu, LinearAct::Relu6, LinearAct::HardSwish}) {
        slim::rt::WindowShape s{1, C, h, w, k, k, 1, 1, k / 2, k / 2,
                                1, 1, h, w};
        std::vector<float> x(C * h * w), wt(C * k * k), bias(C),
            plain(C * h * w), fused(plain.size());
        for (auto *v : {&x, &wt, &bias})
          for (float &e : *v)
            e = u(rng) * (v == &wt ? 0.3f : 1.0f);
        std::string error;
        ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s, C,
                                     C, plain.data(), nhwc, error));
        ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s, C,
                                     C, fused.data(), nhwc, error, act))
            << error;
        for (size_t i = 0; i < plain.size(); ++i) {
          const double want = define(act, plain[i]);
          ASSERT_NEAR(fused[i], want, 1e-6 * std::max(1.0, std::abs(want)))
              << "act " << int(act) << ", " << k << "x" << k
              << (nhwc ? " NHWC" : " NCHW") << ", element " << i;
        }
      }
}

/// The int8 convolution (slim.conv2d int8) on NCHW (depthwise with per
/// channel input scales, grouped with one per image) and NHWC: its output
/// equals the integer sum of the quantized values (quantizeConvInt8),
/// scaled back, within one float rounding of the scale-and-bias step
/// (2e-7 relative; the kernel may fuse it into an FMA); and it stays
/// within 2% of the largest |fp32 output|.
TEST(ConvKernel, Int8EqualsIntegerReference) {
  std::mt19937 rng(16);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct Case {
    int64_t c, d, groups, h, w, k, stride;
    bool nhwc;
  };
  const Case cases[] = {{24, 24, 24, 13, 37, 3, 1, false},
                        {16, 16, 16, 12, 12, 5, 2, false},
                        {8, 12, 4, 9, 20, 3, 1, false},
                        {48, 48, 48, 7, 9, 3, 1, true},
                        {40, 40, 40, 10, 10, 3, 2, true}};
  for (const Case &c : cases) {
    const int64_t pad = c.k / 2;
    const int64_t oh = (c.h + 2 * pad - c.k) / c.stride + 1;
    const int64_t ow = (c.w + 2 * pad - c.k) / c.stride + 1;
    slim::rt::WindowShape s{2, c.c, c.h, c.w, c.k, c.k, c.stride, c.stride,
                            pad, pad, 1, 1, oh, ow};
    const int64_t cg = c.c / c.groups, dg = c.d / c.groups;
    std::vector<float> x(2 * c.c * c.h * c.w), wt(c.d * cg * c.k * c.k),
        bias(c.d), y(2 * c.d * oh * ow), f(y.size());
    for (auto *v : {&x, &wt, &bias})
      for (float &e : *v)
        e = u(rng);
    // Channels of very different ranges: per channel scales matter.
    for (size_t i = 0; i < x.size(); ++i)
      x[i] *= 1.0f + float((c.nhwc ? i % c.c : i / (c.h * c.w) % c.c) % 5);
    std::string error;
    ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s, c.d,
                                 c.groups, y.data(), c.nhwc, error,
                                 slim::rt::LinearAct::None, /*int8=*/true))
        << error;
    ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s, c.d,
                                 c.groups, f.data(), c.nhwc, error));
    std::vector<int8_t> xq(x.size()), wq(wt.size());
    slim::rt::ConvInt8Scales sc = slim::rt::quantizeConvInt8(
        x.data(), wt.data(), s, c.d, c.groups, c.nhwc, xq.data(), wq.data());
    if (c.groups == c.c) // depthwise: one scale per (image, channel)
      ASSERT_NE(sc.input[0], sc.input[1]);
    double worst = 0, scale = 0;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t d = 0; d < c.d; ++d)
        for (int64_t i0 = 0; i0 < oh; ++i0)
          for (int64_t j0 = 0; j0 < ow; ++j0) {
            int32_t acc = 0;
            const int64_t c0 = d / dg * cg;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t i = 0; i < c.k; ++i)
                for (int64_t j = 0; j < c.k; ++j) {
                  const int64_t ih = i0 * c.stride - pad + i,
                                iw = j0 * c.stride - pad + j;
                  if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w)
                    continue;
                  const int64_t xi =
                      c.nhwc ? ((b * c.h + ih) * c.w + iw) * c.c + c0 + ci
                             : ((b * c.c + c0 + ci) * c.h + ih) * c.w + iw;
                  acc += int32_t(wq[((d * cg + ci) * c.k + i) * c.k + j]) *
                         int32_t(xq[xi]);
                }
            const float want =
                float(acc) * (sc.weight[d] * sc.input[b * c.c + c0]) +
                bias[d];
            const int64_t e = c.nhwc ? ((b * oh + i0) * ow + j0) * c.d + d
                                     : ((b * c.d + d) * oh + i0) * ow + j0;
            ASSERT_NEAR(y[e], want, 2e-7 * std::max(1.0f, std::abs(want)))
                << (c.nhwc ? "NHWC " : "NCHW ") << c.c << " channels in "
                << c.groups << " groups, output " << e;
            worst = std::max(worst, double(std::abs(y[e] - f[e])));
            scale = std::max(scale, double(std::abs(f[e])));
          }
    EXPECT_LE(worst, 0.02 * scale) << "int8 against fp32, " << c.c
                                   << " channels in " << c.groups << " groups";
  }
}

/// With a static input scale (slim.conv2d input_scale, act=static) every
/// image and channel takes it, and the output equals the integer sum of
/// the values quantized with it, scaled back (within the last step's
/// rounding, as above).
TEST(ConvKernel, Int8StaticScaleEqualsIntegerReference) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t C = 16, h = 9, w = 11;
  slim::rt::WindowShape s{2, C, h, w, 3, 3, 1, 1, 1, 1, 1, 1, h, w};
  std::vector<float> x(2 * C * h * w), wt(C * 9), bias(C), y(x.size());
  for (auto *v : {&x, &wt, &bias})
    for (float &e : *v)
      e = u(rng);
  const float scale = 0.8f / 127.0f; // clips the values beyond ±0.8
  std::string error;
  ASSERT_TRUE(slim::rt::conv2d(x.data(), wt.data(), bias.data(), s, C, C,
                               y.data(), false, error,
                               slim::rt::LinearAct::None, true, scale))
      << error;
  std::vector<int8_t> xq(x.size()), wq(wt.size());
  slim::rt::ConvInt8Scales sc = slim::rt::quantizeConvInt8(
      x.data(), wt.data(), s, C, C, false, xq.data(), wq.data(), scale);
  for (float v : sc.input)
    ASSERT_EQ(v, scale);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(xq[i], int8_t(std::clamp(std::nearbyint(x[i] / scale),
                                       -127.0f, 127.0f)))
        << "input " << i;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i0 = 0; i0 < h; ++i0)
        for (int64_t j0 = 0; j0 < w; ++j0) {
          int32_t acc = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t ih = i0 - 1 + i, iw = j0 - 1 + j;
              if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                acc += int32_t(wq[c * 9 + i * 3 + j]) *
                       int32_t(xq[((b * C + c) * h + ih) * w + iw]);
            }
          const float want = float(acc) * (sc.weight[c] * scale) + bias[c];
          const float got = y[((b * C + c) * h + i0) * w + j0];
          ASSERT_NEAR(got, want, 2e-7 * std::max(1.0f, std::abs(want)));
        }
}

/// Max and average pooling (the Halide kernels): strides, dilations (max),
/// ceil-mode padding on the bottom and right only, count_include_pad on
/// and off, against the ONNX definitions in float64 (exact for max,
/// within 1e-6 relative for the average).
TEST(PoolKernel, MatchesOnnxDefinition) {
  std::mt19937 rng(14);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct Case {
    int64_t h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  };
  const Case cases[] = {
      {9, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, // 3 × 3 / 2, padded
      {8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},  // 2 × 2 / 2
      {7, 7, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},  // ceil mode: bottom/right
      {5, 33, 2, 3, 1, 2, 1, 0, 1, 2, 1, 1}, // asymmetric
      {10, 12, 3, 3, 1, 1, 0, 0, 0, 0, 2, 2}, // dilated (max)
  };
  for (const Case &c : cases)
    for (bool max : {true, false})
      for (bool includePad : {false, true}) {
        if (!max && (c.dh != 1 || c.dw != 1))
          continue;
        const int64_t oh =
            (c.h + c.pt + c.pb - (c.kh - 1) * c.dh - 1) / c.sh + 1;
        const int64_t ow =
            (c.w + c.pl + c.pr - (c.kw - 1) * c.dw - 1) / c.sw + 1;
        slim::rt::WindowShape s{2,    3,    c.h,  c.w,  c.kh, c.kw, c.sh,
                                c.sw, c.pt, c.pl, c.dh, c.dw, oh,   ow};
        std::vector<float> x(2 * 3 * c.h * c.w), y(2 * 3 * oh * ow);
        for (float &e : x)
          e = u(rng);
        std::string error;
        ASSERT_TRUE(slim::rt::pool2d(max, x.data(), s, c.pb, c.pr,
                                     includePad, y.data(), error))
            << error;
        for (int64_t p = 0; p < 6; ++p)
          for (int64_t i0 = 0; i0 < oh; ++i0)
            for (int64_t j0 = 0; j0 < ow; ++j0) {
              double acc = max ? -INFINITY : 0.0;
              int64_t inside = 0, padded = 0;
              for (int64_t i = 0; i < c.kh; ++i)
                for (int64_t j = 0; j < c.kw; ++j) {
                  const int64_t ih = i0 * c.sh - c.pt + i * c.dh,
                                iw = j0 * c.sw - c.pl + j * c.dw;
                  if (ih < c.h + c.pb && iw < c.w + c.pr)
                    ++padded;
                  if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w)
                    continue;
                  ++inside;
                  const double v = x[(p * c.h + ih) * c.w + iw];
                  acc = max ? std::max(acc, v) : acc + v;
                }
              if (!max)
                acc /= double(std::max<int64_t>(
                    1, includePad ? padded : inside));
              const float got = y[(p * oh + i0) * ow + j0];
              if (max)
                ASSERT_EQ(got, float(acc)) << "max " << i0 << "," << j0;
              else
                ASSERT_NEAR(got, acc, 1e-6 * std::max(1.0, std::abs(acc)))
                    << "avg, include pad " << includePad << " at " << i0
                    << "," << j0 << " of " << c.h << "x" << c.w;
            }
      }
}

/// Every permutation of shapes with unit axes, mergeable axes and sizes
/// off the 16-element tile, at 1, 2, 4 and 8 bytes per element, on 1 and 2
/// threads: the kernel equals the index formula exactly.
TEST(TransposeKernel, EqualsIndexFormula) {
  std::mt19937 rng(7);
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 37, 19, 5}, {2, 1, 33, 17}, {3, 4, 5, 6}, {1, 130, 70, 1},
      // Whole 16 × 16 register tiles, more than one block of 256
      // columns (an NHWC image of 20 × 30 pixels, 48 channels).
      {1, 20, 30, 48}};
  for (int threads : {1, 2}) {
    slim::rt::setThreadCount(threads);
    for (const auto &shape : shapes) {
      const int64_t r = int64_t(shape.size()), n = slim::rt::numElements(shape);
      std::vector<int64_t> perm(r);
      std::iota(perm.begin(), perm.end(), 0);
      do {
        std::vector<int64_t> inStride(r, 1), outShape(r);
        for (int64_t d = r - 2; d >= 0; --d)
          inStride[d] = inStride[d + 1] * shape[d + 1];
        for (int64_t k = 0; k < r; ++k)
          outShape[k] = shape[perm[k]];
        std::vector<int64_t> from(n); // output k reads input from[k]
        std::vector<int64_t> c(r, 0);
        for (int64_t k = 0; k < n; ++k) {
          int64_t off = 0;
          for (int64_t d = 0; d < r; ++d)
            off += c[d] * inStride[perm[d]];
          from[k] = off;
          for (int64_t d = r - 1; d >= 0; --d) {
            if (++c[d] < outShape[d])
              break;
            c[d] = 0;
          }
        }
        for (int bytes : {1, 2, 4, 8}) {
          std::vector<uint8_t> x(n * bytes), y(n * bytes, 0xAB);
          for (auto &v : x)
            v = uint8_t(rng());
          slim::rt::transposeTiled(x.data(), shape, perm, bytes, y.data());
          for (int64_t k = 0; k < n; ++k)
            ASSERT_EQ(0, std::memcmp(&y[k * bytes], &x[from[k] * bytes], bytes))
                << "element " << k << ", " << bytes << " bytes, perm "
                << perm[0] << perm[1] << perm[2] << perm[3];
        }
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
  slim::rt::setThreadCount(1);
}

TEST(ThreadPool, RunsEveryTaskOnceAndReportsAnError) {
  // Jobs of up to 1024 tasks are claimed one by one (each thread its own
  // tasks i mod threads first, then any left), larger ones through a
  // shared counter: every task runs once either way, at 1–3 threads, and
  // a task's non-zero result is the loop's.
  struct Closure {
    std::vector<std::atomic<int>> *hits;
    int min, failAt;
  };
  const int before = threadCount();
  for (int threads : {1, 2, 3}) {
    setThreadCount(threads);
    for (int count : {1, 2, 3, 64, 65, 1024, 1025, 3000}) {
      std::vector<std::atomic<int>> hits(count);
      Closure c{&hits, 5, -1};
      auto task = [](void *, int i, uint8_t *closure) {
        auto *c = reinterpret_cast<Closure *>(closure);
        (*c->hits)[i - c->min].fetch_add(1);
        return i - c->min == c->failAt ? 7 : 0;
      };
      ASSERT_EQ(halide_do_par_for(nullptr, task, 5, count,
                                  reinterpret_cast<uint8_t *>(&c)),
                0);
      for (int i = 0; i < count; ++i)
        ASSERT_EQ(hits[i].load(), 1)
            << "task " << i << " of " << count << ", threads " << threads;
      c.failAt = count / 2;
      EXPECT_EQ(halide_do_par_for(nullptr, task, 5, count,
                                  reinterpret_cast<uint8_t *>(&c)),
                7)
          << count << " tasks, threads " << threads;
    }
  }
  setThreadCount(before);
}
