"""numpy's np.pad as the independent reference for test/E2E/pad.test.

  pad_reference.py make X.npy          writes a seeded [2, 3, 4] input
  pad_reference.py check X.npy DIR     compares DIR/result0..3.npy with
                                       np.pad(X) in the modes constant
                                       (1.5), reflect, edge, wrap; exact
"""
import sys

import numpy as np

PADS = ((0, 0), (1, 1), (2, 1))  # pad.mlir's [0, 1, 2, 0, 1, 1]

if sys.argv[1] == "make":
    np.save(sys.argv[2],
            np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    sys.exit(0)
x = np.load(sys.argv[2])
want = [np.pad(x, PADS, mode="constant", constant_values=1.5),
        np.pad(x, PADS, mode="reflect"),
        np.pad(x, PADS, mode="edge"),
        np.pad(x, PADS, mode="wrap")]
bad = 0
for k, w in enumerate(want):
    got = np.load(f"{sys.argv[3]}/result{k}.npy")
    if got.shape != w.shape or not np.array_equal(got, w):
        print(f"result{k}: differs from np.pad", got.shape, w.shape)
        bad += 1
print("OK" if not bad else f"{bad} differ")
sys.exit(bad != 0)
