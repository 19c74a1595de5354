"""Lists the lit cases (the parts of a .mlir test between '// -----' that
hold a function or module) that have no '// Tests ...' heading saying what
they check. Exit status 1 when there is one."""
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
missing = []
for path in sorted(root.rglob("*.mlir")):
    if {"Inputs", "fixtures", "fuzz"} & set(path.parts):
        continue
    for k, case in enumerate(path.read_text().split("// -----")):
        if ("func.func" in case or "module" in case) and "// Tests " not in case:
            missing.append(f"{path.relative_to(root)}: case {k} has no '// Tests ...' heading")
print("\n".join(missing) if missing else "every case has a heading")
sys.exit(1 if missing else 0)
