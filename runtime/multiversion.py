#!/usr/bin/env python3
"""multiversion.py OUT.o TOOLDIR OBJ...: links the x86-64-v4 copies of the
kernel objects into one relocatable object in which only the entry points
of runtime/Multiversion.h stay global, renamed slim_v4_NAME; every other
symbol (their helpers, inline functions, template instances) becomes local
and the COMDAT groups are dissolved, so that the linker never picks a v4
copy for the v3 code of the x86-64 runtime. Fails if an entry point is
missing."""
import os
import re
import subprocess
import sys

ENTRIES = ["linearPackedAvx512", "linearNarrowAvx512", "attentionAvx512",
           "attentionReceivedAvx512", "normAvx512", "normRowAvx512",
           "quantizeRows", "qgemmInt32", "qlinear", "qlinearShared",
           "quantizeRowsW4A8", "q4linear", "attentionInt8"]


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    out, tools, objs = sys.argv[1], sys.argv[2], sys.argv[3:]
    tool = lambda name: os.path.join(tools, name)
    combined = out + ".r.o"
    run(tool("ld.lld"), "-r", "-o", combined, *objs)
    names = run(tool("llvm-nm"), "--defined-only", "--extern-only", "-j",
                combined).split()
    plain = run(tool("llvm-cxxfilt"), *names).split("\n") if names else []
    renames = {}
    for mangled, demangled in zip(names, plain):
        m = re.match(r"slim::rt::(\w+)\(", demangled)
        if m and m.group(1) in ENTRIES:
            renames[mangled] = "slim_v4_" + m.group(1)
    missing = set(ENTRIES) - {v[len("slim_v4_"):] for v in renames.values()}
    if missing or len(renames) != len(ENTRIES):
        sys.exit("multiversion.py: entry points missing or ambiguous: %s" %
                 sorted(missing or renames.values()))
    args = []
    for old, new in renames.items():
        args += ["--redefine-sym", "%s=%s" % (old, new)]
    renamed = out + ".n.o"
    run(tool("llvm-objcopy"), *args, "--remove-section=.group", combined,
        renamed)
    keep = []
    for new in renames.values():
        keep += ["--keep-global-symbol", new]
    run(tool("llvm-objcopy"), *keep, renamed, out)
    os.remove(combined)
    os.remove(renamed)


main()
