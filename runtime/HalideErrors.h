//===- HalideErrors.h - Halide errors as messages, not aborts ---*- C++ -*-===//
//
// Halide's default error handler prints and aborts. Slim binaries install
// this one, which records the message for the calling thread so the kernel
// call returns its error code and the caller reports a clear error.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_HALIDEERRORS_H
#define RUNTIME_HALIDEERRORS_H

#include <string>

namespace slim::rt {

/// Installs the recording handler (idempotent, thread-safe).
void installHalideErrorHandler();

/// Returns and clears the Halide error messages recorded on this thread.
std::string takeHalideError();

} // namespace slim::rt

#endif // RUNTIME_HALIDEERRORS_H
