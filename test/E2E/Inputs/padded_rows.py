#!/usr/bin/python3
"""padded_rows.py BATCH.npy ROW LENGTH SINGLE.npy RTOL

Checks that the first LENGTH positions of batch row ROW of a padded batch's
output equal a batch-1 run of that sequence alone (SINGLE.npy, [1, LENGTH,
...]): max|d| / max|ref| <= RTOL. Padding must not leak into real tokens."""
import sys

import numpy as np

batch, row, length = np.load(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
single, rtol = np.load(sys.argv[4]), float(sys.argv[5])
a = batch[row, :length]
b = single[0, :length]
if a.shape != b.shape:
    print("shapes differ: %s vs %s" % (a.shape, b.shape))
    sys.exit(1)
rel = float(np.abs(a - b).max() / (np.abs(b).max() or 1.0))
ok = rel <= rtol
print("row %d, %d tokens: max_rel=%.3g (rtol %g) %s" % (row, length, rel, rtol, "OK" if ok else "FAIL"))
sys.exit(0 if ok else 1)
