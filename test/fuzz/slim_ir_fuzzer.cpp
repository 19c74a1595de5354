//===- slim_ir_fuzzer.cpp - libFuzzer target: slim dialect text -----------===//
//
// Parses and verifies arbitrary text as a module with the slim dialect
// (shape inference runs while parsing), then runs canonicalization.
//
//===----------------------------------------------------------------------===//

#include "dialects/slim/IR/SlimDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <cstdint>
#include <cstddef>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<mlir::slim::SlimDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect>();
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  // MLIR's lexer expects a NUL-terminated buffer, as files read by
  // MemoryBuffer are: give it one.
  std::string text(reinterpret_cast<const char *>(data), size);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      llvm::StringRef(text.c_str(), text.size()), mlir::ParserConfig(&ctx));
  if (module && succeeded(mlir::verify(*module))) {
    mlir::PassManager pm(&ctx);
    pm.addPass(mlir::createCanonicalizerPass());
    (void)pm.run(*module);
  }
  return 0;
}
