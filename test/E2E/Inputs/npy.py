#!/usr/bin/env python3
"""Writes a small .npy test input: npy.py FILE DTYPE DIMS [--fill V]
[--truncate BYTES] [--fortran]. Values are k % 7 (or --fill)."""
import array
import struct
import sys

path, dtype, dims = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")]
args = sys.argv[4:]
descr, code = {"float32": ("<f4", "f"), "int64": ("<i8", "q"), "int32": ("<i4", "i")}[dtype]
n = 1
for d in dims:
    n *= d
fill = int(args[args.index("--fill") + 1]) if "--fill" in args else None
data = array.array(code, [fill if fill is not None else k % 7 for k in range(n)]).tobytes()
shape = "(%d,)" % dims[0] if len(dims) == 1 else "(%s)" % ", ".join(map(str, dims))
header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
    descr, "True" if "--fortran" in args else "False", shape)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
if "--truncate" in args:
    data = data[: int(args[args.index("--truncate") + 1])]
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
