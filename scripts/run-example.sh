#!/usr/bin/env bash
# The main job (until slimc exists): installs what is missing, builds
# slim-opt, and runs it over the bundled 2-layer GPT-style model: the
# per-sublayer parameter/MAC table, then the canonicalized IR (weight blobs
# elided).
# Usage: scripts/run-example.sh [model.mlir]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLIM_BUILD_DIR:-$root/build}"
model="${1:-$root/examples/tiny-gpt/model.mlir}"

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" slim-opt >&2

"$build/bin/slim-opt" "$model" -canonicalize -slim-stats \
  --mlir-elide-resource-strings-if-larger=32
