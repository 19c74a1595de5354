#!/usr/bin/python3
"""Trains the bundled tiny GPT: a byte-level GPT-2-architecture language
model on the English text of Debian's `fortunes` package.

    /usr/bin/python3 examples/tinygpt/train.py [--steps N]

Needs a real BLAS under Debian's PyTorch (libopenblas0-pthread; with the
reference BLAS a step is 10x slower). About 1.3 s per step on 2 cores.
Reproducible (seeded, single-threaded data order). Writes, beside this file:
  hf/config.json + hf/model.safetensors   the trained weights (HF layout)
  model.onnx                              the same model, fixed [1, 128] ids
  heldout.bin                             the held-out text (bytes)
  curve.tsv                               step, train loss, held-out loss
Uses the same GPT-2 module code as the import fixtures, so the HF tensor
names and the ONNX graph are the ones Slim's importers read.
"""
import glob
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures"))
import make_models as mm  # noqa: E402

CONFIG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
          "vocab_size": 256, "n_positions": 256, "n_embd": 192, "n_layer": 6,
          "n_head": 6, "n_inner": None, "activation_function": "gelu_new",
          "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}
CONTEXT = 128          # training and compiled sequence length
BATCH = 16
STEPS = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 1500
SEED = 1234


def corpus():
    """Fortunes split on '%' lines; 10% of them (seeded) held out."""
    entries = []
    for path in sorted(glob.glob("/usr/share/games/fortunes/*")):
        if path.endswith((".dat", ".u8")) or os.path.islink(path) or os.path.isdir(path):
            continue
        text = open(path, "rb").read()
        entries += [e.strip() + b"\n" for e in text.split(b"\n%\n") if e.strip()]
    rng = random.Random(SEED)
    rng.shuffle(entries)
    cut = len(entries) // 10
    return b"".join(entries[cut:]), b"".join(entries[:cut])


def batches(data, rng):
    while True:
        starts = [rng.randrange(len(data) - CONTEXT - 1) for _ in range(BATCH)]
        x = torch.tensor([list(data[s:s + CONTEXT]) for s in starts])
        y = torch.tensor([list(data[s + 1:s + CONTEXT + 1]) for s in starts])
        yield x, y


def evaluate(model, data, limit=None):
    """Mean next-byte cross-entropy (nats) over non-overlapping windows."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        n = (len(data) - 1) // CONTEXT
        for i in range(n if limit is None else min(n, limit)):
            x = torch.tensor([list(data[i * CONTEXT:(i + 1) * CONTEXT])])
            y = torch.tensor([list(data[i * CONTEXT + 1:(i + 1) * CONTEXT + 1])])
            logits = model(x)
            total += F.cross_entropy(logits.view(-1, 256), y.view(-1), reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    train, heldout = corpus()
    counts = torch.bincount(torch.tensor(list(train)), minlength=256).double() + 1
    p = counts / counts.sum()
    unigram = -(torch.tensor([p[b].item() for b in heldout[:200000]]).log().mean().item())
    print("train %d bytes, held-out %d bytes, unigram held-out ppl %.2f"
          % (len(train), len(heldout), math.exp(unigram)), flush=True)

    model = mm.GPT2LMHeadModel(CONFIG)
    with torch.no_grad():
        for n, prm in model.named_parameters():
            if n.endswith("weight") and prm.dim() == 1:
                prm.fill_(1.0)
            elif n.endswith("bias"):
                prm.zero_()
            else:
                prm.normal_(0.0, 0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=STEPS,
                                                pct_start=0.05)
    rng = random.Random(SEED)
    curve = open(os.path.join(HERE, "curve.tsv"), "w")
    curve.write("step\ttrain_loss\theldout_loss\theldout_ppl\n")
    start = time.time()
    for step, (x, y) in zip(range(1, STEPS + 1), batches(train, rng)):
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, 256), y.view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == STEPS:
            h = evaluate(model, heldout, limit=200)
            curve.write("%d\t%.4f\t%.4f\t%.3f\n" % (step, loss.item(), h, math.exp(h)))
            curve.flush()
            print("step %d loss %.3f held-out ppl %.3f (%.0f s)"
                  % (step, loss.item(), math.exp(h), time.time() - start), flush=True)

    model.eval()
    full = evaluate(model, heldout)
    print("final held-out ppl %.4f (unigram %.2f)" % (math.exp(full), math.exp(unigram)))
    with open(os.path.join(HERE, "heldout.bin"), "wb") as f:
        f.write(heldout)
    mm.OUT = os.path.dirname(HERE)
    ids = torch.tensor([list(heldout[:CONTEXT])])
    mm.save(os.path.basename(HERE), model, CONFIG, (ids,), ["input_ids"], ["logits"],
            dict(model.state_dict()))
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump({"heldout_ppl_pytorch": math.exp(full), "unigram_ppl": math.exp(unigram),
                   "context": CONTEXT, "steps": STEPS, "heldout_bytes": len(heldout)}, f, indent=2)


if __name__ == "__main__":
    main()
