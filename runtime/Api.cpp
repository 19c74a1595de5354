//===- Api.cpp - the C API of compiled shared libraries -------------------===//

#include "runtime/CpuCheck.h"
#include "runtime/Model.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using slim::rt::Model;

struct slim_model_handle {
  std::unique_ptr<Model> model;
};

namespace {
/// Errors are per thread (calls on one handle may run concurrently): the
/// calling thread's last failure and the handle it was on.
thread_local std::string callError;
thread_local const slim_model_handle *callErrorHandle = nullptr;
std::mutex createMutex;
std::string createError; // the last failed slim_model_create

int fail(const slim_model_handle *m, std::string message) {
  callError = std::move(message);
  callErrorHandle = m;
  return 1;
}
} // namespace

extern "C" {

/* Declared in the header slimc writes beside libOUT.so. */
slim_model_handle *slim_model_create(const char *weights_path);
int slim_model_run(slim_model_handle *m, void *const *inputs,
                   void *const *outputs);
int slim_model_generate(slim_model_handle *m, const int64_t *prompt,
                        int64_t prompt_len, int64_t count, double temperature,
                        int64_t top_k, uint64_t seed, int64_t *tokens,
                        float *logits);
const char *slim_model_error(const slim_model_handle *m);
void slim_model_destroy(slim_model_handle *m);
const slim_model_desc *slim_model_describe(void);

// No exception leaves a C entry point: each is caught and reported through
// slim_model_error.

slim_model_handle *slim_model_create(const char *weights_path) {
  std::string error;
  char missing[512];
  if (slim::rt::missingCpuFeatures(missing, sizeof missing)) {
    error = std::string("compiled for the target ") + slim_runtime_target +
            ", which this CPU does not meet: it lacks " + missing;
    std::lock_guard<std::mutex> lock(createMutex);
    createError = error;
    return nullptr;
  }
  try {
    auto h = std::make_unique<slim_model_handle>();
    h->model = Model::load(weights_path, error);
    if (h->model)
      return h.release();
  } catch (const std::exception &e) {
    error = std::string("slim_model_create: ") + e.what();
  }
  std::lock_guard<std::mutex> lock(createMutex);
  createError = error;
  return nullptr;
}

int slim_model_run(slim_model_handle *m, void *const *inputs,
                   void *const *outputs) {
  if (!m)
    return 1;
  try {
    std::string error;
    return m->model->run(inputs, outputs, error) ? 0 : fail(m, error);
  } catch (const std::exception &e) {
    return fail(m, std::string("slim_model_run: ") + e.what());
  }
}

int slim_model_generate(slim_model_handle *m, const int64_t *prompt,
                        int64_t prompt_len, int64_t count, double temperature,
                        int64_t top_k, uint64_t seed, int64_t *tokens,
                        float *logits) {
  if (!m)
    return 1;
  if (!prompt || prompt_len < 0 || !tokens || temperature < 0 || top_k < 0)
    return fail(m, "slim_model_generate: invalid arguments (prompt and "
                   "tokens must be non-NULL, prompt_len, temperature and "
                   "top_k non-negative)");
  try {
    std::vector<int64_t> ids(prompt, prompt + prompt_len), out;
    std::vector<float> all;
    Model::Sampling sampling{temperature, top_k, seed};
    std::string error;
    if (!m->model->generate(ids, count, sampling, out,
                            logits ? &all : nullptr, nullptr, error))
      return fail(m, error);
    std::copy(out.begin(), out.end(), tokens);
    if (logits)
      std::copy(all.begin(), all.end(), logits);
    return 0;
  } catch (const std::exception &e) {
    return fail(m, std::string("slim_model_generate: ") + e.what());
  }
}

const char *slim_model_error(const slim_model_handle *m) {
  if (!m) {
    // Copied per thread: createError may change under another thread.
    thread_local std::string copy;
    std::lock_guard<std::mutex> lock(createMutex);
    copy = createError;
    return copy.c_str();
  }
  return m == callErrorHandle ? callError.c_str() : "";
}

void slim_model_destroy(slim_model_handle *m) { delete m; }

const slim_model_desc *slim_model_describe(void) { return &slim_model; }

} // extern "C"
