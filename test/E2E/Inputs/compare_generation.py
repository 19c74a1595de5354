#!/usr/bin/python3
"""compare_generation.py DIR_A DIR_B RTOL: two generations (ids.npy and
logits.npy in each directory, as the Slim binary's --generate and
tools/ort/ort-generate.js write them) must pick the same tokens, and each
step's logits must agree: max|a-b| / max|b| over the step's row <= RTOL.
Prints the token count and the worst step's relative error."""
import sys

import numpy as np

a, b, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
ia, ib = np.load(a + "/ids.npy"), np.load(b + "/ids.npy")
la, lb = np.load(a + "/logits.npy"), np.load(b + "/logits.npy")
if ia.shape != ib.shape or la.shape != lb.shape:
    print("shapes differ: ids %s vs %s, logits %s vs %s" % (ia.shape, ib.shape, la.shape, lb.shape))
    sys.exit(1)
rel = (np.abs(la - lb).max(axis=1) / np.maximum(np.abs(lb).max(axis=1), 1e-30))
same = int((ia == ib).sum())
first = int(np.argmin(ia[0] == ib[0])) if same < ia.size else -1
ok = same == ia.size and rel.max() <= rtol
print("tokens %d/%d equal%s; worst step logits max_rel=%.3g (rtol %g) %s"
      % (same, ia.size, "" if first < 0 else " (first difference at %d)" % first,
         rel.max(), rtol, "OK" if ok else "FAIL"))
sys.exit(0 if ok else 1)
