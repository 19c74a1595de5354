//===- OutputFile.h - atomic output files for Slim's tools ------*- C++ -*-===//
//
// Tools write their outputs to a temporary file beside the destination and
// rename it into place only when it is complete, so a failed or interrupted
// run never leaves a partial file that looks valid.
//
//===----------------------------------------------------------------------===//

#ifndef TOOLS_OUTPUTFILE_H
#define TOOLS_OUTPUTFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace slim::tools {

/// Writes `path` ("-" is stdout) through `write`, atomically. Returns an
/// error message, or "" on success.
inline std::string
writeOutput(llvm::StringRef path,
            llvm::function_ref<bool(llvm::raw_ostream &)> write) {
  if (path == "-") {
    if (!write(llvm::outs()))
      return "writing to stdout failed";
    llvm::outs().flush();
    return "";
  }
  llvm::SmallString<256> tmp;
  int fd;
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp))
    return "cannot write '" + path.str() + "': " + ec.message();
  bool ok;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    ok = write(os);
    os.close();
    ok = ok && !os.has_error();
    os.clear_error();
  }
  if (!ok) {
    llvm::sys::fs::remove(tmp);
    return "cannot write '" + path.str() + "' (disk full?)";
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    return "cannot write '" + path.str() + "': " + ec.message();
  }
  return "";
}

} // namespace slim::tools

#endif // TOOLS_OUTPUTFILE_H
