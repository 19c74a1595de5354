//===- attention_generator.cpp - fused scaled dot-product attention -------===//
//
//   out[b,t,h,:] = Σ_j p(j) · v[b,j,h/g,:] / Σ_j p(j),
//   p(j) = exp(s(j) − max_j s(j)),
//   s(j) = scale · q[b,t,h,:]·k[b,j,h/g,:] + log_size[b,j]
//          + bias[b mod G, h, t, j]                          (−∞ if masked)
//
// q is [B,T,H,Dh] (Halide (e, h, t, b)), k [B,S,Hkv,Dh], v [B,S,Hkv,Dv],
// log_size [B,S] (zeros when the model tracks no token sizes), out
// [B,T,H,Dv], bias [G,H,T,S] (relative positions, window masks; the
// runtime passes stride-0 zeros when there is none); g = H / Hkv (grouped-query attention reads one kv head per
// group). With `causal`, query t sees the keys j ≤ t + S − T.
//
// Only a tile of `tile` query rows × S keys of scores exists at a time (in
// L1); the T×T matrix is never materialized. Per head the keys are first
// transposed to [Dh, S] so the score loop runs along contiguous memory,
// vectorized over keys with one accumulator per query row of the tile.
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

namespace {

using namespace Halide;

class AttentionGenerator : public Generator<AttentionGenerator> {
public:
  Input<Buffer<float, 4>> q{"q"};               // (e, h, t, b)
  Input<Buffer<float, 4>> k{"k"};               // (e, kh, j, b)
  Input<Buffer<float, 4>> v{"v"};               // (e, kh, j, b)
  Input<Buffer<float, 2>> log_size{"log_size"}; // (j, b)
  Input<Buffer<float, 4>> bias{"bias"};         // (j, t, h, g)
  Input<float> scale{"scale"};
  Input<bool> causal{"causal"};
  Output<Buffer<float, 4>> out{"out"};          // (e, h, t, b)

  void generate() {
    // --- Algorithm -------------------------------------------------------
    Expr dh = q.dim(0).extent(), heads = q.dim(1).extent();
    Expr queries = q.dim(2).extent(), keys = k.dim(2).extent();
    Expr group = heads / k.dim(1).extent();
    RDom re(0, dh, "re"), rj(0, keys, "rj");

    kt(j, e, h, b) = k(e, h / group, j, b);
    scores(j, t, h, b) = 0.0f;
    scores(j, t, h, b) += q(re, h, t, b) * kt(j, re, h, b);
    Expr visible = !causal || j <= t + (keys - queries);
    masked(j, t, h, b) = select(
        visible,
        scores(j, t, h, b) * scale + log_size(j, b) +
            bias(j, t, h, b % bias.dim(3).extent()),
        Float(32).min());
    mx(t, h, b) = Float(32).min();
    mx(t, h, b) = max(mx(t, h, b), masked(rj, t, h, b));
    // fast_exp is exact to the last few mantissa bits for arguments in
    // [-87, 0]; masked keys contribute exactly 0.
    p(j, t, h, b) =
        select(visible, fast_exp(max(masked(j, t, h, b) - mx(t, h, b), -87.0f)),
               0.0f);
    denom(t, h, b) = 0.0f;
    denom(t, h, b) += p(rj, t, h, b);
    acc(e, t, h, b) = 0.0f;
    acc(e, t, h, b) += p(rj, t, h, b) * v(e, h / group, rj, b);
    out(e, h, t, b) = acc(e, t, h, b) / denom(t, h, b);

    // --- Constraints and estimates ---------------------------------------
    for (auto *buf : {&q, &k, &v})
      for (int d = 0; d < 4; ++d)
        buf->dim(d).set_min(0);
    k.dim(0).set_extent(dh);
    v.dim(1).set_extent(k.dim(1).extent());
    v.dim(2).set_extent(keys);
    k.dim(3).set_extent(q.dim(3).extent());
    v.dim(3).set_extent(q.dim(3).extent());
    log_size.dim(0).set_min(0).set_extent(keys);
    log_size.dim(1).set_min(0).set_extent(q.dim(3).extent());
    bias.dim(0).set_min(0).set_extent(keys);
    bias.dim(1).set_min(0).set_extent(queries);
    bias.dim(2).set_min(0).set_extent(heads);
    bias.dim(3).set_min(0);
    for (int d = 0; d < 4; ++d)
      out.dim(d).set_min(0);
    out.dim(0).set_extent(v.dim(0).extent());
    out.dim(1).set_extent(heads);
    out.dim(2).set_extent(queries);
    out.dim(3).set_extent(q.dim(3).extent());
    q.set_estimates({{0, 64}, {0, 12}, {0, 128}, {0, 1}});
    k.set_estimates({{0, 64}, {0, 12}, {0, 128}, {0, 1}});
    v.set_estimates({{0, 64}, {0, 12}, {0, 128}, {0, 1}});
    log_size.set_estimates({{0, 128}, {0, 1}});
    bias.set_estimates({{0, 128}, {0, 128}, {0, 12}, {0, 1}});
    out.set_estimates({{0, 64}, {0, 12}, {0, 128}, {0, 1}});

    // --- Schedule (host) -------------------------------------------------
    // Heads (× batch) are the parallel tasks. Per head: the transposed keys;
    // per tile of `tile` queries: the scores (tile accumulators of one
    // vector of keys each, summed over Dh), their softmax, and the product
    // with V (vectorized over the value dimension, the tile's rows
    // unrolled). Tails (T, S or Dv not a multiple) are guarded.
    const int vec = natural_vector_size<float>();
    const int tile = 8;
    Var to("to"), ti("ti"), hb("hb"), jo("jo"), ji("ji"), eo("eo"), ei("ei");
    // With at least `tile` queries the last tile overlaps the previous one
    // (ShiftInwards: recomputing rows is harmless), so every tile has a
    // constant size and its rows can be unrolled; shorter inputs (decode
    // steps, tiny models) take one query row per tile.
    Expr full = queries >= tile;
    out.reorder(e, t, h, b).fuse(h, b, hb).parallel(hb);
    out.specialize(full)
        .split(t, to, ti, tile, TailStrategy::ShiftInwards)
        .vectorize(e, vec, TailStrategy::GuardWithIf);
    out.split(t, to, ti, 1).vectorize(e, vec, TailStrategy::GuardWithIf);
    kt.compute_at(out, hb).vectorize(j, vec, TailStrategy::GuardWithIf);
    scores.compute_at(out, to).vectorize(j, vec, TailStrategy::GuardWithIf);
    scores.update().specialize(full)
        .split(j, jo, ji, 3 * vec, TailStrategy::GuardWithIf)
        .reorder(ji, t, re, jo)
        .vectorize(ji, vec)
        .unroll(ji)
        .unroll(t);
    scores.update()
        .split(j, jo, ji, vec, TailStrategy::GuardWithIf)
        .reorder(ji, t, re, jo)
        .vectorize(ji);
    mx.compute_at(out, to);
    p.compute_at(out, to).vectorize(j, vec, TailStrategy::GuardWithIf);
    denom.compute_at(out, to);
    acc.compute_at(out, to).vectorize(e, vec, TailStrategy::GuardWithIf);
    acc.update().specialize(full)
        .split(e, eo, ei, 2 * vec, TailStrategy::GuardWithIf)
        .reorder(ei, t, rj, eo)
        .vectorize(ei, vec, TailStrategy::GuardWithIf)
        .unroll(t);
    acc.update()
        .split(e, eo, ei, vec, TailStrategy::GuardWithIf)
        .reorder(ei, t, rj, eo)
        .vectorize(ei);
  }

private:
  Var e{"e"}, h{"h"}, t{"t"}, b{"b"}, j{"j"};
  Func kt{"kt"}, scores{"scores"}, masked{"masked"}, mx{"mx"}, p{"p"},
      denom{"denom"}, acc{"acc"};
};

/// `attention_received`: the attention probabilities of the same
/// (non-causal) attention, summed over queries per head:
///   partial[b,h,j] = Σ_t p(j | t, h) / Σ_j p(j | t, h)
/// (MCTF's informativeness; the runtime averages over heads and queries).
/// The probabilities are computed as in `attention` (per head, tiles of 8
/// query rows × all keys, the rows unrolled), stored per head (T×S floats,
/// in L2), then summed over the queries.
class AttentionReceivedGenerator
    : public Generator<AttentionReceivedGenerator> {
public:
  Input<Buffer<float, 4>> q{"q"};               // (e, h, t, b)
  Input<Buffer<float, 4>> k{"k"};               // (e, kh, j, b)
  Input<Buffer<float, 2>> log_size{"log_size"}; // (j, b)
  Input<float> scale{"scale"};
  Output<Buffer<float, 3>> partial{"partial"};  // (j, h, b)

  void generate() {
    Expr dh = q.dim(0).extent(), heads = q.dim(1).extent();
    Expr queries = q.dim(2).extent(), keys = k.dim(2).extent();
    Expr group = heads / k.dim(1).extent();
    RDom re(0, dh, "re"), rj(0, keys, "rj"), rt(0, queries, "rt");

    kt(j, e, h, b) = k(e, h / group, j, b);
    scores(j, t, h, b) = 0.0f;
    scores(j, t, h, b) += q(re, h, t, b) * kt(j, re, h, b);
    logits(j, t, h, b) = scores(j, t, h, b) * scale + log_size(j, b);
    mx(t, h, b) = Float(32).min();
    mx(t, h, b) = max(mx(t, h, b), logits(rj, t, h, b));
    p(j, t, h, b) = fast_exp(max(logits(j, t, h, b) - mx(t, h, b), -87.0f));
    denom(t, h, b) = 0.0f;
    denom(t, h, b) += p(rj, t, h, b);
    prob(j, t, h, b) = p(j, t, h, b) / denom(t, h, b);
    partial(j, h, b) = 0.0f;
    partial(j, h, b) += prob(j, rt, h, b);

    for (auto *buf : {&q, &k})
      for (int d = 0; d < 4; ++d)
        buf->dim(d).set_min(0);
    k.dim(0).set_extent(dh);
    k.dim(3).set_extent(q.dim(3).extent());
    log_size.dim(0).set_min(0).set_extent(keys);
    log_size.dim(1).set_min(0).set_extent(q.dim(3).extent());
    for (int d = 0; d < 3; ++d)
      partial.dim(d).set_min(0);
    partial.dim(0).set_extent(keys);
    partial.dim(1).set_extent(heads);
    partial.dim(2).set_extent(q.dim(3).extent());
    q.set_estimates({{0, 64}, {0, 6}, {0, 197}, {0, 1}});
    k.set_estimates({{0, 64}, {0, 6}, {0, 197}, {0, 1}});
    log_size.set_estimates({{0, 197}, {0, 1}});
    partial.set_estimates({{0, 197}, {0, 6}, {0, 1}});

    const int vec = natural_vector_size<float>();
    const int tile = 8;
    Var to("to"), ti("ti"), hb("hb"), jo("jo"), ji("ji");
    Expr full = queries >= tile;
    // One task per head: its probabilities, then their sum over queries.
    partial.reorder(j, h, b).fuse(h, b, hb).parallel(hb).vectorize(
        j, vec, TailStrategy::GuardWithIf);
    partial.update()
        .reorder(j, rt, h, b)
        .fuse(h, b, hb)
        .parallel(hb)
        .vectorize(j, vec, TailStrategy::GuardWithIf);
    prob.compute_at(partial, hb).vectorize(j, vec, TailStrategy::GuardWithIf);
    prob.specialize(full).split(t, to, ti, tile, TailStrategy::ShiftInwards);
    prob.split(t, to, ti, 1);
    kt.compute_at(partial, hb).vectorize(j, vec, TailStrategy::GuardWithIf);
    scores.compute_at(prob, to).vectorize(j, vec, TailStrategy::GuardWithIf);
    scores.update().specialize(full)
        .split(j, jo, ji, 3 * vec, TailStrategy::GuardWithIf)
        .reorder(ji, t, re, jo)
        .vectorize(ji, vec)
        .unroll(ji)
        .unroll(t);
    scores.update()
        .split(j, jo, ji, vec, TailStrategy::GuardWithIf)
        .reorder(ji, t, re, jo)
        .vectorize(ji);
    mx.compute_at(prob, to);
    p.compute_at(prob, to).vectorize(j, vec, TailStrategy::GuardWithIf);
    denom.compute_at(prob, to);
  }

private:
  Var e{"e"}, h{"h"}, t{"t"}, b{"b"}, j{"j"};
  Func kt{"kt"}, scores{"scores"}, logits{"logits"}, mx{"mx"}, p{"p"},
      denom{"denom"}, prob{"prob"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(AttentionGenerator, attention)
HALIDE_REGISTER_GENERATOR(AttentionReceivedGenerator, attention_received)
