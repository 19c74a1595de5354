#!/usr/bin/env python3
"""rebuild.py REPORT SLIMC: reads the `chosen: slimc MODEL FLAGS -o OUT`
line slim-budget printed into REPORT, moves OUT aside, runs SLIMC with
exactly those arguments and prints whether the new OUT is byte for byte
the search's (exit 1 when not)."""
import filecmp
import os
import shlex
import subprocess
import sys

line = next(l for l in open(sys.argv[1]) if l.startswith("chosen: slimc "))
args = shlex.split(line[len("chosen: slimc "):])
out = args[args.index("-o") + 1]
os.replace(out, out + ".search")
subprocess.run([sys.argv[2]] + args, check=True, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
same = filecmp.cmp(out, out + ".search", shallow=False)
print("rebuilt from the printed flags:", "identical" if same else "DIFFERENT")
sys.exit(0 if same else 1)
