#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs
#   1. the lit suite and the unit tests (build/),
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#      (build-asan/, -DSLIM_SANITIZE=address,undefined),
#   3. a fuzzing smoke run of every libFuzzer target (scripts/fuzz.sh,
#      SLIM_FUZZ_SECONDS each, default 20),
# and ends with one line "N passed, N failed" over all of them.
# Usage: scripts/test.sh [--quick] [lit args...]
#   --quick   step 1 only (the everyday loop)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLIM_BUILD_DIR:-$root/build}"
asan="${SLIM_ASAN_BUILD_DIR:-$root/build-asan}"
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi

bash "$root/scripts/setup.sh" || exit 1
bash "$root/scripts/build.sh" || exit 1

status=0
results=()
run_suite() { # build-dir label lit-args...
  local dir="$1" label="$2"; shift 2
  echo "== $label: lit"
  python3 /usr/lib/llvm-19/build/utils/lit/lit.py -v \
    -o "$dir/lit-results.json" "$dir/test" "$@" || status=1
  echo "== $label: unit tests"
  "$dir/bin/slim-unit-tests" --gtest_output="json:$dir/unit-results.json" \
    || status=1
  echo "== $label: kernel unit tests, x86-64-v3 runtime"
  "$dir/bin/slim-unit-tests-x86-64-v3" \
    --gtest_output="json:$dir/unit-v3-results.json" || status=1
  # Again without AVX-VNNI (where the CPU has it, the run above took the
  # vpdpbusd path; this one the vpmaddubsw path an older AVX2 CPU takes).
  echo "== $label: kernel unit tests, x86-64-v3 runtime, AVX-VNNI off"
  SLIM_AVX_VNNI=0 "$dir/bin/slim-unit-tests-x86-64-v3" \
    --gtest_output="json:$dir/unit-v3-novnni-results.json" || status=1
  results+=("$dir/lit-results.json" "$dir/unit-results.json"
            "$dir/unit-v3-results.json" "$dir/unit-v3-novnni-results.json")
}
run_suite "$build" "tests" "$@"

fuzz_passed=0 fuzz_failed=0
if [ "$quick" = 0 ]; then
  if [ ! -f "$asan/build.ninja" ]; then
    cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
      -DSLIM_SANITIZE=address,undefined >/dev/null || exit 1
  fi
  cmake --build "$asan" -j "${SLIM_JOBS:-2}" || exit 1
  run_suite "$asan" "sanitizers (address, undefined)" "$@"
  # A fixed seed: the smoke run mutates the same way on every machine, so
  # it checks the code, not the luck of the draw (long runs: scripts/fuzz.sh
  # with SLIM_FUZZ_SEED unset).
  export SLIM_FUZZ_SEED="${SLIM_FUZZ_SEED:-1}"
  for t in onnx hf npy slim_ir; do
    if bash "$root/scripts/fuzz.sh" "${SLIM_FUZZ_SECONDS:-20}" "$t"; then
      fuzz_passed=$((fuzz_passed + 1))
    else
      fuzz_failed=$((fuzz_failed + 1))
      status=1
    fi
  done
fi

python3 - "$fuzz_passed" "$fuzz_failed" "${results[@]}" <<'PY'
import json, sys
passed, failed = int(sys.argv[1]), int(sys.argv[2])
for path in sys.argv[3:]:
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        failed += 1  # a runner did not finish
        continue
    if "tests" in data and isinstance(data["tests"], list):  # lit
        for t in data["tests"]:
            if t["code"] in ("PASS", "XFAIL"):
                passed += 1
            elif t["code"] != "UNSUPPORTED":
                failed += 1
    else:  # googletest
        bad = data["failures"] + data.get("errors", 0)
        failed += bad
        passed += data["tests"] - bad - data.get("disabled", 0)
print("%d passed, %d failed" % (passed, failed))
PY
exit $status
