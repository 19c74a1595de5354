//===- Half.h - IEEE float16 conversions for the KV cache ------*- C++ -*-===//
//
// The scalar conversions the float16 KV cache (slimc --kv-cache=f16) uses
// where no vector instruction does (tails, and CPUs without F16C / NEON):
// float → half rounds to nearest, ties to even, as vcvtps2ph and NEON's
// vcvt_f16_f32 do (overflow to ±inf, subnormal halves kept, NaN stays NaN
// with its top payload bits); half → float is exact.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_HALF_H
#define RUNTIME_HALF_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace slim::rt {

inline uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) // inf, NaN (quieted)
    return uint16_t(sign | 0x7c00u |
                    (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
  if (ax >= 0x477ff000u) // ≥ 65520: rounds to inf
    return uint16_t(sign | 0x7c00u);
  if (ax < 0x38800000u) { // below 2^−14: a subnormal half (or zero)
    float a;
    std::memcpy(&a, &ax, 4);
    // In units of 2^−24, exact; nearbyint rounds half to even. 1024 is
    // the smallest normal half, which the bits spell the same way.
    return uint16_t(sign | uint32_t(std::nearbyint(a * 16777216.0f)));
  }
  uint32_t h = (((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3ffu);
  const uint32_t rest = ax & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
    ++h; // a carry into the exponent is the right result
  return uint16_t(sign | h);
}

inline float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu,
                 m = h & 0x3ffu;
  uint32_t x;
  if (e == 0) {
    float f = float(m) * 5.9604644775390625e-8f; // m · 2^−24, exact
    std::memcpy(&x, &f, 4);
    x |= sign;
  } else if (e == 31) {
    x = sign | 0x7f800000u | (m << 13);
  } else {
    x = sign | ((e + 112) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

} // namespace slim::rt

#endif // RUNTIME_HALF_H
