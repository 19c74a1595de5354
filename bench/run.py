#!/usr/bin/env python3
"""Compiles the benchmark models with slimc and times them next to ONNX
Runtime in the same run.

    /usr/bin/python3 bench/make_models.py /tmp/bench-models   # once (PyTorch)
    python3 bench/run.py /tmp/bench-models [--threads 1] [--runs 10] [--rounds 3] [--no-torch]

For each model: slimc compile time and peak RSS, the binary's size without
weights (external weights), its peak RSS when running, then `--bench RUNS`
of Slim, of ONNX Runtime (same thread count) and of PyTorch eager
(bench/torch_time.py, Debian's /usr/bin/python3), alternated for ROUNDS
rounds; the median of the per-round medians is reported, with the ratios
Slim / ORT and Slim / PyTorch. Prints a markdown table and writes bench-results.json.
"""
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import array

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
ORT = os.path.join(ROOT, "tools", "ort", "ort-run.js")


def write_npy(path, code, descr, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(array.array(code, values).tobytes())


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, seconds, peak RSS MB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    t, rss = re.findall(r"TIME ([0-9.]+) ([0-9]+)", p.stderr)[-1]
    return p.stdout, float(t), int(rss) / 1024


def median_ms(out):
    return float(re.search(r"median_ms=([0-9.]+)", out).group(1))


def options(args, runs=10):
    """--threads (1), --runs (`runs`) and --rounds (3) of a benchmark
    driver's command line."""
    def value(flag, default):
        return int(args[args.index(flag) + 1]) if flag in args else default
    return value("--threads", 1), value("--runs", runs), value("--rounds", 3)


def main():
    args = sys.argv[1:]
    root = args[0]
    threads, runs, rounds = options(args)
    global skip_torch
    skip_torch = "--no-torch" in args
    rows = []
    # The machine's measured peaks, for kernel efficiency (slim-peak).
    peak = json.loads(subprocess.run([os.path.join(ROOT, "build", "bin", "slim-peak"), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    print("peak: fp32 FMA %.1f GFLOP/s (1 thread), %.1f (%d threads); int8 VNNI %.1f GOP/s (1 thread)"
          % (peak["fp32_gflops_1"], peak["fp32_gflops_all"], peak["cores"], peak["int8_vnni_gops_1"]))
    for name in sorted(os.listdir(root)):
        model = os.path.join(root, name, "model.onnx")
        if not os.path.exists(model):
            continue
        exe = os.path.join(root, name, "slim")
        _, compile_s, compile_rss = timed([SLIMC, model, "--weights=external", "-o", exe])
        desc = json.loads(subprocess.run(["node", ORT, model, "--describe"], capture_output=True,
                                         text=True).stdout)
        rng = random.Random(0)
        feeds = []
        for inp in desc["inputs"]:
            n = 1
            for d in inp["shape"]:
                n *= d
            path = os.path.join(root, name, "in.%s.npy" % inp["name"])
            if inp["type"] == "int64":
                write_npy(path, "q", "<i8", inp["shape"], [rng.randrange(1000) for _ in range(n)])
            else:
                write_npy(path, "f", "<f4", inp["shape"], [rng.gauss(0, 1) for _ in range(n)])
            feeds += ["--input", "%s=%s" % (inp["name"], path)]
        out_dir = os.path.join(root, name, "out")
        os.makedirs(out_dir, exist_ok=True)
        slim_ms, ort_ms, torch_ms, slim_rss = [], [], [], 0
        torch_env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads),
                         OMP_NUM_THREADS=str(threads))
        if threads > 1:
            torch_env["OMP_WAIT_POLICY"] = "PASSIVE"
        for _ in range(rounds):
            out, _, rss = timed([exe] + feeds + ["--output-dir", out_dir, "--threads", str(threads),
                                                 "--bench", str(runs)])
            slim_ms.append(median_ms(out))
            slim_rss = max(slim_rss, rss)
            out, _, _ = timed(["node", ORT, model] + feeds + ["--output-dir", out_dir, "--threads",
                                                              str(threads), "--bench", str(runs)])
            ort_ms.append(median_ms(out))
            if not skip_torch:
                out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_time.py"),
                                      os.path.join(root, name), str(threads), str(runs)],
                                     capture_output=True, text=True, env=torch_env)
                if out.returncode:
                    sys.exit("PyTorch timing failed: " + out.stderr)
                torch_ms.append(median_ms(out.stdout))
        row = {"model": name, "threads": threads, "compile_s": compile_s,
               "compile_peak_rss_mb": round(compile_rss), "binary_kb": os.path.getsize(exe) // 1024,
               "weights_mb": os.path.getsize(exe + ".weights") / 2**20,
               "run_peak_rss_mb": round(slim_rss),
               "slim_ms": statistics.median(slim_ms), "ort_ms": statistics.median(ort_ms)}
        row["ratio"] = row["slim_ms"] / row["ort_ms"]
        if torch_ms:
            row["torch_ms"] = statistics.median(torch_ms)
            row["torch_ratio"] = row["slim_ms"] / row["torch_ms"]
        # Where the time goes, with each kernel kind's share of the peak.
        prof = subprocess.run([exe] + feeds + ["--output-dir", out_dir, "--threads", str(threads),
                                               "--bench", str(runs), "--profile", "--peak-gflops",
                                               str(peak["fp32_gflops_1"] * threads)],
                              capture_output=True, text=True, check=True).stdout
        row["profile_by_kind"] = prof[prof.index("per op kind:"):].strip()
        print("%s, %d thread(s):\n%s" % (name, threads, row["profile_by_kind"]))
        rows.append(row)
    print("| model | threads | Slim ms | ORT ms | Slim/ORT | PyTorch ms | Slim/PyTorch | compile s | compile RSS MB | binary KB (no weights) | run RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.1f | %.1f | %.2f | %s | %s | %.1f | %d | %d | %d |" % (
            r["model"], r["threads"], r["slim_ms"], r["ort_ms"], r["ratio"],
            "%.1f" % r["torch_ms"] if "torch_ms" in r else "-",
            "%.2f" % r["torch_ratio"] if "torch_ratio" in r else "-", r["compile_s"],
            r["compile_peak_rss_mb"], r["binary_kb"], r["run_peak_rss_mb"]))
    with open("bench-results.json", "w") as f:
        json.dump({"peak": peak, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
