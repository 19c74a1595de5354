#!/usr/bin/python3
"""Quality and speed of the bundled trained models with layers dropped by
slim-drop-layers, each variant next to the unoptimized binary in the same
run. Calibration batches come from the training split (never the held-out
set).

    /usr/bin/python3 bench/drop_quality.py tinyvit|tinygpt [--windows N] [--rounds R]

Prints a markdown table: variant, dropped modules, accuracy (ViT) or
held-out perplexity (GPT), top-1 agreement and mean KL against the
unoptimized model, the forward pass's --bench median ms (1 thread) and
speed-up; for the GPT also generation with the KV cache (--max-seq-len
128, --prefill-chunk 64: prefill of a 64-byte prompt, decode ms per
byte over 63 steps) and
the cache's size. Speeds: ROUNDS (default 5) rounds alternating the
variants, median of the round medians.
"""
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIMC = os.path.join(ROOT, "build", "bin", "slimc")
QUALITY = os.path.join(ROOT, "tools", "slim-quality")


def load_train(example):
    spec = importlib.util.spec_from_file_location(
        "train_" + example, os.path.join(ROOT, "examples", example, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_npy(path, descr, shape, raw):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)))
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + raw)


def prepare(example, work, windows):
    """The calibration batches (16 from the training split, in WORK/calib)
    and the tools/slim-quality arguments for an example; returns (calib
    directory, quality arguments, metric name, the GPT's training bytes or
    None)."""
    calib = os.path.join(work, "calib")
    os.makedirs(calib)
    train = load_train(example)
    if example == "tinyvit":
        (xt, _), _ = train.images()
        for i in range(16):
            write_npy(os.path.join(calib, "%02d.npy" % i), "<f4", [1, 1, 32, 32],
                      xt[i:i + 1].contiguous().numpy().astype("<f4").tobytes())
        quality = ["cls", "--images", os.path.join(ROOT, "examples", example, "heldout_images.bin"),
                   "--labels", os.path.join(ROOT, "examples", example, "heldout_labels.bin")]
        return calib, quality, "accuracy", None
    data, _ = train.corpus()
    for i in range(16):
        s = i * 100003 % (len(data) - 129)
        write_npy(os.path.join(calib, "%02d.npy" % i), "<i8", [1, 128],
                  struct.pack("<128q", *data[s:s + 128]))
    quality = ["lm", "--data", os.path.join(ROOT, "examples", example, "heldout.bin")]
    if windows:
        quality += ["--windows", windows]
    return calib, quality, "perplexity", data


def main():
    example = sys.argv[1]
    windows = sys.argv[sys.argv.index("--windows") + 1] if "--windows" in sys.argv else None
    work = tempfile.mkdtemp(prefix="slim-drop-")
    calib, quality, metric, data = prepare(example, work, windows)
    hf = os.path.join(ROOT, "examples", example, "hf")
    layers = 6
    if example == "tinyvit":
        compile_extra, feed = [], ("pixel_values", "<f4", [1, 1, 32, 32])
    else:
        compile_extra = ["--max-seq-len", "128", "--prefill-chunk", "64"]
        feed = ("input_ids", "<i8", [1, 128])
        write_npy(os.path.join(work, "prompt.npy"), "<i8", [1, 64],
                  struct.pack("<64q", *data[:64]))
    bench_input = os.path.join(calib, "00.npy")
    variants = [("unoptimized", None)]
    variants += [("attention:%d" % n, "attention:%d" % n) for n in range(1, layers // 2 + 1)]
    variants += [("block:%d" % n, "block:%d" % n) for n in (1, 2)]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    rows, exes = [], []
    base_lib = None
    for name, drop in variants:
        out = os.path.join(work, name.replace(":", "-"))
        args = [SLIMC, hf] + compile_extra
        if drop:
            args += ["--drop-layers=" + drop, "--calibration", calib]
        table = subprocess.run(args + ["--emit=lib", "-o", out], capture_output=True, text=True)
        if table.returncode:
            sys.exit(table.stderr)
        dropped = [l.split()[0] + l.split()[1][0] for l in table.stdout.splitlines() if l.strip().endswith("yes")]
        subprocess.run(args + ["-o", out + "-exe"], capture_output=True, check=True)
        lib = os.path.join(work, "lib" + os.path.basename(out) + ".so")
        q = ["python3", QUALITY] + quality[:1] + [lib] + quality[1:]
        if base_lib:
            q += ["--reference", base_lib]
        result = json.loads(subprocess.run(q, capture_output=True, text=True, check=True).stdout)
        if not base_lib:
            base_lib = lib
        exes.append(out + "-exe")
        rows.append([name, " ".join(dropped) or "-", result[metric],
                     result.get("top1_agreement", 1.0), result.get("mean_kl", 0.0)])
    # Speed: rounds alternating the variants.
    fwd = [[] for _ in exes]
    gen = [[] for _ in exes]
    cache = [0] * len(exes)
    for _ in range(rounds):
        for i, exe in enumerate(exes):
            bench = subprocess.run([exe, "--input", "%s=%s" % (feed[0], bench_input),
                                    "--output-dir", work, "--bench", "100", "--threads", "1"],
                                   capture_output=True, text=True, check=True).stdout
            fwd[i].append(float(re.search(r"median_ms=([0-9.]+)", bench).group(1)))
            if example == "tinygpt":
                g = subprocess.run([exe, "--generate", "64", "--prompt-ids", os.path.join(work, "prompt.npy"),
                                    "--output", "ids=" + os.path.join(work, "ids.npy"), "--bench", "20",
                                    "--threads", "1"], capture_output=True, text=True, check=True).stderr
                gen[i].append((float(re.search(r"prefill_ms=([0-9.]+)", g).group(1)),
                               float(re.search(r"decode_ms_per_token=([0-9.]+)", g).group(1))))
                cache[i] = int(re.search(r"KV cache ([0-9]+) bytes", g).group(1))
    med = lambda xs: sorted(xs)[len(xs) // 2]
    base_ms = med(fwd[0])
    header = "| variant | dropped (layer, a=attention, b=block) | %s | top-1 agreement | mean KL | forward ms | speed-up |" % metric
    if example == "tinygpt":
        header += " prefill ms (64 B) | decode ms/byte | decode speed-up | KV cache KB |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    base_dec = med([d for _, d in gen[0]]) if gen[0] else None
    for i, r in enumerate(rows):
        ms = med(fwd[i])
        line = "| %s | %s | %.4f | %.4f | %.4f | %.3f | %.2fx |" % (tuple(r) + (ms, base_ms / ms))
        if example == "tinygpt":
            pre, dec = med([p for p, _ in gen[i]]), med([d for _, d in gen[i]])
            line += " %.2f | %.3f | %.2fx | %d |" % (pre, dec, base_dec / dec, cache[i] // 1024)
        print(line)


if __name__ == "__main__":
    main()
