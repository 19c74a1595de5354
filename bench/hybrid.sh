#!/usr/bin/env bash
# The MobileViT-style hybrid classifier of test/fixtures/make_hybrid.py at
# 256x256, batch 1: Slim fp32, int8 (--quantize=int8: the convolutions
# of one group and the transformer's linears W8A8, depthwise convolutions
# float) and int8 with int8 attention (--quantize=int8,attention=1: also
# q·kᵀ and p·v) next to ONNX Runtime fp32 on the same ONNX file. ROUNDS
# rounds of `--bench RUNS` each, alternating the four; the medians of the
# round medians and their ratios, per thread count. Then the convolution kernels'
# share of this machine's fp32 peak (bench/peak.cpp, measured in the same
# run): the fp32 binary's profile at 1 thread, per op kind, and the
# direct convolution and pooling kernels alone (slim-conv-bench).
#
#   /usr/bin/python3 test/fixtures/make_hybrid.py DIR mobilevit_256   # once
#   bench/hybrid.sh DIR/mobilevit_256 [RUNS [ROUNDS]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$1"; runs="${2:-10}"; rounds="${3:-3}"
model="$dir/model.onnx"
slimc="$root/build/bin/slimc"
"$slimc" "$model" -o "$dir/slim" 2>&1 | grep -E "raised|wrote"
"$slimc" "$model" --quantize=int8 -o "$dir/slim-int8" 2>&1 | grep -E "quantize:|wrote"
"$slimc" "$model" --quantize=int8,attention=1 -o "$dir/slim-int8a" 2>&1 | grep -E "quantize:|wrote"
/usr/bin/python3 -c "import numpy as np; np.save('$dir/image.npy', np.random.default_rng(0).standard_normal((1, 3, 256, 256)).astype('float32'))"
source "$root/bench/common.sh"
mkdir -p "$dir/out"
feed="--input image=$dir/image.npy --output-dir $dir/out"
for threads in 1 2; do
  { read -r S; read -r O; read -r Q; read -r A; } < <(alternate "$threads" "$runs" "$rounds" \
    "$dir/slim $feed" "node $root/tools/ort/ort-run.js $model $feed" "$dir/slim-int8 $feed" \
    "$dir/slim-int8a $feed")
  awk -v t="$threads" -v s="$S" -v o="$O" -v q="$Q" -v a="$A" 'BEGIN {
    printf "threads %d: ONNX Runtime fp32 %.1f ms; Slim fp32 %.1f ms (ORT/Slim %.2fx); Slim int8 %.1f ms (%.2fx); int8 + int8 attention %.1f ms (%.2fx)\n", t, o, s, o / s, q, o / q, a, o / a }'
done
peak=$("$root/build/bin/slim-peak" --json | /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['fp32_gflops_1'])")
echo "fp32 peak (1 thread, measured now): $peak GFLOP/s; per op kind of the fp32 binary:"
"$dir/slim" --input image="$dir/image.npy" --output-dir "$dir/out" --threads 1 --bench "$runs" \
  --profile --peak-gflops "$peak" 2>&1 | sed -n '/^per op kind:/,$p' |
  grep -E "slim\.(conv2d|im2col|linear|qlinear|pool2d|attention)\b"
# The direct convolution and pooling kernels alone, at this model's and
# MobileNetV3's shapes (Halide, and the C++ loop where one runs instead).
for threads in 1 2; do
  echo "window kernels, $threads thread(s) (fp32 peak $peak GFLOP/s on 1):"
  "$root/build/bin/slim-conv-bench" "$threads"
done
