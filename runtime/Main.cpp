//===- Main.cpp - the command line of Slim's compiled executables ---------===//
//
//   MODEL --input NAME=FILE.npy ... [--output NAME=FILE.npy ...]
//         [--output-dir DIR] [--threads N] [--bench N] [--weights FILE]
//
// Every output is written (DIR/NAME.npy unless --output names it). Bad
// inputs exit with code 2 and write nothing; outputs are written to a
// temporary name and renamed.
//
//===----------------------------------------------------------------------===//

#include "runtime/Model.h"
#include "runtime/Npy.h"
#include "runtime/Profile.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace slim::rt;

namespace {

int fail(int code, const std::string &msg) {
  std::fprintf(stderr, "%s: error: %s\n", slim_model.name, msg.c_str());
  return code;
}

std::string describe(int32_t dtype, int32_t rank, const int64_t *shape) {
  std::string s = dtypeName(static_cast<DType>(dtype));
  s += " [";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void usage() {
  std::printf("usage: %s --input NAME=FILE.npy ... [--output NAME=FILE.npy]\n"
              "          [--output-dir DIR] [--threads N] [--bench N] "
              "[--profile [--peak-gflops G]] [--weights FILE]\n\n"
              "--profile prints the time of every op and op kind, with GFLOP/s "
              "for linear\nand attention; --peak-gflops (the machine's measured "
              "fp32 peak, from\nbench/peak) adds their share of it.\n\n"
              "inputs:\n",
              slim_model.name);
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

} // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> inputFiles, outputFiles;
  std::string outputDir = ".";
  const char *weightsPath = nullptr;
  int threads = 0, bench = 0;
  double peakGflops = 0;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      usage();
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
    } else if (a == "--peak-gflops") {
      char *end;
      peakGflops = std::strtod(v, &end);
      if (*end || !(peakGflops > 0))
        return fail(2, "--peak-gflops needs a positive number, got '" + s + "'");
    } else {
      return fail(2, "unknown option '" + a + "' (see --help)");
    }
  }

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

  if (threads > 0)
    halide_set_num_threads(threads);
  std::string err;
  std::unique_ptr<Model> model = Model::load(weightsPath, err);
  if (!model)
    return fail(1, err);

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
  // Profile the timed runs (or one more run), not the warm-up.
  if (profile)
    profileEnable(slim_model.num_ops);
  if (profile && bench == 0 && !model->run(inPtrs.data(), outPtrs.data(), err))
    return fail(1, err);
  if (bench > 0) {
    std::vector<double> ms;
    for (int r = 0; r < bench; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (!model->run(inPtrs.data(), outPtrs.data(), err))
        return fail(1, err);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("median_ms=%.3f min_ms=%.3f\n", ms[ms.size() / 2], ms[0]);
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
