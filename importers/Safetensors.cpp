//===- Safetensors.cpp - the safetensors file format ----------------------===//

#include "importers/Safetensors.h"
#include "runtime/Files.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace mlir::slim {

namespace {

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

} // namespace

std::vector<float> SafeTensor::toFloat() const {
  size_t n = dtype == "F32" ? bytes / 4 : bytes / 2;
  std::vector<float> out(n);
  if (dtype == "F32") {
    std::memcpy(out.data(), data, bytes);
  } else {
    for (size_t k = 0; k < n; ++k) {
      uint16_t h;
      std::memcpy(&h, data + 2 * k, 2);
      if (dtype == "F16") {
        out[k] = halfToFloat(h);
      } else {
        uint32_t bits = uint32_t(h) << 16;
        std::memcpy(&out[k], &bits, 4);
      }
    }
  }
  return out;
}

bool Safetensors::open(const std::string &path, std::string &error) {
  if (std::string why = ::slim::rt::notARegularFile(path); !why.empty()) {
    error = path + ": " + why;
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open (a Hugging Face checkpoint directory needs "
                   "model.safetensors; sharded and .bin checkpoints are not "
                   "supported)";
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return parse(std::move(bytes), path, error);
}

bool Safetensors::parse(std::vector<uint8_t> bytes, const std::string &name,
                        std::string &error) {
  file = std::move(bytes);
  all.clear();
  auto fail = [&](const std::string &msg) {
    error = name + ": " + msg;
    return false;
  };
  if (file.size() < 8)
    return fail("truncated safetensors file (no header length)");
  uint64_t headerLen = 0;
  for (int k = 7; k >= 0; --k)
    headerLen = (headerLen << 8) | file[k];
  if (headerLen > file.size() - 8)
    return fail("truncated safetensors file: the header claims " +
                std::to_string(headerLen) + " bytes, the file has " +
                std::to_string(file.size() - 8) + " after the length");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.begin() + 8,
                                   file.begin() + 8 + headerLen);
  } catch (const nlohmann::json::exception &e) {
    return fail(std::string("the safetensors header is not valid JSON: ") +
                e.what());
  }
  if (!header.is_object())
    return fail("the safetensors header is not a JSON object");
  const uint8_t *data = file.data() + 8 + headerLen;
  uint64_t dataSize = file.size() - 8 - headerLen;
  for (auto &[key, entry] : header.items()) {
    if (key == "__metadata__")
      continue;
    if (!entry.is_object() || !entry.contains("dtype") ||
        !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
      return fail("tensor '" + key +
                  "' has no valid dtype/shape/data_offsets entry");
    SafeTensor t;
    t.name = key;
    t.dtype = entry["dtype"];
    size_t width = t.dtype == "F32" ? 4 : (t.dtype == "F16" || t.dtype == "BF16") ? 2 : 0;
    if (!width)
      return fail("tensor '" + key + "' has dtype " + t.dtype +
                  ", which Slim does not read (F32, F16, BF16)");
    uint64_t count = 1;
    for (const auto &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        return fail("tensor '" + key + "' has a non-integer dimension");
      uint64_t v = d.get<uint64_t>();
      if (v && count > std::numeric_limits<uint64_t>::max() / width / v)
        return fail("tensor '" + key + "' is too large");
      count *= v;
      t.shape.push_back(int64_t(v));
    }
    const auto &off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return fail("tensor '" + key + "' has invalid data_offsets");
    uint64_t begin = off[0], end = off[1];
    if (begin > end || end > dataSize)
      return fail("tensor '" + key + "' lies outside the file (offsets " +
                  std::to_string(begin) + ".." + std::to_string(end) +
                  ", data is " + std::to_string(dataSize) +
                  " bytes): truncated file?");
    if (end - begin != count * width)
      return fail("tensor '" + key + "' has " + std::to_string(end - begin) +
                  " bytes, its shape and dtype need " +
                  std::to_string(count * width));
    t.data = data + begin;
    t.bytes = end - begin;
    all.emplace(key, std::move(t));
  }
  return true;
}

const SafeTensor *Safetensors::find(const std::string &name) const {
  auto it = all.find(name);
  return it == all.end() ? nullptr : &it->second;
}

} // namespace mlir::slim
