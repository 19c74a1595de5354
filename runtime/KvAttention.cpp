//===- KvAttention.cpp - attention of a few queries over the KV cache -----===//
//
// Generation's attention: the step's keys and values are appended to the
// cache slot, then each query attends to the cached positions it may see.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace slim::rt {

namespace {

/// Causal attention of a few queries (a decode step) over a cache: plain
/// loops that stream each cached key and value row once (all heads of a
/// row together). The tiled Halide kernel is built for blocks of 8 queries
/// and transposes every head's keys per call, which for one query costs
/// more than the S·d multiply-adds themselves.
void fewQueryAttention(const float *q, const float *keys, const float *values,
                       int64_t tokens, int64_t first, int64_t heads,
                       int64_t kvHeads, int64_t d, int64_t dv, float scale,
                       float *out) {
  const int64_t group = heads / kvHeads, kw = kvHeads * d, vw = kvHeads * dv;
  const int64_t keysMax = first + tokens;
  std::vector<float> w(size_t(heads * keysMax)), top(heads), sum(heads);
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t limit = first + t + 1; // keys 0 … p+t
    const float *qt = q + t * heads * d;
    std::fill(top.begin(), top.end(),
              -std::numeric_limits<float>::infinity());
    for (int64_t j = 0; j < limit; ++j) {
      const float *row = keys + j * kw;
      for (int64_t h = 0; h < heads; ++h) {
        float s = dot(qt + h * d, row + (h / group) * d, d) * scale;
        w[h * keysMax + j] = s;
        top[h] = std::max(top[h], s);
      }
    }
    for (int64_t h = 0; h < heads; ++h) {
      float total = 0.0f;
      float *wh = w.data() + h * keysMax;
      for (int64_t j = 0; j < limit; ++j)
        total += wh[j] = std::exp(wh[j] - top[h]);
      sum[h] = total;
    }
    float *ot = out + t * heads * dv;
    std::fill(ot, ot + heads * dv, 0.0f);
    for (int64_t j = 0; j < limit; ++j) {
      const float *row = values + j * vw;
      for (int64_t h = 0; h < heads; ++h) {
        const float a = w[h * keysMax + j];
        const float *vv = row + (h / group) * dv;
        float *o = ot + h * dv;
        for (int64_t e = 0; e < dv; ++e)
          o[e] += a * vv[e];
      }
    }
    for (int64_t h = 0; h < heads; ++h) {
      const float inv = 1.0f / sum[h];
      for (int64_t e = 0; e < dv; ++e)
        ot[h * dv + e] *= inv;
    }
  }
}

} // namespace

bool kvAttention(const float *q, const float *k, const float *v,
                 const int64_t *positions, int64_t tokens, int64_t heads,
                 int64_t kvHeads, int64_t headDim, int64_t valueDim,
                 int64_t capacity, float *slot, float scale, float *out,
                 std::string &error) {
  const int64_t p = positions[0];
  for (int64_t t = 0; t < tokens; ++t)
    if (positions[t] != p + t) {
      error = "kv_attention: positions must be consecutive, got " +
              std::to_string(positions[t]) + " after " +
              std::to_string(positions[t > 0 ? t - 1 : 0]);
      return false;
    }
  if (p < 0 || p + tokens > capacity) {
    error = "the KV cache holds " + std::to_string(capacity) +
            " positions; positions " + std::to_string(p) + " to " +
            std::to_string(p + tokens - 1) + " do not fit";
    return false;
  }
  const int64_t kw = kvHeads * headDim, vw = kvHeads * valueDim;
  float *keys = slot, *values = slot + capacity * kw;
  std::memcpy(keys + p * kw, k, size_t(tokens * kw) * sizeof(float));
  std::memcpy(values + p * vw, v, size_t(tokens * vw) * sizeof(float));
  if (tokens < 4) {
    fewQueryAttention(q, keys, values, tokens, p, heads, kvHeads, headDim,
                      valueDim, scale, out);
    return true;
  }
  return attention(q, keys, values, nullptr, nullptr, nullptr,
                   {1, tokens, p + tokens, heads, kvHeads, headDim, valueDim},
                   /*causal=*/true, scale, out, error);
}

} // namespace slim::rt
