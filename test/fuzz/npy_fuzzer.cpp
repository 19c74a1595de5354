//===- npy_fuzzer.cpp - libFuzzer target: the runtime's .npy reader -------===//

#include "runtime/Npy.h"

#include <cstdint>
#include <cstddef>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  slim::rt::NpyArray array;
  std::string error;
  if (slim::rt::parseNpy(data, size, "fuzz.npy", array, error) &&
      array.data.size() !=
          size_t(array.numElements()) * slim::rt::dtypeSize(array.dtype))
    __builtin_trap(); // a parsed array must hold exactly its shape's data
  return 0;
}
