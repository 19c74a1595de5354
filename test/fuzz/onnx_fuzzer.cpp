//===- onnx_fuzzer.cpp - libFuzzer target: the ONNX importer --------------===//
//
// Any byte string must import or fail with a diagnostic: no crash, no
// sanitizer report. Imports and raises (slim-raise) what parses.
//
//===----------------------------------------------------------------------===//

#include "importers/Import.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <cstddef>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext ctx;
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  auto module = mlir::slim::importOnnxFromBuffer(
      &ctx, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.onnx");
  if (module) {
    mlir::PassManager pm(&ctx);
    pm.addPass(mlir::slim::createSlimRaisePass());
    (void)pm.run(*module);
  }
  return 0;
}
