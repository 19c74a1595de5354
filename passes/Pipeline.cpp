//===- Pipeline.cpp - the pass pipeline slimc runs, for any driver --------===//

#include "passes/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mlir::slim {

StringRef stringifyOption(TiedEmbedding v) {
  return v == TiedEmbedding::center ? "center" : "untie";
}
StringRef stringifyOption(NormVariant v) {
  return v == NormVariant::rms ? "rms" : "crms";
}
StringRef stringifyOption(QuantWeights v) {
  switch (v) {
  case QuantWeights::int8: return "int8";
  case QuantWeights::int4: return "int4";
  case QuantWeights::none: return "none";
  }
  llvm_unreachable("a QuantWeights value");
}
StringRef stringifyOption(QuantActs v) {
  switch (v) {
  case QuantActs::automatic: return "auto";
  case QuantActs::dynamic: return "dynamic";
  case QuantActs::static_: return "static";
  case QuantActs::none: return "none";
  }
  llvm_unreachable("a QuantActs value");
}
StringRef stringifyOption(DropTarget v) {
  switch (v) {
  case DropTarget::attention: return "attention";
  case DropTarget::mlp: return "mlp";
  case DropTarget::block: return "block";
  case DropTarget::joint: return "joint";
  }
  llvm_unreachable("a DropTarget value");
}
StringRef stringifyOption(DropMode v) {
  return v == DropMode::one_shot ? "one-shot" : "iterative";
}

namespace {

/// The enum value spelled `text` (as stringifyOption spells it), if any.
template <typename Enum>
std::optional<Enum> parseOption(StringRef text,
                                std::initializer_list<Enum> values) {
  for (Enum v : values)
    if (stringifyOption(v) == text)
      return v;
  return std::nullopt;
}

/// slimc's --merge-tokens syntax (key:value, comma-separated) into the
/// pass's options; `schedule` holds what options.schedule refers to.
bool parseMergeTokens(StringRef spec, SlimMergeTokensPassOptions &options,
                      std::vector<int64_t> &schedule,
                      llvm::function_ref<void(const Twine &)> error) {
  bool ok = true;
  for (StringRef item : llvm::split(spec, ',')) {
    size_t cut = item.find_first_of(":=");
    StringRef key = item.substr(0, cut).trim();
    StringRef value = cut == StringRef::npos ? "" : item.substr(cut + 1).trim();
    double number = 0;
    bool numeric = !value.getAsDouble(number);
    bool good = true;
    if (key == "method") {
      good = value == "tome" || value == "mctf";
      options.method = value == "mctf" ? MergeMethod::mctf : MergeMethod::tome;
    } else if (key == "schedule") {
      for (StringRef r : llvm::split(value, '/')) {
        int64_t x;
        good &= !r.getAsInteger(10, x);
        schedule.push_back(x);
      }
      options.schedule = schedule;
    } else if (!numeric) {
      good = false;
    } else if (key == "r" && number == int64_t(number)) {
      options.r = int64_t(number);
    } else if (key == "r" && number > 0 && number < 1) {
      options.r = 1; // every layer, each ⌊f·(T_l − p)⌋
      options.fraction = number;
    } else if (key == "fraction" && number > 0 && number < 1) {
      options.fraction = number;
    } else if (key == "inflect") {
      options.inflect = number;
    } else if (key == "prop_attn" && (number == 0 || number == 1)) {
      options.propAttn = number == 1;
    } else if (key == "tau_sim" && number > 0) {
      options.tauSim = number;
    } else if (key == "tau_info" && number > 0) {
      options.tauInfo = number;
    } else if (key == "tau_size" && number > 0) {
      options.tauSize = number;
    } else if (key == "one_step_ahead" &&
               (number == 0 || number == 1 || number == 2)) {
      options.oneStepAhead = int64_t(number);
    } else if (key == "bidirectional" && (number == 0 || number == 1)) {
      options.bidirectional = number == 1;
    } else if (key == "unmerge" && (number == 0 || number == 1)) {
      options.unmerge = number == 1;
    } else if (key == "protected" && number == int64_t(number)) {
      options.protectedTokens = int64_t(number);
    } else {
      good = false;
    }
    if (!good)
      error("--merge-tokens=" + spec + ": '" + item +
            "' is not one of r:N, r:F (F < 1), inflect:F, "
            "schedule:A/B/..., fraction:F, "
            "prop_attn:0|1, protected:N, unmerge:0|1, "
            "method:tome|mctf, tau_sim:F, tau_info:F, tau_size:F, "
            "bidirectional:0|1, one_step_ahead:0|1|2");
    ok &= good;
  }
  return ok;
}

/// slimc's --quantize syntax (FORMAT[,key=value...]) into the pass's
/// options; `keep` and `int8` hold what options.keep and options.int8
/// refer to.
bool parseQuantize(StringRef spec, SlimQuantizePassOptions &q,
                   std::vector<std::string> &keep,
                   std::vector<std::string> &int8,
                   llvm::function_ref<void(const Twine &)> error) {
  auto [format, rest] = spec.split(',');
  bool ok = true;
  if (auto w = parseOption(format, {QuantWeights::int8, QuantWeights::int4,
                                    QuantWeights::none})) {
    q.weights = *w;
  } else {
    error("--quantize=" + spec + ": '" + format +
          "' is not one of int8, int4, none");
    ok = false;
  }
  for (StringRef item : llvm::split(rest, ',')) {
    if (item.empty())
      continue;
    auto [key, value] = item.split('=');
    double number = 0;
    bool numeric = !value.getAsDouble(number);
    auto acts = parseOption(value, {QuantActs::dynamic, QuantActs::static_,
                                    QuantActs::none});
    if (key == "act" && (acts || value == "float"))
      q.act = acts ? *acts : QuantActs::none;
    else if (key == "calibration")
      q.calibration = value.str();
    else if (key == "calib" && (value == "minmax" || value == "percentile"))
      q.calib = value == "minmax" ? StaticCalibration::minmax
                                  : StaticCalibration::percentile;
    else if (key == "percentile" && numeric)
      q.percentile = number;
    else if (key == "group" && numeric && number == int64_t(number))
      q.group = int64_t(number);
    else if (key == "sym" && (value == "0" || value == "1"))
      q.symmetric = value == "1";
    else if (key == "smoothquant" && (numeric || value.empty()))
      q.alpha = value.empty() ? 0.5 : number;
    else if (key == "head" && (value == "0" || value == "1"))
      q.head = value == "1";
    else if (key == "attention" && (value == "0" || value == "1"))
      q.attention = value == "1";
    else if (key == "convs" && (value == "0" || value == "1"))
      q.convs = value == "1";
    else if (key == "keep" && !value.empty())
      for (StringRef k : llvm::split(value, ':'))
        keep.push_back(k.str());
    else if (key == "int8" && !value.empty())
      for (StringRef k : llvm::split(value, ':'))
        int8.push_back(k.str());
    else {
      error("--quantize=" + spec + ": '" + item +
            "' is not act=dynamic|static|none|float, "
            "calib=minmax|percentile, percentile=P, group=32|64|128, "
            "sym=0|1, smoothquant[=ALPHA], head=0|1, attention=0|1, "
            "convs=0|1, keep=NAME[:NAME...], int8=NAME[:NAME...] or "
            "calibration=PATH");
      ok = false;
    }
  }
  q.keep = keep;
  q.int8 = int8;
  return ok;
}

} // namespace

LogicalResult buildSlimPipeline(
    OpPassManager &pm, const SlimPipelineOptions &o,
    llvm::function_ref<void(const Twine &)> error,
    llvm::function_ref<LogicalResult(OpPassManager &)> extra) {
  bool ok = true;
  auto bad = [&](const Twine &msg) {
    error(msg);
    ok = false;
  };
  bool generate = o.maxSeqLen > 0;
  bool runDrop = !o.dropLayers.empty() || !o.dropList.empty();

  SlimDropLayersPassOptions drop;
  if (runDrop) {
    StringRef spec = o.dropLayers.empty() ? "joint:0" : StringRef(o.dropLayers);
    auto [targetName, amount] = spec.split(':');
    if (auto t = parseOption(targetName,
                             {DropTarget::attention, DropTarget::mlp,
                              DropTarget::block, DropTarget::joint}))
      drop.target = *t;
    else
      bad("--drop-layers=" + o.dropLayers + ": '" + targetName +
          "' is not one of attention, mlp, block, joint");
    double value = 0;
    if (amount.getAsDouble(value) || value < 0)
      bad("--drop-layers=" + o.dropLayers +
          ": expected TARGET:N or TARGET:FRACTION");
    else if (value < 1.0 && value > 0.0)
      drop.fraction = value;
    else
      drop.count = int64_t(value);
    if (auto m = parseOption(StringRef(o.dropMode),
                             {DropMode::one_shot, DropMode::iterative}))
      drop.mode = *m;
    else
      bad("--drop-mode=" + o.dropMode + ": expected 'one-shot' or "
          "'iterative'");
    drop.keep = o.keepLayers;
    drop.layers = o.dropList;
    drop.calibration = o.calibration;
    drop.report = o.dropReport;
    drop.print = o.print;
  }
  if (!o.lnToRms.empty() && o.lnToRms != "rms" && o.lnToRms != "crms")
    bad("--ln-to-rmsnorm=" + o.lnToRms + ": expected 'rms' or 'crms'");
  if (o.tied != "center" && o.tied != "untie")
    bad("--tied=" + o.tied + ": expected 'center' or 'untie'");
  SlimMergeTokensPassOptions merge;
  std::vector<int64_t> schedule;
  if (!o.mergeTokens.empty()) {
    ok &= parseMergeTokens(o.mergeTokens, merge, schedule, error);
    if (generate)
      bad("--merge-tokens merges tokens of encoders; a generating decoder "
          "keeps every token");
  }
  if (o.logits != "all" && o.logits != "last")
    bad("--logits=" + o.logits + ": expected 'all' or 'last'");
  SlimQuantizePassOptions quant;
  std::vector<std::string> keep, int8;
  if (!o.quantize.empty()) {
    quant.print = o.print;
    quant.calibration = o.calibration; // act=static uses it
    ok &= parseQuantize(o.quantize, quant, keep, int8, error);
    if (generate && quant.attention)
      bad("--quantize=" + o.quantize +
          ": attention=1 does not apply to generation (--max-seq-len): "
          "the attention against the KV cache stays float");
  }
  if (o.optLevel > 3)
    bad("-O" + Twine(o.optLevel.getValue()) + ": the level is 0 to 3");
  if (generate && (o.prefillChunk < 0 || o.prefillChunk > o.maxSeqLen))
    bad("--prefill-chunk=" + Twine(int64_t(o.prefillChunk)) +
        ": expected 1 to --max-seq-len (" + Twine(int64_t(o.maxSeqLen)) + ")");
  if (o.kvCache != "f32" && o.kvCache != "f16")
    bad("--kv-cache=" + o.kvCache + ": expected f32 or f16");
  else if (o.kvCache != "f32" && !generate)
    bad("--kv-cache=" + o.kvCache + " needs --max-seq-len (a KV cache is "
        "built only for generation)");
  if (!ok)
    return failure();

  if (runDrop)
    pm.addPass(createSlimDropLayersPass(drop));
  if (!o.lnToRms.empty()) {
    SlimLnToRmsNormPassOptions ln;
    ln.tied = o.tied == "untie" ? TiedEmbedding::untie : TiedEmbedding::center;
    ln.variant = o.lnToRms == "crms" ? NormVariant::crms : NormVariant::rms;
    pm.addPass(createSlimLnToRmsNormPass(ln));
  }
  if (!o.mergeTokens.empty())
    pm.addPass(createSlimMergeTokensPass(merge));
  // With generation the steps are built from the full-logits @main, so
  // restricting its head comes after them.
  if (o.logits == "last" && !generate)
    pm.addPass(createSlimLastLogitsPass());
  if (!o.quantize.empty())
    pm.addPass(createSlimQuantizePass(quant));
  if (o.optLevel > 0)
    pm.addPass(createSlimFuseEpiloguesPass());
  if (extra && failed(extra(pm)))
    return failure();
  if (generate) {
    SlimDecodeStepPassOptions prefill, decode;
    prefill.name = "prefill";
    prefill.tokens = o.prefillChunk > 0
                         ? int64_t(o.prefillChunk)
                         : std::min<int64_t>(o.maxSeqLen, 128);
    decode.name = "decode";
    decode.tokens = 1;
    prefill.cache = decode.cache = o.kvCache.getValue();
    pm.addPass(createSlimDecodeStepPass(prefill));
    pm.addPass(createSlimDecodeStepPass(decode));
    if (o.logits == "last")
      pm.addPass(createSlimLastLogitsPass());
  }
  // Last: the other passes match unfused ops.
  if (o.optLevel > 0)
    pm.addPass(createSlimFuseKernelsPass());
  return success();
}

void registerSlimPipeline() {
  registerPassPipeline(
      "slim-pipeline",
      "the passes slimc runs after import, from slimc's optimisation "
      "options in slimc's syntax",
      [](OpPassManager &pm, StringRef text,
         llvm::function_ref<LogicalResult(const Twine &)> errorHandler) {
        SlimPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        return buildSlimPipeline(pm, options, [&](const Twine &msg) {
          (void)errorHandler("slim-pipeline: " + msg);
        });
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)> print) {
        print(SlimPipelineOptions());
      });
}

} // namespace mlir::slim
