#!/usr/bin/env python3
"""compare_npy.py A.npy B.npy RTOL: prints max|a-b| / max|b| and exits 1 if
it exceeds RTOL (float32 arrays of one shape)."""
import array
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode("latin1")
    assert "'<f4'" in header, path + ": not float32"
    values = array.array("f")
    values.frombytes(data[10 + hlen:])
    return header.split("'shape':")[1].split(")")[0], values


(sa, a), (sb, b) = read(sys.argv[1]), read(sys.argv[2])
if sa != sb:
    print("shapes differ: %s vs %s" % (sa, sb))
    sys.exit(1)
max_abs = max(abs(x - y) for x, y in zip(a, b))
max_ref = max(abs(y) for y in b) or 1.0
rel = max_abs / max_ref
ok = rel <= float(sys.argv[3])
print("max_rel=%.3g (rtol %s) %s" % (rel, sys.argv[3], "OK" if ok else "FAIL"))
sys.exit(0 if ok else 1)
