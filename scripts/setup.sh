#!/usr/bin/env bash
# Installs what Slim needs to build and test on Debian 12 (bookworm), as root.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

APT_PACKAGES=(
  # compiler toolchain and MLIR 19
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools clang-19 lld-19
  # sanitizer and libFuzzer runtimes (the sanitizer suite, scripts/fuzz.sh)
  libclang-rt-19-dev
  # Halide 14 (AOT kernels; links its own LLVM 14)
  libhalide14-0-dev
  # build
  cmake ninja-build ccache
  # libraries the compiler and runtime use
  libboost-graph-dev nlohmann-json3-dev libgtest-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  # ONNX backend node tests (the import conformance runner)
  libonnx-testdata
  # lit needs a Python 3 interpreter; NumPy for the independent reference
  # implementations some tests compare against (run with /usr/bin/python3)
  python3 python3-numpy
  # the installation test traces every file the installed slimc touches
  strace
  # the --target tests run binaries on emulated CPUs without AVX-512 and
  # on 64-bit ARM; --target=aarch64-linux links against the cross C
  # library, libstdc++ and start files
  qemu-user gcc-aarch64-linux-gnu libstdc++-12-dev-arm64-cross
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime (npm onnxruntime-node), the independent reference that
# tools/slim-verify and the E2E tests compare with. Its postinstall would
# download GPU files; ONNXRUNTIME_NODE_INSTALL=skip keeps it offline.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: installing nodejs and npm" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi
if [ ! -f "$root/tools/ort/node_modules/onnxruntime-node/package.json" ]; then
  echo "setup: installing onnxruntime-node" >&2
  (cd "$root/tools/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
