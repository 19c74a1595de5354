//===- ShapeOption.h - the --shape and --bind input options ----*- C++ -*-===//

#ifndef TOOLS_SHAPEOPTION_H
#define TOOLS_SHAPEOPTION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

#include <map>
#include <string>
#include <vector>

namespace slim::tools {

/// The --shape and --bind options of slim-import and slimc, declared once
/// (in `category`; construct it at namespace scope, as any cl option).
struct InputOptions {
  llvm::cl::list<std::string> shapes, binds;
  explicit InputOptions(llvm::cl::OptionCategory &category)
      : shapes("shape",
               llvm::cl::desc("static shape of an ONNX input with dynamic "
                              "dimensions, e.g. input_ids=1x128 (repeatable)"),
               llvm::cl::value_desc("NAME=DIMxDIM..."),
               llvm::cl::cat(category)),
        binds("bind",
              llvm::cl::desc("fix an ONNX input to the array in a .npy "
                             "file, so a shape parameter the model takes as "
                             "an input (pads, scales, sizes, a target shape) "
                             "is known at compile time (repeatable)"),
              llvm::cl::value_desc("NAME=FILE.npy"), llvm::cl::cat(category)) {}
};

/// Parses "input_ids=1x128" into `shapes`; false with `error` on bad text.
inline bool parseShapeOption(llvm::StringRef text,
                             std::map<std::string, std::vector<int64_t>> &shapes,
                             std::string &error) {
  auto [name, dims] = text.split('=');
  if (name.empty() || dims.empty()) {
    error = "--shape '" + text.str() + "' is not NAME=DIMxDIM... (e.g. input_ids=1x128)";
    return false;
  }
  std::vector<int64_t> out;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, 'x');
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d <= 0) {
      error = "--shape '" + text.str() + "': '" + p.str() +
              "' is not a positive dimension";
      return false;
    }
    out.push_back(d);
  }
  shapes[name.str()] = out;
  return true;
}

/// Parses "pads=pads.npy" into `binds` (input name -> .npy path); false with
/// `error` on bad text.
inline bool parseBindOption(llvm::StringRef text,
                            std::map<std::string, std::string> &binds,
                            std::string &error) {
  auto [name, file] = text.split('=');
  if (name.empty() || file.empty()) {
    error = "--bind '" + text.str() + "' is not NAME=FILE.npy";
    return false;
  }
  binds[name.str()] = file.str();
  return true;
}

/// Parses every --shape and --bind text into `shapes` and `binds`; false
/// with `error` at the first bad one.
inline bool parseInputOptions(
    llvm::ArrayRef<std::string> shapeTexts, llvm::ArrayRef<std::string> bindTexts,
    std::map<std::string, std::vector<int64_t>> &shapes,
    std::map<std::string, std::string> &binds, std::string &error) {
  for (const std::string &text : shapeTexts)
    if (!parseShapeOption(text, shapes, error))
      return false;
  for (const std::string &text : bindTexts)
    if (!parseBindOption(text, binds, error))
      return false;
  return true;
}

} // namespace slim::tools

#endif // TOOLS_SHAPEOPTION_H
