//===- Report.cpp - what slimc's raising and passes changed ---------------===//

#include "Report.h"

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace slim::tools {

OpCounts countOps(ModuleOp module) {
  OpCounts c;
  auto count = [&](Operation *root) {
    root->walk([&](Operation *op) {
      ++c.n[op->getName().getStringRef().str()];
      if (auto a = dyn_cast<mlir::slim::AttentionOp>(op)) {
        if (a.getCausal())
          ++c.n["slim.attention.causal"];
        if (a.getKeyBias())
          ++c.n["slim.attention.key_bias"];
        if (a.getBias())
          ++c.n["slim.attention.bias"];
        if (a.getInt8())
          ++c.n["slim.attention.int8"];
      }
      if (auto conv = dyn_cast<mlir::slim::Conv2dOp>(op); conv && conv.getInt8())
        ++c.n["slim.conv2d.int8"];
    });
  };
  if (auto main = module.lookupSymbol<func::FuncOp>("main"))
    count(main);
  else
    count(module);
  return c;
}

std::string raiseSummary(const OpCounts &c) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "raised: " << c["slim.attention"] << " attention";
  if (c["slim.attention"]) {
    os << " (" << c["slim.attention.causal"] << " causal, "
       << c["slim.attention.key_bias"] << " with a padding mask";
    if (c["slim.attention.bias"])
      os << ", " << c["slim.attention.bias"] << " with a position bias";
    if (c["slim.rope"])
      os << ", " << c["slim.rope"] << " RoPE";
    os << ")";
  }
  os << ", " << c["slim.layer_norm"] + c["slim.rms_norm"] << " norms ("
     << c["slim.layer_norm"] << " LayerNorm, " << c["slim.rms_norm"]
     << " RMSNorm), " << c["slim.residual"] << " residual sublayers, "
     << c["slim.linear"] << " linears, activations";
  bool any = false;
  for (const char *act : {"gelu", "silu", "relu"})
    if (int64_t k = c[std::string("slim.") + act]) {
      os << " " << k << " " << act;
      any = true;
    }
  if (!any)
    os << " none";
  os << "; " << c["slim.softmax"] << " softmax left unraised";
  return s;
}

void reportPasses(const PassFlags &f, const OpCounts &before,
                  const OpCounts &after) {
  auto line = [](const llvm::Twine &msg) {
    llvm::errs() << "slimc: " << msg << "\n";
  };
  auto warn = [](const llvm::Twine &msg) {
    llvm::WithColor::warning(llvm::errs(), "slimc") << msg << "\n";
  };
  if (f.drop) {
    int64_t dropped = before["slim.residual"] - after["slim.residual"];
    if (dropped > 0)
      line("drop-layers: " + llvm::Twine(dropped) + " of " +
           llvm::Twine(before["slim.residual"]) + " sublayers dropped");
    else if (!f.dropCountZero)
      warn("--drop-layers changed nothing: no sublayer was dropped");
  }
  if (f.lnToRms) {
    int64_t ln = before["slim.layer_norm"];
    int64_t done = ln - after["slim.layer_norm"];
    if (done > 0)
      line("ln-to-rmsnorm: " + llvm::Twine(done) + " of " + llvm::Twine(ln) +
           " LayerNorms rewritten (" + llvm::Twine(after["slim.rms_norm"]) +
           " RMSNorm, " + llvm::Twine(after["slim.crms_norm"]) +
           " CRMSNorm)");
    else
      warn("--ln-to-rmsnorm changed nothing: " +
           llvm::Twine(ln ? "no LayerNorm reads the residual stream's main "
                            "branch (see the note above)"
                          : "the model has no LayerNorm"));
  }
  if (f.merge) {
    int64_t merges = after["slim.token_merge"];
    if (merges > 0)
      line("merge-tokens: tokens merged in " + llvm::Twine(merges) + " of " +
           llvm::Twine(before["slim.attention"]) + " attention blocks");
    else
      warn("--merge-tokens changed nothing: r is 0 in every block");
  }
  if (f.quantize) {
    int64_t q = after["slim.qlinear"] - before["slim.qlinear"];
    int64_t qa = after["slim.attention.int8"];
    int64_t qc = after["slim.conv2d.int8"];
    std::string attn =
        (qa > 0 ? ", " + std::to_string(qa) + " attentions int8" : "") +
        (qc > 0 ? ", " + std::to_string(qc) + " direct convolutions int8"
                : "");
    if (q > 0 || qa > 0 || qc > 0)
      line("quantize: " + llvm::Twine(q) + " linears quantized, " +
           llvm::Twine(after["slim.linear"]) + " left in float" + attn);
    else
      warn("--quantize changed nothing: no linear was quantized");
    // The int8 attention's vector code needs AVX-512 VNNI; elsewhere it
    // is plain C++ (the same bits, several times slower than float).
    bool vnni = false;
#if defined(__x86_64__)
    vnni = __builtin_cpu_supports("avx512vnni");
#endif
    const bool slow = f.target == "x86-64-v3" || f.target == "aarch64-linux" ||
                      (f.target == "host" && !vnni);
    if (qa > 0 && (slow || f.target == "x86-64"))
      warn("the int8 attention runs plain C++ " +
           llvm::Twine(f.target == "x86-64" ? "on CPUs without AVX-512 VNNI"
                                            : "on --target=" + f.target) +
           " (its vector kernels need AVX-512 VNNI), slower than the float "
           "attention there; attention=0 keeps the attention float");
  }
}

} // namespace slim::tools
