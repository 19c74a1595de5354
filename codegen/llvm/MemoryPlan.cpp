//===- MemoryPlan.cpp - buffer lifetimes to arena offsets -----------------===//

#include "codegen/llvm/MemoryPlan.h"
#include "codegen/llvm/CompilerImpl.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/sequential_vertex_coloring.hpp>

#include <algorithm>
#include <functional>
#include <numeric>

using namespace mlir;
using namespace mlir::slim;

MemoryPlan mlir::slim::planMemory(const std::vector<BufferLifetime> &vals,
                                  int64_t align) {
  auto up = [&](int64_t x) { return (x + align - 1) / align * align; };
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS,
                                      boost::undirectedS>;
  Graph g(vals.size());
  for (size_t i = 0; i < vals.size(); ++i)
    for (size_t j = i + 1; j < vals.size(); ++j)
      if (!(vals[i].last < vals[j].def || vals[j].last < vals[i].def))
        boost::add_edge(i, j, g);
  // Color large buffers first so small ones fill in around them.
  std::vector<size_t> order(vals.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
    return vals[a].bytes > vals[c].bytes;
  });
  std::vector<size_t> colors(vals.size());
  auto colorMap = boost::make_iterator_property_map(
      colors.begin(), boost::get(boost::vertex_index, g));
  using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
  std::vector<Vertex> vertexOrder(order.begin(), order.end());
  size_t numColors =
      vals.empty() ? 0
                   : boost::sequential_vertex_coloring(
                         g,
                         boost::make_iterator_property_map(
                             vertexOrder.begin(),
                             boost::identity_property_map()),
                         colorMap);
  std::vector<int64_t> slot(numColors, 0), colorOffset(numColors, 0);
  MemoryPlan plan;
  for (size_t k = 0; k < vals.size(); ++k) {
    slot[colors[k]] = std::max(slot[colors[k]], vals[k].bytes);
    plan.unplannedBytes += up(vals[k].bytes);
  }
  for (size_t c = 0; c < numColors; ++c) {
    colorOffset[c] = plan.arenaBytes;
    plan.arenaBytes += up(slot[c]);
  }
  for (size_t k = 0; k < vals.size(); ++k)
    plan.offsets.push_back(colorOffset[colors[k]]);
  return plan;
}

namespace mlir::slim::codegen {

void Compiler::planArena() {
  // Values computed by steps live in the arena, from their step to their
  // last use (a use inside a residual body counts at that step; the
  // residual's own use of its input is at its closing add).
  struct Interval {
    Value v;
    int64_t def, last, bytes;
  };
  std::vector<Interval> vals;
  int64_t end = steps.size();
  for (auto [k, step] : llvm::enumerate(steps)) {
    if (!step.residualAdd && fusedResidual.count(step.op))
      continue; // the branch of a fused residual is never stored
    if (viewReshapes.count(step.op))
      continue; // stored in its input's buffer
    for (Value r : step.op->getResults()) {
      if (storage.count(r))
        continue; // computed straight into the caller's output buffer
      int64_t last = int64_t(k);
      // Uses through view reshapes count as uses of r.
      std::function<void(Value)> addUses = [&](Value v) {
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<func::ReturnOp>(user)) {
            last = end;
            continue;
          }
          if (viewReshapes.count(user)) {
            addUses(user->getResult(0));
            continue;
          }
          if (auto yield = dyn_cast<YieldOp>(user))
            user = yield->getParentOp(); // read by the closing add
          while (!stepOf.count(user))
            user = user->getParentOp();
          last = std::max(last, stepOf[user]);
        }
      };
      addUses(r);
      // A residual input is also read through the body's block argument.
      int64_t def = sharedFrom.count(step.op) ? sharedFrom[step.op] : k;
      if (step.residualAdd && residualFused.count(step.op))
        def = stepOf[cast<ResidualOp>(step.op).getBranch().getDefiningOp()];
      vals.push_back({r, def, last, byteSize(r)});
    }
  }
  // Residual inputs stay alive until the residual closes.
  llvm::DenseMap<Value, size_t> index;
  for (auto [k, iv] : llvm::enumerate(vals))
    index[iv.v] = k;
  for (const Step &step : steps)
    if (step.residualAdd) {
      Value in = resolve(cast<ResidualOp>(step.op).getInput());
      if (index.count(in))
        vals[index[in]].last =
            std::max(vals[index[in]].last, stepOf[step.op]);
    }

  std::vector<BufferLifetime> lifetimes;
  for (const Interval &iv : vals)
    lifetimes.push_back({iv.def, iv.last, iv.bytes});
  MemoryPlan plan = planMemory(lifetimes, kAlign);
  // Entry points run one at a time: one arena serves the largest.
  out.arenaBytes = std::max<int64_t>({out.arenaBytes, plan.arenaBytes, kAlign});
  out.unplannedBytes = std::max(out.unplannedBytes, plan.unplannedBytes);
  for (size_t k = 0; k < vals.size(); ++k)
    storage[vals[k].v] = {Storage::Arena, plan.offsets[k]};
}

} // namespace mlir::slim::codegen
