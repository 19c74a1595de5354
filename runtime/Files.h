//===- Files.h - what every Slim reader checks before opening a file -----===//
//
// Models, weights, .npy inputs, calibration data, prompt ids and the files
// of a Hugging Face directory are read as regular files. A directory, a
// FIFO, a socket or a device is refused with one message before anything
// opens it: an open FIFO without a writer would block the reader forever,
// and a directory fails deep inside a stream with an exception.
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_RUNTIME_FILES_H
#define SLIM_RUNTIME_FILES_H

#include <string>

#include <sys/stat.h>

namespace slim::rt {

/// Why `path` is not a regular file ("is a directory, not a file", ...),
/// or "" when it is one or does not exist (the caller's open then says
/// why, e.g. "No such file or directory").
inline std::string notARegularFile(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode))
    return "";
  if (S_ISDIR(st.st_mode))
    return "is a directory, not a file";
  if (S_ISFIFO(st.st_mode))
    return "is a FIFO (named pipe), not a regular file";
  if (S_ISSOCK(st.st_mode))
    return "is a socket, not a regular file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    return "is a device, not a regular file";
  return "is not a regular file";
}

} // namespace slim::rt

#endif // SLIM_RUNTIME_FILES_H
