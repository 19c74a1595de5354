//===- HalideViews.h - raw buffers as Halide buffers ------------*- C++ -*-===//
//
// Private to the runtime: views of row-major float buffers for the Halide
// kernels' arguments, and their error codes turned into messages.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_HALIDEVIEWS_H
#define RUNTIME_HALIDEVIEWS_H

#include "runtime/HalideErrors.h"

#include "HalideBuffer.h"

#include <cstdint>
#include <string>

namespace slim::rt {

/// A 2-D Halide view of a row-major [rows, cols] buffer (dim 0 = cols).
inline Halide::Runtime::Buffer<float, 2> view2(const float *p, int64_t cols,
                                               int64_t rows) {
  return Halide::Runtime::Buffer<float, 2>(const_cast<float *>(p), int(cols),
                                           int(rows));
}

inline Halide::Runtime::Buffer<float, 1> view1(const float *p, int64_t n) {
  return Halide::Runtime::Buffer<float, 1>(const_cast<float *>(p), int(n));
}

/// True when the Halide kernel returned 0; otherwise `error` says which
/// kernel failed and why.
inline bool halideCall(int rc, const char *kernel, std::string &error) {
  if (rc == 0)
    return true;
  error = std::string(kernel) + " kernel failed: " + takeHalideError();
  return false;
}

} // namespace slim::rt

#endif // RUNTIME_HALIDEVIEWS_H
