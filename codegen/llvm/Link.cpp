//===- Link.cpp - a compiled model linked into an executable or library ---===//

#include "codegen/llvm/Link.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <optional>

using namespace llvm;

std::string mlir::slim::linkModel(const RuntimeLibraries &libs, LinkKind kind,
                                  StringRef descriptor, StringRef object,
                                  StringRef output) {
  std::vector<std::string> args = {libs.cxx,      "-fuse-ld=lld",
                                   "-O2",         "-I" + libs.includeDir,
                                   "-x",          "c",
                                   descriptor.str(), "-x",
                                   "none",        object.str()};
  if (!libs.triple.empty())
    args.insert(args.begin() + 1, "--target=" + libs.triple);
  if (kind == LinkKind::SharedLibrary) {
    // Export the C API (all of libslim_api) and nothing of the runtime and
    // kernel libraries.
    std::string hidden;
    for (const std::string &lib : libs.libs)
      hidden += (hidden.empty() ? "" : ":") + sys::path::filename(lib).str();
    args.insert(args.begin() + 1,
                {"-shared", "-fPIC", "-Wl,--exclude-libs," + hidden});
    args.insert(args.end(),
                {"-Wl,--whole-archive", libs.apiLib, "-Wl,--no-whole-archive"});
  } else {
    args.push_back(libs.mainLib);
  }
  args.insert(args.end(), libs.libs.begin(), libs.libs.end());
  for (const char *sys : {"-lpthread", "-ldl", "-lm"})
    args.push_back(sys);
  // A sanitizer build's runtime needs the sanitizer's runtime too.
  if (!libs.sanitize.empty())
    args.push_back("-fsanitize=" + libs.sanitize);
  if (libs.tsan)
    args.push_back("-fsanitize=thread");
  args.push_back("-o");
  args.push_back(output.str());
  std::vector<StringRef> refs(args.begin(), args.end());
  std::string err;
  std::optional<StringRef> redirects[] = {std::nullopt, std::nullopt,
                                          std::nullopt};
  int rc = sys::ExecuteAndWait(args[0], refs, std::nullopt, redirects, 0, 0,
                               &err);
  if (rc == 0)
    return "";
  return "linking failed (" +
         (err.empty() ? "exit " + std::to_string(rc) : err) +
         "): " + join(args, " ");
}
