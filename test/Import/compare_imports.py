#!/usr/bin/env python3
"""Checks that two imports of one model have the same op structure and
bit-identical weights.

Usage: compare_imports.py A.mlir B.mlir

Both files are MLIR text with weights not elided. Every op of the function
body except constants is compared in order, after renaming SSA values by
order of definition and replacing each constant operand by its content (the
resource blob bytes or the dense literal, with its type). Resource and value
names may differ; anything else is a difference. Exits 1 on the first one.
"""

import hashlib
import re
import struct
import sys


def blob(data, type_):
    return "blob:%s:%s" % (hashlib.sha1(data).hexdigest()[:16], type_)

RESOURCE = re.compile(r'^\s*("?[^":\s]+"?):\s*"0x([0-9A-Fa-f]*)"')
CONST = re.compile(r'^\s*(%[\w.$-]+) = arith\.constant (.*)$')
DEF = re.compile(r'^\s*(%[\w.$-]+(?:, %[\w.$-]+)*)\s*=')
VALUE = re.compile(r'%[\w.$-]+')


def normalize(path):
    text = open(path).read()
    blobs = {}
    for line in text.splitlines():
        m = RESOURCE.match(line)
        if m:
            blobs[m.group(1).strip('"')] = m.group(2).upper()
    consts, names, ops = {}, {}, []

    def content(literal):
        m = re.match(r'dense_resource<("?[^>"]+"?)> : (.*)$', literal)
        if m:
            key = m.group(1).strip('"')
            if key not in blobs:
                sys.exit("%s: resource %s has no data (elided?)" % (path, key))
            # Skip the 4-byte alignment prefix of the blob.
            return blob(bytes.fromhex(blobs[key][8:]), m.group(2))
        m = re.match(r'dense<(\[.*\])> : (tensor<[0-9x]*xf32>)$', literal)
        if m:  # small float constants print as literals: compare their bytes
            values = [float(v) for v in re.findall(r'[-+0-9.eE]+|0x[0-9A-Fa-f]+', m.group(1))]
            return blob(struct.pack("<%df" % len(values), *values), m.group(2))
        return literal

    body = text.split("{-#")[0]
    for line in body.splitlines():
        m = CONST.match(line)
        if m:
            consts[m.group(1)] = "<" + content(m.group(2)) + ">"
            continue
        if "slim." not in line and "return" not in line and "^bb" not in line:
            continue
        for arg in re.findall(r'(%arg\d+):', line):  # block arguments
            names.setdefault(arg, "%%a%d" % len(names))
        d = DEF.match(line)
        if d:
            for v in d.group(1).split(", "):
                names[v] = "%%v%d" % len(names)

        def rename(m):
            v = m.group(0)
            return consts.get(v) or names.get(v) or v
        ops.append(VALUE.sub(rename, line.strip()))
    return ops


a, b = normalize(sys.argv[1]), normalize(sys.argv[2])
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        print("difference at op %d:\n  %s\n  %s" % (i, x[:400], y[:400]))
        sys.exit(1)
if len(a) != len(b):
    print("op counts differ: %d vs %d" % (len(a), len(b)))
    sys.exit(1)
print("same structure and weights: %d ops" % len(a))
