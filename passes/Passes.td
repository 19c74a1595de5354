//===- Passes.td - Slim's passes ---------------------------*- tablegen -*-===//
//
// Every pass of Slim is declared here with its options; the flag, the file
// and the lit test share one name (slim-stats <-> Stats.cpp <->
// test/Transforms/stats.mlir).
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_PASSES_TD
#define SLIM_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def SlimStatsPass : Pass<"slim-stats", "::mlir::ModuleOp"> {
  let summary = "prints the parameters and multiply-accumulates of every sublayer";
  let description = [{
    For each function, prints one row per `slim.residual` (its layer and
    kind) and one row for everything outside residuals (embeddings, final
    norm, head): the number of weight elements the row reads (distinct
    constants), their size in bytes, and the multiply-accumulates of its
    contractions (`linear`, `qlinear`, `matmul`, `attention`). The totals
    count each constant once. The IR is not changed.

    This is the table to look at before and after a lossy pass: layer
    dropping removes rows, quantization shrinks bytes, token merging lowers
    the MACs of later layers.

    ```
    $ slim-opt -slim-stats model.mlir -o /dev/null
    slim-stats @forward
      layer  kind        params      bytes        MACs
      0      attention   16640       66560        2228224
      ...
      -      other       4352        17408        0
      total              70400       281600       8912896
    ```
  }];
}

#endif // SLIM_PASSES_TD
