#!/usr/bin/python3
"""The PyTorch reference figures of the trained tiny GPT, from its committed
HF weights: held-out perplexity over the first N non-overlapping 128-byte
windows (what the CI test compares a compiled binary with) and over all of
them. Updates metrics.json beside this file.

    /usr/bin/python3 examples/tinygpt/evaluate.py [N]
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures"))
import make_models as mm  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CONTEXT = 128


def load():
    config = json.load(open(os.path.join(HERE, "hf", "config.json")))
    model = mm.GPT2LMHeadModel(config)
    tensors = read_safetensors(os.path.join(HERE, "hf", "model.safetensors"))
    state = {name: torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)
             for name, (shape, data) in tensors.items()}
    model.load_state_dict(state, strict=False)  # the tied head has no tensor
    model.eval()
    return model


def perplexity(model, data, windows):
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(windows):
            x = torch.tensor([list(data[i * CONTEXT:(i + 1) * CONTEXT])])
            y = torch.tensor([list(data[i * CONTEXT + 1:(i + 1) * CONTEXT + 1])])
            total += F.cross_entropy(model(x).view(-1, 256), y.view(-1), reduction="sum").item()
            count += y.numel()
    return math.exp(total / count)


def main():
    torch.set_num_threads(2)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    data = open(os.path.join(HERE, "heldout.bin"), "rb").read()
    model = load()
    path = os.path.join(HERE, "metrics.json")
    metrics = json.load(open(path)) if os.path.exists(path) else {}
    metrics["heldout_ppl_pytorch_first_%d_windows" % n] = perplexity(model, data, n)
    metrics["heldout_ppl_pytorch"] = perplexity(model, data, (len(data) - 1) // CONTEXT)
    json.dump(metrics, open(path, "w"), indent=2)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
