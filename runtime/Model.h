//===- Model.h - a loaded compiled model ------------------------*- C++ -*-===//
//
// Owns what one compiled model needs at run time: its weights (linked in,
// or mmap'ed from the weights file beside the binary) and its arena.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_MODEL_H
#define RUNTIME_MODEL_H

#include "runtime/ModelDesc.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

  /// How each new token is picked from the logits: the most likely
  /// (temperature 0, the default) or sampled from softmax(logits / T)
  /// restricted to the top_k most likely (0: all), with a seeded generator
  /// (the same seed gives the same tokens).
  struct Sampling {
    double temperature = 0.0;
    int64_t topK = 0;
    uint64_t seed = 0;
  };
  struct GenerateStats {
    double prefillMs = 0, decodeMs = 0; // decodeMs: all decode steps
    int64_t prefillSteps = 0, decodeSteps = 0;
  };
  /// Generates `count` tokens after the prompt (desc().prefill != null):
  /// the prompt runs through the prefill step in chunks, then one decode
  /// step per further token, on the KV cache. `logits`, when given, gets
  /// the [count, vocab] logits each token was picked from. Checks the ids
  /// and that prompt + count fits the cache before any work.
  bool generate(const std::vector<int64_t> &prompt, int64_t count,
                const Sampling &sampling, std::vector<int64_t> &tokens,
                std::vector<float> *logits, GenerateStats *stats,
                std::string &error);

private:
  Model() = default;
  bool step(slim_step_fn fn, const std::vector<int64_t> &ids,
            int64_t position, int64_t row, float *logits, std::string &error);

  const uint8_t *weights = nullptr;
  // The weights (their file mapped, or read into anonymous memory) and the
  // arena (anonymous, in 2 MB pages where the kernel grants them);
  // munmap'ed by the destructor.
  void *mapping = nullptr, *arenaMapping = nullptr;
  size_t mappingSize = 0, arenaMappingSize = 0;
  uint8_t *arena = nullptr;
  uint8_t *kvCache = nullptr;
};

} // namespace slim::rt

#endif // RUNTIME_MODEL_H
