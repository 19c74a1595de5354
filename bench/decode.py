#!/usr/bin/env python3
"""KV-cache decoding of the GPT-2-small benchmark model: Slim next to ONNX
Runtime (one decode step with past key/values, decode-past128.onnx) and
PyTorch eager (the same step, bench/torch_decode.py), in the same run.

    /usr/bin/python3 bench/make_models.py /tmp/bench-models gpt2-small gpt2-small-decode
    python3 bench/decode.py /tmp/bench-models [--threads 1] [--runs 20] [--rounds 3]

Slim: `slimc gpt2-small/hf --max-seq-len 256` (fp32; --quantize=int8 with
the head float, and with head=1; --quantize=int4 in groups of 32 and 128
(W4A8 prefill, float activations in the one-row decode steps), and g32
with head=1; fp32 with the six odd attention
sublayers dropped, --drop-list), run as `--generate 17 --prompt-ids
(128 ids) --bench RUNS`: the medians of the prefill (128 tokens, one
chunk) and of the decode ms per token (16 steps at 128 … 143 cached
positions). ORT and PyTorch: one step at 128 cached positions, median of
RUNS. Rounds alternate the engines; the median of the round medians is
reported, with ratios peer / Slim (> 1: Slim faster), the KV cache bytes,
the bytes a decode step streams and the effective GB/s against slim-peak's
measured read bandwidth. Checks first that Slim's greedy tokens for a
100-token prompt equal ONNX Runtime's (full recompute on model.onnx).
Writes decode-results.json.
"""
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (options)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
ORT_RUN = os.path.join(ROOT, "tools", "ort", "ort-run.js")
ORT_GEN = os.path.join(ROOT, "tools", "ort", "ort-generate.js")
PY = "/usr/bin/python3"


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name)


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return p.stdout + p.stderr


def main():
    args = sys.argv[1:]
    root = os.path.join(args[0], "gpt2-small")
    threads, runs, rounds = bench.options(args, runs=20)
    peak = json.loads(run([os.path.join(ROOT, "build", "bin", "slim-peak"), "--json"]))
    bandwidth = peak["read_gbs_1"] if threads == 1 else peak["read_gbs_all"]
    run([PY, "-c", "import numpy as np; r = np.random.default_rng(0); "
         "np.save('%s/prompt128.npy', r.integers(0, 50257, (1, 128))); "
         "np.save('%s/prompt100.npy', r.integers(0, 50257, (1, 100))); "
         "np.save('%s/dec_ids.npy', np.array([[42]])); "
         "np.save('%s/dec_past.npy', (r.standard_normal((12, 1, 12, 128, 64)) * 0.5).astype(np.float32))"
         % (root, root, root, root)])
    variants = {"fp32": [], "int8": ["--quantize=int8"], "int8+head": ["--quantize=int8,head=1"],
                "int4-g32": ["--quantize=int4"], "int4-g128": ["--quantize=int4,group=128"],
                "int4-g32+head": ["--quantize=int4,head=1"],
                "fp32, half attention dropped": ["--drop-list", ",".join(
                    "attention:%d" % i for i in range(1, 12, 2))]}
    for name, flags in variants.items():
        run([SLIMC, os.path.join(root, "hf"), "--max-seq-len", "256", "--weights=external",
             "-o", os.path.join(root, "gen-" + slug(name))] + flags)
    # Correctness first: greedy tokens equal ONNX Runtime's.
    gen = os.path.join(root, "gen-check")
    os.makedirs(gen + "/ort", exist_ok=True)
    run([os.path.join(root, "gen-fp32"), "--generate", "16", "--prompt-ids", root + "/prompt100.npy",
         "--output-dir", gen, "--output", "logits=%s/logits.npy" % gen])
    run(["node", ORT_GEN, root + "/model.onnx", "--prompt-ids", root + "/prompt100.npy",
         "--generate", "16", "--output-dir", gen + "/ort"])
    check = run([PY, os.path.join(ROOT, "test", "E2E", "Inputs", "compare_generation.py"),
                 gen, gen + "/ort", "1e-4"]).strip()
    print("greedy vs ONNX Runtime (100-token prompt, 16 tokens):", check)

    torch_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if threads > 1:
        torch_env["OMP_WAIT_POLICY"] = "PASSIVE"
    times = {k: [] for k in ["ort", "torch"] + ["slim-" + v for v in variants]}
    prefill = {v: [] for v in variants}
    cache_bytes = {}
    for _ in range(rounds):
        for v in variants:
            out = run([os.path.join(root, "gen-" + slug(v)), "--generate", "17", "--prompt-ids",
                       root + "/prompt128.npy", "--output", "ids=%s/ids.npy" % gen,
                       "--threads", str(threads), "--bench", str(max(3, runs // 4))])
            times["slim-" + v].append(float(re.search(r"decode_ms_per_token=([0-9.]+)", out).group(1)))
            prefill[v].append(float(re.search(r"prefill_ms=([0-9.]+)", out).group(1)))
            cache_bytes[v] = int(re.search(r"KV cache ([0-9]+) bytes", out).group(1))
        out = run(["node", ORT_RUN, root + "/decode-past128.onnx", "--input",
                   "input_ids=%s/dec_ids.npy" % root, "--input", "past_key=%s/dec_past.npy" % root,
                   "--input", "past_value=%s/dec_past.npy" % root, "--output-dir", gen + "/ort-step",
                   "--threads", str(threads), "--bench", str(runs)])
        times["ort"].append(float(re.search(r"median_ms=([0-9.]+)", out).group(1)))
        out = run([PY, os.path.join(ROOT, "bench", "torch_decode.py"), root, str(threads), str(runs)],
                  env=torch_env)
        times["torch"].append(float(re.search(r"median_ms=([0-9.]+)", out).group(1)))
    med = {k: statistics.median(v) for k, v in times.items()}
    # Bytes a decode step streams: every weight but the embedding tables
    # (one row each) -- the .weights file less the token and position tables.
    rows = []
    for v in variants:
        weights = os.path.getsize(os.path.join(root, "gen-%s.weights" % slug(v)))
        streamed = weights - (50257 + 1024) * 768 * 4
        ms = med["slim-" + v]
        rows.append({"variant": v, "threads": threads, "decode_ms": ms,
                     "prefill_ms": statistics.median(prefill[v]),
                     "ort_over_slim": med["ort"] / ms, "torch_over_slim": med["torch"] / ms,
                     "streamed_mb": streamed / 1e6, "gbs": streamed / ms / 1e6,
                     "kv_cache_mb": cache_bytes[v] / 2**20,
                     "read_bandwidth_gbs": bandwidth})
    print("| Slim | threads | decode ms/token | ORT ms | ORT/Slim | PyTorch ms | PyTorch/Slim | "
          "prefill ms (128) | MB streamed/token | GB/s (peak %.1f) | KV cache MiB |" % bandwidth)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.1f | %.0f | %.1f | %.1f |" % (
            r["variant"], threads, r["decode_ms"], med["ort"], r["ort_over_slim"], med["torch"],
            r["torch_over_slim"], r["prefill_ms"], r["streamed_mb"], r["gbs"], r["kv_cache_mb"]))
    with open("decode-results.json", "w") as f:
        json.dump({"peak": peak, "check": check, "ort_ms": med["ort"], "torch_ms": med["torch"],
                   "kv_cache_bytes": cache_bytes, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
