//===- hf_fuzzer.cpp - libFuzzer target: safetensors + config.json --------===//
//
// The input is split at its first NUL byte: config.json before it,
// model.safetensors after it, written to a private directory and imported.
// The safetensors parser is also run on the whole input directly.
//
//===----------------------------------------------------------------------===//

#include "importers/Import.h"
#include "importers/Safetensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <sys/stat.h>
#include <vector>

static std::string directory() {
  static std::string dir = [] {
    std::string d = "/tmp/slim-hf-fuzz-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  {
    mlir::slim::Safetensors st;
    std::string error;
    if (st.parse(std::vector<uint8_t>(data, data + size), "fuzz", error))
      for (const auto &t : st.tensors())
        (void)t.second.toFloat();
  }
  const uint8_t *nul = static_cast<const uint8_t *>(std::memchr(data, 0, size));
  size_t configSize = nul ? size_t(nul - data) : size;
  std::string dir = directory();
  FILE *c = std::fopen((dir + "/config.json").c_str(), "wb");
  std::fwrite(data, 1, configSize, c);
  std::fclose(c);
  FILE *w = std::fopen((dir + "/model.safetensors").c_str(), "wb");
  if (nul)
    std::fwrite(nul + 1, 1, size - configSize - 1, w);
  std::fclose(w);
  mlir::MLIRContext ctx;
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  mlir::slim::ImportOptions options;
  options.seqLen = 4;
  (void)mlir::slim::importHuggingFace(&ctx, dir, options);
  return 0;
}
