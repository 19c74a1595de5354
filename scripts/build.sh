#!/usr/bin/env bash
# Configures (once) and builds Slim incrementally into build/ (or $SLIM_BUILD_DIR).
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLIM_BUILD_DIR:-$root/build}"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE="${SLIM_BUILD_TYPE:-Release}" \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
fi
# Two parallel jobs keep peak memory in check on the 2-core machines.
cmake --build "$build" -j "${SLIM_JOBS:-2}" ${1:+--target "$@"}
