#!/usr/bin/env python3
"""Speed of Slim's int8 and int4 binaries next to ONNX Runtime fp32, ONNX
Runtime's own int8 (bench/ort_int8.py: quantize_dynamic's MatMulInteger
form, per-channel weights) and PyTorch's dynamic int8
(torch.ao.quantization.quantize_dynamic, oneDNN) in the same run: GPT-2-small
prefill (T = 128) and DeiT-S.

    /usr/bin/python3 bench/make_models.py /tmp/bench-models gpt2-small deit-small
    python3 bench/quant_speed.py /tmp/bench-models [--threads 1] [--runs 10] [--rounds 3] [--no-torch]

Slim: `--ln-to-rmsnorm --quantize=int8` (W8A8, dynamic per-token scales,
the head in float), also with attention=1 (the attentions' products in
int8 too; ORT int8's attention stays float), and for GPT-2 also with
head=1 and with int4 g32 weights (W4A8, and act=float); ORT: fp32 on model.onnx and int8 with the
same head treatment as the Slim row (float, or int8 for head=1), each int8
model checked first by the cosine of its output with fp32's; PyTorch:
dynamic int8 on the same weights (bench/torch_time.py --int8). Every
engine is timed at steady state (Slim's --bench and tools/ort/ort-run.js
warm up until the last runs agree within 5%). Rounds alternate the
engines; the median of the round medians is reported with the ratios peer
/ Slim (> 1: Slim faster). Prints a markdown table, then the cosines.
--no-torch leaves PyTorch out (its columns print "-").
"""
import os
import random
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (write_npy, timed, median_ms)

ROOT = os.path.dirname(HERE)


def ort_int8(d, head):
    """The ONNX Runtime int8 model (bench/ort_int8.py), written once, and
    the cosine of its output with the fp32 model's on `feeds`."""
    name = "model-int8-head.onnx" if head else "model-int8.onnx"
    path = os.path.join(d, name)
    if not os.path.exists(path):
        bench.timed(["/usr/bin/python3", os.path.join(HERE, "ort_int8.py"),
                     os.path.join(d, "model.onnx"), path] + (["--head"] if head else []))
    return path


def cosine(a_dir, b_dir):
    p = subprocess.run(["/usr/bin/python3", "-c",
                        "import glob, os, sys, numpy as np\n"
                        "a = sorted(glob.glob(os.path.join(sys.argv[1], '*.npy')))[0]\n"
                        "x = np.load(a).ravel().astype(np.float64)\n"
                        "y = np.load(os.path.join(sys.argv[2], os.path.basename(a))).ravel().astype(np.float64)\n"
                        "print(x @ y / np.linalg.norm(x) / np.linalg.norm(y))", a_dir, b_dir],
                       capture_output=True, text=True, check=True)
    return float(p.stdout)


def main():
    args = sys.argv[1:]
    root = args[0]
    threads, runs, rounds = bench.options(args)
    with_torch = "--no-torch" not in args
    torch_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if threads > 1:
        torch_env["OMP_WAIT_POLICY"] = "PASSIVE"
    # (label, slimc flags, whether the head is int8: the ORT int8 peer
    # gets the same head treatment)
    models = {"gpt2-small": [("int8", ["--ln-to-rmsnorm", "--quantize=int8"], False),
                             ("int8, int8 head", ["--ln-to-rmsnorm", "--quantize=int8,head=1"], True),
                             ("int8, int8 head, int8 attention",
                              ["--ln-to-rmsnorm", "--quantize=int8,head=1,attention=1"], True),
                             ("int4 g32 (W4A8)", ["--quantize=int4"], False),
                             ("int4 g32, float activations", ["--quantize=int4,act=float"], False)],
              "deit-small": [("int8", ["--ln-to-rmsnorm", "--quantize=int8"], False),
                             ("int8, int8 attention",
                              ["--ln-to-rmsnorm", "--quantize=int8,attention=1"], False)]}
    print("| model | Slim | threads | Slim ms | ORT fp32 ms | ORT fp32 / Slim | ORT int8 ms | ORT int8 / Slim "
          "| PyTorch int8 ms | PyTorch / Slim |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for name, variants in models.items():
        d = os.path.join(root, name)
        model = os.path.join(d, "model.onnx")
        rng = random.Random(0)
        if name.startswith("gpt2"):
            feed = os.path.join(d, "q.input_ids.npy")
            bench.write_npy(feed, "q", "<i8", [1, 128], [rng.randrange(50257) for _ in range(128)])
            feeds = ["--input", "input_ids=" + feed]
        else:
            feed = os.path.join(d, "q.pixel_values.npy")
            bench.write_npy(feed, "f", "<f4", [1, 3, 224, 224], [rng.gauss(0, 1) for _ in range(3 * 224 * 224)])
            feeds = ["--input", "pixel_values=" + feed]
        out_dir = os.path.join(d, "qout")
        os.makedirs(out_dir, exist_ok=True)
        exes = []
        for label, flags, head in variants:
            exe = os.path.join(d, "slim-" + label.split()[0] + str(len(exes)))
            bench.timed([bench.SLIMC, model, "--weights=external", "-o", exe] + flags)
            exes.append((label, exe, head))
        # ORT int8 (head float, and int8 when a variant quantizes it), each
        # checked against ORT fp32 by the cosine of the outputs.
        ort_models = {"fp32": model}
        for head in sorted({h for _, _, h in variants}):
            ort_models["int8" + ("+head" if head else "")] = ort_int8(d, head)
        fp32_dir = os.path.join(d, "qout-ort-fp32")
        bench.timed(["node", bench.ORT, model] + feeds + ["--output-dir", fp32_dir])
        for key, path in ort_models.items():
            if key != "fp32":
                out = os.path.join(d, "qout-ort-" + key)
                bench.timed(["node", bench.ORT, path] + feeds + ["--output-dir", out])
                notes.append("%s ORT %s: cosine with ORT fp32 %.5f" % (name, key, cosine(fp32_dir, out)))
        slim = {label: [] for label, _, _ in exes}
        ort = {key: [] for key in ort_models}
        torch = []
        for _ in range(rounds):
            for label, exe, _ in exes:
                out, _, _ = bench.timed([exe] + feeds + ["--output-dir", out_dir, "--threads",
                                                         str(threads), "--bench", str(runs)])
                slim[label].append(bench.median_ms(out))
            for key, path in ort_models.items():
                out, _, _ = bench.timed(["node", bench.ORT, path] + feeds + ["--output-dir", out_dir,
                                                                             "--threads", str(threads),
                                                                             "--bench", str(runs)])
                if "steady=0" in out:
                    notes.append("%s ORT %s: not steady after 50 warm-up runs" % (name, key))
                ort[key].append(bench.median_ms(out))
            if not with_torch:
                continue
            p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_time.py"), d, str(threads),
                                str(runs), "--int8"], capture_output=True, text=True, env=torch_env)
            if p.returncode:
                sys.exit("PyTorch timing failed: " + p.stderr)
            torch.append(bench.median_ms(p.stdout))
        o = statistics.median(ort["fp32"])
        t = statistics.median(torch) if torch else None
        for label, _, head in exes:
            s = statistics.median(slim[label])
            o8 = statistics.median(ort["int8" + ("+head" if head else "")])
            print("| %s | %s | %d | %.1f | %.1f | %.2f× | %.1f | %.2f× | %s | %s |"
                  % (name, label, threads, s, o, o / s, o8, o8 / s,
                     "%.1f" % t if t else "-", "%.2f×" % (t / s) if t else "-"))
        sys.stdout.flush()
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
