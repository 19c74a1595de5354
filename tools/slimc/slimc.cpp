//===- slimc.cpp - the Slim compiler driver -------------------------------===//
//
//   slimc MODEL -o OUT [--emit=exe|lib|mlir] [--weights=embedded|external]
//         [--seq-len N] [-O0|-O1|-O2|-O3] [--pass-pipeline=PIPELINE]
//
// MODEL is an .onnx file, a Hugging Face checkpoint directory or a slim
// .mlir file. Stages: import (+ slim-raise), passes, codegen (an object file
// emitted in-process), link (the system compiler driver, with Slim's
// runtime and Halide kernels). Every output is written to a temporary name
// and renamed, so a failed compile leaves nothing behind.
//
//===----------------------------------------------------------------------===//

#include "ModelDescText.h"
#include "Report.h"
#include "SlimcPaths.h"

#include "codegen/llvm/Link.h"
#include "codegen/llvm/ModelCompiler.h"
#include "codegen/llvm/ModelSource.h"
#include "dialects/slim/IR/SlimDialect.h"
#include "dialects/slim/IR/SlimOps.h"
#include "importers/Import.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"
#include "passes/Weights.h"
#include "runtime/Files.h"
#include "tools/Diagnostics.h"
#include "tools/OutputFile.h"
#include "tools/ShapeOption.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>
#include <fstream>

using namespace llvm;
namespace rt = ::slim::rt;

static cl::OptionCategory category("slimc options");
static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<model.onnx | hf-dir | model.mlir>"),
                                  cl::cat(category));
static cl::opt<std::string> output("o", cl::Required,
                                   cl::desc("output: an executable, or with "
                                            "--emit=lib libOUT.so + OUT.h"),
                                   cl::value_desc("OUT"), cl::cat(category));
enum class Emit { Exe, Lib, Mlir, Plan };
static cl::opt<Emit> emit(
    "emit", cl::desc("what to produce"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::Exe, "exe", "a self-contained executable (default)"),
               clEnumValN(Emit::Lib, "lib", "libOUT.so and the C header OUT.h"),
               clEnumValN(Emit::Mlir, "mlir", "the optimized slim IR, not compiled"),
               clEnumValN(Emit::Plan, "plan",
                          "the kernel calls as JSON (kind, FLOPs, name of "
                          "each; the linears' weight names; arena and weight "
                          "bytes), not compiled")),
    cl::cat(category));
enum class Weights { Embedded, External };
static cl::opt<Weights> weightsMode(
    "weights", cl::desc("where the weights live"), cl::init(Weights::Embedded),
    cl::values(clEnumValN(Weights::Embedded, "embedded", "inside the binary (default)"),
               clEnumValN(Weights::External, "external",
                          "in OUT.weights beside it, mmap'ed at start-up")),
    cl::cat(category));
static slim::tools::InputOptions inputOptions(category);
static cl::opt<int64_t> seqLen("seq-len",
                               cl::desc("sequence length for Hugging Face text "
                                        "models (default 128, capped)"),
                               cl::init(0), cl::cat(category));
static cl::opt<unsigned> optLevel("O", cl::Prefix, cl::init(2),
                                  cl::desc("optimization level of the generated "
                                           "code (0-3, default 2)"),
                                  cl::cat(category));
static cl::opt<std::string> targetName(
    "target", cl::init("host"),
    cl::desc("the CPU the binary is for: 'host' (default: this machine, "
             "every extension it has), 'x86-64-v3' (AVX2 + FMA: Intel "
             "since Haswell, AMD since Zen), 'x86-64-v4' (AVX-512 with "
             "VNNI: Xeon since Cascade Lake, AMD since Zen 4), 'x86-64' "
             "(runs where x86-64-v3 does and takes the x86-64-v4 kernels "
             "where the CPU has them), "
             "'aarch64-linux' (64-bit ARM with NEON, Linux: cross-compiled "
             "where the build had the aarch64 cross toolchain; run it there "
             "or under qemu-aarch64 -L /usr/aarch64-linux-gnu). The binary "
             "checks its CPU at start-up and exits with 2 naming the "
             "missing extensions; its --version prints the target"),
    cl::value_desc("T"), cl::cat(category));
static cl::opt<std::string> lnToRms(
    "ln-to-rmsnorm", cl::ValueOptional,
    cl::desc("rewrite Pre-LN LayerNorms exactly (slim-ln-to-rmsnorm): 'rms' "
             "(default) to RMSNorm, 'crms' to CRMSNorm with the residual "
             "stream carried d-1 wide and norm gains folded into linears"),
    cl::value_desc("rms|crms"), cl::cat(category));
static cl::opt<std::string> tiedOption(
    "tied", cl::init("center"),
    cl::desc("with --ln-to-rmsnorm, a token embedding shared with the head: "
             "'center' (default) or 'untie'"),
    cl::cat(category));
static cl::opt<std::string> dropLayers(
    "drop-layers",
    cl::desc("drop the N (or the fraction F < 1) most redundant modules by "
             "calibration similarity: attention:N, mlp:N, block:N or joint:N "
             "(slim-drop-layers); needs --calibration unless --drop-list"),
    cl::value_desc("TARGET:N"), cl::cat(category));
static cl::opt<std::string> calibrationPath(
    "calibration",
    cl::desc("calibration data for --drop-layers and "
             "--quantize=int8,act=static: a batch (.npy of the model's "
             "input) or a directory of them; for a model with several "
             "inputs, a directory holding NAME.npy for each input, or a "
             "directory of such directories (one batch each)"),
    cl::value_desc("PATH"), cl::cat(category));
static cl::opt<std::string> dropMode(
    "drop-mode", cl::init("one-shot"),
    cl::desc("one-shot (default) or iterative"), cl::cat(category));
static cl::list<int64_t> keepLayers(
    "keep-layers", cl::CommaSeparated,
    cl::desc("block indices never dropped"), cl::cat(category));
static cl::list<std::string> dropList(
    "drop-list", cl::CommaSeparated,
    cl::desc("drop exactly these (no scoring): attention:N, mlp:N or a block "
             "index with --drop-layers=block:0"),
    cl::cat(category));
static cl::opt<std::string> mergeTokens(
    "merge-tokens",
    cl::desc("ToMe token merging (slim-merge-tokens), comma-separated: r:N "
             "tokens per layer (or r:F, F < 1: that fraction of each layer's "
             "tokens), inflect:F (schedule shape), schedule:A/B/... "
             "(with fraction:F, the layers with A > 0 merge that fraction) "
             "(r per layer), prop_attn:0|1, protected:N (-1 detects CLS), "
             "unmerge:0|1 (per-token outputs get one row per original "
             "token), method:tome|mctf (MCTF: tau_sim:F, tau_info:F, "
             "tau_size:F, bidirectional:0|1, one_step_ahead:0|1|2); e.g. "
             "--merge-tokens=r:13 or "
             "--merge-tokens=r:16,method:mctf"),
    cl::value_desc("r:N[,...]"), cl::cat(category));
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("post-training quantization (slim-quantize): 'int8' weights per "
             "output channel with int8 activations: act=dynamic (per-token "
             "scales, default) or act=static (scales from --calibration; "
             "calib=minmax or calib=percentile[,percentile=99.99]); 'int4' "
             "group-wise: group=32|64|128 (default 32), sym=1 (Q4_0, "
             "default) or sym=0 (min/max with zero points), act=dynamic "
             "(default: int8 activations, integer dot products) or act=float "
             "(float activations everywhere); "
             "smoothquant[=ALPHA] (0.5) migrates activation outliers into "
             "the weights first (needs --calibration); head=1 also quantizes "
             "the head; attention=1 also runs the attentions' q·kᵀ and p·v "
             "in int8 (encoders; not with --max-seq-len); convs=1 also "
             "quantizes the depthwise and grouped convolutions (int8 "
             "weights only; slower than float on these memory-bound "
             "kernels, for quality studies of fully int8 models); "
             "keep=NAME[:NAME...] keeps the linears (and convolutions) whose "
             "weight or ONNX node name contains NAME in float; with int4, "
             "int8=NAME[:NAME...] gives the linears so named int8 weights "
             "(W8A8) instead: mixed precision per layer. Prints every "
             "quantized op and its weight error"),
    cl::value_desc("int8|int4[,...]"), cl::cat(category));
static cl::opt<std::string> logits(
    "logits", cl::init("all"),
    cl::desc("which positions get logits: 'all' (default) or 'last' "
             "(slim-last-logits: the head runs on the last token only; the "
             "output becomes [batch, 1, vocab])"),
    cl::value_desc("all|last"), cl::cat(category));
static cl::opt<int64_t> maxSeqLen(
    "max-seq-len",
    cl::desc("build a generating binary for a causal decoder: prefill and "
             "decode step functions sharing a KV cache of N positions "
             "(slim-decode-step); the executable gains --generate. Hugging "
             "Face models are imported for N tokens; an ONNX or .mlir "
             "model's window must be N (ONNX: --shape input_ids=1xN)"),
    cl::value_desc("N"), cl::init(0), cl::cat(category));
static cl::opt<int64_t> prefillChunk(
    "prefill-chunk",
    cl::desc("with --max-seq-len: tokens per prefill step (default: the "
             "smaller of N and 128); longer prompts take several steps"),
    cl::value_desc("C"), cl::init(0), cl::cat(category));
static cl::opt<std::string> kvCache(
    "kv-cache",
    cl::desc("with --max-seq-len: how the KV cache stores keys and values: "
             "f32 (default; exact) or f16 (IEEE half, rounded when stored: "
             "half the memory and of the bytes each decode step reads, as "
             "llama.cpp's default cache)"),
    cl::value_desc("f32|f16"), cl::init("f32"), cl::cat(category));
static cl::opt<std::string> tokenizer(
    "tokenizer",
    cl::desc("with --max-seq-len: 'bytes' when token ids are UTF-8 bytes "
             "(a byte-level model such as the bundled tiny GPT): the "
             "executable then takes --prompt TEXT and prints text"),
    cl::value_desc("bytes"), cl::cat(category));
static cl::opt<std::string> pipeline(
    "pass-pipeline",
    cl::desc("extra passes after import, as an mlir-opt pipeline, e.g. "
             "'builtin.module(canonicalize)'"),
    cl::cat(category));
// Only for --help: main() hands a command line with --budget to
// slim-budget before the options are parsed.
static cl::opt<std::string> budgetHelp(
    "budget", cl::value_desc("SPEC"),
    cl::desc("search the passes (sublayers dropped, int8 / int4, "
             "LayerNorm -> RMSNorm, token merging) for the fastest build "
             "whose quality on --eval DATA keeps SPEC: agreement>=0.99, "
             "kl<=X, ppl<=+P%, accuracy>=-P% and/or latency<=Nms; writes OUT, "
             "OUT.budget.json and OUT.budget.svg, prints the flags that "
             "rebuild OUT, exits 3 when nothing meets SPEC (slim-budget "
             "--help: every option)"),
    cl::cat(category));
static cl::opt<std::string> runtimeSanitizer(
    "runtime-sanitizer",
    cl::desc("'thread': link the runtime built with ThreadSanitizer (for "
             "checking a program that calls the model from many threads; "
             "link that program with -fsanitize=thread too)"),
    cl::value_desc("thread"), cl::cat(category));
static cl::opt<bool> keepTemps("keep-temps",
                               cl::desc("keep the intermediate files (printed)"),
                               cl::cat(category));

namespace {

using Clock = std::chrono::steady_clock;

struct Stage {
  const char *name;
  Clock::time_point start = Clock::now();
  explicit Stage(const char *name) : name(name) {}
  ~Stage() {
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    errs() << "slimc: " << name << " " << format("%.2f", s) << " s\n";
  }
};

// Exit codes: 2 when the model or a file named on the command line cannot
// be read or is not a model Slim accepts (everything the import stage
// reports), 1 when a later step fails (a pass refusing, code generation,
// linking, writing the output).
constexpr int kBadInput = 2;

int fail(const Twine &msg, int code = 1) {
  WithColor::error(errs(), "slimc") << msg << "\n";
  return code;
}

/// The --target named `name` when this slimc has its runtime libraries
/// (aarch64-linux needs the cross toolchain at build time), else null.
const mlir::slim::CpuTarget *availableTarget(StringRef name) {
  for (const SlimcTargetLibs &t : kSlimcTargetLibs)
    if (name == t.target)
      return mlir::slim::findCpuTarget(name);
  return nullptr;
}

/// Checks the command line before anything is read: option values and
/// options that go together, and the files it names (the importers check
/// what is inside them). Every problem is reported, so that a missing model
/// and a bad --calibration or --tokenizer come in one report.
bool checkCommandLine() {
  std::vector<std::string> problems;
  auto problem = [&](const Twine &msg) { problems.push_back(msg.str()); };
  bool generate = maxSeqLen.getNumOccurrences() > 0;
  if (generate && maxSeqLen < 1)
    problem("--max-seq-len=" + Twine(int64_t(maxSeqLen)) +
            ": expected a positive number of positions");
  if (!generate && (prefillChunk.getNumOccurrences() ||
                    tokenizer.getNumOccurrences()))
    problem("--prefill-chunk and --tokenizer need --max-seq-len");
  // (-O, a --prefill-chunk beyond --max-seq-len and --kv-cache:
  // buildSlimPipeline.)
  if (generate && maxSeqLen >= 1 && prefillChunk.getNumOccurrences() &&
      prefillChunk < 1)
    problem("--prefill-chunk=" + Twine(int64_t(prefillChunk)) +
            ": expected 1 to --max-seq-len (" + Twine(int64_t(maxSeqLen)) +
            ")");
  if (tokenizer.getNumOccurrences() && tokenizer != "bytes")
    problem("--tokenizer=" + tokenizer + ": only 'bytes' is known");
  if (runtimeSanitizer.getNumOccurrences()) {
    if (runtimeSanitizer != "thread")
      problem("--runtime-sanitizer=" + runtimeSanitizer +
              ": expected 'thread'");
    else if (targetName != "host")
      problem("--runtime-sanitizer=thread: the ThreadSanitizer runtime is "
              "built for --target=host only");
#ifndef SLIMC_TSAN_RUNTIME_LIB
    else
      problem("--runtime-sanitizer=thread: this slimc was built without the "
              "ThreadSanitizer runtime (it needs clang and no "
              "-DSLIM_SANITIZE)");
#endif
  }
  if (!availableTarget(targetName)) {
    std::string valid;
    for (const mlir::slim::CpuTarget &t : mlir::slim::cpuTargets())
      if (availableTarget(t.name))
        valid += (valid.empty() ? "" : ", ") + std::string(t.name);
    problem("--target=" + targetName + ": unknown target; valid targets: " +
            valid);
  }
  if (!sys::fs::exists(input))
    problem(input + ": cannot read the model: No such file or directory");
  std::vector<std::string> files;
  std::string error;
  if (!calibrationPath.empty() &&
      !mlir::slim::listCalibrationFiles(calibrationPath, files, error))
    problem("--calibration " + error);
  for (const std::string &p : problems)
    WithColor::error(errs(), "slimc") << p << "\n";
  return problems.empty();
}

int run(int argc, char **argv) {
  mlir::registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "slimc: compiles a transformer model (ONNX, Hugging Face checkpoint "
      "directory, or slim .mlir) to a native executable or shared library\n\n"
      "Exit code: 0 on success; 2 when the model or a file named on the "
      "command line cannot be read or is not a model Slim accepts (every "
      "such problem is listed); 1 when a pass, code generation, linking or "
      "writing the output fails.\n");
  bool commandLineOk = checkCommandLine();

  mlir::MLIRContext ctx;
  mlir::slim::registerImportDialects(&ctx);
  slim::tools::DiagnosticPrinter diagnostics(&ctx, "slimc");
  SourceMgr sourceMgr;

  // The passes (passes/Pipeline.h), built before the import so that every
  // bad option value is reported at once, and before a long import.
  mlir::slim::SlimPipelineOptions passOptions;
  bool runLnToRms = lnToRms.getNumOccurrences() > 0;
  passOptions.dropLayers = dropLayers.getValue();
  passOptions.dropList = std::vector<std::string>(dropList.begin(), dropList.end());
  passOptions.dropMode = dropMode.getValue();
  passOptions.keepLayers = std::vector<int64_t>(keepLayers.begin(), keepLayers.end());
  passOptions.calibration = calibrationPath.getValue();
  passOptions.dropReport = output + ".drop-layers";
  passOptions.lnToRms = !runLnToRms ? "" : lnToRms.empty() ? "rms" : lnToRms.getValue();
  passOptions.tied = tiedOption.getValue();
  passOptions.mergeTokens = mergeTokens.getValue();
  passOptions.quantize = quantize.getValue();
  passOptions.logits = logits.getValue();
  passOptions.optLevel = optLevel.getValue();
  passOptions.maxSeqLen = maxSeqLen.getValue();
  passOptions.prefillChunk = prefillChunk.getValue();
  passOptions.kvCache = kvCache.getValue();
  passOptions.print = true;
  mlir::PassManager pm(&ctx);
  if (failed(mlir::slim::buildSlimPipeline(
          pm, passOptions, [](const Twine &msg) { fail(msg); },
          [&](mlir::OpPassManager &pm) -> mlir::LogicalResult {
            if (pipeline.empty() ||
                succeeded(mlir::parsePassPipeline(pipeline, pm, errs())))
              return mlir::success();
            fail("invalid --pass-pipeline");
            return mlir::failure();
          })) ||
      !commandLineOk)
    return kBadInput; // the two checks' problems in one report

  // Import.
  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    Stage stage("import");
    if (StringRef(input).ends_with(".mlir") ||
        StringRef(input).ends_with(".mlirbc")) {
      if (std::string why = slim::rt::notARegularFile(input); !why.empty())
        return fail(input + ": " + why, kBadInput);
      module = mlir::parseSourceFile<mlir::ModuleOp>(input, sourceMgr,
                                                     mlir::ParserConfig(&ctx));
    } else {
      mlir::slim::ImportOptions importOptions;
      importOptions.seqLen = seqLen;
      // A Hugging Face decoder is imported for the whole cache.
      if (maxSeqLen > 0 && seqLen == 0)
        importOptions.seqLen = maxSeqLen;
      if (std::string err; !slim::tools::parseInputOptions(
              inputOptions.shapes, inputOptions.binds, importOptions.shapes,
              importOptions.binds, err))
        return fail(err, kBadInput);
      module = mlir::slim::importModel(&ctx, input, importOptions);
      if (module) {
        mlir::PassManager pm(&ctx);
        pm.addPass(mlir::slim::createSlimRaisePass());
        if (failed(pm.run(*module)))
          return 1;
        errs() << "slimc: "
               << slim::tools::raiseSummary(slim::tools::countOps(*module))
               << "\n";
      }
    }
    if (!module)
      return kBadInput;
  }
  bool generate = maxSeqLen.getNumOccurrences() > 0;
  if (generate) {
    auto main = module->lookupSymbol<mlir::func::FuncOp>("main");
    auto ids = main && main.getNumArguments() > 0
                   ? dyn_cast<mlir::RankedTensorType>(main.getArgumentTypes()[0])
                   : mlir::RankedTensorType();
    if (!ids || ids.getRank() != 2)
      return fail("--max-seq-len: the model's first input must be token ids "
                  "[1, N]");
    if (ids.getDimSize(1) != maxSeqLen)
      return fail("--max-seq-len=" + Twine(int64_t(maxSeqLen)) +
                  ": the imported model's window is " +
                  Twine(ids.getDimSize(1)) +
                  " tokens; the cache holds the window (for ONNX, compile "
                  "with --max-seq-len " + Twine(ids.getDimSize(1)) +
                  " or export with a dynamic sequence axis and pass --shape "
                  "input_ids=1x" + Twine(int64_t(maxSeqLen)) + ")");
  }
  bool tsan = runtimeSanitizer.getNumOccurrences() > 0;
  bool runDrop = !dropLayers.empty() || !dropList.empty();
  slim::tools::PassFlags reportFlags;
  reportFlags.lnToRms = runLnToRms;
  reportFlags.merge = !mergeTokens.empty();
  reportFlags.quantize = !quantize.empty();
  reportFlags.target = targetName;
  reportFlags.drop = runDrop;
  reportFlags.dropCountZero =
      dropList.empty() &&
      (dropLayers.empty() || StringRef(dropLayers).ends_with(":0"));
  slim::tools::OpCounts countsBefore = slim::tools::countOps(*module);
  { // the passes (epilogue fusion runs at -O1 and above)
    Stage stage("passes");
    if (failed(pm.run(*module)))
      return 1;
  }
  slim::tools::reportPasses(reportFlags, countsBefore,
                            slim::tools::countOps(*module));
  if (emit == Emit::Mlir) {
    if (tsan)
      WithColor::warning(errs(), "slimc")
          << "--runtime-sanitizer changes nothing with --emit=mlir (no "
             "runtime is linked)\n";
    std::string err = slim::tools::writeOutput(output, [&](raw_ostream &os) {
      module->print(os);
      return true;
    });
    return err.empty() ? 0 : fail(err);
  }

  mlir::slim::CompiledModel compiled;
  if (emit == Emit::Plan) {
    // What the code generator would call, without generating it: what
    // slim-budget's latency predictor reads.
    // The linears' weight names (what --quantize's keep= and int8= match),
    // before lowering consumes the ops.
    std::vector<std::string> linears;
    module->walk([&](mlir::Operation *op) {
      if (isa<mlir::slim::LinearOp, mlir::slim::QLinearOp>(op))
        linears.push_back(mlir::slim::weightName(op->getOperand(1)));
    });
    mlir::OwningOpRef<mlir::ModuleOp> scratch =
        mlir::ModuleOp::create(module->getLoc());
    if (failed(mlir::slim::lowerModuleToLLVM(*module, *scratch, compiled)))
      return 1;
    std::string err = slim::tools::writeOutput(output, [&](raw_ostream &os) {
      json::OStream j(os, 1);
      j.object([&] {
        j.attribute("arena_bytes", compiled.arenaBytes);
        j.attribute("weights_bytes", int64_t(compiled.weights.size()));
        j.attributeArray("linears", [&] {
          for (const std::string &n : linears)
            j.value(n);
        });
        j.attributeArray("ops", [&] {
          for (size_t i = 0; i < compiled.opNames.size(); ++i)
            j.object([&] {
              j.attribute("kind", compiled.opKinds[i]);
              j.attribute("flops", compiled.opFlops[i]);
              j.attribute("name", compiled.opNames[i]);
            });
        });
      });
      os << "\n";
      return true;
    });
    return err.empty() ? 0 : fail(err);
  }
  {
    Stage stage("codegen");
    mlir::slim::CompileOptions options;
    options.optLevel = optLevel;
    options.target = availableTarget(targetName);
    if (failed(mlir::slim::compileModel(*module, options, compiled)))
      return 1;
  }

  // Intermediate files in a private directory.
  SmallString<128> tmpDir;
  if (std::error_code ec = sys::fs::createUniqueDirectory("slimc", tmpDir))
    return fail("cannot create a temporary directory: " + ec.message());
  auto cleanup = make_scope_exit([&] {
    if (keepTemps)
      errs() << "slimc: intermediate files kept in " << tmpDir << "\n";
    else
      sys::fs::remove_directories(tmpDir);
  });
  auto path = [&](StringRef file) {
    SmallString<256> p(tmpDir);
    sys::path::append(p, file);
    return std::string(p);
  };
  auto writeFile = [&](const std::string &p, StringRef data) {
    std::error_code ec;
    raw_fd_ostream os(p, ec);
    if (ec)
      return false;
    os << data;
    return !os.has_error();
  };

  StringRef outDir = sys::path::parent_path(output);
  std::string base = sys::path::filename(output).str();
  auto beside = [&](const std::string &file) {
    SmallString<256> p(outDir.empty() ? "." : outDir);
    sys::path::append(p, file);
    return std::string(p);
  };
  bool embedded = weightsMode == Weights::Embedded;
  std::string weightsName = base + ".weights";
  std::string objPath = path("model.o"), binPath = path("weights.bin"),
              descPath = path("model_desc.c");
  StringRef weightBytes(reinterpret_cast<const char *>(compiled.weights.data()),
                        compiled.weights.size());
  if (!writeFile(objPath, StringRef(compiled.object.data(), compiled.object.size())) ||
      !writeFile(binPath, weightBytes) ||
      !writeFile(descPath,
                 mlir::slim::modelDescSource(compiled, base, binPath, weightsName,
                                 embedded, tokenizer == "bytes")))
    return fail("cannot write intermediate files in " + tmpDir);

  // Link.
  std::string finalPath =
      emit == Emit::Lib ? beside("lib" + base + ".so") : std::string(output);
  std::string linked = path("linked");
  {
    Stage stage("link");
    // The runtime libraries: installed, in PREFIX/lib/slim beside this
    // PREFIX/bin/slimc; otherwise this build's, the plain ones or their
    // ThreadSanitizer builds (the first of linkLibs is the runtime,
    // the rest the Halide kernels). The descriptor includes
    // runtime/ModelDesc.h, which slimc carries and writes beside it.
    mlir::slim::RuntimeLibraries libs;
    libs.cxx = SLIMC_CXX;
    SmallString<256> descDir(path("runtime"));
    if (sys::fs::create_directory(descDir) ||
        !writeFile(path("runtime/ModelDesc.h"), kModelDescText))
      return fail("cannot write intermediate files in " + tmpDir);
    libs.includeDir = std::string(tmpDir);
    SmallString<256> installed(sys::path::parent_path(sys::path::parent_path(
        sys::fs::getMainExecutable(argv[0], (void *)&run))));
    sys::path::append(installed, "lib", "slim");
    auto inInstalled = [&](StringRef name) {
      SmallString<256> p(installed);
      sys::path::append(p, name);
      return std::string(p);
    };
    const SlimcTargetLibs *paths = nullptr;
    for (const SlimcTargetLibs &t : kSlimcTargetLibs)
      if (targetName == t.target)
        paths = &t;
    if (!paths)
      return fail("no runtime libraries for --target=" + targetName);
    bool isInstalled = sys::fs::exists(inInstalled(paths->mainName));
    if (isInstalled) {
      libs.mainLib = inInstalled(paths->mainName);
      libs.apiLib = inInstalled(paths->apiName);
      for (StringRef lib : split(paths->linkNames, ';'))
        libs.libs.push_back(inInstalled(lib));
    } else {
      libs.mainLib = paths->mainLib;
      libs.apiLib = paths->apiLib;
      for (StringRef lib : split(paths->linkLibs, ';'))
        libs.libs.push_back(lib.str());
    }
    // A cross target: the driver compiles and links for its triple, with
    // the runtime built for it (never sanitized).
    const mlir::slim::CpuTarget *cpu = availableTarget(targetName);
    const bool cross = StringRef(cpu->name).starts_with("aarch64");
    if (cross)
      libs.triple = cpu->triple;
    libs.sanitize = cross ? "" : SLIMC_SANITIZE;
    if (tsan && isInstalled)
      return fail("--runtime-sanitizer=thread needs the ThreadSanitizer "
                  "runtime of a build tree; an installation has none");
#ifdef SLIMC_TSAN_RUNTIME_LIB
    if (tsan) {
      libs.libs.front() = SLIMC_TSAN_RUNTIME_LIB;
      libs.apiLib = SLIMC_TSAN_API_LIB;
      libs.mainLib = SLIMC_TSAN_MAIN_LIB;
      libs.tsan = true;
    }
#endif
    std::string err = mlir::slim::linkModel(
        libs,
        emit == Emit::Lib ? mlir::slim::LinkKind::SharedLibrary
                          : mlir::slim::LinkKind::Executable,
        descPath, objPath, linked);
    if (!err.empty())
      return fail(err);
  }

  // Install the outputs, each by rename.
  auto install = [&](const std::string &from, const std::string &to) {
    std::string tmp = to + ".tmp";
    if (sys::fs::copy_file(from, tmp) ||
        sys::fs::rename(tmp, to)) {
      sys::fs::remove(tmp);
      return false;
    }
    return true;
  };
  if (!embedded && !install(binPath, beside(weightsName)))
    return fail("cannot write '" + beside(weightsName) + "'");
  if (!install(linked, finalPath))
    return fail("cannot write '" + finalPath + "'");
  sys::fs::setPermissions(finalPath, sys::fs::all_read | sys::fs::all_exe |
                                         sys::fs::owner_write);
  if (emit == Emit::Lib) {
    std::string header =
        mlir::slim::headerSource(compiled, base, kModelDescText);
    std::string err = slim::tools::writeOutput(beside(base + ".h"), [&](raw_ostream &os) {
      os << header;
      return true;
    });
    if (!err.empty())
      return fail(err);
  }
  errs() << "slimc: wrote " << finalPath << " (" << compiled.numKernelCalls
         << " kernel calls, arena " << compiled.arenaBytes / 1024 << " KiB ("
         << compiled.unplannedBytes / 1024 << " KiB without reuse), weights "
         << compiled.weights.size() / 1024 << " KiB "
         << (embedded ? "embedded" : "in " + beside(weightsName)) << ")\n";
  return 0;
}

/// `slimc --budget ...` is slim-budget's search (installed beside slimc):
/// the whole command line goes to it.
int runBudget(int argc, char **argv) {
  SmallString<256> tool(sys::path::parent_path(
      sys::fs::getMainExecutable(argv[0], (void *)&runBudget)));
  sys::path::append(tool, "slim-budget");
  if (!sys::fs::can_execute(tool)) {
    WithColor::error(errs(), "slimc")
        << "--budget needs slim-budget beside slimc (" << tool
        << " is missing)\n";
    return 2;
  }
  std::vector<char *> args{const_cast<char *>(tool.c_str())};
  for (int i = 1; i < argc; ++i)
    args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(tool.c_str(), args.data());
  WithColor::error(errs(), "slimc")
      << "cannot run " << tool << ": " << std::strerror(errno) << "\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  // (LLVM's parser also takes -budget: so does this check.)
  for (int i = 1; i < argc; ++i) {
    StringRef a = StringRef(argv[i]).ltrim('-');
    if (StringRef(argv[i]).starts_with("-") &&
        (a == "budget" || a.starts_with("budget=")))
      return runBudget(argc, argv);
  }
  InitLLVM init(argc, argv);
  return run(argc, argv);
}
