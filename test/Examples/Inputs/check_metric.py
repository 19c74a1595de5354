#!/usr/bin/env python3
"""check_metric.py QUALITY.json KEY METRICS.json REFKEY RTOL: compares
slim-quality's KEY with the training script's REFKEY; exits 1 when the
relative difference exceeds RTOL."""
import json
import sys

ours = json.load(open(sys.argv[1]))[sys.argv[2]]
ref = json.load(open(sys.argv[3]))[sys.argv[4]]
rel = abs(ours - ref) / abs(ref)
print("%s: slim %.6f, PyTorch %.6f, relative difference %.2e (rtol %s) %s"
      % (sys.argv[2], ours, ref, rel, sys.argv[5], "OK" if rel <= float(sys.argv[5]) else "FAIL"))
sys.exit(0 if rel <= float(sys.argv[5]) else 1)
