#!/usr/bin/env python3
"""Checks slim-drop-layers' similarity scores against an independent
computation from ONNX Runtime's intermediate values.

  drop_scores_reference.py ORT_DIR [--streams S0,S1,...] REPORT.json...

--streams names the residual stream's values in order: before layer 0,
after its attention, after its MLP, after layer 1's attention, ... (the
Hugging Face LLaMA export: /embed_tokens/Gather,/Add,/Add_1,/Add_2,/Add_3).
Without it, the GPT-2 fixture's names below.

ORT_DIR holds every value of the exposed model (slim-import
--expose-intermediates + tools/ort/ort-run.js). For block l the residual
stream before it is '/Add' (l = 0) or '/h.{l-1}/Add_1', after its attention
'/h.{l}/Add' and after its MLP '/h.{l}/Add_1'. sim = mean over tokens of
cos(X, Y) along the model dimension. Exits 1 if any score differs by more
than 1e-4.
"""
import array
import json
import math
import os
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode("latin1")
    d = int(header.split("'shape':")[1].split(")")[0].split(",")[-2 if header.split("'shape':")[1].split(")")[0].strip().endswith(",") else -1])
    values = array.array("f")
    values.frombytes(data[10 + hlen:])
    return values, d


def value(ort_dir, name):
    return read(os.path.join(ort_dir, "_" + name.strip("/").replace("/", "_") + "_output_0.npy"))


def sim(x, y, d):
    total = 0.0
    n = len(x) // d
    for t in range(n):
        a, b = x[t * d:(t + 1) * d], y[t * d:(t + 1) * d]
        dot = sum(p * q for p, q in zip(a, b))
        na = math.sqrt(sum(p * p for p in a))
        nb = math.sqrt(sum(q * q for q in b))
        total += dot / max(na * nb, 1e-8)
    return total / n


ort_dir = sys.argv[1]
args = sys.argv[2:]
streams = None
if args[0] == "--streams":
    streams = args[1].split(",")
    args = args[2:]
ours = {}
for path in args:
    for m in json.load(open(path))["modules"]:
        ours[(m["layer"], m["kind"])] = m["similarity"]
worst = 0.0
for (layer, kind), score in sorted(ours.items()):
    if streams:
        before, mid, after = streams[2 * layer:2 * layer + 3]
    else:
        before = "/Add" if layer == 0 else "/h.%d/Add_1" % (layer - 1)
        mid, after = "/h.%d/Add" % layer, "/h.%d/Add_1" % layer
    x_name, y_name = {"attention": (before, mid), "mlp": (mid, after),
                      "block": (before, after)}[kind]
    (x, d), (y, _) = value(ort_dir, x_name), value(ort_dir, y_name)
    ref = sim(x, y, d)
    worst = max(worst, abs(ref - score))
    print("layer %d %-9s slim %.6f reference %.6f" % (layer, kind, score, ref))
print("max difference %.2e (tolerance 1e-4) %s" % (worst, "OK" if worst <= 1e-4 else "FAIL"))
sys.exit(0 if worst <= 1e-4 else 1)
