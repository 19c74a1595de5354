#!/usr/bin/python3
"""Trains the bundled tiny ViT: a ViT/DeiT-architecture classifier (CLS
token, Pre-LN, 6 layers, 64 patch tokens) on scikit-learn's bundled 8x8
digits (Debian python3-sklearn), upscaled to 32x32 with small random shifts
as augmentation.

    /usr/bin/python3 examples/tinyvit/train.py [--epochs N]

Reproducible (seeded). Writes, beside this file: hf/ (config.json +
model.safetensors), model.onnx ([1, 1, 32, 32] input), the held-out set as
heldout_images.bin (float32 [N, 1, 32, 32], normalized as in training) and
heldout_labels.bin (uint8 [N]), curve.tsv and metrics.json. Uses the same
ViT module code as the import fixtures.
"""
import json
import os
import random
import struct
import sys
import time

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures"))
import make_models as mm  # noqa: E402

CONFIG = {"model_type": "vit", "architectures": ["ViTForImageClassification"],
          "hidden_size": 96, "num_hidden_layers": 6, "num_attention_heads": 4,
          "intermediate_size": 192, "hidden_act": "gelu", "image_size": 32,
          "patch_size": 4, "num_channels": 1, "layer_norm_eps": 1e-12,
          "qkv_bias": True,
          "id2label": {str(i): str(i) for i in range(10)},
          "label2id": {str(i): i for i in range(10)}}
EPOCHS = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 15
SEED = 4321


def images():
    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32) / 16.0          # [N, 8, 8] in [0, 1]
    x = F.interpolate(x[:, None], size=(32, 32), mode="bilinear", align_corners=False)
    x = (x - 0.5) / 0.5
    y = torch.tensor(d.target)
    g = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(y), generator=g)
    cut = len(y) // 5
    return (x[order[cut:]], y[order[cut:]]), (x[order[:cut]], y[order[:cut]])


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 1]) for i in range(len(x))]).argmax(-1)
    model.train()
    return (pred == y).float().mean().item()


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    (xt, yt), (xh, yh) = images()
    model = mm.ViTForImageClassification(CONFIG)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("weight") and p.dim() == 1:
                p.fill_(1.0)
            elif n.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, 0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    steps = EPOCHS * ((len(yt) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps)
    rng = random.Random(SEED)
    curve = open(os.path.join(HERE, "curve.tsv"), "w")
    curve.write("epoch\ttrain_loss\theldout_accuracy\n")
    start = time.time()
    for epoch in range(1, EPOCHS + 1):
        order = list(range(len(yt)))
        rng.shuffle(order)
        for i in range(0, len(order), 64):
            idx = torch.tensor(order[i:i + 64])
            x = xt[idx]
            # augmentation: a random shift of up to 2 pixels
            dx, dy = rng.randint(-2, 2), rng.randint(-2, 2)
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(x), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch % 5 == 0 or epoch == EPOCHS:
            acc = accuracy(model, xh, yh)
            curve.write("%d\t%.4f\t%.4f\n" % (epoch, loss.item(), acc))
            curve.flush()
            print("epoch %d loss %.3f held-out acc %.4f (%.0f s)"
                  % (epoch, loss.item(), acc, time.time() - start), flush=True)
    acc = accuracy(model, xh, yh)
    with open(os.path.join(HERE, "heldout_images.bin"), "wb") as f:
        f.write(xh.contiguous().numpy().astype("<f4").tobytes())
    with open(os.path.join(HERE, "heldout_labels.bin"), "wb") as f:
        f.write(bytes(yh.tolist()))
    mm.OUT = os.path.dirname(HERE)
    model.eval()
    mm.save(os.path.basename(HERE), model, CONFIG, (xh[:1],), ["pixel_values"], ["logits"],
            dict(model.state_dict()))
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump({"heldout_accuracy_pytorch": acc, "heldout_images": len(yh),
                   "chance": 0.1, "epochs": EPOCHS}, f, indent=2)
    print("final held-out accuracy %.4f" % acc)


if __name__ == "__main__":
    main()
