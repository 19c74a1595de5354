#!/usr/bin/python3
"""smoothquant_toy.py OUT_DIR: SmoothQuant's toy case as a slim module, one
RMSNorm (gain 1, so its output keeps the input's channel scales) feeding a
[64, 64] linear, with activation outlier channels 3 and 17 scaled by 60 and
40 (docs/passes.md §4.3). Writes OUT/toy.mlir, OUT/calib.npy (the
calibration batch) and OUT/x.npy (another batch from the same
distribution)."""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
r = np.random.default_rng(0)
d = 64
w = (r.standard_normal((d, d)) * 0.2).astype(np.float32)


def batch():
    x = r.standard_normal((1, d, d)).astype(np.float32)
    x[..., 3] *= 60
    x[..., 17] *= 40
    return x


np.save(os.path.join(out, "calib.npy"), batch())
np.save(os.path.join(out, "x.npy"), batch())
rows = ", ".join("[" + ", ".join("%.9g" % v for v in row) + "]" for row in w)
with open(os.path.join(out, "toy.mlir"), "w") as f:
    f.write("""func.func @main(%%x: tensor<1x64x64xf32> {slim.name = "x"}) -> (tensor<1x64x64xf32> {slim.name = "y"}) {
  %%g = arith.constant dense<1.0> : tensor<64xf32>
  %%w = arith.constant dense<[%s]> : tensor<64x64xf32>
  %%n = slim.rms_norm %%x, %%g {epsilon = 1.0e-6 : f32} : tensor<1x64x64xf32>, tensor<64xf32>
  %%y = slim.linear %%n, %%w : tensor<1x64x64xf32>, tensor<64x64xf32>
  return %%y : tensor<1x64x64xf32>
}
""" % rows)
