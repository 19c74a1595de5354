#!/usr/bin/env python3
"""Makes broken copies of fixture files for the negative import tests.

  corrupt.py truncate SRC BYTES DST        first BYTES bytes of SRC
  corrupt.py hf SRC_DIR DST_DIR [--drop NAME] [--config-set KEY=JSON]
                                [--config-text TEXT] [--header-len N]
"""
import json
import os
import shutil
import struct
import sys

args = sys.argv[1:]
if args[0] == "truncate":
    data = open(args[1], "rb").read()[: int(args[2])]
    open(args[3], "wb").write(data)
    sys.exit(0)

src, dst, rest = args[1], args[2], args[3:]
shutil.rmtree(dst, ignore_errors=True)
os.makedirs(dst)
config = open(os.path.join(src, "config.json")).read()
st = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", st[:8])[0]
header, data = json.loads(st[8:8 + n]), st[8 + n:]
header_len = None
while rest:
    flag, value = rest[0], rest[1]
    rest = rest[2:]
    if flag == "--drop":
        del header[value]
    elif flag == "--config-set":
        key, val = value.split("=", 1)
        c = json.loads(config)
        c[key] = json.loads(val)
        config = json.dumps(c)
    elif flag == "--config-text":
        config = value
    elif flag == "--header-len":
        header_len = int(value)
h = json.dumps(header).encode()
open(os.path.join(dst, "config.json"), "w").write(config)
with open(os.path.join(dst, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", header_len if header_len is not None else len(h)))
    f.write(h)
    f.write(data)
