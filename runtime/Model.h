//===- Model.h - a loaded compiled model ------------------------*- C++ -*-===//
//
// Owns what one compiled model needs at run time: its weights (linked in,
// or mmap'ed from the weights file beside the binary, one mapping shared by
// every handle of the same file in the process) and a pool of execution
// contexts (an arena and, for generation, a KV cache): each concurrent call
// takes its own context, so one Model may be called from many threads.
//
//===----------------------------------------------------------------------===//

#ifndef RUNTIME_MODEL_H
#define RUNTIME_MODEL_H

#include "runtime/ModelDesc.h"

#include <cstdint>
#include <memory>
#include <mutex>
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

  /// Runs on caller-owned buffers, one per input/output, in order. Safe
  /// to call from several threads at once (each call gets its own arena).
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
  /// and that prompt + count fits the cache before any work. Safe to call
  /// from several threads at once (each call gets its own arena and cache).
  bool generate(const std::vector<int64_t> &prompt, int64_t count,
                const Sampling &sampling, std::vector<int64_t> &tokens,
                std::vector<float> *logits, GenerateStats *stats,
                std::string &error);

  /// How many execution contexts the pool holds (the most calls that ran
  /// at once so far).
  size_t contextCount();

  struct Context;
  struct Weights;

private:
  Model() = default;
  /// An idle context, or a new one; null (with `error`) when memory for
  /// another arena cannot be had.
  Context *acquire(std::string &error);
  void release(Context *c);
  bool step(Context &c, slim_step_fn fn, const std::vector<int64_t> &ids,
            int64_t position, int64_t row, float *logits, std::string &error);

  const uint8_t *weights = nullptr;
  // The weights' file mapped or read into anonymous memory; shared with the
  // other handles of the same file, unmapped with the last of them.
  std::shared_ptr<Weights> weightsOwner;
  std::mutex poolMutex;
  std::vector<std::unique_ptr<Context>> contexts; // all of them
  std::vector<Context *> idle;                    // those not in a call
};

} // namespace slim::rt

#endif // RUNTIME_MODEL_H
