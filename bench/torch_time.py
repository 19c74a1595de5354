#!/usr/bin/python3
"""Times PyTorch eager on a benchmark model made by bench/make_models.py
(the same module code and weights, read from the model's hf/ directory), in
the format of the Slim binaries' --bench: `median_ms=... min_ms=...`.

    /usr/bin/python3 bench/torch_time.py MODEL_DIR THREADS RUNS [--int8]

A new random input per run (the PyTorch int8 path looks faster when the
same input is fed every call). --int8 applies
torch.ao.quantization.quantize_dynamic to the nn.Linear layers (GPT-2's
Conv1D projections are converted to nn.Linear first; its tied head is an
F.linear on the embedding and stays float). Set
OMP_WAIT_POLICY=PASSIVE (2 threads) and OPENBLAS_NUM_THREADS=THREADS in
the environment (bench/run.py does): Debian's PyTorch otherwise
oversubscribes the cores.
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import make_models as mm  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import load_hf  # noqa: E402

model_dir, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
int8 = "--int8" in sys.argv
torch.set_num_threads(threads)
torch.set_grad_enabled(False)
config, state = load_hf(model_dir)
if config["model_type"] == "gpt2":
    model = mm.GPT2LMHeadModel(config)
    make = lambda: torch.randint(0, config["vocab_size"], (1, 128))
elif config["model_type"] == "bert":
    model = mm.BertModel(config)
    make = lambda: torch.randint(0, config["vocab_size"], (1, 128))
else:
    model = mm.ViTForImageClassification(config)
    size = config["image_size"]
    make = lambda: torch.randn(1, config["num_channels"], size, size)
missing, unexpected = model.load_state_dict(state, strict=False)
if unexpected or [k for k in missing if "lm_head" not in k]:
    sys.exit("weights do not match the module: missing %s, unexpected %s" % (missing, unexpected))
if config.get("tie_word_embeddings") and hasattr(model, "lm_head"):
    model.lm_head.weight = model.transformer.wte.weight
model.eval()
if int8:
    # GPT-2's projections are Conv1D modules (x·W + b with W [in, out]),
    # which quantize_dynamic leaves alone: swap them for the equivalent
    # nn.Linear first, so every projection runs PyTorch's int8 kernels.
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, mm.Conv1D):
                lin = torch.nn.Linear(child.weight.shape[0], child.weight.shape[1])
                lin.weight = torch.nn.Parameter(child.weight.t().contiguous())
                lin.bias = torch.nn.Parameter(child.bias.detach().clone())
                setattr(parent, child_name, lin)
    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
inputs = [make() for _ in range(runs + 1)]
model(inputs[0])  # warm-up
ms = []
for x in inputs[1:]:
    t0 = time.perf_counter()
    model(x)
    ms.append((time.perf_counter() - t0) * 1e3)
print("median_ms=%.3f min_ms=%.3f" % (statistics.median(ms), min(ms)))
