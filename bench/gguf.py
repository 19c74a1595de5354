#!/usr/bin/python3
"""Writes a Hugging Face LLaMA checkpoint (config.json + model.safetensors,
float32, as bench/make_models.py writes them) as a GGUF file llama.cpp
loads, so llama.cpp and Slim run the same weights (bench/peers.py).

    /usr/bin/python3 bench/gguf.py HF_DIR OUT.gguf f32|q8_0|q4_0

The format is ggml's docs/gguf.md, version 3: a header (magic, version,
tensor count, metadata count), the metadata key/value pairs, the tensor
infos (name, dims innermost first, ggml type, offset), then the tensor
data, each tensor aligned to 32 bytes. Metadata: the `llama` architecture
keys (context/embedding/feed-forward lengths, block count, head counts,
RMS epsilon, RoPE base and dimension count) and `tokenizer.ggml.model =
no_vocab` with `llama.vocab_size` (llama.cpp then makes dummy tokens; the
benchmark feeds token ids, no text).

Tensors: the llama.cpp names (token_embd, blk.N.attn_q, …, output). HF's
q_proj/k_proj rows are permuted as llama.cpp's own converter does: HF's
RoPE rotates the two halves of each head, llama.cpp's rotates adjacent
pairs, so row 2i of a head takes HF row i and row 2i+1 takes row i + d/2.
With q8_0 / q4_0 every 2-D weight (the embedding and the head included)
is quantized in blocks of 32 along its rows, as ggml's reference
quantizers do: q8_0 d = max|x| / 127, q = round(x / d); q4_0 d = m / −8
with m the value of largest magnitude, q = min(15, trunc(x / d + 8.5)),
the block's first 16 values in the low nibbles, the next 16 in the high;
d stored as float16. The norm gains stay float32.
"""
import json
import os
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
ALIGN = 32
# gguf value types
U32, I32, F32V, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# ggml tensor types
GGML = {"f32": 0, "q4_0": 2, "q8_0": 8}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, h in header.items():
            if name == "__metadata__":
                continue
            if h["dtype"] != "F32":
                sys.exit("%s: %s is %s; this writer takes float32 checkpoints" % (path, name, h["dtype"]))
            a, b = h["data_offsets"]
            f.seek(base + a)
            out[name] = np.frombuffer(f.read(b - a), dtype="<f4").reshape(h["shape"])
    return out


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = string(key) + struct.pack("<I", vtype)
    if vtype == STRING:
        return out + string(value)
    fmt = {U32: "<I", I32: "<i", F32V: "<f", BOOL: "<?"}[vtype]
    return out + struct.pack(fmt, value)


def q8_0(w):
    blocks = w.reshape(-1, 32).astype(np.float32)
    amax = np.abs(blocks).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
    q = np.round(blocks * inv[:, None]).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def q4_0(w):
    blocks = w.reshape(-1, 32).astype(np.float32)
    idx = np.abs(blocks).argmax(axis=1)
    m = blocks[np.arange(blocks.shape[0]), idx]
    d = m / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0.0)
    q = np.minimum(15, np.trunc(blocks * inv[:, None] + 8.5)).astype(np.uint8)
    out = np.empty((blocks.shape[0], 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def permute_rope(w, heads):
    """HF rotate-half rows -> llama.cpp's interleaved pairs, per head."""
    out, d_in = w.shape
    dh = out // heads
    return w.reshape(heads, 2, dh // 2, d_in).swapaxes(1, 2).reshape(out, d_in)


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in GGML:
        sys.exit(__doc__)
    hf, path, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    c = json.load(open(os.path.join(hf, "config.json")))
    if c.get("model_type") != "llama":
        sys.exit("%s: model_type %r; this writer takes llama checkpoints" % (hf, c.get("model_type")))
    t = read_safetensors(os.path.join(hf, "model.safetensors"))
    heads, kv_heads = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    d = c["hidden_size"]
    tensors = [("token_embd.weight", t["model.embed_tokens.weight"])]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        b = "blk.%d." % i
        tensors += [
            (b + "attn_norm.weight", t[p + "input_layernorm.weight"]),
            (b + "attn_q.weight", permute_rope(t[p + "self_attn.q_proj.weight"], heads)),
            (b + "attn_k.weight", permute_rope(t[p + "self_attn.k_proj.weight"], kv_heads)),
            (b + "attn_v.weight", t[p + "self_attn.v_proj.weight"]),
            (b + "attn_output.weight", t[p + "self_attn.o_proj.weight"]),
            (b + "ffn_norm.weight", t[p + "post_attention_layernorm.weight"]),
            (b + "ffn_gate.weight", t[p + "mlp.gate_proj.weight"]),
            (b + "ffn_up.weight", t[p + "mlp.up_proj.weight"]),
            (b + "ffn_down.weight", t[p + "mlp.down_proj.weight"]),
        ]
    tensors.append(("output_norm.weight", t["model.norm.weight"]))
    head = t.get("lm_head.weight", t["model.embed_tokens.weight"])
    tensors.append(("output.weight", head))

    meta = [
        kv("general.architecture", STRING, "llama"),
        kv("general.name", STRING, os.path.basename(os.path.abspath(hf))),
        kv("general.alignment", U32, ALIGN),
        kv("general.file_type", U32, {"f32": 0, "q8_0": 7, "q4_0": 2}[kind]),
        kv("llama.context_length", U32, c["max_position_embeddings"]),
        kv("llama.embedding_length", U32, d),
        kv("llama.block_count", U32, c["num_hidden_layers"]),
        kv("llama.feed_forward_length", U32, c["intermediate_size"]),
        kv("llama.attention.head_count", U32, heads),
        kv("llama.attention.head_count_kv", U32, kv_heads),
        kv("llama.attention.layer_norm_rms_epsilon", F32V, c["rms_norm_eps"]),
        kv("llama.rope.freq_base", F32V, c.get("rope_theta", 10000.0)),
        kv("llama.rope.dimension_count", U32, d // heads),
        kv("llama.vocab_size", U32, c["vocab_size"]),
        kv("tokenizer.ggml.model", STRING, "no_vocab"),
    ]
    infos, blobs, offset = [], [], 0
    for name, w in tensors:
        quantize = kind != "f32" and w.ndim == 2
        if quantize and w.shape[1] % 32:
            sys.exit("%s: %d columns, not a multiple of 32 (%s blocks)" % (name, w.shape[1], kind))
        data = (q8_0(w) if kind == "q8_0" else q4_0(w)) if quantize else \
            np.ascontiguousarray(w, dtype="<f4").tobytes()
        ggml_type = GGML[kind] if quantize else GGML["f32"]
        dims = list(reversed(w.shape))  # ne0 (innermost) first
        infos.append(string(name) + struct.pack("<I", len(dims)) +
                     b"".join(struct.pack("<Q", n) for n in dims) +
                     struct.pack("<IQ", ggml_type, offset))
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head_bytes = GGUF_MAGIC + struct.pack("<IQQ", 3, len(tensors), len(meta)) + \
        b"".join(meta) + b"".join(infos)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head_bytes)
        f.write(b"\0" * ((-len(head_bytes)) % ALIGN))
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    print("wrote %s (%s, %d tensors, %.1f MB)" % (path, kind, len(tensors), os.path.getsize(path) / 1e6))


if __name__ == "__main__":
    main()
