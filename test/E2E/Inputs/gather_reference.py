"""numpy's take / take_along_axis as the independent reference for
test/E2E/gather.test.

  gather_reference.py make DIR          writes DIR/x.npy, i.npy, j.npy and
                                        bad.npy (an index past the axis)
  gather_reference.py check DIR OUT     compares OUT/result0.npy and
                                        result1.npy with numpy, exactly
"""
import sys

import numpy as np

d = sys.argv[2]
if sys.argv[1] == "make":
    rng = np.random.default_rng(0)
    np.save(f"{d}/x.npy", rng.standard_normal((2, 4, 3)).astype(np.float32))
    np.save(f"{d}/i.npy", np.array([[3, -1], [0, 2]], dtype=np.int64))
    np.save(f"{d}/j.npy", rng.integers(-4, 4, (2, 2, 3)).astype(np.int32))
    np.save(f"{d}/bad.npy", np.array([[3, 4], [0, 2]], dtype=np.int64))
    sys.exit(0)
x, i, j = (np.load(f"{d}/{n}.npy") for n in ("x", "i", "j"))
want = [np.take(x, i, axis=1), np.take_along_axis(x, np.where(j < 0, j + 4, j), axis=1)]
bad = 0
for k, w in enumerate(want):
    got = np.load(f"{sys.argv[3]}/result{k}.npy")
    if got.shape != w.shape or not np.array_equal(got, w):
        print(f"result{k} differs from numpy")
        bad += 1
print("OK" if not bad else f"{bad} differ")
sys.exit(bad != 0)
