#!/usr/bin/python3
"""greedy_full.py BINARY PROMPT.npy N OUTDIR: greedy generation by full
recompute with a Slim binary compiled without a KV cache (input_ids
[1, W] -> logits [1, W, V]): each step runs the whole window, the ids so
far right-padded with 0 (causal: the padding cannot reach earlier rows),
and picks the first largest logit of the last real row. Writes
OUTDIR/ids.npy and OUTDIR/logits.npy like the binary's --generate, so a
KV-cache generation of the same (optimized) model can be compared."""
import os
import subprocess
import sys

import numpy as np

binary, prompt, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
ids = [int(x) for x in np.load(prompt).reshape(-1)]
window = None
tokens, logits = [], []
for step in range(n):
    if window is None:
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
        line = [l for l in help_text.splitlines() if l.strip().startswith("input_ids:")][0]
        window = int(line.split("[")[1].split("]")[0].split(",")[1])
    x = np.zeros((1, window), dtype=np.int64)
    x[0, :len(ids)] = ids
    np.save(out + "/in.npy", x)
    subprocess.run([binary, "--input", "input_ids=" + out + "/in.npy",
                    "--output", "logits=" + out + "/out.npy"], check=True)
    row = np.load(out + "/out.npy")[0, len(ids) - 1]
    best = int(np.argmax(row))
    tokens.append(best)
    logits.append(row)
    ids.append(best)
np.save(out + "/ids.npy", np.array([tokens], dtype=np.int64))
np.save(out + "/logits.npy", np.stack(logits).astype(np.float32))
