#!/usr/bin/python3
"""Quality of the bundled trained models under slim-quantize, each variant
next to the fp32 binary: perplexity (tiny GPT, held-out windows) or top-1
accuracy (tiny ViT, all held-out images), with top-1 agreement and mean KL
against fp32. Calibration (static scales, SmoothQuant): 16 batches from the
training split, never the held-out set.

    /usr/bin/python3 bench/quant_quality.py tinyvit|tinygpt [--windows N]

Variants: int8 dynamic, int8 static (minmax and percentile 99.99), int8 +
SmoothQuant (alpha 0.5), int4 Q4_0 in groups of 32, 64 and 128 (W4A8:
int8 activations; g32 also with act=float;
n/a where the group does not divide a layer's inputs),
int4 min/max g32 (the tiny ViT keeps its 16-input patch embedding in
float: keep=patch_embeddings). Prints a markdown table.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
QUALITY = os.path.join(ROOT, "tools", "slim-quality")

spec = importlib.util.spec_from_file_location("drop_quality", os.path.join(HERE, "drop_quality.py"))
dq = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dq)


def main():
    example = sys.argv[1]
    windows = sys.argv[sys.argv.index("--windows") + 1] if "--windows" in sys.argv else None
    work = tempfile.mkdtemp(prefix="slim-quant-")
    calib, quality, metric, _ = dq.prepare(example, work, windows)
    hf = os.path.join(ROOT, "examples", example, "hf")
    extra = [] if example == "tinyvit" else ["--seq-len", "128"]
    variants = [("fp32", None), ("int8 dynamic", "int8"),
                ("int8 static (minmax)", "int8,act=static"),
                ("int8 static (percentile 99.99)", "int8,act=static,calib=percentile"),
                ("int8 + SmoothQuant 0.5", "int8,smoothquant=0.5"),
                ("int4 Q4_0 g32 (W4A8)", "int4"),
                ("int4 Q4_0 g32, float activations", "int4,act=float"),
                ("int4 Q4_0 g64", "int4,group=64"),
                ("int4 Q4_0 g128", "int4,group=128"),
                ("int4 min/max g32", "int4,sym=0")]
    if example == "tinyvit":  # the 16-input patch embedding: no group of 32 divides it
        variants = [(n, q + ",keep=patch_embeddings" if q and q.startswith("int4") else q) for n, q in variants]
    rows, base = [], None
    for name, q in variants:
        out = os.path.join(work, "v%d" % len(rows))
        args = [SLIMC, hf] + extra + ["--emit=lib", "-o", out]
        if q:
            args += ["--quantize=" + q, "--calibration", calib]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode and "not divisible by group_size" in p.stderr:
            reason = p.stderr[p.stderr.index("in_features="):].split("\n")[0]
            rows.append((name, "n/a: " + reason))
            continue
        if p.returncode:
            sys.exit(p.stderr)
        lib = os.path.join(work, "lib" + os.path.basename(out) + ".so")
        cmd = ["python3", QUALITY] + quality[:1] + [lib] + quality[1:]
        if base:
            cmd += ["--reference", base]
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        if not base:
            base = lib
        rows.append((name, r[metric], r.get("top1_agreement", 1.0), r.get("mean_kl", 0.0),
                     os.path.getsize(lib) / 1e6))
    print("| variant | %s | top-1 agreement with fp32 | mean KL | library MB |" % metric)
    print("|---|---|---|---|---|")
    for r in rows:
        if len(r) == 2:
            print("| %s | %s | | | |" % r)
        else:
            print("| %s | %.4f | %.4f | %.2g | %.1f |" % r)


if __name__ == "__main__":
    main()
