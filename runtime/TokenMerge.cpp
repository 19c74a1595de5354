//===- TokenMerge.cpp - token merging (ToMe, MCTF) and its inverse --------===//
//
// Bipartite soft matching of tokens by a similarity metric, the merged
// tokens' size-weighted means, the group means of merged tokens and the
// unmerge that copies merged tokens back to their source positions.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

namespace slim::rt {

namespace {
/// out[l] = Σ_e a[e] · bt[e·stride + l] for l < L: the L sums stay in
/// registers over the whole reduction (a running row in memory would be
/// loaded and stored again for every e).
template <int L>
void dotColumns(const float *a, const float *bt, int64_t stride, int64_t n,
                float *out) {
  float acc[L] = {};
  for (int64_t e = 0; e < n; ++e) {
    const float ae = a[e], *b = bt + e * stride;
    for (int l = 0; l < L; ++l)
      acc[l] += ae * b[l];
  }
  std::copy(acc, acc + L, out);
}
} // namespace

void tokenMerge(const float *x, const float *metric, const float *sizes,
                int64_t batch, int64_t tokens, int64_t dim, int64_t mdim,
                const MergeOptions &o, float *y, float *ySizes) {
  const int64_t T = tokens, nA = (T + 1) / 2, nB = T / 2, r = o.r;
  const int64_t p = o.protectedTokens;
  // MCTF: ⌊r/2⌋ A → B, then the rest from the updated B into A.
  const int64_t r1 = o.mctf && o.bidirectional ? r / 2 : r, r2 = r - r1;
  const float ninf = -std::numeric_limits<float>::infinity();
  // B's columns padded to a multiple of 16 (zeros): score rows of nBp.
  const int64_t nBp = (nB + 15) / 16 * 16;
  std::vector<float> unit(T * mdim), unitBT(mdim * nBp, 0.0f),
      score(nA * nBp), nodeMax(nA), bMax(nB);
  std::vector<int64_t> best(nA), order(nA), dest(nA), bestA(nB), orderB(nB),
      destA(nB), group(T), newIndex(T);
  std::vector<double> info(T), small(T), weight(T);
  for (int64_t b = 0; b < batch; ++b) {
    const float *xb = x + b * T * dim, *mb = metric + b * T * mdim;
    const float *sb = sizes + b * T;
    float *yb = y + b * (T - r) * dim, *ysb = ySizes + b * (T - r);
    // x̂ = x / ‖x‖ (as ToMe: in float).
    for (int64_t t = 0; t < T; ++t) {
      float norm = std::sqrt(dot(mb + t * mdim, mb + t * mdim, mdim));
      for (int64_t e = 0; e < mdim; ++e)
        unit[t * mdim + e] = mb[t * mdim + e] / norm;
    }
    // Per-token MCTF factors: ĩ = min ā / ā and s̃ = min s / s, each to
    // its 1/τ; fusion weights ā·s / max s. ToMe weighs by size.
    double maxSize = 0.0, minSize = INFINITY, minRecv = INFINITY;
    for (int64_t t = 0; t < T; ++t) {
      maxSize = std::max(maxSize, double(sb[t]));
      minSize = std::min(minSize, double(sb[t]));
      if (o.mctf)
        minRecv = std::min(minRecv, double(o.received[b * T + t]));
    }
    for (int64_t t = 0; t < T; ++t) {
      if (!o.mctf) {
        weight[t] = sb[t];
        continue;
      }
      double recv = o.received[b * T + t];
      info[t] = std::pow(minRecv / recv, 1.0 / o.tauInfo);
      small[t] = std::pow(minSize / sb[t], 1.0 / o.tauSize);
      weight[t] = recv * sb[t] / maxSize;
    }
    // Cosine similarities of every (a ∈ A = token 2i, b ∈ B = token 2j+1):
    // B transposed so the products run along contiguous memory (vectorized
    // over b).
    for (int64_t jb = 0; jb < nB; ++jb)
      for (int64_t e = 0; e < mdim; ++e)
        unitBT[e * nBp + jb] = unit[(2 * jb + 1) * mdim + e];
    for (int64_t i = 0; i < nA; ++i) {
      float *row = score.data() + i * nBp;
      const float *ka = unit.data() + 2 * i * mdim;
      int64_t jb = 0;
      for (; jb + 64 <= nBp; jb += 64)
        dotColumns<64>(ka, unitBT.data() + jb, nBp, mdim, row + jb);
      for (; jb < nBp; jb += 16)
        dotColumns<16>(ka, unitBT.data() + jb, nBp, mdim, row + jb);
    }
    // Scores; protected tokens are never a source (row −inf) nor a
    // destination (column −inf).
    for (int64_t i = 0; i < nA; ++i)
      for (int64_t jb = 0; jb < nB; ++jb) {
        float &sc = score[i * nBp + jb];
        if (2 * i < p || 2 * jb + 1 < p) {
          sc = ninf;
          continue;
        }
        float dotp = sc;
        if (!o.mctf)
          continue;
        double sim = (double(dotp) + 1.0) / 2.0;
        if (o.tauSim != 1.0)
          sim = std::pow(sim, 1.0 / o.tauSim);
        sc = float(sim * info[2 * i] * info[2 * jb + 1] * small[2 * i] *
                   small[2 * jb + 1]);
      }
    // Step 1: every a's best b; the r1 best-scoring a merge (ties: lower
    // index first).
    for (int64_t i = 0; i < nA; ++i) {
      nodeMax[i] = ninf;
      best[i] = -1;
      for (int64_t jb = 0; jb < nB; ++jb) {
        float sc = score[i * nBp + jb];
        if (sc != ninf && (best[i] < 0 || sc > nodeMax[i])) {
          nodeMax[i] = sc;
          best[i] = jb;
        }
      }
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
      return nodeMax[a] > nodeMax[c];
    });
    std::fill(dest.begin(), dest.end(), -1);
    for (int64_t k = 0; k < r1; ++k)
      dest[order[k]] = best[order[k]];
    // Step 2 (bidirectional MCTF): every b's best unmerged a, same scores.
    std::fill(destA.begin(), destA.end(), -1);
    if (r2 > 0) {
      for (int64_t jb = 0; jb < nB; ++jb) {
        bMax[jb] = ninf;
        bestA[jb] = -1;
        for (int64_t i = 0; i < nA; ++i) {
          float sc = score[i * nBp + jb];
          if (dest[i] < 0 && sc != ninf && (bestA[jb] < 0 || sc > bMax[jb])) {
            bMax[jb] = sc;
            bestA[jb] = i;
          }
        }
      }
      std::iota(orderB.begin(), orderB.end(), 0);
      std::stable_sort(orderB.begin(), orderB.end(),
                       [&](int64_t a, int64_t c) { return bMax[a] > bMax[c]; });
      for (int64_t k = 0; k < r2; ++k)
        destA[orderB[k]] = bestA[orderB[k]];
    }
    // Where every token ends: its own row, or the token it merged into.
    auto finalToken = [&](int64_t t) {
      if (t % 2 == 0 && dest[t / 2] >= 0)
        t = 2 * dest[t / 2] + 1;
      if (t % 2 == 1 && destA[t / 2] >= 0)
        t = 2 * destA[t / 2];
      return t;
    };
    // Output rows: protected tokens (index order), the kept A (index order
    // with a protected token, else ToMe's edge order), then the kept B.
    int64_t row = 0;
    std::fill(newIndex.begin(), newIndex.end(), -1);
    for (int64_t t = 0; t < p; ++t)
      newIndex[t] = row++;
    for (int64_t k = 0; k < nA; ++k) {
      int64_t i = p > 0 ? k : order[k];
      if (2 * i >= p && dest[i] < 0)
        newIndex[2 * i] = row++;
    }
    for (int64_t jb = 0; jb < nB; ++jb)
      if (2 * jb + 1 >= p && destA[jb] < 0)
        newIndex[2 * jb + 1] = row++;
    // Each row: Σ w·x / Σ w over its members (in double), size Σ s; a row
    // of one token is that token.
    std::vector<int64_t> first(T - r, -1), next(T, -1);
    for (int64_t t = T - 1; t >= 0; --t) {
      int64_t out = newIndex[finalToken(t)];
      group[t] = out;
      next[t] = first[out];
      first[out] = t;
    }
    std::vector<double> acc(dim);
    for (int64_t k = 0; k < T - r; ++k) {
      int64_t t = first[k];
      if (next[t] < 0) {
        std::memcpy(yb + k * dim, xb + t * dim, dim * sizeof(float));
        ysb[k] = sb[t];
        continue;
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      double sumW = 0.0, sumS = 0.0;
      for (; t >= 0; t = next[t]) {
        sumW += weight[t];
        sumS += sb[t];
        for (int64_t e = 0; e < dim; ++e)
          acc[e] += weight[t] * double(xb[t * dim + e]);
      }
      for (int64_t e = 0; e < dim; ++e)
        yb[k * dim + e] = float(acc[e] / sumW);
      ysb[k] = float(sumS);
    }
    if (!o.ySource)
      continue;
    const int64_t *mb0 = o.source + b * o.originalTokens;
    int64_t *ymb = o.ySource + b * o.originalTokens;
    for (int64_t t = 0; t < o.originalTokens; ++t)
      ymb[t] = group[std::clamp<int64_t>(mb0[t], 0, T - 1)];
  }
}

bool groupMean(const float *x, const int64_t *groups, const float *weights,
               int64_t batch, int64_t tokens, int64_t numGroups, int64_t dim,
               float *y, std::string &error) {
  std::vector<double> acc(numGroups * dim), total(numGroups);
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    std::fill(total.begin(), total.end(), 0.0);
    for (int64_t t = 0; t < tokens; ++t) {
      int64_t g = groups[b * tokens + t];
      if (g < 0 || g >= numGroups) {
        error = "group_mean: group " + std::to_string(g) + " of token " +
                std::to_string(t) + " is outside [0, " +
                std::to_string(numGroups) + ")";
        return false;
      }
      double w = weights[b * tokens + t];
      total[g] += w;
      const float *xt = x + (b * tokens + t) * dim;
      for (int64_t e = 0; e < dim; ++e)
        acc[g * dim + e] += w * double(xt[e]);
    }
    for (int64_t g = 0; g < numGroups; ++g) {
      if (!(total[g] > 0.0)) {
        error = "group_mean: group " + std::to_string(g) +
                " has no member with positive weight";
        return false;
      }
      for (int64_t e = 0; e < dim; ++e)
        y[(b * numGroups + g) * dim + e] = float(acc[g * dim + e] / total[g]);
    }
  }
  return true;
}

bool unmerge(const float *x, const int64_t *source, int64_t batch,
             int64_t tokens, int64_t originalTokens, int64_t dim, float *y,
             std::string &error) {
  for (int64_t k = 0; k < batch * originalTokens; ++k)
    if (source[k] < 0 || source[k] >= tokens) {
      error = "unmerge: source index " + std::to_string(source[k]) +
              " at position " + std::to_string(k) + " is outside [0, " +
              std::to_string(tokens) + ")";
      return false;
    }
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < originalTokens; ++t)
      std::memcpy(y + (b * originalTokens + t) * dim,
                  x + (b * tokens + source[b * originalTokens + t]) * dim,
                  dim * sizeof(float));
  return true;
}

} // namespace slim::rt
