#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (default 30) on its seed corpus:
# the fixtures, the ONNX node tests' models and the lit inputs. Builds the
# fuzzers into build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined).
# Crashes are written to fuzz-artifacts/; the script fails on any.
# Usage: scripts/fuzz.sh [SECONDS] [target...]   targets: onnx hf npy slim_ir
# SLIM_FUZZ_SEED=N makes the mutations reproducible (scripts/test.sh sets 1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx hf npy slim_ir)
# SLIM_FUZZ_SANITIZE=undefined: a build without AddressSanitizer (its own
# directory, build-fuzz-undefined) for long runs, about twice as fast.
sanitize="${SLIM_FUZZ_SANITIZE:-address,undefined}"
if [ "$sanitize" = "address,undefined" ]; then
  build="${SLIM_FUZZ_BUILD_DIR:-$root/build-fuzz}"
else
  build="${SLIM_FUZZ_BUILD_DIR:-$root/build-fuzz-${sanitize//,/-}}"
fi

bash "$root/scripts/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DSLIM_FUZZ=ON -DSLIM_FUZZ_SANITIZE="$sanitize" -DSLIM_BUILD_TESTS=OFF >/dev/null
fi
build_targets=("${targets[@]/%/_fuzzer}")
[[ " ${targets[*]} " == *" onnx "* ]] && build_targets+=(onnx_seed)
cmake --build "$build" -j "${SLIM_JOBS:-2}" --target "${build_targets[@]}"

corpus="$build/fuzz-corpus"
seed() { # target, files...
  local dir="$corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16)" || true; done
}
seed onnx "$root"/test/Import/Inputs/*.onnx \
  $(ls /usr/share/libonnx-testdata/data/node/*/model.onnx 2>/dev/null | head -200)
# The fixture models (our own, the third-party and the hybrid exports, plain, dynamic
# and ONNX-Runtime-optimized) with their weights turned into
# ConstantOfShape nodes by onnx_seed: 20-85 KB instead of 100-500 KB, the
# same graphs once folded, about three times the executions a second. A
# graph that stays over 200 KB (Swin's plain export: 2 500 nodes) is left
# out; its ONNX-Runtime-optimized form (300 nodes) is in.
if [ -x "$build/bin/onnx_seed" ]; then
  for f in "$root"/test/fixtures/{bert,gpt2,llama,vit}/model.onnx \
           "$root"/test/fixtures/thirdparty/*/{model,ort,dynamic}.onnx \
           "$root"/test/fixtures/hybrid/*/model.onnx; do
    [ -f "$f" ] || continue
    out="$corpus/onnx/seed-$(echo "$f" | md5sum | cut -c1-16)"
    [ -f "$out" ] || "$build/bin/onnx_seed" "$f" "$out"
    if [ "$(stat -c %s "$out")" -gt 200000 ]; then rm "$out"; fi
  done
fi
# hf: tiny (d = 4, one layer) checkpoints of the four fixture families, in
# hf_fuzzer's format (config.json, a NUL, model.safetensors): a few KB each,
# so the importer runs thousands of times a second.
python3 "$root/test/fuzz/make_hf_seeds.py" "$root/test/fixtures" "$corpus/hf"
mkdir -p "$corpus/npy"
python3 "$root/test/E2E/Inputs/npy.py" "$corpus/npy/ids" int64 1,8
python3 "$root/test/E2E/Inputs/npy.py" "$corpus/npy/f32" float32 2,3
seed slim_ir "$root"/test/Dialect/slim/*.mlir "$root"/test/Transforms/*.mlir \
  "$root"/test/Codegen/*.mlir

mkdir -p "$root/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  echo "== $t: ${seconds}s"
  extra=(-max_len=1048576)
  [ "$t" = slim_ir ] && extra+=(-dict="$root/test/fuzz/slim.dict")
  [ "$t" = hf ] && extra=(-max_len=65536)
  [ -n "${SLIM_FUZZ_SEED:-}" ] && extra+=(-seed="$SLIM_FUZZ_SEED")
  # Every input a fuzzer ever crashed on (test/fuzz/regressions/TARGET-*)
  # runs once first; kept out of the corpus, where a 500 KB reproducer
  # would slow every mutation of it.
  regressions=("$root"/test/fuzz/regressions/"$t"-*)
  if [ -f "${regressions[0]}" ] &&
     ! "$build/bin/${t}_fuzzer" "${regressions[@]}" > "$build/fuzz-$t-regressions.log" 2>&1; then
    echo "fuzz: $t fails on a regression input (log: $build/fuzz-$t-regressions.log)"
    grep -E "ERROR|SUMMARY" "$build/fuzz-$t-regressions.log" | head -5
    status=1
    continue
  fi
  if ! "$build/bin/${t}_fuzzer" "$corpus/$t" -max_total_time="$seconds" \
       -rss_limit_mb=4096 -artifact_prefix="$root/fuzz-artifacts/$t-" \
       -print_final_stats=1 "${extra[@]}" > "$build/fuzz-$t.log" 2>&1; then
    echo "fuzz: $t found a problem (log: $build/fuzz-$t.log, inputs: fuzz-artifacts/)"
    grep -E "ERROR|SUMMARY" "$build/fuzz-$t.log" | head -5
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$build/fuzz-$t.log" || true
done
exit $status
