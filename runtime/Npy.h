//===- Npy.h - .npy array files ---------------------------------*- C++ -*-===//
//
// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0),
// the input and output format of every Slim binary. Little-endian,
// C-order only; every malformed file gets an error message that says what
// is wrong, never a crash or a partial array.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_NPY_H
#define RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace slim::rt {

enum class DType { F32, F64, I64, I32, I16, I8, U8, Bool };

/// The NumPy spelling of a dtype ("<f4", "|b1", ...).
const char *dtypeDescr(DType t);
/// The user-facing name ("float32", "int64", ...).
const char *dtypeName(DType t);
size_t dtypeSize(DType t);

struct NpyArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // numElements() * dtypeSize(dtype) bytes

  int64_t numElements() const;
};

/// Reads `path`. On failure returns false and sets `error` to a message that
/// starts with the path.
bool readNpy(const std::string &path, NpyArray &out, std::string &error);

/// Parses an in-memory .npy image (`name` is used in messages).
bool parseNpy(const uint8_t *bytes, size_t size, const std::string &name,
              NpyArray &out, std::string &error);

/// Writes `array` to `path` atomically: a temporary file beside it is
/// renamed over `path` only once it is complete.
bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error);

} // namespace slim::rt

#endif // RUNTIME_NPY_H
