#!/usr/bin/python3
"""Times one GPT-2 decode step in PyTorch eager with 128 cached positions
(past_key_values, bench/make_models.py's GPT2Step on the benchmark model's
weights from MODEL_DIR/hf), in the binaries' --bench format:
`median_ms=... min_ms=...`.

    /usr/bin/python3 bench/torch_decode.py MODEL_DIR THREADS RUNS

A new token per run, fp32 only (GPT-2's projections are Conv1D modules,
which torch.ao.quantization.quantize_dynamic leaves alone). Set
OMP_WAIT_POLICY=PASSIVE (2 threads) and OPENBLAS_NUM_THREADS=THREADS
(bench/decode.py does).
"""
import importlib.util
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures"))
import make_models as mm  # noqa: E402
sys.path.insert(0, HERE)
from torch_models import load_hf  # noqa: E402

model_dir, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.set_grad_enabled(False)
config, state = load_hf(model_dir)
model = mm.GPT2LMHeadModel(config)
missing, unexpected = model.load_state_dict(state, strict=False)
if unexpected or missing:
    sys.exit("weights do not match the module: missing %s, unexpected %s" % (missing, unexpected))
model.eval()
# bench/make_models.py (GPT2Step), loaded by path: the fixtures' module has
# the same name. It reads its own argv at import.
spec = importlib.util.spec_from_file_location("bench_make_models", os.path.join(HERE, "make_models.py"))
bench_models = importlib.util.module_from_spec(spec)
argv, sys.argv = sys.argv, [sys.argv[0]]
spec.loader.exec_module(bench_models)
sys.argv = argv
step = bench_models.GPT2Step(model)
layers, heads = config["n_layer"], config["n_head"]
past = torch.randn(layers, 1, heads, 128, config["n_embd"] // heads) * 0.5
ids = [torch.randint(0, config["vocab_size"], (1, 1)) for _ in range(runs + 1)]
step(ids[0], past, past)  # warm-up
ms = []
for x in ids[1:]:
    t0 = time.perf_counter()
    step(x, past, past)
    ms.append((time.perf_counter() - t0) * 1e3)
print("median_ms=%.3f min_ms=%.3f" % (statistics.median(ms), min(ms)))
