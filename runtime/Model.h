//===- Model.h - a loaded compiled model ------------------------*- C++ -*-===//
//
// Owns what one compiled model needs at run time: its weights (linked in,
// or mmap'ed from the weights file beside the binary) and its arena.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_MODEL_H
#define RUNTIME_MODEL_H

#include "runtime/ModelDesc.h"

#include <memory>
#include <string>

namespace slim::rt {

class Model {
public:
  /// Loads the model linked into this binary. `weightsPath` overrides the
  /// weights file (external weights only); null means the default.
  static std::unique_ptr<Model> load(const char *weightsPath,
                                     std::string &error);
  ~Model();

  /// Runs on caller-owned buffers, one per input/output, in order.
  bool run(void *const *inputs, void *const *outputs, std::string &error);

  const slim_model_desc &desc() const { return slim_model; }

private:
  Model() = default;
  const uint8_t *weights = nullptr;
  void *mapping = nullptr;
  size_t mappingSize = 0;
  uint8_t *arena = nullptr;
};

} // namespace slim::rt

#endif // RUNTIME_MODEL_H
