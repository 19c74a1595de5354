#!/usr/bin/env python3
"""Speed of Slim's int8 binaries next to ONNX Runtime fp32 and PyTorch's
dynamic int8 (torch.ao.quantization.quantize_dynamic, oneDNN) in the same
run: GPT-2-small prefill (T = 128) and DeiT-S.

    /usr/bin/python3 bench/make_models.py /tmp/bench-models gpt2-small deit-small
    python3 bench/quant_speed.py /tmp/bench-models [--threads 1] [--runs 10] [--rounds 3]

Slim: `--ln-to-rmsnorm --quantize=int8` (W8A8, dynamic per-token scales,
the head in float), and for GPT-2 also with head=1 and with int4 g32
weights; ORT: fp32 on model.onnx; PyTorch: dynamic int8 on the same
weights (bench/torch_time.py --int8). Rounds alternate the engines; the
median of the round medians is reported with the ratios peer / Slim
(> 1: Slim faster). Prints a markdown table.
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


def main():
    args = sys.argv[1:]
    root = args[0]
    threads, runs, rounds = bench.options(args)
    torch_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if threads > 1:
        torch_env["OMP_WAIT_POLICY"] = "PASSIVE"
    models = {"gpt2-small": [("int8", ["--ln-to-rmsnorm", "--quantize=int8"]),
                             ("int8, int8 head", ["--ln-to-rmsnorm", "--quantize=int8,head=1"]),
                             ("int4 g32 (weight-only)", ["--quantize=int4"])],
              "deit-small": [("int8", ["--ln-to-rmsnorm", "--quantize=int8"])]}
    print("| model | Slim | threads | Slim ms | ORT fp32 ms | ORT/Slim | PyTorch int8 ms | PyTorch/Slim |")
    print("|---|---|---|---|---|---|---|---|")
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
        for label, flags in variants:
            exe = os.path.join(d, "slim-" + label.split()[0] + str(len(exes)))
            bench.timed([bench.SLIMC, model, "--weights=external", "-o", exe] + flags)
            exes.append((label, exe))
        slim = {label: [] for label, _ in exes}
        ort, torch = [], []
        for _ in range(rounds):
            for label, exe in exes:
                out, _, _ = bench.timed([exe] + feeds + ["--output-dir", out_dir, "--threads",
                                                         str(threads), "--bench", str(runs)])
                slim[label].append(bench.median_ms(out))
            out, _, _ = bench.timed(["node", bench.ORT, model] + feeds + ["--output-dir", out_dir,
                                                                          "--threads", str(threads),
                                                                          "--bench", str(runs)])
            ort.append(bench.median_ms(out))
            p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_time.py"), d, str(threads),
                                str(runs), "--int8"], capture_output=True, text=True, env=torch_env)
            if p.returncode:
                sys.exit("PyTorch timing failed: " + p.stderr)
            torch.append(bench.median_ms(p.stdout))
        o, t = statistics.median(ort), statistics.median(torch)
        for label, _ in exes:
            s = statistics.median(slim[label])
            print("| %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f |" % (name, label, threads, s, o, o / s, t, t / s))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
