//===- NpyTest.cpp - tests for runtime/Npy --------------------------------===//
//
// The byte images below are written out from the .npy format description
// (magic, version, little-endian header length, a Python dict literal padded
// with spaces to a 64-byte boundary and ended by '\n', then the raw data), so
// the reader is checked against the format, not against our own writer.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace slim::rt;

namespace {

std::vector<uint8_t> npyImage(const std::string &dict,
                              const std::vector<uint8_t> &data,
                              uint8_t version = 1) {
  size_t pre = version == 1 ? 10 : 12;
  std::string header = dict;
  size_t total = pre + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', version, 0};
  out.push_back(header.size() & 0xff);
  out.push_back((header.size() >> 8) & 0xff);
  if (version != 1) {
    out.push_back(0);
    out.push_back(0);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> floats(std::initializer_list<float> xs) {
  std::vector<uint8_t> out(xs.size() * 4);
  std::memcpy(out.data(), std::data(xs), out.size());
  return out;
}

bool parse(const std::vector<uint8_t> &img, NpyArray &a, std::string &err) {
  return parseNpy(img.data(), img.size(), "x.npy", a, err);
}

std::string tempPath(const char *name) {
  return ::testing::TempDir() + "/" + name + std::to_string(::getpid()) + ".npy";
}

} // namespace

TEST(Npy, ReadsFloat32Matrix) {
  auto img = npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                      floats({1, 2, 3, 4, 5, 6}));
  NpyArray a;
  std::string err;
  ASSERT_TRUE(parse(img, a, err)) << err;
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  float v[6];
  std::memcpy(v, a.data.data(), sizeof v);
  EXPECT_EQ(v[5], 6.0f);
}

TEST(Npy, ReadsScalarVectorAndVersion2) {
  NpyArray a;
  std::string err;
  ASSERT_TRUE(parse(npyImage("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                             std::vector<uint8_t>(8, 0)),
                    a, err))
      << err;
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1);
  ASSERT_TRUE(parse(npyImage("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                             {1, 0, 1}, /*version=*/2),
                    a, err))
      << err;
  EXPECT_EQ(a.dtype, DType::Bool);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
}

TEST(Npy, RejectsMalformedFiles) {
  NpyArray a;
  std::string err;
  std::vector<uint8_t> junk = {'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(parse(junk, a, err));
  EXPECT_EQ(err, "x.npy: not a .npy file (bad magic string)");

  auto truncated = npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                            floats({1, 2, 3}));
  EXPECT_FALSE(parse(truncated, a, err));
  EXPECT_EQ(err, "x.npy: truncated .npy data: shape needs 24 bytes, file has 12");

  auto fortran = npyImage("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                          floats({1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(parse(fortran, a, err));
  EXPECT_NE(err.find("Fortran-order arrays are not supported"), std::string::npos);

  auto bigEndian = npyImage("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                            floats({1}));
  EXPECT_FALSE(parse(bigEndian, a, err));
  EXPECT_NE(err.find("unsupported dtype '>f4'"), std::string::npos);

  auto overflow = npyImage(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
      floats({1}));
  EXPECT_FALSE(parse(overflow, a, err));
  EXPECT_EQ(err, "x.npy: .npy shape is too large");

  auto headerCut = npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                            floats({1}));
  headerCut.resize(30);
  EXPECT_FALSE(parse(headerCut, a, err));
  EXPECT_EQ(err, "x.npy: truncated .npy header");
}

TEST(Npy, WriteThenReadAndAtomicity) {
  NpyArray a;
  a.dtype = DType::F32;
  a.shape = {2, 2};
  a.data = floats({1.5f, -2, 3, 4});
  std::string path = tempPath("roundtrip"), err;
  ASSERT_TRUE(writeNpy(path, a, err)) << err;
  NpyArray b;
  ASSERT_TRUE(readNpy(path, b, err)) << err;
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  // The header is 64-byte aligned, as NumPy writes it.
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  EXPECT_EQ((size_t(f.tellg()) - 16) % 64, 0u);
  std::remove(path.c_str());

  // An unwritable destination fails cleanly and leaves nothing behind.
  std::string bad = "/nonexistent-dir/out.npy";
  EXPECT_FALSE(writeNpy(bad, a, err));
  EXPECT_NE(err.find("/nonexistent-dir/out.npy: cannot write"), std::string::npos);

  EXPECT_FALSE(readNpy(tempPath("missing"), b, err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
}
