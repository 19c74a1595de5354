//===- TargetFeatures.cpp - the CPU features a runtime build assumes ------===//
//
// Compiled with the runtime's -march (native, x86-64-v3, x86-64-v4): the
// compiler's own macros say which instruction-set extensions the kernels
// may contain, and this file records them as data for CpuCheck.cpp, which
// is compiled for the baseline and compares them with the CPU's before
// anything else of the program runs. Only extensions a compiler emits for
// plain or intrinsic code Slim has are listed (no AMX: Slim has none).
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuCheck.h"

#ifndef SLIM_TARGET_NAME
#error "SLIM_TARGET_NAME names the target this runtime is built for"
#endif

extern "C" const char slim_runtime_target[] = SLIM_TARGET_NAME;

// Names as in /proc/cpuinfo's flags where it has one.
extern "C" const char slim_runtime_features[] = ""
#if defined(__SSE3__)
    " pni"
#endif
#if defined(__SSSE3__)
    " ssse3"
#endif
#if defined(__SSE4_1__)
    " sse4_1"
#endif
#if defined(__SSE4_2__)
    " sse4_2"
#endif
#if defined(__POPCNT__)
    " popcnt"
#endif
#if defined(__AVX__)
    " avx"
#endif
#if defined(__AVX2__)
    " avx2"
#endif
#if defined(__FMA__)
    " fma"
#endif
#if defined(__F16C__)
    " f16c"
#endif
#if defined(__BMI__)
    " bmi1"
#endif
#if defined(__BMI2__)
    " bmi2"
#endif
#if defined(__LZCNT__)
    " abm"
#endif
#if defined(__MOVBE__)
    " movbe"
#endif
#if defined(__AVX512F__)
    " avx512f"
#endif
#if defined(__AVX512DQ__)
    " avx512dq"
#endif
#if defined(__AVX512CD__)
    " avx512cd"
#endif
#if defined(__AVX512BW__)
    " avx512bw"
#endif
#if defined(__AVX512VL__)
    " avx512vl"
#endif
#if defined(__AVX512VNNI__)
    " avx512_vnni"
#endif
#if defined(__AVX512BF16__)
    " avx512_bf16"
#endif
#if defined(__AVX512FP16__)
    " avx512_fp16"
#endif
#if defined(__AVX512VBMI__)
    " avx512vbmi"
#endif
#if defined(__AVX512VBMI2__)
    " avx512_vbmi2"
#endif
#if defined(__AVX512BITALG__)
    " avx512_bitalg"
#endif
#if defined(__AVX512VPOPCNTDQ__)
    " avx512_vpopcntdq"
#endif
#if defined(__AVX512IFMA__)
    " avx512ifma"
#endif
#if defined(__AVXVNNI__)
    " avx_vnni"
#endif
#if defined(__GFNI__)
    " gfni"
#endif
#if defined(__VAES__)
    " vaes"
#endif
#if defined(__VPCLMULQDQ__)
    " vpclmulqdq"
#endif
// aarch64 (informational: the check is x86-only; NEON is ARMv8.0's).
#if defined(__aarch64__) && defined(__ARM_NEON)
    " neon"
#endif
    ;
