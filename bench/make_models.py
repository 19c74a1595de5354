#!/usr/bin/python3
"""Benchmark models with random weights (not committed): GPT-2-small shape
(12 layers, d=768, 12 heads, MLP 3072, vocab 50257, prefill T=128),
BERT-base shape (12 layers, d=768, 12 heads, MLP 3072, vocab 30522, T=128),
DeiT-Small (224x224, patch 16, d=384, 6 heads, 12 layers, 197 tokens) and
DeiT-Tiny (d=192, 3 heads) shapes, exported to ONNX opset 17 with the same
module code as the test fixtures.

    /usr/bin/python3 bench/make_models.py OUT_DIR [NAME ...]

NAME: gpt2-small, bert-base, deit-small, deit-tiny (the default set),
gpt2-small-decode (GPT-2-small as one KV-cache decode step, for
bench/decode.py), llama-bench (LLaMA-shaped: 12 layers, d=768, 12 heads,
SwiGLU 2048, vocab 32000, 134 M parameters, 256 positions, the test
fixtures' Hugging Face-convention module; ONNX at T=128; for
bench/peers.py) or tv-vit-b16 (torchvision's own vit_b_16 module, random
weights with the zero-initialised head redrawn, exported as
torch.onnx.export does by default; for bench/thirdparty.sh).
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import make_models as mm  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "bench-models"
mm.OUT = out
mm.T = 128
torch.set_grad_enabled(False)


def gpt2_small():
    m, c = gpt2_small_model()
    ids = torch.randint(0, c["vocab_size"], (1, mm.T))
    mm.save("gpt2-small", m, c, (ids,), ["input_ids"], ["logits"], dict(m.state_dict()))


def bert_base():
    c = {"model_type": "bert", "architectures": ["BertModel"],
         "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
         "num_attention_heads": 12, "intermediate_size": 3072,
         "hidden_act": "gelu", "max_position_embeddings": 512,
         "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    torch.manual_seed(13)
    m = mm.BertModel(c)
    mm.randomize(m, std=0.02)
    ids = torch.randint(0, c["vocab_size"], (1, mm.T))
    mm.save("bert-base", m, c, (ids,), ["input_ids"], ["last_hidden_state"], dict(m.state_dict()))


def deit(name, d, heads, seed):
    c = {"model_type": "vit", "architectures": ["ViTForImageClassification"],
         "hidden_size": d, "num_hidden_layers": 12, "num_attention_heads": heads,
         "intermediate_size": 4 * d, "hidden_act": "gelu", "image_size": 224,
         "patch_size": 16, "num_channels": 3, "layer_norm_eps": 1e-12,
         "qkv_bias": True,
         "id2label": {str(i): "LABEL_%d" % i for i in range(1000)},
         "label2id": {"LABEL_%d" % i: i for i in range(1000)}}
    torch.manual_seed(seed)
    m = mm.ViTForImageClassification(c)
    mm.randomize(m, std=0.02)
    px = torch.randn(1, 3, 224, 224)
    mm.save(name, m, c, (px,), ["pixel_values"], ["logits"], dict(m.state_dict()))


def deit_small():
    c = {"model_type": "vit", "architectures": ["ViTForImageClassification"],
         "hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6,
         "intermediate_size": 1536, "hidden_act": "gelu", "image_size": 224,
         "patch_size": 16, "num_channels": 3, "layer_norm_eps": 1e-12,
         "qkv_bias": True,
         "id2label": {str(i): "LABEL_%d" % i for i in range(1000)},
         "label2id": {"LABEL_%d" % i: i for i in range(1000)}}
    torch.manual_seed(12)
    m = mm.ViTForImageClassification(c)
    mm.randomize(m, std=0.02)
    px = torch.randn(1, 3, 224, 224)
    mm.save("deit-small", m, c, (px,), ["pixel_values"], ["logits"], dict(m.state_dict()))


class GPT2Step(torch.nn.Module):
    """GPT-2 decoding T new tokens after P cached positions, the Hugging Face
    `past_key_values` way: past_key / past_value [layers, 1, heads, P,
    head_dim] are concatenated with the new keys and values, which are
    returned as present_key / present_value. The attention needs no mask
    for one new token (it sees every cached position)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, past_key, past_value):
        tr = self.m.transformer
        p = past_key.shape[3]
        pos = torch.arange(p, p + input_ids.shape[1]).unsqueeze(0)
        x = tr.wte(input_ids) + tr.wpe(pos)
        ks, vs = [], []
        for i, blk in enumerate(tr.h):
            a = blk.attn
            q, k, v = a.c_attn(blk.ln_1(x)).split(a.d, dim=2)
            q, k, v = mm.split_heads(q, a.h), mm.split_heads(k, a.h), mm.split_heads(v, a.h)
            k = torch.cat([past_key[i], k], dim=2)
            v = torch.cat([past_value[i], v], dim=2)
            ks.append(k)
            vs.append(v)
            w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(v.size(-1)), dim=-1)
            x = x + a.c_proj(mm.merge_heads(torch.matmul(w, v)))
            x = x + blk.mlp(blk.ln_2(x))
        logits = torch.nn.functional.linear(tr.ln_f(x), tr.wte.weight)
        return logits, torch.stack(ks), torch.stack(vs)


def gpt2_small_model():
    c = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
         "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12,
         "n_head": 12, "n_inner": None, "activation_function": "gelu_new",
         "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}
    torch.manual_seed(11)
    m = mm.GPT2LMHeadModel(c)
    mm.randomize(m, std=0.02)
    return m, c


def gpt2_small_decode(past=128):
    """gpt2-small/decode-past128.onnx: the GPT-2-small benchmark model (same
    seed, same weights) as one decode step with 128 cached positions, for
    ONNX Runtime's KV-cache decode timing (bench/decode.py)."""
    m, c = gpt2_small_model()
    m.eval()
    ids = torch.zeros(1, 1, dtype=torch.long)
    kv = torch.zeros(c["n_layer"], 1, c["n_head"], past, c["n_embd"] // c["n_head"])
    d = os.path.join(out, "gpt2-small")
    os.makedirs(d, exist_ok=True)
    torch.onnx.export(GPT2Step(m), (ids, kv, kv), os.path.join(d, "decode-past%d.onnx" % past),
                      opset_version=17, input_names=["input_ids", "past_key", "past_value"],
                      output_names=["logits", "present_key", "present_value"],
                      do_constant_folding=True)


def llama_bench():
    c = {"model_type": "llama", "architectures": ["LlamaForCausalLM"],
         "vocab_size": 32000, "hidden_size": 768, "intermediate_size": 2048,
         "num_hidden_layers": 12, "num_attention_heads": 12,
         "num_key_value_heads": 12, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 256, "hidden_act": "silu",
         "tie_word_embeddings": False}
    torch.manual_seed(21)
    m = mm.LlamaForCausalLM(c)
    mm.randomize(m, std=0.02)
    ids = torch.randint(0, c["vocab_size"], (1, mm.T))
    mm.save("llama-bench", m, c, (ids,), ["input_ids"], ["logits"], dict(m.state_dict()))


def tv_vit_b16():
    import torchvision
    torch.manual_seed(16)
    m = torchvision.models.vit_b_16()
    mm.randomize(m, std=0.02)
    m.eval()
    d = os.path.join(out, "tv-vit-b16")
    os.makedirs(d, exist_ok=True)
    # The defaults: opset 14, parameters as they are (no torch.no_grad()).
    with torch.enable_grad():
        torch.onnx.export(m, (torch.randn(1, 3, 224, 224),), os.path.join(d, "model.onnx"),
                          input_names=["image"], output_names=["logits"])


if __name__ == "__main__":
    which = sys.argv[2:] or ["gpt2-small", "bert-base", "deit-small", "deit-tiny"]
    if "gpt2-small" in which:
        gpt2_small()
    if "gpt2-small-decode" in which:
        gpt2_small_decode()
    if "bert-base" in which:
        bert_base()
    if "deit-small" in which:
        deit_small()
    if "tv-vit-b16" in which:
        tv_vit_b16()
    if "llama-bench" in which:
        llama_bench()
    if "deit-tiny" in which:
        deit("deit-tiny", 192, 3, 14)
    print("wrote", out)
