#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the lit suite and
# the unit tests, and ends with one line "N passed, N failed".
# Usage: scripts/test.sh [lit args...]   e.g. scripts/test.sh --filter invalid
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLIM_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"

status=0
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -v \
  -o "$build/lit-results.json" "$build/test" "$@" || status=1
"$build/bin/slim-unit-tests" --gtest_output="json:$build/unit-results.json" \
  || status=1

python3 - "$build/lit-results.json" "$build/unit-results.json" <<'PY'
import json, sys
passed = failed = 0
try:
    for t in json.load(open(sys.argv[1]))["tests"]:
        if t["code"] in ("PASS", "XFAIL"):
            passed += 1
        else:
            failed += 1
except (OSError, ValueError, KeyError):
    failed += 1  # lit did not run to the end
try:
    u = json.load(open(sys.argv[2]))
    failed += u["failures"] + u.get("errors", 0)
    passed += u["tests"] - u["failures"] - u.get("errors", 0) - u.get("disabled", 0)
except (OSError, ValueError, KeyError):
    failed += 1  # the unit tests did not run to the end
print("%d passed, %d failed" % (passed, failed))
PY
exit $status
