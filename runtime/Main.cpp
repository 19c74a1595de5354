//===- Main.cpp - the command line of Slim's compiled executables ---------===//
//
//   MODEL --input NAME=FILE.npy ... [--output NAME=FILE.npy ...]
//         [--output-dir DIR] [--threads N] [--bench N] [--weights FILE]
//   MODEL --generate N (--prompt-ids FILE.npy | --prompt TEXT)
//         [--temperature T --top-k K --seed S] [--output ids=FILE.npy]
//         [--output logits=FILE.npy] ...       (generating decoders)
//
// Every output is written (DIR/NAME.npy unless --output names it). A bad
// argument or a file that cannot be read (an input, the prompt ids, the
// weights file) exits with code 2 and writes nothing; a failure while
// running or writing exits with 1. Outputs are written to a temporary name
// and renamed.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuCheck.h"
#include "runtime/Kernels.h"
#include "runtime/Model.h"
#include "runtime/Npy.h"
#include "runtime/Profile.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

using namespace slim::rt;

namespace {

/// Runs before every static constructor (the executable's .preinit_array):
/// a CPU without the extensions of the binary's target gets a message and
/// exit code 2, not an illegal instruction in the first vector loop. Plain
/// C: libstdc++ is not initialized yet.
void checkCpu(int, char **, char **) {
  char missing[512];
  if (!slim::rt::missingCpuFeatures(missing, sizeof missing))
    return;
  char msg[1024];
  int n = std::snprintf(msg, sizeof msg,
                        "%s: error: compiled for the target %s, which this "
                        "CPU does not meet: it lacks %s (slimc --target "
                        "sets the CPU level a binary needs)\n",
                        slim_model.name, slim_runtime_target, missing);
  if (n > 0)
    (void)!write(2, msg, size_t(n) < sizeof msg ? size_t(n) : sizeof msg - 1);
  _exit(2);
}
__attribute__((section(".preinit_array"), used)) void (*const
    slimCheckCpu)(int, char **, char **) = checkCpu;

int fail(int code, const std::string &msg) {
  std::fprintf(stderr, "%s: error: %s\n", slim_model.name, msg.c_str());
  return code;
}

/// Creates the output directory `dir` (and its parents) when one of
/// `paths` lies in it; a path in the way that is not a directory is an
/// error.
bool makeOutputDir(const std::string &dir,
                   const std::vector<std::string> &paths, std::string &err) {
  bool used = std::any_of(paths.begin(), paths.end(), [&](const std::string &p) {
    return !dir.empty() && p.rfind(dir + "/", 0) == 0;
  });
  std::error_code ec;
  if (!used || std::filesystem::is_directory(dir, ec))
    return true;
  if (!std::filesystem::create_directories(dir, ec) &&
      !std::filesystem::is_directory(dir)) {
    err = "--output-dir " + dir + ": cannot create the directory: " +
          (ec ? ec.message() : std::string("a file of that name exists"));
    return false;
  }
  return true;
}

std::string describe(int32_t dtype, int32_t rank, const int64_t *shape) {
  std::string s = dtypeName(static_cast<DType>(dtype));
  s += " [";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void usage() {
  if (slim_model.prefill)
    std::printf(
        "usage: %s --generate N (--prompt-ids FILE.npy%s)\n"
        "          [--temperature T] [--top-k K] [--seed S] "
        "[--output ids=FILE.npy]\n"
        "          [--output logits=FILE.npy] [--output-dir DIR] "
        "[--threads N] [--bench R]\n\n"
        "Generates N tokens after the prompt (int64 ids [P] or [1, P]) with "
        "the KV cache\n(%lld positions: P + N must fit; %lld bytes, %d "
        "attention layer%s); greedy unless\n--temperature > 0 (then sampled from the "
        "top K, all when K = 0, with seed S,\ndefault 0). Writes the ids "
        "as DIR/ids.npy (int64 [1, N])%s; --output logits=FILE\nalso "
        "writes the [N, %lld] logits each token was picked from. Prints "
        "prefill ms and\ndecode ms per token on stderr; --bench R repeats "
        "the generation R times and\nprints the medians.\n\n"
        "Without --generate, the one-pass forward below:\n",
        slim_model.name,
        slim_model.byte_tokens ? " | --prompt TEXT" : "",
        (long long)slim_model.max_seq_len,
        (long long)slim_model.kv_cache_bytes, slim_model.kv_layers,
        slim_model.kv_layers == 1 ? "" : "s",
        slim_model.byte_tokens
            ? " (--prompt: prints the text; ids.npy only with --output-dir)"
            : "",
        (long long)slim_model.vocab_size);
  std::printf("usage: %s --input NAME=FILE.npy ... [--output NAME=FILE.npy]\n"
              "          [--output-dir DIR] [--threads N] [--bench N] "
              "[--profile [--peak-gflops G]] [--weights FILE]\n\n"
              "--threads N sizes the thread pool every kernel runs on (default: "
              "HL_NUM_THREADS,\nelse one thread per CPU; at most the CPUs this "
              "process may run on); idle\nworkers spin for 2 ms after a parallel "
              "kernel before they sleep.\n--output-dir DIR is created when it "
              "does not exist.\n"
              "--bench N runs the model until it is at steady state (at least "
              "10 runs, then\nuntil the last three are within 5%%) and then N "
              "timed runs; prints their\nmedian and minimum ms.\n"
              "--profile prints the time of every op and op kind, with GFLOP/s "
              "for linear\nand attention; --peak-gflops (the machine's measured "
              "fp32 peak, from\nbench/peak) adds their share of it.\n"
              "--version prints the CPU target this binary was compiled for "
              "(%s).\n\n"
              "inputs:\n",
              slim_model.name, slim_runtime_target);
  for (int i = 0; i < slim_model.num_inputs; ++i) {
    const slim_tensor_desc &t = slim_model.inputs[i];
    std::printf("  %s: %s\n", t.name, describe(t.dtype, t.rank, t.shape).c_str());
  }
  std::printf("outputs:\n");
  for (int i = 0; i < slim_model.num_outputs; ++i) {
    const slim_tensor_desc &t = slim_model.outputs[i];
    std::printf("  %s: %s\n", t.name, describe(t.dtype, t.rank, t.shape).c_str());
  }
}

int runGenerate(int64_t count, const std::string &promptIds,
                const std::string &promptText, bool hasText,
                const Model::Sampling &sampling,
                std::map<std::string, std::string> &outputFiles,
                const std::string &outputDir, const char *weightsPath,
                int bench, bool profile, double peakGflops);

} // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> inputFiles, outputFiles;
  std::string outputDir = ".";
  bool outputDirGiven = false;
  const char *weightsPath = nullptr;
  int threads = 0, bench = 0;
  double peakGflops = 0;
  bool profile = false;
  int64_t generate = -1;
  std::string promptIds, promptText;
  bool hasText = false;
  Model::Sampling sampling;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    }
    if (a == "--version") {
      std::printf("%s: compiled by Slim for the target %s (runtime built "
                  "with:%s)\n",
                  slim_model.name, slim_runtime_target, slim_runtime_features);
      return 0;
    }
    if (a == "--profile") {
      profile = true;
      continue;
    }
    const char *v = value();
    if (!v)
      return fail(2, a + " needs a value (see --help)");
    std::string s = v;
    if (a == "--input" || a == "--output") {
      size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(2, a + " '" + s + "' is not NAME=FILE.npy");
      auto &m = a == "--input" ? inputFiles : outputFiles;
      if (!m.emplace(s.substr(0, eq), s.substr(eq + 1)).second)
        return fail(2, a + " '" + s.substr(0, eq) + "' is given twice");
    } else if (a == "--output-dir") {
      outputDir = s;
      outputDirGiven = true;
    } else if (a == "--threads" || a == "--bench") {
      char *end;
      long n = std::strtol(v, &end, 10);
      if (*end || n < (a == "--threads" ? 1 : 0))
        return fail(2, a + " needs a " +
                           (a == "--threads" ? "positive" : "non-negative") +
                           " integer, got '" + s + "'");
      (a == "--threads" ? threads : bench) = int(n);
    } else if (a == "--weights") {
      weightsPath = v;
    } else if (a == "--generate" || a == "--top-k" || a == "--seed") {
      char *end;
      errno = 0;
      long long n = std::strtoll(v, &end, 10);
      if (*end || !*v || errno || n < (a == "--generate" ? 1 : 0))
        return fail(2, a + " needs a " +
                           (a == "--generate" ? "positive" : "non-negative") +
                           " integer, got '" + s + "'");
      if (a == "--generate")
        generate = n;
      else if (a == "--top-k")
        sampling.topK = n;
      else
        sampling.seed = uint64_t(n);
    } else if (a == "--temperature") {
      char *end;
      sampling.temperature = std::strtod(v, &end);
      if (*end || !*v || !(sampling.temperature >= 0) ||
          !std::isfinite(sampling.temperature))
        return fail(2, "--temperature needs a non-negative number, got '" +
                           s + "'");
    } else if (a == "--prompt-ids") {
      promptIds = s;
    } else if (a == "--prompt") {
      promptText = s;
      hasText = true;
    } else if (a == "--peak-gflops") {
      char *end;
      peakGflops = std::strtod(v, &end);
      if (*end || !(peakGflops > 0))
        return fail(2, "--peak-gflops needs a positive number, got '" + s + "'");
    } else {
      return fail(2, "unknown option '" + a + "' (see --help)");
    }
  }

  // More threads than CPUs only makes the kernels wait for each other.
  if (int cpus = availableCpus(); threads > cpus) {
    std::fprintf(stderr,
                 "%s: warning: --threads %d is more than the %d CPUs this "
                 "process may run on; using %d\n",
                 slim_model.name, threads, cpus, cpus);
    threads = cpus;
  }

  if (generate >= 0 || !promptIds.empty() || hasText) {
    if (generate < 0)
      return fail(2, "--prompt-ids and --prompt go with --generate N");
    if (!inputFiles.empty())
      return fail(2, "--generate takes the prompt from --prompt-ids (or "
                     "--prompt), not --input");
    if (threads > 0)
      setThreadCount(threads);
    // Text in, text out: the ids go to a file only when asked for.
    std::string idsDir = hasText && !outputDirGiven ? "" : outputDir;
    return runGenerate(generate, promptIds, promptText, hasText, sampling,
                       outputFiles, idsDir, weightsPath, bench, profile,
                       peakGflops);
  }
  if (sampling.temperature > 0 || sampling.topK > 0 || sampling.seed)
    return fail(2, "--temperature, --top-k and --seed go with --generate N");

  // Inputs: every one given, with the right dtype and shape.
  std::vector<NpyArray> in(slim_model.num_inputs);
  for (int i = 0; i < slim_model.num_inputs; ++i) {
    const slim_tensor_desc &t = slim_model.inputs[i];
    auto it = inputFiles.find(t.name);
    std::string expected = describe(t.dtype, t.rank, t.shape);
    if (it == inputFiles.end())
      return fail(2, std::string("missing input '") + t.name + "' (" +
                         expected + "); pass --input " + t.name + "=FILE.npy");
    std::string err;
    if (!readNpy(it->second, in[i], err))
      return fail(2, std::string("input '") + t.name + "': " + err);
    bool ok = int32_t(in[i].dtype) == t.dtype &&
              in[i].shape == std::vector<int64_t>(t.shape, t.shape + t.rank);
    if (!ok)
      return fail(2, std::string("input '") + t.name + "' (" + it->second +
                         ") must be " + expected + ", got " +
                         describe(int32_t(in[i].dtype), int32_t(in[i].shape.size()),
                                  in[i].shape.data()));
    inputFiles.erase(it);
  }
  if (!inputFiles.empty()) {
    std::string names;
    for (int i = 0; i < slim_model.num_inputs; ++i)
      names += std::string(i ? ", " : "") + slim_model.inputs[i].name;
    return fail(2, "the model has no input '" + inputFiles.begin()->first +
                       "' (its inputs: " + names + ")");
  }
  std::vector<std::string> outPaths(slim_model.num_outputs);
  for (int i = 0; i < slim_model.num_outputs; ++i) {
    const char *name = slim_model.outputs[i].name;
    auto it = outputFiles.find(name);
    outPaths[i] = it != outputFiles.end() ? it->second
                                          : outputDir + "/" + name + ".npy";
    if (it != outputFiles.end())
      outputFiles.erase(it);
  }
  if (!outputFiles.empty())
    return fail(2, "the model has no output '" + outputFiles.begin()->first + "'");

  std::string err;
  if (!makeOutputDir(outputDir, outPaths, err))
    return fail(2, err);
  if (threads > 0)
    setThreadCount(threads);
  std::unique_ptr<Model> model = Model::load(weightsPath, err);
  if (!model)
    return fail(2, err);

  std::vector<NpyArray> out(slim_model.num_outputs);
  std::vector<void *> inPtrs, outPtrs;
  for (auto &a : in)
    inPtrs.push_back(a.data.data());
  for (int i = 0; i < slim_model.num_outputs; ++i) {
    const slim_tensor_desc &t = slim_model.outputs[i];
    out[i].dtype = static_cast<DType>(t.dtype);
    out[i].shape.assign(t.shape, t.shape + t.rank);
    out[i].data.assign(out[i].numElements() * dtypeSize(out[i].dtype), 0);
    outPtrs.push_back(out[i].data.data());
  }
  if (!model->run(inPtrs.data(), outPtrs.data(), err))
    return fail(1, err);
  // One run, its time appended to `into`.
  auto timedRun = [&](std::vector<double> &into) {
    auto t0 = std::chrono::steady_clock::now();
    if (!model->run(inPtrs.data(), outPtrs.data(), err))
      return false;
    into.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    return true;
  };
  // --bench: steady state first, the rule tools/ort/ort-run.js follows
  // too: at least kWarmup runs, then more until the last three are within
  // 5% of each other (at most 40 more).
  constexpr int kWarmup = 10, kMoreAtMost = 40;
  std::vector<double> warm;
  bool steady = false;
  while (bench > 0 && !steady && int(warm.size()) < kWarmup + kMoreAtMost) {
    if (!timedRun(warm))
      return fail(1, err);
    if (int(warm.size()) >= kWarmup) {
      auto [lo, hi] = std::minmax_element(warm.end() - 3, warm.end());
      steady = *hi <= *lo * 1.05;
    }
  }
  // Profile the timed runs (or one more run), not the warm-up.
  if (profile)
    profileEnable(slim_model.num_ops);
  if (profile && bench == 0 && !model->run(inPtrs.data(), outPtrs.data(), err))
    return fail(1, err);
  if (bench > 0) {
    std::vector<double> ms;
    for (int r = 0; r < bench; ++r)
      if (!timedRun(ms))
        return fail(1, err);
    std::sort(ms.begin(), ms.end());
    std::printf("median_ms=%.3f min_ms=%.3f warmup_runs=%d steady=%d\n",
                ms[ms.size() / 2], ms[0], int(warm.size()), int(steady));
  }
  if (profile)
    profilePrint(stdout, std::max(bench, 1), slim_model.op_names,
                 slim_model.op_flops, slim_model.num_ops, peakGflops);
  for (int i = 0; i < slim_model.num_outputs; ++i)
    if (!writeNpy(outPaths[i], out[i], err)) {
      // Leave no partial set of outputs behind.
      for (int j = 0; j < i; ++j)
        std::remove(outPaths[j].c_str());
      return fail(1, err);
    }
  return 0;
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int runGenerate(int64_t count, const std::string &promptIds,
                const std::string &promptText, bool hasText,
                const Model::Sampling &sampling,
                std::map<std::string, std::string> &outputFiles,
                const std::string &outputDir, const char *weightsPath,
                int bench, bool profile, double peakGflops) {
  const slim_model_desc &d = slim_model;
  if (!d.prefill)
    return fail(2, "--generate: this model has no KV-cache step functions "
                   "(compile a causal decoder with slimc --max-seq-len N)");
  if (promptIds.empty() == !hasText)
    return fail(2, "--generate needs the prompt: --prompt-ids FILE.npy" +
                       std::string(d.byte_tokens ? " or --prompt TEXT" : ""));
  std::vector<int64_t> prompt;
  if (hasText) {
    if (!d.byte_tokens)
      return fail(2, "--prompt: this model's tokens are not bytes (compile "
                     "with slimc --tokenizer=bytes for a byte-level model); "
                     "pass --prompt-ids");
    for (unsigned char c : promptText)
      prompt.push_back(c);
  } else {
    NpyArray a;
    std::string err;
    if (!readNpy(promptIds, a, err))
      return fail(2, "--prompt-ids: " + err);
    bool shapeOk = a.shape.size() == 1 ||
                   (a.shape.size() == 2 && a.shape[0] == 1);
    if (!shapeOk || (a.dtype != DType::I64 && a.dtype != DType::I32))
      return fail(2, "--prompt-ids (" + promptIds +
                         ") must be int64 or int32 ids [P] or [1, P], got " +
                         describe(int32_t(a.dtype), int32_t(a.shape.size()),
                                  a.shape.data()));
    for (int64_t i = 0; i < a.numElements(); ++i)
      prompt.push_back(a.dtype == DType::I64
                           ? reinterpret_cast<const int64_t *>(a.data.data())[i]
                           : reinterpret_cast<const int32_t *>(a.data.data())[i]);
  }
  // Outputs: ids (always), logits (when asked for).
  std::string idsPath = outputDir.empty() ? "" : outputDir + "/ids.npy";
  std::string logitsPath;
  for (auto &[name, file] : outputFiles) {
    if (name == "ids")
      idsPath = file;
    else if (name == "logits")
      logitsPath = file;
    else
      return fail(2, "--generate writes 'ids' and 'logits', not '" + name +
                         "'");
  }
  if (int64_t(prompt.size()) + count > d.max_seq_len)
    return fail(2, "the prompt (" + std::to_string(prompt.size()) +
                       " tokens) and " + std::to_string(count) +
                       " new tokens need " +
                       std::to_string(int64_t(prompt.size()) + count) +
                       " positions; the KV cache holds " +
                       std::to_string(d.max_seq_len) +
                       " (compile with a larger slimc --max-seq-len)");

  std::string err;
  if (!makeOutputDir(outputDir, {idsPath}, err))
    return fail(2, err);
  std::unique_ptr<Model> model = Model::load(weightsPath, err);
  if (!model)
    return fail(2, err);
  std::vector<int64_t> tokens;
  std::vector<float> logits;
  Model::GenerateStats stats;
  std::vector<double> prefill, decode;
  auto generate = [&]() {
    return model->generate(prompt, count, sampling, tokens,
                           logitsPath.empty() ? nullptr : &logits, &stats,
                           err);
  };
  auto failed = [&]() { return fail(err.rfind("prompt", 0) == 0 ? 2 : 1, err); };
  // --bench N (N > 1): warm-up generations until the last three prefills
  // are within 5% of each other (at least 3, at most 20; bench/peers.py's
  // llama.cpp driver follows the same rule), then N timed ones.
  int warmups = 0;
  if (bench > 1) {
    std::vector<double> warm;
    for (; warmups < 20; ++warmups) {
      if (!generate())
        return failed();
      warm.push_back(stats.prefillMs);
      if (warm.size() >= 3) {
        auto [lo, hi] = std::minmax_element(warm.end() - 3, warm.end());
        if (*hi <= *lo * 1.05) {
          ++warmups;
          break;
        }
      }
    }
  }
  // --profile: the steps of every timed generation, per generation.
  if (profile)
    profileEnable(d.num_ops);
  for (int r = 0; r < std::max(bench, 1); ++r) {
    if (!generate())
      return failed();
    prefill.push_back(stats.prefillMs);
    decode.push_back(stats.decodeSteps ? stats.decodeMs / stats.decodeSteps
                                       : 0.0);
  }
  if (profile)
    profilePrint(stdout, std::max(bench, 1), d.op_names, d.op_flops,
                 d.num_ops, peakGflops);
  std::fprintf(stderr,
               "%s: prompt %zu tokens, generated %lld; prefill_ms=%.3f "
               "decode_ms_per_token=%.3f%s (KV cache %lld bytes)\n",
               d.name, prompt.size(), (long long)count, median(prefill),
               median(decode),
               bench > 1 ? (" (medians; warmup_runs=" +
                            std::to_string(warmups) + ")")
                               .c_str()
                         : "",
               (long long)d.kv_cache_bytes);
  if (hasText) { // the prompt, then what follows it
    std::string text = promptText + std::string(tokens.begin(), tokens.end());
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  }
  NpyArray ids;
  ids.dtype = DType::I64;
  ids.shape = {1, count};
  ids.data.resize(size_t(count) * sizeof(int64_t));
  std::memcpy(ids.data.data(), tokens.data(), ids.data.size());
  if (!idsPath.empty() && !writeNpy(idsPath, ids, err))
    return fail(1, err);
  if (!logitsPath.empty()) {
    NpyArray l;
    l.dtype = DType::F32;
    l.shape = {count, d.vocab_size};
    l.data.resize(logits.size() * sizeof(float));
    std::memcpy(l.data.data(), logits.data(), l.data.size());
    if (!writeNpy(logitsPath, l, err)) {
      std::remove(idsPath.c_str());
      return fail(1, err);
    }
  }
  return 0;
}

} // namespace
