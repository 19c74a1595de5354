//===- Import.cpp - importer entry points ---------------------------------===//

#include "importers/Import.h"

#include "dialects/slim/IR/SlimDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"

namespace mlir::slim {

void registerImportDialects(MLIRContext *ctx) {
  ctx->loadDialect<SlimDialect, arith::ArithDialect, func::FuncDialect>();
}

OwningOpRef<ModuleOp> importModel(MLIRContext *ctx, llvm::StringRef path,
                                  const ImportOptions &options) {
  if (llvm::sys::fs::is_directory(path))
    return importHuggingFace(ctx, path, options);
  return importOnnx(ctx, path, options);
}

} // namespace mlir::slim
