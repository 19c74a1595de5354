"""Reads an strace log (-f -s 4096 -e trace=%file,execve) and fails when
the traced program opened, examined or ran any path inside the given
trees other than the allowed directory: an installed slimc must read
nothing of the build or source tree.

    check_trace.py TRACE ALLOWED_DIR TREE...
"""
import os
import re
import sys

trace, allowed, trees = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3:]
trees = [os.path.realpath(t) for t in trees]
bad = set()
for line in open(trace):
    for path in re.findall(r'"(/[^"]*)"', line):
        p = os.path.normpath(path)
        if p == allowed or p.startswith(allowed + os.sep):
            continue
        if allowed.startswith(p + os.sep):
            continue  # a parent of the working directory, resolved
        if any(p == t or p.startswith(t + os.sep) for t in trees):
            bad.add(p)
if bad:
    sys.exit("the installed slimc touched the build or source tree:\n  " +
             "\n  ".join(sorted(bad)))
print("no path of the build or source tree touched")
