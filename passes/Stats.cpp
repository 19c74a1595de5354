//===- Stats.cpp - slim-stats: parameters and MACs per sublayer -----------===//

#include "passes/Passes.h"

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMSTATSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;

namespace {

/// The constants (weights) one row reads and the MACs it performs.
struct Row {
  std::string layer, kind;
  llvm::SetVector<Value> weights;
  int64_t macs = 0;
};

int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

int64_t numBytes(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return (t.getNumElements() * t.getElementTypeBitWidth() + 7) / 8;
}

/// Multiply-accumulates of one op (0 for ops that are not contractions).
int64_t macsOf(Operation *op) {
  auto cost = dyn_cast<CostOpInterface>(op);
  return cost ? cost.getMacs() : 0;
}

/// Adds `op`'s constant tensor operands and MACs to `row`.
void account(Operation *op, Row &row) {
  row.macs += macsOf(op);
  for (Value v : op->getOperands())
    if (isa<RankedTensorType>(v.getType()) && matchPattern(v, m_Constant()))
      row.weights.insert(v);
}

struct SlimStatsPass
    : public mlir::slim::impl::SlimStatsPassBase<SlimStatsPass> {
  void runOnOperation() override {
    raw_ostream &os = llvm::outs();
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      std::vector<Row> rows;
      Row other{"-", "other", {}, 0};
      for (Operation &op : func.getBody().getOps()) {
        if (auto residual = dyn_cast<ResidualOp>(op)) {
          Row row{std::to_string(residual.getLayer()),
                  stringifyResidualKind(residual.getKind()).str(), {}, 0};
          residual.getBody().walk([&](Operation *inner) {
            account(inner, row);
          });
          rows.push_back(std::move(row));
        } else {
          op.walk([&](Operation *inner) { account(inner, other); });
        }
      }
      rows.push_back(std::move(other));

      llvm::SetVector<Value> all;
      int64_t totalMacs = 0;
      os << "slim-stats @" << func.getSymName() << "\n";
      os << llvm::format("  %-6s %-10s %14s %14s %16s\n", (const char *)"layer",
                         (const char *)"kind", (const char *)"params",
                         (const char *)"bytes", (const char *)"MACs");
      for (const Row &row : rows) {
        int64_t params = 0, bytes = 0;
        for (Value w : row.weights) {
          params += numElements(w);
          bytes += numBytes(w);
          all.insert(w);
        }
        totalMacs += row.macs;
        os << llvm::format("  %-6s %-10s %14lld %14lld %16lld\n",
                           row.layer.c_str(), row.kind.c_str(),
                           (long long)params, (long long)bytes,
                           (long long)row.macs);
      }
      int64_t params = 0, bytes = 0;
      for (Value w : all) {
        params += numElements(w);
        bytes += numBytes(w);
      }
      os << llvm::format("  %-17s %14lld %14lld %16lld\n", (const char *)"total",
                         (long long)params, (long long)bytes,
                         (long long)totalMacs);
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
