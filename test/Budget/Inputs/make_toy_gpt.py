#!/usr/bin/env python3
"""make_toy_gpt.py DIR: a GPT-2 checkpoint (config.json, model.safetensors)
whose best slim-budget configuration under an exact budget is known by
construction: 4 blocks, d 64, 4 heads, MLPs 1024 wide, vocab 256, 64
positions, random weights (seeded), except that the MLPs of blocks 1 and
3 have an all-zero output projection (weight and bias). Dropping those two
MLPs changes no output bit; dropping anything else, or quantizing, does.
Also writes DIR/eval.bin: 1 024 random bytes (held-out windows), and
DIR/calibration.npy: one window of random ids.
Standard library only."""
import json
import os
import random
import struct
import sys

d, heads, ffn, layers, vocab, positions = 64, 4, 1024, 4, 256, 64
zero_mlps = {1, 3}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(7)
tensors = {}


def normal(shape, std):
    n = 1
    for s in shape:
        n *= s
    return shape, [rng.gauss(0.0, std) for _ in range(n)]


def const(shape, v):
    n = 1
    for s in shape:
        n *= s
    return shape, [v] * n


tensors["transformer.wte.weight"] = normal([vocab, d], 0.5)
tensors["transformer.wpe.weight"] = normal([positions, d], 0.1)
for i in range(layers):
    p = "transformer.h.%d." % i
    tensors[p + "ln_1.weight"] = const([d], 1.0)
    tensors[p + "ln_1.bias"] = normal([d], 0.02)
    tensors[p + "ln_2.weight"] = const([d], 1.0)
    tensors[p + "ln_2.bias"] = normal([d], 0.02)
    tensors[p + "attn.c_attn.weight"] = normal([d, 3 * d], 0.15)
    tensors[p + "attn.c_attn.bias"] = normal([3 * d], 0.02)
    tensors[p + "attn.c_proj.weight"] = normal([d, d], 0.15)
    tensors[p + "attn.c_proj.bias"] = normal([d], 0.02)
    tensors[p + "mlp.c_fc.weight"] = normal([d, ffn], 0.15)
    tensors[p + "mlp.c_fc.bias"] = normal([ffn], 0.02)
    if i in zero_mlps:
        tensors[p + "mlp.c_proj.weight"] = const([ffn, d], 0.0)
        tensors[p + "mlp.c_proj.bias"] = const([d], 0.0)
    else:
        tensors[p + "mlp.c_proj.weight"] = normal([ffn, d], 0.05)
        tensors[p + "mlp.c_proj.bias"] = normal([d], 0.02)
tensors["transformer.ln_f.weight"] = const([d], 1.0)
tensors["transformer.ln_f.bias"] = const([d], 0.0)

header, blobs, offset = {}, [], 0
for name in sorted(tensors):
    shape, values = tensors[name]
    raw = struct.pack("<%df" % len(values), *values)
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
    blobs.append(raw)
    offset += len(raw)
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
          "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
          "n_embd": d, "n_head": heads, "n_inner": ffn, "n_layer": layers,
          "n_positions": positions, "tie_word_embeddings": True, "vocab_size": vocab}
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(config, f, indent=1)
with open(os.path.join(out, "eval.bin"), "wb") as f:
    f.write(bytes(rng.randrange(256) for _ in range(1024)))
# A calibration batch (slimc --calibration): one window of random ids.
header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, %d), }" % positions
header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
with open(os.path.join(out, "calibration.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%dq" % positions, *(rng.randrange(256) for _ in range(positions))))
