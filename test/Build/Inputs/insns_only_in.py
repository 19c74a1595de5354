#!/usr/bin/env python3
"""insns_only_in.py DISASSEMBLY REGEX FUNCTION: prints every line of an
`llvm-objdump -d -C` listing whose instruction matches REGEX outside the
functions whose name contains FUNCTION, and "none outside FUNCTION" when
there is none (exit 1 otherwise)."""
import re
import sys

listing, pattern, function = sys.argv[1], re.compile(sys.argv[2]), sys.argv[3]
current, outside, inside = "", [], 0
for line in open(listing):
    m = re.match(r"^[0-9a-f]+ <(.*)>:", line)
    if m:
        current = m.group(1)
    elif pattern.search(line):
        if function in current:
            inside += 1
        else:
            outside.append("%s: %s" % (current, line.strip()))
for l in outside[:5]:
    print(l)
print("%d inside %s, %s" % (inside, function,
                            "none outside" if not outside else "%d outside" % len(outside)))
sys.exit(1 if outside else 0)
