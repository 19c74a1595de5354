//===- Npy.cpp - .npy array files -----------------------------------------===//

#include "runtime/Npy.h"
#include "runtime/Files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <unistd.h>

namespace slim::rt {

namespace {

struct DTypeInfo {
  DType type;
  const char *descr, *altDescr, *name;
  size_t size;
};

// "|u1"/"<u1" and "|i1"/"<i1" are both written by NumPy versions in the wild.
const DTypeInfo kDTypes[] = {
    {DType::F32, "<f4", "<f4", "float32", 4},
    {DType::F64, "<f8", "<f8", "float64", 8},
    {DType::I64, "<i8", "<i8", "int64", 8},
    {DType::I32, "<i4", "<i4", "int32", 4},
    {DType::I16, "<i2", "<i2", "int16", 2},
    {DType::I8, "|i1", "<i1", "int8", 1},
    {DType::U8, "|u1", "<u1", "uint8", 1},
    {DType::Bool, "|b1", "<b1", "bool", 1},
};

const DTypeInfo &info(DType t) {
  for (const DTypeInfo &i : kDTypes)
    if (i.type == t)
      return i;
  return kDTypes[0];
}

/// Finds `'key':` in the header dict and returns the position after it.
size_t findKey(const std::string &h, const char *key) {
  std::string k1 = std::string("'") + key + "'";
  size_t p = h.find(k1);
  if (p == std::string::npos)
    return p;
  p = h.find(':', p + k1.size());
  return p == std::string::npos ? p : p + 1;
}

void skipSpace(const std::string &h, size_t &p) {
  while (p < h.size() && (h[p] == ' ' || h[p] == '\t'))
    ++p;
}

bool fail(std::string &error, const std::string &name, const std::string &msg) {
  error = name + ": " + msg;
  return false;
}

} // namespace

const char *dtypeDescr(DType t) { return info(t).descr; }
const char *dtypeName(DType t) { return info(t).name; }
size_t dtypeSize(DType t) { return info(t).size; }

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool parseNpy(const uint8_t *bytes, size_t size, const std::string &name,
              NpyArray &out, std::string &error) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0)
    return fail(error, name, "not a .npy file (bad magic string)");
  unsigned major = bytes[6];
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = bytes[8] | (size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail(error, name, "truncated .npy header");
    headerLen = bytes[8] | (size_t(bytes[9]) << 8) |
                (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    return fail(error, name,
                "unsupported .npy format version " + std::to_string(major));
  }
  if (headerLen > size - offset)
    return fail(error, name, "truncated .npy header");
  std::string h(reinterpret_cast<const char *>(bytes + offset), headerLen);

  // descr
  size_t p = findKey(h, "descr");
  if (p == std::string::npos)
    return fail(error, name, ".npy header has no 'descr'");
  skipSpace(h, p);
  if (p >= h.size() || h[p] != '\'')
    return fail(error, name, ".npy header 'descr' is not a string");
  size_t end = h.find('\'', p + 1);
  if (end == std::string::npos)
    return fail(error, name, ".npy header 'descr' is not a string");
  std::string descr = h.substr(p + 1, end - p - 1);
  const DTypeInfo *dt = nullptr;
  for (const DTypeInfo &i : kDTypes)
    if (descr == i.descr || descr == i.altDescr)
      dt = &i;
  if (!dt)
    return fail(error, name,
                "unsupported dtype '" + descr +
                    "' (supported: float32, float64, int64, int32, int16, "
                    "int8, uint8, bool, little-endian)");

  // fortran_order
  p = findKey(h, "fortran_order");
  if (p == std::string::npos)
    return fail(error, name, ".npy header has no 'fortran_order'");
  skipSpace(h, p);
  if (h.compare(p, 4, "True") == 0)
    return fail(error, name,
                "Fortran-order arrays are not supported; save a C-order "
                "array (numpy.ascontiguousarray)");
  if (h.compare(p, 5, "False") != 0)
    return fail(error, name, ".npy header 'fortran_order' is not a boolean");

  // shape
  p = findKey(h, "shape");
  if (p == std::string::npos)
    return fail(error, name, ".npy header has no 'shape'");
  skipSpace(h, p);
  if (p >= h.size() || h[p] != '(')
    return fail(error, name, ".npy header 'shape' is not a tuple");
  end = h.find(')', p);
  if (end == std::string::npos)
    return fail(error, name, ".npy header 'shape' is not a tuple");
  std::vector<int64_t> shape;
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t count = 1;
  for (size_t q = p + 1; q < end;) {
    while (q < end && (h[q] == ' ' || h[q] == ','))
      ++q;
    if (q >= end)
      break;
    if (h[q] < '0' || h[q] > '9')
      return fail(error, name, ".npy header 'shape' holds a non-integer");
    int64_t d = 0;
    while (q < end && h[q] >= '0' && h[q] <= '9') {
      int digit = h[q++] - '0';
      if (d > (kMax - digit) / 10)
        return fail(error, name, ".npy shape is too large");
      d = d * 10 + digit;
    }
    if (d != 0 && count > kMax / d)
      return fail(error, name, ".npy shape is too large");
    count *= d;
    shape.push_back(d);
  }

  size_t dataOffset = offset + headerLen;
  uint64_t need = uint64_t(count);
  if (need > (size - dataOffset) / dt->size ||
      need * dt->size != size - dataOffset) {
    uint64_t have = size - dataOffset;
    if (need <= std::numeric_limits<uint64_t>::max() / dt->size &&
        need * dt->size > have)
      return fail(error, name,
                  "truncated .npy data: shape needs " +
                      std::to_string(need * dt->size) + " bytes, file has " +
                      std::to_string(have));
    if (need <= std::numeric_limits<uint64_t>::max() / dt->size)
      return fail(error, name,
                  ".npy data has " + std::to_string(have) +
                      " bytes, the shape needs " +
                      std::to_string(need * dt->size));
    return fail(error, name, ".npy shape is too large");
  }
  out.dtype = dt->type;
  out.shape = std::move(shape);
  out.data.assign(bytes + dataOffset, bytes + size);
  return true;
}

bool readNpy(const std::string &path, NpyArray &out, std::string &error) {
  if (std::string why = notARegularFile(path); !why.empty())
    return fail(error, path, why);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(error, path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    return fail(error, path, "read error");
  return parseNpy(bytes.data(), bytes.size(), path, out, error);
}

bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error) {
  if (array.data.size() != size_t(array.numElements()) * dtypeSize(array.dtype))
    return fail(error, path, "array data does not match its shape");
  std::string header = "{'descr': '" + std::string(dtypeDescr(array.dtype)) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(array.shape[i]);
  header += array.shape.size() == 1 ? ",), }" : "), }"; // (3,) is a tuple
  // Pad with spaces so the data starts 64-byte aligned; end with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535)
    return fail(error, path, "shape too long for a version 1.0 header");

  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      return fail(error, path,
                  std::string("cannot write: ") + std::strerror(errno));
    const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    f.write(magic, 8);
    char len[2] = {char(header.size() & 0xff), char(header.size() >> 8)};
    f.write(len, 2);
    f.write(header.data(), header.size());
    f.write(reinterpret_cast<const char *>(array.data.data()),
            array.data.size());
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return fail(error, path, "write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return fail(error, path, std::string("cannot write: ") + std::strerror(e));
  }
  return true;
}

} // namespace slim::rt
