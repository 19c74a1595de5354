#!/usr/bin/env bash
# Throughput of one model handle called from several threads at once (a
# server's request threads) on this machine: the shared library of MODEL
# driven by test/E2E/Inputs/capi_threads.c, which checks every result
# against the serial one and prints calls/s. Three ways to use 2 cores:
#   1 caller,  a 2-thread kernel pool  (each call split across the cores)
#   2 callers, a 2-thread kernel pool  (a call that finds the pool busy
#                                       runs its loops on its own thread)
#   2 callers, a 1-thread kernel pool  (each call on one core)
# ROUNDS rounds alternate the three; the median calls/s of each is printed
# with its ratio to the first.
#
#   /usr/bin/python3 bench/make_models.py DIR deit-small    # once
#   bench/callers.sh DIR/deit-small/model.onnx [CALLS [ROUNDS]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; calls="${2:-100}"; rounds="${3:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/build/bin/slimc" "$model" --emit=lib -o "$work/m" 2>&1 | grep -E "wrote"
cc -O2 -include "$work/m.h" "$root/test/E2E/Inputs/capi_threads.c" -L"$work" -lm \
  -Wl,-rpath,"$work" -lpthread -o "$work/callers"
rate() { # callers pool-threads
  HL_NUM_THREADS="$2" "$work/callers" run "$1" "$calls" | sed -n 's/.* \([0-9]*\) calls\/s.*/\1/p'
}
source "$root/bench/common.sh"
: > "$work/a"; : > "$work/b"; : > "$work/c"
for ((r = 0; r < rounds; ++r)); do
  rate 1 2 >> "$work/a"
  rate 2 2 >> "$work/b"
  rate 2 1 >> "$work/c"
done
a="$(median < "$work/a")"; b="$(median < "$work/b")"; c="$(median < "$work/c")"
echo "| callers | kernel threads | calls/s | vs 1 caller |"
echo "|---|---|---|---|"
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
  printf "| 1 | 2 | %d | 1.00x |\n", a
  printf "| 2 | 2 | %d | %.2fx |\n", b, b / a
  printf "| 2 | 1 | %d | %.2fx |\n", c, c / a }'
