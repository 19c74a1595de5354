#!/usr/bin/python3
"""fake_quant.py HF_DIR OUT_DIR int4|smooth ...: an independent NumPy
rendering of slim-quantize's weight formats, for end-to-end checks of the
compiled int4 kernels (docs/passes.md §4.4):

  fake_quant.py HF OUT int4 GROUP sym|asym
      every 2-D projection weight (nn.Linear [out, in] layout; not the
      embeddings, not the head) replaced by its quantize-dequantize: Q4_0
      (d = m / -8, m the group's element of largest magnitude, rounded away
      from zero to a bfloat16, q = min(15, trunc(w/d + 8.5)), w' = (q - 8)·d) or min/max (range widened to 0,
      s = (max - min)/15, z = round(-min/s) in [0, 15], q = clip(round(w/s)
      + z, 0, 15), w' = (q - z)·s), in float32 arithmetic as the pass does.
      A float model with these weights must give the int4 binary's outputs.

  fake_quant.py HF OUT outliers
      the same model with activation outliers, SmoothQuant's toy case: the
      LLaMA norms' gains of channels 3 and 17 multiplied by 60 and 40, so
      those channels of every q/k/v and gate/up input are 40-60x larger
      than the rest.

Writes OUT/config.json and OUT/model.safetensors.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import read_safetensors  # noqa: E402

hf, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
shutil.copy(os.path.join(hf, "config.json"), os.path.join(out, "config.json"))
tensors = read_safetensors(os.path.join(hf, "model.safetensors"))


def bf16_away(d):
    """d rounded away from zero to a bfloat16, as quantizeQ4 rounds Q4_0's d."""
    b = d.astype(np.float32).view(np.uint32)
    b = np.where(b & 0xFFFF, (b & 0xFFFF0000) + 0x10000, b).astype(np.uint32)
    return b.view(np.float32)


def q4(w, group, symmetric):
    o, k = w.shape
    g = w.reshape(o, k // group, group)
    one = np.float32(1)
    if symmetric:
        idx = np.abs(g).argmax(axis=2)  # first of the largest magnitudes
        m = np.take_along_axis(g, idx[..., None], axis=2)
        d = (m / np.float32(-8)).astype(np.float32)
        d = bf16_away(d)
        inv = np.where(d != 0, one / np.where(d != 0, d, one), np.float32(0)).astype(np.float32)
        q = np.minimum(15, np.trunc(g * inv + np.float32(8.5))).astype(np.float32)
        return ((q - 8) * d).reshape(o, k).astype(np.float32)
    lo = np.minimum(g.min(axis=2, keepdims=True), 0).astype(np.float32)
    hi = np.maximum(g.max(axis=2, keepdims=True), 0).astype(np.float32)
    s = ((hi - lo) / np.float32(15)).astype(np.float32)
    safe = np.where(s > 0, s, one)
    z = np.clip(np.where(s > 0, np.rint(-lo / safe), 0), 0, 15).astype(np.float32)
    inv = np.where(s > 0, one / safe, np.float32(0)).astype(np.float32)
    q = np.clip(np.rint(g * inv) + z, 0, 15).astype(np.float32)
    return ((q - z) * s).reshape(o, k).astype(np.float32)


result = {}
for name, (shape, raw) in tensors.items():
    a = np.frombuffer(raw, dtype="<f4").reshape(shape)
    projection = len(shape) == 2 and "embed" not in name and "lm_head" not in name and "wte" not in name and "wpe" not in name
    if mode == "int4" and projection:
        a = q4(a, int(sys.argv[4]), sys.argv[5] == "sym")
    if mode == "outliers" and name.endswith("layernorm.weight"):
        a = a.copy()
        a[3] *= 60
        a[17] *= 40
    result[name] = a
header, blobs, offset = {}, [], 0
for name in sorted(result):
    data = np.ascontiguousarray(result[name], dtype="<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(result[name].shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
