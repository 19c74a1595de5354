#!/usr/bin/env bash
# slimc --target on this machine: DeiT-S and GPT-2-small (bench/make_models.py)
# fp32 and int8 compiled for the host (every extension it has) and for
# x86-64-v3 (AVX2 + FMA: what a binary for laptops and older servers gets),
# next to ONNX Runtime fp32, ROUNDS rounds of `--bench RUNS` alternating
# the five; the medians of the round medians and the ratios, per thread
# count. Then the fp32 profile of each v3 binary at 1 thread with its
# linears' and attention's share of the AVX2 FMA peak (slim-peak --avx2).
#
#   /usr/bin/python3 bench/make_models.py DIR    # once
#   bench/targets.sh DIR [RUNS [ROUNDS]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$1"; runs="${2:-10}"; rounds="${3:-3}"
slimc="$root/build/bin/slimc"
source "$root/bench/common.sh"
# Seeded inputs: 128 token ids, one 224 x 224 image.
/usr/bin/python3 -c "import numpy as np; r = np.random.default_rng(0); np.save('$dir/ids.npy', r.integers(0, 1000, (1, 128)).astype('int64')); np.save('$dir/px.npy', r.standard_normal((1, 3, 224, 224)).astype('float32'))"
for name in deit-small gpt2-small; do
  m="$dir/$name"
  for t in host x86-64-v3; do
    "$slimc" "$m/model.onnx" --target=$t --weights=external -o "$m/slim-$t" >/dev/null 2>&1
    "$slimc" "$m/model.onnx" --target=$t --quantize=int8 --weights=external \
      -o "$m/slim-$t-int8" >/dev/null 2>&1
  done
  mkdir -p "$m/out"
  if [[ $name == gpt2-small ]]; then
    feed="--input input_ids=$dir/ids.npy --output-dir $m/out"
  else
    feed="--input pixel_values=$dir/px.npy --output-dir $m/out"
  fi
  for threads in 1 2; do
    { read -r H; read -r V; read -r HQ; read -r VQ; read -r O; } < <(alternate "$threads" "$runs" "$rounds" \
      "$m/slim-host $feed" "$m/slim-x86-64-v3 $feed" "$m/slim-host-int8 $feed" \
      "$m/slim-x86-64-v3-int8 $feed" "node $root/tools/ort/ort-run.js $m/model.onnx $feed")
    awk -v n="$name" -v t="$threads" -v h="$H" -v v="$V" -v hq="$HQ" -v vq="$VQ" -v o="$O" 'BEGIN {
      printf "%s, %d thread(s): ONNX Runtime fp32 %.1f ms | fp32 host %.1f ms (ORT/Slim %.2fx), x86-64-v3 %.1f ms (%.2fx) | int8 host %.1f ms (%.2fx), x86-64-v3 %.1f ms (%.2fx)\n",
        n, t, o, h, o / h, v, o / v, hq, o / hq, vq, o / vq }'
  done
done
peak=$("$root/build/bin/slim-peak" --json | /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['fp32_avx2_gflops_1'])")
echo "AVX2 FMA peak (1 thread, measured now): $peak GFLOP/s"
for name in deit-small gpt2-small; do
  m="$dir/$name"
  if [[ $name == gpt2-small ]]; then feed="--input input_ids=$dir/ids.npy"; else feed="--input pixel_values=$dir/px.npy"; fi
  echo "$name x86-64-v3 fp32, per op kind:"
  "$m/slim-x86-64-v3" $feed --output-dir "$m/out" --threads 1 --bench "$runs" --profile \
    --peak-gflops "$peak" 2>&1 | sed -n '/^per op kind:/,$p' | sed -n 2,8p
done
