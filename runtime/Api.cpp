//===- Api.cpp - the C API of compiled shared libraries -------------------===//

#include "runtime/Model.h"

#include <algorithm>
#include <string>
#include <vector>

using slim::rt::Model;

struct slim_model_handle {
  std::unique_ptr<Model> model;
  std::string error;
};

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

static std::string createError;

slim_model_handle *slim_model_create(const char *weights_path) {
  auto *h = new slim_model_handle();
  h->model = Model::load(weights_path, h->error);
  if (!h->model) {
    createError = h->error;
    delete h;
    return nullptr;
  }
  return h;
}

int slim_model_run(slim_model_handle *m, void *const *inputs,
                   void *const *outputs) {
  if (!m)
    return 1;
  return m->model->run(inputs, outputs, m->error) ? 0 : 1;
}

int slim_model_generate(slim_model_handle *m, const int64_t *prompt,
                        int64_t prompt_len, int64_t count, double temperature,
                        int64_t top_k, uint64_t seed, int64_t *tokens,
                        float *logits) {
  if (!m)
    return 1;
  if (!prompt || prompt_len < 0 || !tokens || temperature < 0 || top_k < 0) {
    m->error = "slim_model_generate: invalid arguments (prompt and tokens "
               "must be non-NULL, prompt_len, temperature and top_k "
               "non-negative)";
    return 1;
  }
  std::vector<int64_t> ids(prompt, prompt + prompt_len), out;
  std::vector<float> all;
  Model::Sampling sampling{temperature, top_k, seed};
  if (!m->model->generate(ids, count, sampling, out, logits ? &all : nullptr,
                          nullptr, m->error))
    return 1;
  std::copy(out.begin(), out.end(), tokens);
  if (logits)
    std::copy(all.begin(), all.end(), logits);
  return 0;
}

const char *slim_model_error(const slim_model_handle *m) {
  return m ? m->error.c_str() : createError.c_str();
}

void slim_model_destroy(slim_model_handle *m) { delete m; }

const slim_model_desc *slim_model_describe(void) { return &slim_model; }

} // extern "C"
