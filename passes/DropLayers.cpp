//===- DropLayers.cpp - slim-drop-layers: calibration-scored dropping -----===//
//
// Scores come from one sequential run of the unmodified model per
// calibration batch (the reference executor, so the same kernels as the
// binary); similarities are accumulated in double over every token.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "reference/Executor.h"
#include "passes/Weights.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMDROPLAYERSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;
namespace rt = ::slim::rt;

namespace {

constexpr llvm::StringLiteral kPrefix = "layer-drop: ";

/// A droppable module: one residual (attention, mlp) or a block (both).
struct Candidate {
  int64_t layer;
  std::string kind; // "attention", "mlp" or "block"
  double similarity = 0.0;
  bool scored = false;
  bool dropped = false;
};

/// The residuals of each block, in program order.
struct Blocks {
  std::map<int64_t, ResidualOp> attention, mlp;
};

Blocks findBlocks(func::FuncOp func) {
  Blocks b;
  for (auto res : func.getBody().front().getOps<ResidualOp>())
    (res.getKind() == ResidualKind::attention ? b.attention : b.mlp)
        [static_cast<int64_t>(res.getLayer())] = res;
  return b;
}

/// Sum over tokens of cos(x, y) along the last axis, and the token count.
void accumulateCosine(const Tensor &x, const Tensor &y, double &sum,
                      int64_t &tokens) {
  int64_t d = x.shape.back();
  int64_t n = x.numElements() / d;
  auto *a = reinterpret_cast<const float *>(x.data.data());
  auto *b = reinterpret_cast<const float *>(y.data.data());
  for (int64_t t = 0; t < n; ++t) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < d; ++i) {
      dot += double(a[t * d + i]) * b[t * d + i];
      na += double(a[t * d + i]) * a[t * d + i];
      nb += double(b[t * d + i]) * b[t * d + i];
    }
    sum += dot / std::max(std::sqrt(na) * std::sqrt(nb), 1e-8);
  }
  tokens += n;
}

/// Replaces the residual by its input (the sublayer is gone).
void dropResidual(ResidualOp res) {
  res.getResult().replaceAllUsesWith(res.getInput());
  res.erase();
}

struct SlimDropLayersPass
    : public mlir::slim::impl::SlimDropLayersPassBase<SlimDropLayersPass> {
  using SlimDropLayersPassBase::SlimDropLayersPassBase;

  LogicalResult checkStructure(func::FuncOp func, const Blocks &blocks);
  LogicalResult loadCalibration(func::FuncOp func,
                                std::vector<std::vector<Tensor>> &batches);
  LogicalResult score(func::FuncOp func,
                      const std::vector<std::vector<Tensor>> &batches,
                      std::vector<Candidate> &candidates);
  void writeReport(const std::vector<Candidate> &candidates);
  void runOnOperation() override;
};

LogicalResult SlimDropLayersPass::checkStructure(func::FuncOp func,
                                                 const Blocks &blocks) {
  for (auto *group : {&blocks.attention, &blocks.mlp})
    for (auto [layer, resConst] : *group) {
      ResidualOp res = resConst;
      Block &body = res.getBody().front();
      // Pre-norm: the body reads the stream only through a norm.
      for (Operation *user : body.getArgument(0).getUsers())
        if (!isa<LayerNormOp, RmsNormOp, CrmsNormOp>(user))
          return res.emitError(kPrefix)
                 << "block " << layer
                 << " is not a pre-norm residual block (found '"
                 << user->getName() << "' before the add)";
      // Post-LN: a norm on the main path after the residual.
      for (Operation *user : res->getUsers())
        if (isa<LayerNormOp>(user))
          for (Operation *next : user->getUsers())
            if (isa<ResidualOp>(next))
              return res.emitError(kPrefix)
                     << "block " << layer
                     << " is Post-LN; dropping a sublayer would remove a "
                        "main-path norm";
      Value branch = res.getBranch();
      int64_t extra = 0;
      for (Operation *user : branch.getUsers())
        if (!isa<YieldOp>(user))
          ++extra;
      if (extra)
        return res.emitError(kPrefix)
               << (res.getKind() == ResidualKind::attention ? "attn" : "mlp")
               << " output of block " << layer << " has " << extra
               << " extra users";
    }
  return success();
}

LogicalResult SlimDropLayersPass::loadCalibration(
    func::FuncOp func, std::vector<std::vector<Tensor>> &batches) {
  return loadCalibrationBatches(func, calibration, kPrefix, batches);
}

LogicalResult
SlimDropLayersPass::score(func::FuncOp func,
                          const std::vector<std::vector<Tensor>> &batches,
                          std::vector<Candidate> &candidates) {
  // Per residual: sum of cosines and tokens; blocks from the attention
  // input to the MLP output of the same layer.
  std::map<std::pair<int64_t, std::string>, std::pair<double, int64_t>> acc;
  std::map<int64_t, Tensor> blockInput;
  Executor exec;
  exec.onResidual = [&](ResidualOp res, const Tensor &in, const Tensor &out) {
    int64_t l = static_cast<int64_t>(res.getLayer());
    bool attention = res.getKind() == ResidualKind::attention;
    auto &a = acc[{l, attention ? "attention" : "mlp"}];
    accumulateCosine(in, out, a.first, a.second);
    if (attention) {
      blockInput[l] = in;
    } else if (blockInput.count(l)) {
      auto &blk = acc[{l, "block"}];
      accumulateCosine(blockInput[l], out, blk.first, blk.second);
    }
  };
  for (const auto &batch : batches) {
    std::vector<Tensor> outputs;
    if (failed(exec.run(func, batch, outputs)))
      return failure();
  }
  for (Candidate &c : candidates) {
    auto it = acc.find({c.layer, c.kind});
    if (it != acc.end() && it->second.second > 0) {
      c.similarity = it->second.first / double(it->second.second);
      c.scored = true;
    }
  }
  return success();
}

void SlimDropLayersPass::writeReport(const std::vector<Candidate> &cands) {
  if (print) {
    llvm::outs() << "layer-drop scores (target " << stringifyOption(target)
                 << ")\n";
    llvm::outs() << "  layer  kind        similarity  dropped\n";
    for (const Candidate &c : cands)
      llvm::outs() << llvm::format("  %-6lld %-10s  ", (long long)c.layer,
                                   c.kind.c_str())
                   << (c.scored ? llvm::formatv("{0:F6}", c.similarity).str()
                                : std::string("    -   "))
                   << "    " << (c.dropped ? "yes" : "no") << "\n";
  }
  if (report.empty())
    return;
  std::error_code ec;
  llvm::raw_fd_ostream json(report + ".json", ec);
  if (!ec) {
    json << "{\n  \"target\": \"" << stringifyOption(target)
         << "\",\n  \"modules\": [\n";
    for (size_t k = 0; k < cands.size(); ++k) {
      const Candidate &c = cands[k];
      json << "    {\"layer\": " << c.layer << ", \"kind\": \"" << c.kind
           << "\", \"similarity\": ";
      if (c.scored)
        json << llvm::formatv("{0:F8}", c.similarity);
      else
        json << "null";
      json << ", \"dropped\": " << (c.dropped ? "true" : "false") << "}"
           << (k + 1 < cands.size() ? "," : "") << "\n";
    }
    json << "  ]\n}\n";
  }
  // A bar per module: height = similarity (0..1), dropped ones in red.
  llvm::raw_fd_ostream svg(report + ".svg", ec);
  if (ec)
    return;
  int width = 40 + 24 * int(cands.size()), height = 240;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
      << "\" height=\"" << height << "\" font-family=\"sans-serif\" "
      << "font-size=\"10\">\n<title>layer-drop: similarity of each "
      << stringifyOption(target)
      << " module (red: dropped)</title>\n"
      << "<line x1=\"30\" y1=\"210\" x2=\"" << width - 5
      << "\" y2=\"210\" stroke=\"black\"/>\n"
      << "<text x=\"2\" y=\"14\">sim</text><text x=\"10\" y=\"214\">0</text>"
      << "<text x=\"10\" y=\"34\">1</text>\n";
  for (size_t k = 0; k < cands.size(); ++k) {
    const Candidate &c = cands[k];
    double sim = c.scored ? std::max(0.0, std::min(1.0, c.similarity)) : 0.0;
    int h = int(sim * 180), x = 34 + 24 * int(k);
    svg << "<rect x=\"" << x << "\" y=\"" << 210 - h << "\" width=\"18\" "
        << "height=\"" << h << "\" fill=\""
        << (c.dropped ? "#d62728" : "#1f77b4") << "\"><title>layer "
        << c.layer << " " << c.kind << ": "
        << llvm::formatv("{0:F4}", c.similarity) << "</title></rect>\n"
        << "<text x=\"" << x + 2 << "\" y=\"224\">" << c.layer
        << (c.kind == "attention" ? "a" : c.kind == "mlp" ? "m" : "") << "</text>\n";
  }
  svg << "</svg>\n";
}

void SlimDropLayersPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func) {
    module.emitError(kPrefix) << "the module has no @main";
    return signalPassFailure();
  }
  Blocks blocks = findBlocks(func);
  if (failed(checkStructure(func, blocks)))
    return signalPassFailure();

  // Candidates.
  std::vector<Candidate> cands;
  llvm::SmallDenseSet<int64_t> keepSet(keep.begin(), keep.end());
  auto addKind = [&](const std::map<int64_t, ResidualOp> &group,
                     const char *kind) {
    for (auto &entry : group)
      cands.push_back({entry.first, kind});
  };
  if (target == DropTarget::attention || target == DropTarget::joint)
    addKind(blocks.attention, "attention");
  if (target == DropTarget::mlp || target == DropTarget::joint)
    addKind(blocks.mlp, "mlp");
  if (target == DropTarget::block)
    for (auto &[layer, res] : blocks.attention)
      if (blocks.mlp.count(layer))
        cands.push_back({layer, "block"});
  llvm::sort(cands, [](const Candidate &a, const Candidate &b) {
    return std::make_pair(a.layer, a.kind) < std::make_pair(b.layer, b.kind);
  });

  // Which to drop: named, or the most similar by calibration.
  if (!layers.empty()) {
    for (const std::string &spec : layers) {
      llvm::StringRef s(spec);
      std::string kind =
          target == DropTarget::joint ? "" : stringifyOption(target).str();
      if (s.contains(':')) {
        kind = s.split(':').first.str();
        s = s.split(':').second;
      }
      int64_t layer;
      if (s.getAsInteger(10, layer) || kind.empty()) {
        func.emitError(kPrefix)
            << "layers: '" << spec
            << "' is not a block index or attention:N / mlp:N";
        return signalPassFailure();
      }
      auto it = llvm::find_if(cands, [&](const Candidate &c) {
        return c.layer == layer && c.kind == kind;
      });
      if (it == cands.end()) {
        func.emitError(kPrefix)
            << "layers: there is no droppable " << kind << " module in block "
            << layer;
        return signalPassFailure();
      }
      it->dropped = true;
    }
  } else {
    int64_t droppable = llvm::count_if(
        cands, [&](const Candidate &c) { return !keepSet.contains(c.layer); });
    int64_t n = fraction > 0.0 ? int64_t(std::floor(fraction * droppable))
                               : count.getValue();
    // At least one block survives.
    int64_t maxDrop = target == DropTarget::block
                          ? std::min<int64_t>(droppable, int64_t(cands.size()) - 1)
                          : droppable;
    if (n < 0 || n > maxDrop) {
      func.emitError(kPrefix) << "drop_n=" << n << " exceeds the " << maxDrop
                              << " droppable " << stringifyOption(target)
                              << " modules";
      return signalPassFailure();
    }
    if (n > 0) {
      if (calibration.empty()) {
        func.emitError(kPrefix) << "importance scoring needs a calibration set";
        return signalPassFailure();
      }
      std::vector<std::vector<Tensor>> batches;
      if (failed(loadCalibration(func, batches)))
        return signalPassFailure();
      int64_t rounds = mode == DropMode::iterative ? n : 1;
      int64_t perRound = mode == DropMode::iterative ? 1 : n;
      for (int64_t round = 0; round < rounds; ++round) {
        // Score the model as dropped so far (a clone: the real one is
        // edited once, at the end).
        OwningOpRef<func::FuncOp> clone(cast<func::FuncOp>(func->clone()));
        Blocks cb = findBlocks(*clone);
        for (const Candidate &c : cands)
          if (c.dropped) {
            if (c.kind != "mlp" && cb.attention.count(c.layer))
              dropResidual(cb.attention[c.layer]);
            if (c.kind != "attention" && cb.mlp.count(c.layer))
              dropResidual(cb.mlp[c.layer]);
          }
        std::vector<Candidate> scored = cands;
        if (failed(score(*clone, batches, scored)))
          return signalPassFailure();
        for (size_t k = 0; k < cands.size(); ++k)
          if (!cands[k].dropped) {
            cands[k].similarity = scored[k].similarity;
            cands[k].scored = scored[k].scored;
          }
        std::vector<size_t> order;
        for (size_t k = 0; k < cands.size(); ++k)
          if (!cands[k].dropped && cands[k].scored &&
              !keepSet.contains(cands[k].layer))
            order.push_back(k);
        // Most similar first; ties toward the lower layer.
        llvm::stable_sort(order, [&](size_t a, size_t b) {
          return cands[a].similarity > cands[b].similarity;
        });
        for (int64_t k = 0; k < perRound && k < int64_t(order.size()); ++k)
          cands[order[k]].dropped = true;
      }
    }
  }

  for (const Candidate &c : cands) {
    if (!c.dropped)
      continue;
    if (c.kind != "mlp" && blocks.attention.count(c.layer))
      dropResidual(blocks.attention[c.layer]);
    if (c.kind != "attention" && blocks.mlp.count(c.layer))
      dropResidual(blocks.mlp[c.layer]);
  }
  writeReport(cands);
}

} // namespace
