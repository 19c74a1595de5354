#!/usr/bin/env python3
"""Slim next to llama.cpp on a LLaMA-shaped decoder, the same weights on
both sides: prefill (128 tokens) and decode (ms per token over 64 steps),
fp32 / int8 / int4 against llama.cpp's F32 / Q8_0 / Q4_0, at 1 and 2
threads, alternating rounds, medians, every engine at a steady state.

    /usr/bin/python3 bench/make_models.py DIR llama-bench     # once
    python3 bench/peers.py DIR [--rounds 3] [--runs 5] [--cache CACHE]

llama.cpp: the prebuilt libraries of npm's `@node-llama-cpp/linux-x64`
(VERSION below; fetched with `npm pack` into CACHE, default
DIR/llama-peer), driven by bench/llama_driver.c, compiled here against
the llama.h of the same llama.cpp release (the git bundle the
`node-llama-cpp` package ships for building from source; nothing of it is
kept in this tree). Flash attention on, its default float16 KV cache.
The models: bench/gguf.py writes DIR/llama-bench/hf as GGUF (every 2-D
weight in the format, the head included); Slim compiles the same
checkpoint with `--max-seq-len 256 --kv-cache=f16` (llama.cpp's cache
type) as fp32, `--quantize=int8,head=1` and `--quantize=int4,head=1`
(Q4_0 groups of 32; W4A8 on the prefill).

First the checks: Slim's greedy tokens for a 100-token prompt (fp32, a
float32 cache) equal ONNX Runtime's (model.onnx, full recompute);
llama.cpp F32's (with a float32 KV cache) are compared with ONNX Runtime's too: its logits along the
shared prefix must stay within 1e-2 of ORT's (max |d| / max |ref|), and
where its token differs, ORT's top two logits there must be closer than
that error (a near-tie), else the GGUF is wrong and the bench stops.

Prints one table (ratios llama.cpp / Slim: > 1 means Slim is faster) and
writes peers-results.json in the working directory.
"""
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
ORT_GEN = os.path.join(ROOT, "tools", "ort", "ort-generate.js")
PY = "/usr/bin/python3"
VERSION = "3.22.1"  # @node-llama-cpp/linux-x64 and node-llama-cpp
PROMPT, GENERATE = 128, 65  # 128-token prefill, then 64 decode steps
VARIANTS = [  # (name, slimc flags, GGUF type)
    ("fp32 / F32", [], "f32"),
    ("int8 / Q8_0", ["--quantize=int8,head=1"], "q8_0"),
    ("int4 / Q4_0", ["--quantize=int4,head=1"], "q4_0"),
]


def run(cmd, cwd=None):
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if p.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    return p.stdout + p.stderr


def field(out, key):
    for tok in out.replace("(", " ").replace(")", " ").split():
        if tok.startswith(key + "="):
            return tok.split("=", 1)[1].rstrip(",;")
    sys.exit("no %s= in:\n%s" % (key, out))


def setup_llama(cache):
    """The prebuilt llama.cpp libraries and the driver built against them."""
    bins = os.path.join(cache, "package", "bins", "linux-x64")
    driver = os.path.join(bins, "llama-driver")
    src = os.path.join(cache, "llama.cpp")
    os.makedirs(cache, exist_ok=True)
    if not os.path.isdir(bins):
        tgz = run(["npm", "pack", "--silent", "@node-llama-cpp/linux-x64@" + VERSION],
                  cwd=cache).split()[-1]
        run(["tar", "xzf", tgz], cwd=cache)
    if not os.path.isdir(os.path.join(src, "include")):
        tgz = run(["npm", "pack", "--silent", "node-llama-cpp@" + VERSION], cwd=cache).split()[-1]
        run(["tar", "xzf", tgz, "package/llama/gitRelease.bundle"], cwd=cache)
        run(["git", "clone", "-q", os.path.join(cache, "package", "llama", "gitRelease.bundle"), src])
    libs = sorted(os.path.join(bins, f) for f in os.listdir(bins)
                  if f.startswith(("libllama.", "libggml.", "libggml-base")))
    here = os.path.join(ROOT, "bench", "llama_driver.c")
    if not os.path.exists(driver) or os.path.getmtime(driver) < os.path.getmtime(here):
        # In the libraries' directory: ggml loads its CPU backend variants
        # from the executable's directory.
        run(["cc", "-O2", "-std=c11", "-Wall", "-o", driver, here,
             "-I", os.path.join(src, "include"), "-I", os.path.join(src, "ggml", "include")] +
            libs + ["-Wl,-rpath,$ORIGIN"])
    meta = json.load(open(os.path.join(bins, "_nlcBuildMetadata.json")))
    return driver, meta["buildOptions"]["llamaCpp"]["release"]


def check(model, driver, slim_fp32):
    """Greedy tokens of Slim and llama.cpp F32 against ONNX Runtime's."""
    work = os.path.join(model, "check")
    os.makedirs(os.path.join(work, "ort"), exist_ok=True)
    prompt = os.path.join(model, "prompt100.npy")
    run(["node", ORT_GEN, os.path.join(model, "model.onnx"), "--prompt-ids", prompt,
         "--generate", "16", "--output-dir", os.path.join(work, "ort")])
    run([slim_fp32, "--generate", "16", "--prompt-ids", prompt,
         "--output", "ids=%s/slim-ids.npy" % work])
    out = run([driver, os.path.join(model, "model-f32.gguf"), "1",
               os.path.join(model, "prompt100.txt"), "16", "1", "f32-cache",
               "logits=%s/llama-logits.bin" % work])
    code = r"""
import json, sys
import numpy as np
w = sys.argv[1]
ort = np.load(w + "/ort/ids.npy")[0]
logits = np.load(w + "/ort/logits.npy")
slim = np.load(w + "/slim-ids.npy")[0]
llama = np.array([int(t) for t in sys.argv[2].split(",")])
ll = np.fromfile(w + "/llama-logits.bin", dtype=np.float32).reshape(len(llama), -1)
same = int(np.argmax(np.append(llama != ort, True)))
err = max(float(np.abs(ll[i] - logits[i]).max() / np.abs(logits[i]).max())
          for i in range(min(same + 1, len(ort))))
r = {"slim_equal": int((slim == ort).sum()), "llama_equal_prefix": same,
     "steps": len(ort), "llama_logits_rel_err": err}
if same < len(ort):
    top = np.sort(logits[same])[::-1]
    r["ort_margin_rel"] = float((top[0] - top[1]) / np.abs(logits[same]).max())
print(json.dumps(r))
"""
    r = json.loads(run([PY, "-c", code, work, field(out, "ids")]))
    ok = r["slim_equal"] == r["steps"] and r["llama_logits_rel_err"] <= 1e-2 and \
        (r["llama_equal_prefix"] == r["steps"] or r["ort_margin_rel"] < r["llama_logits_rel_err"])
    print("check (100-token prompt, 16 greedy tokens, ONNX Runtime fp32 the reference):")
    print("  Slim fp32: %d of %d tokens equal" % (r["slim_equal"], r["steps"]))
    line = "  llama.cpp F32 (float32 KV cache): %d of %d leading tokens equal, logits within " \
        "%.1e of ORT's along them" % (r["llama_equal_prefix"], r["steps"], r["llama_logits_rel_err"])
    if r["llama_equal_prefix"] < r["steps"]:
        line += "; step %d is a near-tie (ORT's top two %.1e apart)" % (
            r["llama_equal_prefix"] + 1, r["ort_margin_rel"])
    print(line)
    if not ok:
        sys.exit("check FAILED: the engines do not compute the same model")
    return r


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    model = os.path.join(args[0], "llama-bench")
    rounds, runs = 3, 5
    cache = os.path.join(model, "llama-peer")
    i = 1
    while i < len(args):
        if args[i] == "--rounds":
            rounds = int(args[i + 1])
        elif args[i] == "--runs":
            runs = int(args[i + 1])
        elif args[i] == "--cache":
            cache = args[i + 1]
        else:
            sys.exit("unknown option %s\n%s" % (args[i], __doc__))
        i += 2
    if not os.path.exists(os.path.join(model, "hf", "config.json")):
        sys.exit("%s: no LLaMA checkpoint; run /usr/bin/python3 bench/make_models.py %s llama-bench"
                 % (model, args[0]))
    driver, release = setup_llama(cache)
    run([PY, "-c", "import numpy as np; r = np.random.default_rng(0); ids = r.integers(0, 32000, 128); "
         "np.save('%s/prompt128.npy', ids[None]); np.save('%s/prompt100.npy', ids[None, :100]); "
         "open('%s/prompt128.txt', 'w').write(' '.join(map(str, ids))); "
         "open('%s/prompt100.txt', 'w').write(' '.join(map(str, ids[:100])))"
         % (model, model, model, model)])
    slim = {}
    for name, flags, kind in VARIANTS:
        gguf = os.path.join(model, "model-%s.gguf" % kind)
        if not os.path.exists(gguf):
            print(run([PY, os.path.join(ROOT, "bench", "gguf.py"), os.path.join(model, "hf"), gguf, kind]).strip())
        slim[kind] = os.path.join(model, "slim-" + kind)
        run([SLIMC, os.path.join(model, "hf"), "--max-seq-len", "256", "--weights=external",
             "--kv-cache=f16", "-o", slim[kind]] + flags)
    # The check's binary keeps the exact float32 cache.
    slim_check = os.path.join(model, "slim-f32-cache")
    run([SLIMC, os.path.join(model, "hf"), "--max-seq-len", "256", "--weights=external",
         "-o", slim_check])
    result = {"llama_cpp_release": release, "package": "@node-llama-cpp/linux-x64@" + VERSION,
              "check": check(model, driver, slim_check), "rows": []}
    peak = json.loads(run([os.path.join(ROOT, "build", "bin", "slim-peak"), "--json"]))
    print("machine: fp32 FMA peak %.0f GFLOP/s (1 thread), memory read %.1f GB/s (1 thread), "
          "%.1f (all)" % (peak["fp32_gflops_1"], peak["read_gbs_1"], peak["read_gbs_all"]))
    print("| Slim / llama.cpp | threads | Slim prefill ms | llama.cpp prefill ms | llama.cpp / Slim "
          "| Slim decode ms/token | llama.cpp decode ms/token | llama.cpp / Slim |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        t = {k: {"sp": [], "sd": [], "lp": [], "ld": []} for _, _, k in VARIANTS}
        for _ in range(rounds):
            for _, _, kind in VARIANTS:
                out = run([slim[kind], "--generate", str(GENERATE), "--prompt-ids",
                           os.path.join(model, "prompt128.npy"), "--threads", str(threads),
                           "--bench", str(runs)])
                t[kind]["sp"].append(float(field(out, "prefill_ms")))
                t[kind]["sd"].append(float(field(out, "decode_ms_per_token")))
                out = run([driver, os.path.join(model, "model-%s.gguf" % kind), str(threads),
                           os.path.join(model, "prompt128.txt"), str(GENERATE), str(runs)])
                t[kind]["lp"].append(float(field(out, "prefill_ms")))
                t[kind]["ld"].append(float(field(out, "decode_ms_per_token")))
        for name, _, kind in VARIANTS:
            m = {k: statistics.median(v) for k, v in t[kind].items()}
            row = {"variant": name, "threads": threads, "slim_prefill_ms": m["sp"],
                   "llama_prefill_ms": m["lp"], "slim_decode_ms": m["sd"], "llama_decode_ms": m["ld"]}
            result["rows"].append(row)
            print("| %s | %d | %.1f | %.1f | %.2fx | %.2f | %.2f | %.2fx |" % (
                name, threads, m["sp"], m["lp"], m["lp"] / m["sp"], m["sd"], m["ld"], m["ld"] / m["sd"]))
    result["peak"] = peak
    with open("peers-results.json", "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
