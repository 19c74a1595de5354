//===- slim-run.cpp - run a slim module with the reference executor -------===//
//
// The same command-line contract as Slim's compiled executables:
//   slim-run model.mlir --input NAME=FILE.npy ... [--output NAME=FILE.npy]
//            [--output-dir DIR] [--dump-layers DIR]
// Every output is written (DIR/NAME.npy unless named by --output), each
// atomically; bad inputs exit with code 2 and write nothing.
//
//===----------------------------------------------------------------------===//

#include "reference/Executor.h"
#include "dialects/slim/IR/SlimDialect.h"
#include "runtime/Npy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
namespace rt = ::slim::rt;

static cl::OptionCategory category("slim-run options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"),
                                      cl::cat(category));
static cl::list<std::string>
    inputs("input", cl::desc("an input: NAME=FILE.npy (one per model input)"),
           cl::value_desc("NAME=FILE.npy"), cl::cat(category));
static cl::list<std::string>
    outputs("output", cl::desc("where to write output NAME"),
            cl::value_desc("NAME=FILE.npy"), cl::cat(category));
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("directory for outputs not named by --output "
                       "(default: the current directory)"),
              cl::init("."), cl::cat(category));
static cl::opt<std::string>
    dumpLayers("dump-layers",
               cl::desc("write each slim.residual's output to "
                        "DIR/layer<L>.<kind>.npy"),
               cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> dumpValues(
    "dump-values",
    cl::desc("write the result of every op that came from an ONNX node to "
             "DIR/<n>.npy, listed in DIR/index.tsv (n, node, op)"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> entry("function",
                                  cl::desc("the function to run"),
                                  cl::init("main"), cl::cat(category));

static int fail(int code, const Twine &msg) {
  WithColor::error(errs(), "slim-run") << msg << "\n";
  return code;
}

static std::pair<StringRef, StringRef> splitAssignment(StringRef s) {
  return s.split('=');
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "slim-run: executes a slim module op by op with Slim's runtime kernels "
      "(the reference for compiled binaries)\n");

  mlir::MLIRContext ctx;
  ctx.loadDialect<mlir::slim::SlimDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect>();
  ctx.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &ctx);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(modelPath, sourceMgr,
                                            mlir::ParserConfig(&ctx));
  if (!module)
    return 1;
  auto func = module->lookupSymbol<mlir::func::FuncOp>(entry);
  if (!func)
    return fail(1, "no function @" + entry + " in " + modelPath);

  // Inputs, by name.
  StringMap<std::string> given;
  for (StringRef in : inputs) {
    auto [name, file] = splitAssignment(in);
    if (file.empty())
      return fail(2, "--input '" + in + "' is not NAME=FILE.npy");
    if (!given.try_emplace(name, file.str()).second)
      return fail(2, "input '" + name + "' is given twice");
  }
  std::vector<rt::NpyArray> args;
  StringSet<> known;
  for (unsigned k = 0; k < func.getNumArguments(); ++k) {
    std::string name = mlir::slim::argumentName(func, k);
    known.insert(name);
    auto it = given.find(name);
    if (it == given.end())
      return fail(2, "missing input '" + name + "' (" +
                         mlir::slim::describe(func.getArgument(k).getType()) +
                         "); pass --input " + name + "=FILE.npy");
    rt::NpyArray a;
    std::string err;
    if (!rt::readNpy(it->second, a, err))
      return fail(2, "input '" + name + "': " + err);
    args.push_back(std::move(a));
  }
  for (auto &g : given)
    if (!known.contains(g.getKey()))
      return fail(2, "the model has no input '" + g.getKey() + "'");

  // Output destinations.
  StringMap<std::string> dest;
  for (unsigned k = 0; k < func.getNumResults(); ++k) {
    std::string name = mlir::slim::resultName(func, k);
    SmallString<256> p(outputDir);
    sys::path::append(p, name + ".npy");
    dest[name] = p.str().str();
  }
  for (StringRef out : outputs) {
    auto [name, file] = splitAssignment(out);
    if (file.empty() || !dest.count(name))
      return fail(2, "--output '" + out + "': the model has no output '" +
                         name + "'");
    dest[name] = file.str();
  }

  mlir::slim::Executor exec;
  int dumpError = 0;
  if (!dumpLayers.empty()) {
    if (std::error_code ec = sys::fs::create_directories(dumpLayers))
      return fail(1, "cannot create '" + dumpLayers + "': " + ec.message());
    exec.onResidual = [&](mlir::slim::ResidualOp op, const rt::NpyArray &,
                          const rt::NpyArray &out) {
      SmallString<256> p(dumpLayers);
      sys::path::append(p, "layer" + std::to_string(op.getLayer()) + "." +
                               mlir::slim::stringifyResidualKind(op.getKind()) +
                               ".npy");
      std::string err;
      if (!rt::writeNpy(p.str().str(), out, err)) {
        WithColor::error(errs(), "slim-run") << err << "\n";
        dumpError = 1;
      }
    };
  }
  std::unique_ptr<raw_fd_ostream> index;
  int valueCount = 0;
  if (!dumpValues.empty()) {
    if (std::error_code ec = sys::fs::create_directories(dumpValues))
      return fail(1, "cannot create '" + dumpValues + "': " + ec.message());
    std::error_code ec;
    index = std::make_unique<raw_fd_ostream>(dumpValues + "/index.tsv", ec);
    if (ec)
      return fail(1, "cannot write index.tsv: " + ec.message());
    exec.onValue = [&](mlir::Operation *op, const rt::NpyArray &value) {
      auto name = dyn_cast<mlir::NameLoc>(op->getLoc());
      if (!name)
        return;
      std::string file = std::to_string(valueCount) + ".npy", err;
      if (!rt::writeNpy(dumpValues + "/" + file, value, err)) {
        WithColor::error(errs(), "slim-run") << err << "\n";
        dumpError = 1;
        return;
      }
      *index << valueCount++ << "\t" << name.getName().getValue() << "\t"
             << op->getName().getStringRef() << "\n";
    };
  }
  // Input mismatches are reported by the executor at the function; they
  // are the caller's error (exit 2), like in compiled binaries.
  std::vector<rt::NpyArray> results;
  bool inputError = false;
  {
    mlir::ScopedDiagnosticHandler check(&ctx, [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error &&
          StringRef(d.str()).starts_with("input '"))
        inputError = true;
      return mlir::failure(); // let the source manager handler print it
    });
    if (failed(exec.run(func, args, results)))
      return inputError ? 2 : 1;
  }
  for (unsigned k = 0; k < results.size(); ++k) {
    std::string err;
    if (!rt::writeNpy(dest[mlir::slim::resultName(func, k)], results[k], err))
      return fail(1, err);
  }
  return dumpError;
}
