#!/usr/bin/env bash
# slimc --budget on the bundled tiny GPT and tiny ViT at top-1 agreement
# >= 0.99 and >= 0.95 (1 thread): the chosen flags, the fastest
# single-pass configuration meeting the same budget timed side by side,
# every candidate (OUT.budget.json) and the plot (OUT.budget.svg) in DIR.
#
#   bench/budget.sh DIR        # docs/budget/ holds the committed run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$1"
mkdir -p "$dir"
cd "$root"
for model in tinygpt tinyvit; do
  if [[ $model == tinygpt ]]; then
    data=(--eval examples/tinygpt/heldout.bin)
  else
    data=(--eval examples/tinyvit/heldout_images.bin
          --labels examples/tinyvit/heldout_labels.bin)
  fi
  for bound in 0.99 0.95; do
    out="$dir/$model-$bound"
    rm -rf "$out.budget.d"
    start=$(date +%s)
    build/bin/slimc "examples/$model/hf" --budget "agreement>=$bound" \
      "${data[@]}" --threads 1 -o "$out" 2> "$out.log"
    echo "  search: $(( $(date +%s) - start )) s"
    rm -rf "$out.budget.d" "$out".drop-layers.*
  done
done
