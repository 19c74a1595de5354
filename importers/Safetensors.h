//===- Safetensors.h - the safetensors file format --------------*- C++ -*-===//
//
// An 8-byte little-endian header length, a JSON header mapping tensor names
// to {dtype, shape, data_offsets}, then the raw little-endian data. Every
// offset and size is checked against the file before use.
//
//===----------------------------------------------------------------------===//

#ifndef IMPORTERS_SAFETENSORS_H
#define IMPORTERS_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlir::slim {

struct SafeTensor {
  std::string name;
  std::string dtype; // "F32", "F16" or "BF16"
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t bytes = 0;

  /// The values as f32 (F16 and BF16 widen exactly).
  std::vector<float> toFloat() const;
};

class Safetensors {
public:
  /// Reads and validates `path`; on failure sets `error` (naming the file).
  bool open(const std::string &path, std::string &error);
  /// Parses an in-memory image (`name` is used in messages).
  bool parse(std::vector<uint8_t> bytes, const std::string &name,
             std::string &error);
  const SafeTensor *find(const std::string &name) const;
  const std::map<std::string, SafeTensor> &tensors() const { return all; }

private:
  std::vector<uint8_t> file;
  std::map<std::string, SafeTensor> all;
};

} // namespace mlir::slim

#endif // IMPORTERS_SAFETENSORS_H
