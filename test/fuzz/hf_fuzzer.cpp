//===- hf_fuzzer.cpp - libFuzzer target: safetensors + config.json --------===//
//
// The input is split at its first NUL byte: config.json before it,
// model.safetensors after it, imported from memory (the same importer the
// files go through). The safetensors parser is also run on the whole input.
// One MLIRContext serves 256 inputs (creating one per input would dominate
// the run time); it is replaced after that, since the weights of imported
// modules stay in its resource manager.
//
//===----------------------------------------------------------------------===//

#include "importers/Import.h"
#include "importers/Safetensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

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
  std::string config(reinterpret_cast<const char *>(data), configSize);
  std::vector<uint8_t> weights;
  if (nul)
    weights.assign(nul + 1, data + size);
  static mlir::MLIRContext *ctx = nullptr;
  static unsigned uses = 0;
  if (!ctx || ++uses % 256 == 0) {
    delete ctx;
    ctx = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
  }
  mlir::ScopedDiagnosticHandler quiet(ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  mlir::slim::ImportOptions options;
  options.seqLen = 4;
  (void)mlir::slim::importHuggingFaceFromMemory(ctx, std::move(config),
                                                std::move(weights), "fuzz",
                                                options);
  return 0;
}
