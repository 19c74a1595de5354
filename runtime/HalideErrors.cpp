//===- HalideErrors.cpp - Halide errors as messages, not aborts -----------===//

#include "runtime/HalideErrors.h"

#include "HalideRuntime.h"

#include <mutex>

namespace slim::rt {

namespace {

thread_local std::string lastError;

void recordError(void * /*userContext*/, const char *message) {
  if (!lastError.empty())
    lastError += "\n";
  lastError += message;
  // Halide messages end with a newline; keep one message per line.
  while (!lastError.empty() && lastError.back() == '\n')
    lastError.pop_back();
}

} // namespace

void installHalideErrorHandler() {
  static std::once_flag once;
  std::call_once(once, [] { halide_set_error_handler(recordError); });
}

std::string takeHalideError() {
  std::string e;
  e.swap(lastError);
  return e;
}

} // namespace slim::rt
