//===- Model.cpp - a loaded compiled model --------------------------------===//

#include "runtime/Model.h"
#include "runtime/Files.h"
#include "runtime/HalideErrors.h"
#include "runtime/KernelABI.h"
#include "runtime/Kernels.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <numeric>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace slim::rt {

namespace {

/// The directory of the binary or shared library that holds `slim_model`.
std::string modelDirectory() {
  Dl_info info;
  if (dladdr(&slim_model, &info) && info.dli_fname) {
    std::string path = info.dli_fname;
    size_t slash = path.rfind('/');
    if (slash != std::string::npos)
      return path.substr(0, slash);
  }
  return ".";
}

/// `bytes` of zeroed memory at a 2 MB boundary, asked for in 2 MB pages
/// (madvise: this kind's transparent huge pages are "madvise"): the arena,
/// and the weights when every run reads all of them. `base` and `size` are
/// what to munmap. Null when the mapping fails.
uint8_t *hugePageMemory(size_t bytes, void *&base, size_t &size) {
  constexpr size_t kHuge = size_t(2) << 20;
  size = (bytes + kHuge - 1) / kHuge * kHuge + kHuge;
  base = mmap(nullptr, size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    base = nullptr;
    return nullptr;
  }
  auto *p = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge);
  madvise(p, size - size_t(p - static_cast<uint8_t *>(base)), MADV_HUGEPAGE);
  return p;
}

/// Reads all `bytes` of fd into p; false (errno set) on an error or a short
/// file.
bool readAll(int fd, uint8_t *p, size_t bytes) {
  while (bytes > 0) {
    ssize_t n = ::read(fd, p, std::min(bytes, size_t(1) << 30));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return false;
    }
    p += n;
    bytes -= size_t(n);
  }
  return true;
}

} // namespace

/// A weights file's bytes in memory: mapped, or read into 2 MB pages.
struct Model::Weights {
  void *mapping = nullptr;
  size_t size = 0;
  const uint8_t *data = nullptr;
  ~Weights() {
    if (mapping)
      munmap(mapping, size);
  }
};

/// One call's working memory: the arena and, once it generated, the KV
/// cache.
struct Model::Context {
  void *arenaMapping = nullptr;
  size_t arenaMappingSize = 0;
  uint8_t *arena = nullptr;
  uint8_t *kvCache = nullptr;
  ~Context() {
    if (arenaMapping)
      munmap(arenaMapping, arenaMappingSize);
    std::free(kvCache);
  }
};

namespace {
/// The weights files mapped in this process, by identity (device, inode,
/// size, modification time): handles of one file share one mapping.
std::mutex weightsMutex;
std::map<std::tuple<dev_t, ino_t, off_t, int64_t, int64_t>,
         std::weak_ptr<Model::Weights>>
    weightsByFile;
} // namespace

Model::Context *Model::acquire(std::string &error) {
  beginModelCall();
  {
    std::lock_guard<std::mutex> lock(poolMutex);
    if (!idle.empty()) {
      Context *c = idle.back();
      idle.pop_back();
      return c;
    }
  }
  const slim_model_desc &d = slim_model;
  auto c = std::make_unique<Context>();
  c->arena = hugePageMemory(size_t(std::max<int64_t>(d.arena_bytes, 1)),
                            c->arenaMapping, c->arenaMappingSize);
  if (!c->arena) {
    error = "cannot allocate the " + std::to_string(d.arena_bytes) +
            "-byte arena";
    endModelCall();
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(poolMutex);
  contexts.push_back(std::move(c));
  return contexts.back().get();
}

void Model::release(Context *c) {
  endModelCall();
  std::lock_guard<std::mutex> lock(poolMutex);
  idle.push_back(c);
}

size_t Model::contextCount() {
  std::lock_guard<std::mutex> lock(poolMutex);
  return contexts.size();
}

std::unique_ptr<Model> Model::load(const char *weightsPath,
                                   std::string &error) {
  installHalideErrorHandler();
  std::unique_ptr<Model> m(new Model());
  const slim_model_desc &d = slim_model;
  if (d.embedded_weights && !weightsPath) {
    m->weights = d.embedded_weights;
  } else {
    std::string path = weightsPath ? weightsPath
                                   : modelDirectory() + "/" + d.weights_file;
    if (std::string why = notARegularFile(path); !why.empty()) {
      error = path + ": the weights file " + why;
      return nullptr;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = path + ": cannot open the weights file: " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || int64_t(st.st_size) != d.weights_bytes) {
      error = path + ": the weights file has " +
              std::to_string(int64_t(st.st_size)) + " bytes, the model needs " +
              std::to_string(d.weights_bytes);
      ::close(fd);
      return nullptr;
    }
    // Another handle of the same file: its mapping.
    auto key = std::make_tuple(st.st_dev, st.st_ino, st.st_size,
                               int64_t(st.st_mtim.tv_sec),
                               int64_t(st.st_mtim.tv_nsec));
    std::lock_guard<std::mutex> lock(weightsMutex);
    if (auto shared = weightsByFile[key].lock()) {
      ::close(fd);
      m->weightsOwner = shared;
      m->weights = shared->data;
      Context *c = m->acquire(error);
      if (!c)
        return nullptr;
      m->release(c);
      return m;
    }
    m->weightsOwner = std::make_shared<Weights>();
    weightsByFile[key] = m->weightsOwner;
    Weights &w = *m->weightsOwner;
    const int64_t tables = std::min(d.table_weights_bytes, d.weights_bytes);
    if (tables < d.weights_bytes) {
      // The part every run reads in full: read into 2 MB pages, then made
      // read-only (a DeiT-S int8 inference streams 23 MB of weights; in
      // 4 KB pages from the file mapping it ran ~0.6% slower; GPT-2-small
      // fp32 on the x86-64-v3 kernels 7% slower). The embedding tables
      // before it, of which a run reads a few rows, are mapped from the
      // file in place: read as the code first touches them, so they stay
      // mostly on disk (read in full, GPT-2-small's RSS was 653 MB, mapped
      // 507).
      constexpr int64_t kHuge = int64_t(2) << 20;
      const int64_t lead = (tables + kHuge - 1) / kHuge * kHuge;
      uint8_t *p = hugePageMemory(size_t(lead + d.weights_bytes - tables),
                                  w.mapping, w.size);
      if (!p) {
        error = path + ": cannot allocate " +
                std::to_string(d.weights_bytes) +
                " bytes for the weights: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
      }
      uint8_t *base = p + (lead - tables); // the dense part at p + lead
      if (tables > 0 &&
          mmap(base, size_t(tables), PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
               0) == MAP_FAILED) {
        error = path + ": cannot map the weights: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
      }
      if (lseek(fd, off_t(tables), SEEK_SET) != off_t(tables) ||
          !readAll(fd, p + lead, size_t(d.weights_bytes - tables))) {
        error = path + ": cannot read the weights: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
      }
      mprotect(p + lead, size_t(d.weights_bytes - tables), PROT_READ);
      w.data = base;
    } else if (d.weights_bytes > 0) {
      // Only tables: mapped, read as first touched.
      void *p = mmap(nullptr, d.weights_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        error = path + ": cannot map the weights: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
      }
      w.mapping = p;
      w.size = d.weights_bytes;
      w.data = static_cast<const uint8_t *>(p);
    }
    ::close(fd);
    m->weights = w.data;
  }
  // The first context now: a model that cannot get one arena fails here.
  Context *c = m->acquire(error);
  if (!c)
    return nullptr;
  m->release(c);
  return m;
}

Model::~Model() = default;

bool Model::run(void *const *inputs, void *const *outputs,
                std::string &error) {
  Context *c = acquire(error);
  if (!c)
    return false;
  int32_t rc = slim_model_compute(const_cast<void **>(inputs),
                                  const_cast<void **>(outputs), c->arena,
                                  weights);
  if (rc != 0)
    error = slim_last_error();
  release(c);
  return rc == 0;
}

} // namespace slim::rt

namespace slim::rt {

namespace {

/// A uniform double in [0, 1) from 53 bits of the generator (the same on
/// every platform, unlike std::uniform_real_distribution).
double uniform(uint64_t &state) {
  // splitmix64
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return double(z >> 11) * 0x1.0p-53;
}

int64_t pick(const float *logits, int64_t vocab,
             const Model::Sampling &sampling, uint64_t &rng) {
  if (sampling.temperature <= 0.0) // greedy: the first largest
    return int64_t(std::max_element(logits, logits + vocab) - logits);
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = sampling.topK > 0 ? std::min(sampling.topK, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) {
                      return logits[a] > logits[b] ||
                             (logits[a] == logits[b] && a < b);
                    });
  std::vector<double> p(k);
  double top = logits[order[0]], sum = 0;
  for (int64_t i = 0; i < k; ++i)
    sum += p[i] = std::exp((double(logits[order[i]]) - top) /
                           sampling.temperature);
  double u = uniform(rng) * sum;
  for (int64_t i = 0; i < k; ++i) {
    u -= p[i];
    if (u < 0)
      return order[i];
  }
  return order[k - 1];
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace

bool Model::step(Context &c, slim_step_fn fn, const std::vector<int64_t> &ids,
                 int64_t position, int64_t row, float *logits,
                 std::string &error) {
  std::vector<int64_t> positions(ids.size());
  std::iota(positions.begin(), positions.end(), position);
  void *inputs[] = {const_cast<int64_t *>(ids.data()), positions.data(), &row};
  void *outputs[] = {logits};
  if (fn(inputs, outputs, c.arena, weights, c.kvCache) != 0) {
    error = slim_last_error();
    return false;
  }
  return true;
}

bool Model::generate(const std::vector<int64_t> &prompt, int64_t count,
                     const Sampling &sampling, std::vector<int64_t> &tokens,
                     std::vector<float> *logits, GenerateStats *stats,
                     std::string &error) {
  const slim_model_desc &d = slim_model;
  if (!d.prefill || !d.decode) {
    error = "this model does not generate (compile a causal decoder with "
            "slimc --max-seq-len N)";
    return false;
  }
  const int64_t vocab = d.vocab_size, chunk = d.prefill_tokens;
  const int64_t n = int64_t(prompt.size());
  if (n == 0) {
    error = "the prompt is empty";
    return false;
  }
  if (count < 1) {
    error = "the number of tokens to generate must be positive, got " +
            std::to_string(count);
    return false;
  }
  for (int64_t i = 0; i < n; ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab) {
      error = "prompt token " + std::to_string(i) + " is " +
              std::to_string(prompt[i]) + ", outside the vocabulary [0, " +
              std::to_string(vocab) + ")";
      return false;
    }
  if (n + count > d.max_seq_len) {
    error = "the prompt (" + std::to_string(n) + " tokens) and " +
            std::to_string(count) + " new tokens need " +
            std::to_string(n + count) + " positions; the KV cache holds " +
            std::to_string(d.max_seq_len) +
            " (compile with a larger slimc --max-seq-len)";
    return false;
  }
  Context *c = acquire(error);
  if (!c)
    return false;
  // Back to the pool however this call ends.
  std::unique_ptr<Context, std::function<void(Context *)>> lease(
      c, [this](Context *x) { release(x); });
  if (!c->kvCache) {
    c->kvCache = static_cast<uint8_t *>(std::aligned_alloc(
        64, size_t((d.kv_cache_bytes + 63) / 64 * 64)));
    if (!c->kvCache) {
      error = "cannot allocate the " + std::to_string(d.kv_cache_bytes) +
              "-byte KV cache";
      return false;
    }
    std::memset(c->kvCache, 0, size_t(d.kv_cache_bytes));
  }
  tokens.clear();
  if (logits)
    logits->assign(size_t(count * vocab), 0.0f);
  std::vector<float> row(vocab);
  uint64_t rng = sampling.seed;
  GenerateStats st;

  // Prefill in chunks: 0, C, 2C, … and, when the prompt is not a multiple
  // of C, a last chunk ending at the prompt's end (re-writing the same
  // cache rows). A prompt shorter than C is padded with id 0 after its
  // end: causal attention keeps the padding out of the real rows, and the
  // decode steps overwrite its cache rows before anything reads them.
  auto t0 = std::chrono::steady_clock::now();
  int64_t start = 0;
  while (true) {
    int64_t begin = n <= chunk ? 0 : std::min(start, n - chunk);
    std::vector<int64_t> ids(chunk, 0);
    std::copy(prompt.begin() + begin,
              prompt.begin() + std::min(n, begin + chunk), ids.begin());
    int64_t last = std::min(n, begin + chunk) - 1 - begin;
    if (!step(*c, d.prefill, ids, begin, last, row.data(), error))
      return false;
    ++st.prefillSteps;
    start = begin + chunk;
    if (start >= n)
      break;
  }
  st.prefillMs = msSince(t0);
  int64_t next = pick(row.data(), vocab, sampling, rng);
  tokens.push_back(next);
  if (logits)
    std::copy(row.begin(), row.end(), logits->begin());

  t0 = std::chrono::steady_clock::now();
  for (int64_t i = 1; i < count; ++i) {
    if (!step(*c, d.decode, {next}, n + i - 1, 0, row.data(), error))
      return false;
    ++st.decodeSteps;
    next = pick(row.data(), vocab, sampling, rng);
    tokens.push_back(next);
    if (logits)
      std::copy(row.begin(), row.end(), logits->begin() + i * vocab);
  }
  st.decodeMs = msSince(t0);
  if (stats)
    *stats = st;
  return true;
}

} // namespace slim::rt
