#!/usr/bin/env bash
# The main job: installs what is missing, builds Slim, then
#   - with no argument: compiles the bundled trained tiny GPT
#     (examples/tinygpt, a byte-level GPT-2 trained on Debian's fortunes)
#     with the exact LayerNorm -> RMSNorm rewrite, prints its per-sublayer
#     parameter/MAC table, generates text greedily from a prompt and prints
#     the speed;
#   - with a model (.onnx, HF directory or .mlir): compiles it, runs it on
#     generated inputs, prints the first outputs and a --bench timing.
# Usage: scripts/run-example.sh [model] [--prompt TEXT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLIM_BUILD_DIR:-$root/build}"
model="" prompt="The meaning of life is "
while [ $# -gt 0 ]; do
  case "$1" in
    --prompt) prompt="$2"; shift 2 ;;
    *) model="$1"; shift ;;
  esac
done

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" slimc slim-opt slim-import >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -z "$model" ]; then
  gpt="$root/examples/tinygpt/hf"
  "$build/bin/slim-import" "$gpt" --seq-len 128 -o "$work/tinygpt.mlir"
  "$build/bin/slim-opt" "$work/tinygpt.mlir" -slim-stats -o /dev/null
  "$build/bin/slimc" "$gpt" --seq-len 128 --ln-to-rmsnorm --emit=lib -o "$work/tinygpt"
  python3 "$root/examples/tinygpt/generate.py" "$work/libtinygpt.so" "$prompt" --tokens 80
  exit 0
fi

"$build/bin/slim-opt" "$model" -slim-stats -o /dev/null 2>/dev/null || true
"$build/bin/slimc" "$model" -o "$work/model"
"$work/model" --help | sed -n '/^inputs:/,$p'
# Inputs: token ids 0..T-1 (int64), or normal(0, 1) floats, per --help.
python3 - "$work" <<'PY'
import array, re, struct, subprocess, sys, random
work = sys.argv[1]
help_text = subprocess.run([work + "/model", "--help"], capture_output=True, text=True).stdout
inputs = help_text.split("inputs:")[1].split("outputs:")[0]
for name, dtype, dims in re.findall(r"(\S+): (\w+) \[([0-9, ]*)\]", inputs):
    shape = [int(d) for d in dims.split(",") if d.strip()]
    n = 1
    for d in shape:
        n *= d
    code, descr = {"int64": ("q", "<i8"), "float32": ("f", "<f4")}[dtype]
    rng = random.Random(0)
    values = [i % 64 for i in range(n)] if code == "q" else [rng.gauss(0, 1) for _ in range(n)]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    with open("%s/%s.npy" % (work, name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(array.array(code, values).tobytes())
    print("input %s: %s %s" % (name, dtype, shape))
PY
args=()
for f in "$work"/*.npy; do n="$(basename "$f" .npy)"; args+=(--input "$n=$f"); done
mkdir -p "$work/out"
"$work/model" "${args[@]}" --output-dir "$work/out" --bench 20
python3 - "$work/out" <<'PY'
import array, os, struct, sys
for f in sorted(os.listdir(sys.argv[1])):
    data = open(os.path.join(sys.argv[1], f), "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode()
    values = array.array("f", data[10 + hlen:])
    shape = header.split("'shape': (")[1].split(")")[0]
    print("output %s: float32 (%s), first values %s" % (
        f[:-4], shape, " ".join("%.4f" % v for v in values[:6])))
PY
