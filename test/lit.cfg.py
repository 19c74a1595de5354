# -*- Python -*-
# Lit configuration for Slim's test suite.

import os

import lit.formats

config.name = "Slim"
config.test_format = lit.formats.ShTest(not config.slim_use_internal_shell == "0")
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.slim_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs", "fixtures"]

# Slim's tools first, then LLVM 19's FileCheck, not, split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.slim_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.substitutions.append(("%slim_src_root", config.slim_src_root))
config.substitutions.append(("%slim_obj_root", config.slim_obj_root))
config.substitutions.append(("%python", config.python_executable))
# Debian's interpreter, with python3-numpy (scripts/setup.sh installs it):
# the NumPy reference implementations run with it.
config.substitutions.append(("%numpy_python", "/usr/bin/python3"))
config.substitutions.append(
    ("%slim_verify", config.python_executable + " " + os.path.join(config.slim_src_root, "tools", "slim-verify")))
# slimc --runtime-sanitizer=thread works (the TSan runtime is built).
if config.tsan_runtime == "ON":
    config.available_features.add("tsan-runtime")
# In a sanitizer build, programs linking Slim's libraries need the
# sanitizer runtime, and Python cannot dlopen them (test with
# "UNSUPPORTED: sanitizer").
cc = config.c_compiler
if config.sanitize:
    cc += " -fsanitize=" + config.sanitize
    config.available_features.add("sanitizer")
# The int8 kernel uses AVX-512 VNNI when the CPU has it (-march=native).
try:
    if "avx512_vnni" in open("/proc/cpuinfo").read():
        config.available_features.add("avx512-vnni")
except OSError:
    pass
config.substitutions.append(("%cc", cc))
# The --target tests run binaries on CPUs without AVX-512 under qemu-user
# (scripts/setup.sh installs it).
import shutil
for qemu in ("qemu-x86_64", "qemu-aarch64"):
    if shutil.which(qemu):
        config.available_features.add(qemu)
    else:
        lit_config.note(qemu + " not found: the runs of --target binaries on "
                        "emulated CPUs are skipped (scripts/setup.sh installs "
                        "qemu-user)")
# slimc --target=aarch64-linux exists (the build found the cross toolchain);
# %cc_aarch64 compiles and links C programs for it.
if config.aarch64 == "ON":
    config.available_features.add("aarch64-target")
else:
    lit_config.note("no aarch64 cross toolchain at build time: the "
                    "--target=aarch64-linux tests are skipped (scripts/setup.sh "
                    "installs it)")
# (First: lit would otherwise substitute its %cc prefix.)
config.substitutions.insert(
    0, ("%cc_aarch64", config.c_compiler + " --target=aarch64-linux-gnu -fuse-ld=lld"))
config.substitutions.append(
    ("%slim_quality", config.python_executable + " " + os.path.join(config.slim_src_root, "tools", "slim-quality")))
config.substitutions.append(("%fixtures", os.path.join(config.slim_src_root, "test", "fixtures")))
