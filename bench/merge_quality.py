#!/usr/bin/python3
"""Accuracy and speed of the bundled trained tiny ViT with token merging
(slim-merge-tokens: ToMe and MCTF), each r next to the unmerged binary in
the same run.

    /usr/bin/python3 bench/merge_quality.py [--r 2,4,6,8] [--runs 300]
                                            [--methods tome,mctf,mctf-after]

Prints a markdown table: method, r, tokens after each block, held-out
accuracy, top-1 agreement and mean KL against the unmerged model, --bench
median ms (1 thread, the middle of 3 alternating rounds) and the speed-up.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
QUALITY = os.path.join(ROOT, "tools", "slim-quality")
EX = os.path.join(ROOT, "examples", "tinyvit")


def main():
    rs = [int(x) for x in (sys.argv[sys.argv.index("--r") + 1] if "--r" in sys.argv else "2,4,6,8").split(",")]
    runs = sys.argv[sys.argv.index("--runs") + 1] if "--runs" in sys.argv else "300"
    work = tempfile.mkdtemp(prefix="slim-merge-")
    subprocess.run([sys.executable, os.path.join(ROOT, "test", "E2E", "Inputs", "npy.py"),
                    os.path.join(work, "px.npy"), "float32", "1,1,32,32"], check=True)
    methods = (sys.argv[sys.argv.index("--methods") + 1] if "--methods" in sys.argv
               else "tome,mctf,mctf-after").split(",")
    rows, base_lib, base_ms = [], None, None
    for method, r in [("-", 0)] + [(m, r) for m in methods for r in rs]:
        out = os.path.join(work, "%s-r%d" % (method, r))
        # mctf: the spec's default (one step ahead, mode 1); mctf-after:
        # merging after the attention (one_step_ahead 0).
        spec = "method:mctf,one_step_ahead:0" if method == "mctf-after" else "method:" + method
        args = [SLIMC, os.path.join(EX, "hf")] + (
            ["--merge-tokens=r:%d,%s" % (r, spec)] if r else [])
        subprocess.run(args + ["--emit=lib", "-o", out], capture_output=True, check=True)
        subprocess.run(args + ["-o", out + "-exe"], capture_output=True, check=True)
        mlir = subprocess.run(args + ["--emit=mlir", "-o", "-"], capture_output=True, text=True, check=True).stdout
        tokens = [int(t) for t in re.findall(r"slim.residual mlp layer \d+ \(%\w+\) : tensor<1x(\d+)x", mlir)]
        lib = os.path.join(work, "lib%s-r%d.so" % (method, r))
        q = ["python3", QUALITY, "cls", lib, "--images", os.path.join(EX, "heldout_images.bin"),
             "--labels", os.path.join(EX, "heldout_labels.bin")]
        if base_lib:
            q += ["--reference", base_lib]
        res = json.loads(subprocess.run(q, capture_output=True, text=True, check=True).stdout)
        times = []
        for _ in range(3):  # alternate with the unmerged binary
            for exe in ([os.path.join(work, "--r0-exe")] if r else []) + [out + "-exe"]:
                b = subprocess.run([exe, "--input", "pixel_values=" + os.path.join(work, "px.npy"),
                                    "--output-dir", work, "--bench", runs, "--threads", "1"],
                                   capture_output=True, text=True, check=True).stdout
                if exe == out + "-exe":
                    times.append(float(re.search(r"median_ms=([0-9.]+)", b).group(1)))
        ms = sorted(times)[1]
        if not base_lib:
            base_lib, base_ms = lib, ms
        rows.append((method, r, "→".join(map(str, tokens)), res["accuracy"],
                     res.get("top1_agreement", 1.0), res.get("mean_kl", 0.0), ms, base_ms / ms))
    print("| method | r | tokens after each block | accuracy | top-1 agreement | mean KL | ms (1 thread) | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %s | %d | %s | %.4f | %.4f | %.4f | %.3f | %.2fx |" % row)


if __name__ == "__main__":
    main()
