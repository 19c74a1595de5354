#!/usr/bin/python3
"""An independent NumPy implementation of a Hugging Face ViT with Token
Merging (ToMe: bipartite soft matching on the keys averaged over heads,
size-weighted merging, proportional attention, CLS protected), written from
the paper's algorithm, to check Slim's slim-merge-tokens + token_merge
kernel. Runs in float64.

    tome_reference.py HF_DIR PIXELS.npy R DUMP_DIR [--prop-attn 0|1]
                      [--unmerge HIDDEN.npy] [--method tome|mctf]
                      [--tau SIM,INFO,SIZE] [--bidirectional 0|1]
                      [--one-step-ahead 0|1|2]

--method mctf: Multi-criteria token fusion (MCTF, without one-step-ahead
attention) from docs/passes.md §2.2, written from the formulas: the
hidden states after the attention residual as the metric, the attention
each token received (this block's probabilities averaged over heads and
queries), scores W_sim·W_info·W_size, bidirectional merging, weights
received × size, r capped so that 10 tokens remain. --one-step-ahead 2:
the merge happens at the start of each block, with the received attention
of a look-ahead attention on the block input; the block then runs on the
merged tokens. --one-step-ahead 1: the same merge, and the block's
attention output is Â·V(norm1(x̂)), Â the look-ahead probabilities with
the rows of merged queries averaged (weights received × size) and the
columns of merged keys summed.

Compares its hidden state after every residual (DUMP_DIR/layer<L>.<kind>.npy
from `slim-run --dump-layers`) and prints one line per layer with the
largest difference relative to the largest magnitude, the token sizes, and
"OK" when every layer is within 1e-5. Exits 1 otherwise. With --unmerge,
also checks HIDDEN.npy, the model's per-token output (the final LayerNorm
of every original token, unmerged), against the reference's final
LayerNorm copied back to the original tokens by its own record of where
each token went.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import read_safetensors  # noqa: E402

hf, pixels_path, r, dump = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prop_attn = "--prop-attn" not in sys.argv or sys.argv[sys.argv.index("--prop-attn") + 1] == "1"
unmerged_path = sys.argv[sys.argv.index("--unmerge") + 1] if "--unmerge" in sys.argv else None
method = sys.argv[sys.argv.index("--method") + 1] if "--method" in sys.argv else "tome"
taus = [float(t) for t in (sys.argv[sys.argv.index("--tau") + 1].split(",")
                           if "--tau" in sys.argv else ["1", "20", "40"])]
bidirectional = "--bidirectional" not in sys.argv or sys.argv[sys.argv.index("--bidirectional") + 1] == "1"
ahead = int(sys.argv[sys.argv.index("--one-step-ahead") + 1]) if "--one-step-ahead" in sys.argv else 0

cfg = json.load(open(os.path.join(hf, "config.json")))
W = {name: np.frombuffer(data, dtype=np.float32).reshape(shape).astype(np.float64)
     for name, (shape, data) in read_safetensors(os.path.join(hf, "model.safetensors")).items()}

d, H = cfg["hidden_size"], cfg["num_attention_heads"]
P, eps = cfg["patch_size"], cfg["layer_norm_eps"]
dh = d // H
erf = np.vectorize(math.erf)


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def linear(x, prefix):
    return x @ W[prefix + ".weight"].T + W[prefix + ".bias"]


def bipartite_merge(x, metric, size, r):
    """ToMe's bipartite soft matching with a protected CLS token (index 0)."""
    metric = metric / np.linalg.norm(metric, axis=-1, keepdims=True)
    a, b = metric[0::2], metric[1::2]
    scores = a @ b.T
    scores[0, :] = -np.inf                      # CLS is never merged
    node_max, node_idx = scores.max(-1), scores.argmax(-1)
    edge_idx = np.argsort(-node_max, kind="stable")  # ties: lower index
    src_idx, unm_idx = edge_idx[:r], np.sort(edge_idx[r:])
    dst_idx = node_idx[src_idx]
    xa, xb = (x * size)[0::2], (x * size)[1::2]
    sa, sb = size[0::2], size[1::2]
    xb, sb = xb.copy(), sb.copy()
    for s, t in zip(src_idx, dst_idx):          # several sources may share t
        xb[t] += xa[s]
        sb[t] += sa[s]
    x = np.concatenate([xa[unm_idx], xb]) / np.concatenate([sa[unm_idx], sb])
    # Where every input row went: kept A rows first, then B; a source joins
    # its destination.
    where = np.empty(metric.shape[0], dtype=np.int64)
    where[2 * unm_idx] = np.arange(len(unm_idx))
    where[1::2] = len(unm_idx) + np.arange(b.shape[0])
    where[2 * src_idx] = len(unm_idx) + dst_idx
    return x, np.concatenate([sa[unm_idx], sb]), where


def mctf_merge(x, received, size, r):
    """MCTF with CLS (index 0) protected; returns x, sizes, where (row of
    every input token)."""
    tau_sim, tau_info, tau_size = taus
    T = x.shape[0]
    ia, ib = np.arange(0, T, 2), np.arange(1, T, 2)
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    w_sim = ((unit[ia] @ unit[ib].T + 1) / 2) ** (1 / tau_sim)
    info = (1 / received) / (1 / received).max()
    small = (1 / size[:, 0]) / (1 / size[:, 0]).max()
    w_info = np.outer(info[ia], info[ib]) ** (1 / tau_info)
    w_size = np.outer(small[ia], small[ib]) ** (1 / tau_size)
    score = w_sim * w_info * w_size
    score[0, :] = -np.inf                       # CLS: never a source
    r1 = r // 2 if bidirectional else r
    owner = np.arange(T)                        # the token each one joins
    best = score.argmax(1)
    src = np.argsort(-score.max(1), kind="stable")[:r1]
    owner[ia[src]] = ib[best[src]]
    if r - r1:
        free = np.array([i for i in range(len(ia)) if i not in set(src) and ia[i] != 0])
        sub = score[free]                       # the same scores, transposed use
        moved = np.argsort(-sub.max(0), kind="stable")[:r - r1]
        for j in moved:
            target = ia[free[sub[:, j].argmax()]]
            owner[owner == ib[j]] = target      # b and everything merged into it
    kept_a = [t for t in ia if owner[t] == t]
    kept_b = [t for t in ib if owner[t] == t]
    rows = kept_a + kept_b                      # CLS is kept_a[0]
    where = np.array([rows.index(owner[t]) for t in range(T)])
    w = received * size[:, 0] / size.max()
    out = np.zeros((len(rows), x.shape[1]))
    wsum, ssum = np.zeros(len(rows)), np.zeros(len(rows))
    for t in range(T):
        out[where[t]] += w[t] * x[t]
        wsum[where[t]] += w[t]
        ssum[where[t]] += size[t, 0]
    return out / wsum[:, None], ssum[:, None], where


px = np.load(pixels_path).astype(np.float64)[0]           # [C, S, S]
C, S, _ = px.shape
g = S // P
patches = px.reshape(C, g, P, g, P).transpose(1, 3, 0, 2, 4).reshape(g * g, C * P * P)
wp = W["vit.embeddings.patch_embeddings.projection.weight"].reshape(d, -1)
x = patches @ wp.T + W["vit.embeddings.patch_embeddings.projection.bias"]
x = np.concatenate([W["vit.embeddings.cls_token"][0], x]) + W["vit.embeddings.position_embeddings"][0]
size = np.ones((x.shape[0], 1))
source = np.arange(x.shape[0])  # the current row of every original token

worst = 0.0
def check(name, value):
    global worst
    got = np.load(os.path.join(dump, name + ".npy")).astype(np.float64)[0]
    if got.shape != value.shape:
        print("%s: shape %s, reference %s" % (name, got.shape, value.shape))
        worst = math.inf
        return
    rel = np.abs(got - value).max() / np.abs(value).max()
    worst = max(worst, rel)
    print("%s: tokens %d, max|d|/max|ref| %.2e" % (name, value.shape[0], rel))

def attention_probs(h, p, size):
    q = linear(h, p + "attention.attention.query").reshape(-1, H, dh)
    k = linear(h, p + "attention.attention.key").reshape(-1, H, dh)
    logits = np.einsum("thd,shd->hts", q, k) / math.sqrt(dh)
    if prop_attn:
        logits = logits + np.log(size[:, 0])[None, None, :]
    att = np.exp(logits - logits.max(-1, keepdims=True))
    return k, att / att.sum(-1, keepdims=True)


for l in range(cfg["num_hidden_layers"]):
    p = "vit.encoder.layer.%d." % l
    approx = None
    if ahead:  # MCTF one step ahead: merge the block input first
        rl = max(0, min(r, (x.shape[0] - 1) // 2, x.shape[0] - 10))
        if rl > 0:
            h = layer_norm(x, W[p + "layernorm_before.weight"], W[p + "layernorm_before.bias"])
            _, att = attention_probs(h, p, size)
            received = att.mean(axis=(0, 1))
            old_size = size
            x, size, where = mctf_merge(x, received, size, rl)
            source = where[source]
            if ahead == 1:  # Â: rows of merged queries averaged, columns summed
                w = received * old_size[:, 0]
                member = np.zeros((x.shape[0], len(where)))
                member[where, np.arange(len(where))] = 1.0
                rows = np.einsum("gt,hts->hgs", member * w, att) / (member @ w)[None, :, None]
                approx = np.einsum("hgs,Gs->hgG", rows, member)
    h = layer_norm(x, W[p + "layernorm_before.weight"], W[p + "layernorm_before.bias"])
    k, att = attention_probs(h, p, size)
    if approx is not None:
        att = approx
    v = linear(h, p + "attention.attention.value").reshape(-1, H, dh)
    o = np.einsum("hts,shd->thd", att, v).reshape(-1, d)
    x = x + linear(o, p + "attention.output.dense")
    check("layer%d.attention" % l, x)
    rl = min(r, (x.shape[0] - 1) // 2)
    if method == "mctf":
        rl = max(0, min(rl, x.shape[0] - 10))
    if ahead:
        pass
    elif rl > 0 and method == "mctf":
        x, size, where = mctf_merge(x, att.mean(axis=(0, 1)), size, rl)
        source = where[source]
    elif rl > 0:
        x, size, where = bipartite_merge(x, k.mean(1), size, rl)
        source = where[source]
    h = layer_norm(x, W[p + "layernorm_after.weight"], W[p + "layernorm_after.bias"])
    m = linear(h, p + "intermediate.dense")
    m = 0.5 * m * (1 + erf(m / math.sqrt(2)))
    x = x + linear(m, p + "output.dense")
    check("layer%d.mlp" % l, x)
    print("  sizes after layer %d: %s (sum %d)" % (l, " ".join(str(int(s)) for s in size[:, 0]), int(size.sum())))

if unmerged_path:
    final = layer_norm(x, W["vit.layernorm.weight"], W["vit.layernorm.bias"])[source]
    got = np.load(unmerged_path).astype(np.float64)[0]
    if got.shape != final.shape:
        print("unmerged output: shape %s, reference %s" % (got.shape, final.shape))
        worst = math.inf
    else:
        rel = np.abs(got - final).max() / np.abs(final).max()
        worst = max(worst, rel)
        print("unmerged output: %d rows from %d tokens, max|d|/max|ref| %.2e"
              % (final.shape[0], x.shape[0], rel))
print("max over layers %.2e (tolerance 1e-5) %s" % (worst, "OK" if worst <= 1e-5 else "FAIL"))
sys.exit(0 if worst <= 1e-5 else 1)
