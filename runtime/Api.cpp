//===- Api.cpp - the C API of compiled shared libraries -------------------===//

#include "runtime/Model.h"

#include <string>

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

const char *slim_model_error(const slim_model_handle *m) {
  return m ? m->error.c_str() : createError.c_str();
}

void slim_model_destroy(slim_model_handle *m) { delete m; }

const slim_model_desc *slim_model_describe(void) { return &slim_model; }

} // extern "C"
