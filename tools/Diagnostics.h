//===- Diagnostics.h - how Slim's tools print diagnostics -------*- C++ -*-===//
//
// "slimc: error: model.onnx: <message>", "slimc: error: node 'x': ..." or
// "slimc: error: model.mlir:12:5: ...": one line per diagnostic, naming the
// file, the ONNX node or the IR position; notes follow their error.
//
//===----------------------------------------------------------------------===//

#ifndef TOOLS_DIAGNOSTICS_H
#define TOOLS_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/WithColor.h"

namespace slim::tools {

inline void printLocation(llvm::raw_ostream &os, mlir::Location loc) {
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(loc)) {
    os << "node '" << name.getName().getValue() << "': ";
  } else if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    if (file.getLine())
      os << ":" << file.getLine() << ":" << file.getColumn();
    os << ": ";
  }
}

/// Prints every diagnostic of `ctx` as above while alive; counts errors.
class DiagnosticPrinter {
public:
  DiagnosticPrinter(mlir::MLIRContext *ctx, llvm::StringRef tool)
      : handler(ctx, [this, tool](mlir::Diagnostic &d) {
          llvm::raw_ostream &os = llvm::errs();
          switch (d.getSeverity()) {
          case mlir::DiagnosticSeverity::Error:
            ++errors;
            llvm::WithColor::error(os, tool);
            break;
          case mlir::DiagnosticSeverity::Warning:
            llvm::WithColor::warning(os, tool);
            break;
          default:
            llvm::WithColor::note(os, tool);
          }
          printLocation(os, d.getLocation());
          os << d.str() << "\n";
          for (mlir::Diagnostic &note : d.getNotes()) {
            llvm::WithColor::note(os, tool);
            printLocation(os, note.getLocation());
            os << note.str() << "\n";
          }
          return mlir::success();
        }) {
    ctx->printOpOnDiagnostic(false);
  }
  int errors = 0;

private:
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace slim::tools

#endif // TOOLS_DIAGNOSTICS_H
