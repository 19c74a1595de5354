//===- Report.h - what slimc's raising and passes changed -------*- C++ -*-===//
//
// One line after import saying what slim-raise recognised, and one line per
// optimisation flag saying what it changed (a warning when it changed
// nothing), from op counts of @main before and after the passes.
//
//===----------------------------------------------------------------------===//

#ifndef TOOLS_SLIMC_REPORT_H
#define TOOLS_SLIMC_REPORT_H

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>

namespace slim::tools {

/// Op counts of @main (all functions when there is none), by op name, plus
/// "slim.attention.causal" and "slim.attention.key_bias".
struct OpCounts {
  std::map<std::string, int64_t> n;
  int64_t operator[](const std::string &name) const {
    auto it = n.find(name);
    return it == n.end() ? 0 : it->second;
  }
};
OpCounts countOps(mlir::ModuleOp module);

/// "raised: 12 attention (12 causal), 25 norms, 24 residual sublayers,
/// activations 12 gelu; 0 softmax left unraised".
std::string raiseSummary(const OpCounts &c);

/// The flags a report is made for.
struct PassFlags {
  bool lnToRms = false, merge = false, quantize = false, drop = false;
  bool dropCountZero = false; // --drop-layers TARGET:0: scores only
  /// --target, for what the int8 attention runs on there.
  std::string target = "host";
};

/// Prints one line per flag in `flags` (to stderr, as slimc), a warning
/// for a flag that changed nothing.
void reportPasses(const PassFlags &flags, const OpCounts &before,
                 const OpCounts &after);

} // namespace slim::tools

#endif // TOOLS_SLIMC_REPORT_H
