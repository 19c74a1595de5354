#!/usr/bin/env python3
"""Exits 0 when two text files are equal up to trailing whitespace, else
prints where they first differ and exits 1.

    same_text.py A B
"""
import sys

a, b = (open(p).read().rstrip() for p in sys.argv[1:3])
if a == b:
    sys.exit(0)
k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
line = a.count("\n", 0, k) + 1
print("%s and %s differ at line %d:\n  %r\n  %r" % (
    sys.argv[1], sys.argv[2], line, a[max(0, k - 60):k + 60], b[max(0, k - 60):k + 60]))
sys.exit(1)
