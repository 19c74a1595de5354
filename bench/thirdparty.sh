#!/usr/bin/env bash
# torchvision's ViT-B/16 (its own module code, 224x224, batch 1, random
# weights with the head redrawn) compiled by Slim next to ONNX Runtime on
# the same ONNX file, and with --merge-tokens=r:13 (ToMe): ROUNDS rounds of
# `--bench RUNS` each, alternating Slim, ONNX Runtime and the merged binary;
# the medians of the round medians and their ratios, per thread count.
#
#   /usr/bin/python3 bench/make_models.py DIR tv-vit-b16     # once
#   bench/thirdparty.sh DIR/tv-vit-b16 [RUNS [ROUNDS]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$1"; runs="${2:-10}"; rounds="${3:-3}"
model="$dir/model.onnx"
slimc="$root/build/bin/slimc"
"$slimc" "$model" --weights=external -o "$dir/slim" 2>&1 | grep -E "raised|wrote"
"$slimc" "$model" --weights=external --merge-tokens=r:13 -o "$dir/slim-tome" 2>&1 | grep -E "merge|wrote"
/usr/bin/python3 -c "import numpy as np; np.save('$dir/image.npy', np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype('float32'))"
source "$root/bench/common.sh"
mkdir -p "$dir/out"
feed="--input image=$dir/image.npy --output-dir $dir/out"
for threads in 1 2; do
  { read -r S; read -r O; read -r M; } < <(alternate "$threads" "$runs" "$rounds" \
    "$dir/slim $feed" "node $root/tools/ort/ort-run.js $model $feed" "$dir/slim-tome $feed")
  awk -v t="$threads" -v s="$S" -v o="$O" -v m="$M" 'BEGIN {
    printf "threads %d: Slim %.1f ms, ONNX Runtime %.1f ms (ORT/Slim %.2fx); ToMe r=13 %.1f ms (%.2fx the unmerged binary)\n", t, s, o, o / s, m, s / m }'
done
