#!/usr/bin/env bash
# Whole-model speed with and without a pass, in the same run: builds both
# binaries and alternates --bench runs (1 thread), printing the medians.
#   bench/passes_speed.sh MODEL.onnx "PASS FLAGS..." [--calibration X.npy]
# e.g. bench/passes_speed.sh /tmp/bench-models/deit-small/model.onnx --ln-to-rmsnorm
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; shift
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$root/build/bin/slimc" "$model" --weights=external -o "$work/base" >/dev/null 2>&1
"$root/build/bin/slimc" "$model" --weights=external "$@" -o "$work/opt" > "$work/opt.log" 2>&1
input=$(node "$root/tools/ort/ort-run.js" "$model" --describe | python3 -c '
import json, sys
print(json.load(sys.stdin)["inputs"][0]["name"])')
python3 - "$work" "$input" "$("$work/base" --help | sed -n "/^inputs:/{n;p}")" <<'PY'
import array, re, struct, sys, random
work, name, line = sys.argv[1], sys.argv[2], sys.argv[3]
dtype, dims = re.search(r": (\w+) \[([0-9, ]+)\]", line).groups()
shape = [int(d) for d in dims.split(",")]
n = 1
for d in shape: n *= d
rng = random.Random(0)
code, descr = ("q", "<i8") if dtype == "int64" else ("f", "<f4")
vals = [rng.randrange(1000) for _ in range(n)] if code == "q" else [rng.gauss(0, 1) for _ in range(n)]
h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ", ".join(map(str, shape)))
h += " " * ((64 - (11 + len(h)) % 64) % 64) + "\n"
open(work + "/in.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + array.array(code, vals).tobytes())
PY
for round in 1 2 3; do
  for v in base opt; do
    "$work/$v" --input "$input=$work/in.npy" --output-dir "$work" --threads 1 --bench 10 \
      | sed "s/^/$v round $round: /"
  done
done
