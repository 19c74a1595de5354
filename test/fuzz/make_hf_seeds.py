#!/usr/bin/env python3
"""Writes tiny Hugging Face checkpoints (d = 4, one layer) of each fixture
family as hf_fuzzer inputs: config.json, a NUL byte, model.safetensors.
The fixtures' configs and tensor names are kept; every dimension is shrunk
(and layers past the first dropped), so one input is a few KB and the
fuzzer runs thousands of imports a second instead of hundreds.

    make_hf_seeds.py FIXTURES_DIR OUT_DIR
"""
import json
import os
import struct
import sys

fixtures, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
# Per family: config overrides, then old dim -> new dim for tensor shapes.
plans = {
    "gpt2": ({"n_embd": 4, "n_head": 2, "n_layer": 1, "n_positions": 4, "vocab_size": 8},
             {64: 4, 128: 8, 16: 4, 256: 16, 192: 12}),
    "llama": ({"hidden_size": 4, "num_attention_heads": 2, "num_key_value_heads": 1,
               "num_hidden_layers": 1, "intermediate_size": 8, "max_position_embeddings": 4,
               "vocab_size": 8}, {64: 4, 128: 8, 32: 2, 16: 4}),
    "bert": ({"hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1,
              "intermediate_size": 8, "max_position_embeddings": 4, "vocab_size": 8},
             {64: 4, 128: 8, 16: 4}),
    "vit": ({"hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1,
             "intermediate_size": 8, "image_size": 8, "patch_size": 4, "num_channels": 1,
             "id2label": {"0": "a", "1": "b"}, "label2id": {"a": 0, "b": 1}},
            {64: 4, 128: 8, 3: 1, 8: 4, 17: 5, 10: 2}),
}
for family, (overrides, dims) in plans.items():
    src = os.path.join(fixtures, family, "hf")
    config = json.load(open(os.path.join(src, "config.json")))
    config.update(overrides)
    raw = open(os.path.join(src, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    new_header, data, offset = {}, b"", 0
    for name, info in sorted(header.items()):
        if name == "__metadata__":
            continue
        if any(tag in name for tag in ("h.1.", "layers.1.", "layer.1.")):
            continue
        shape = [dims.get(d, d) for d in info["shape"]]
        count = 1
        for d in shape:
            count *= d
        values = [((i * 7 + len(name)) % 11 - 5) / 8.0 for i in range(count)]
        blob = struct.pack("<%df" % count, *values)
        new_header[name] = {"dtype": "F32", "shape": shape,
                            "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    head = json.dumps(new_header).encode()
    st = struct.pack("<Q", len(head)) + head + data
    with open(os.path.join(out, "tiny-" + family), "wb") as f:
        f.write(json.dumps(config).encode() + b"\0" + st)
