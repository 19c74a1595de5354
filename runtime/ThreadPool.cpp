//===- ThreadPool.cpp - the parallel-for every kernel runs on -------------===//
//
// Halide's thread pool puts its workers to sleep as soon as a parallel loop
// ends; a model runs one parallel kernel after another with a few
// microseconds of serial glue between them, so every kernel began with a
// futex wake-up (measured: 12.5 µs per parallel loop on this machine kind,
// ~120 loops in a DeiT-Tiny inference) and the woken worker started late.
// This pool keeps its workers spinning for a while (kSpin) after a loop
// before they sleep — what ONNX Runtime's and OpenMP's active pools do —
// and is installed as Halide's do_par_for (halide_set_custom_do_par_for),
// so the Halide kernels and the C++ kernels share it.
//
// One loop at a time: the calling thread publishes the job, runs tasks
// itself next to the workers, waits for every task, then closes the job and
// waits until no worker is still inside before it returns (the next job's
// fields are written only when nobody can read them). A loop started from
// inside a task, or from a second application thread while the pool is
// busy, runs serially in its caller: correct, and never a deadlock.
//
// Task i goes to thread i mod threads when that thread is there to take it
// (any thread takes what is left once its own are done): kernels that split
// rows into one run per thread then give each thread the same rows every
// time, and what one kernel writes is read by the next on the same core.
//
//===----------------------------------------------------------------------===//

#include "runtime/Kernels.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace slim::rt {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  sched_yield();
#endif
}

/// How long an idle worker spins before it sleeps.
constexpr auto kSpin = std::chrono::milliseconds(2);

thread_local bool inTask = false;

/// Model calls in flight in this process (Model::acquire / release). While
/// there is more than one, each call runs its kernels on its own thread:
/// two callers sharing a 2-thread pool would otherwise put three threads
/// on two cores (measured on DeiT-S through the C API: 2 callers 15%
/// slower than one, instead of 10% faster).
std::atomic<int> callsInFlight{0};

class Pool {
public:
  explicit Pool(int threads) : participants(threads) {
    // pthreads rather than std::thread: std::thread's state is a class with
    // virtual functions, whose UBSan vptr checks need the C++ sanitizer
    // runtime, which a C program linking a Slim shared library lacks.
    for (int i = 1; i < threads; ++i) {
      pthread_t t;
      if (pthread_create(
              &t, nullptr,
              [](void *self) -> void * {
                static_cast<Pool *>(self)->work();
                return nullptr;
              },
              this) == 0)
        workers.push_back(t);
    }
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleepMutex);
      stop = true;
    }
    wake.notify_all();
    for (pthread_t t : workers)
      pthread_join(t, nullptr);
  }

  int size() const { return int(workers.size()) + 1; }

  int parallelFor(void *uc, halide_task_t fn, int min, int count,
                  uint8_t *closure) {
    if (count <= 0)
      return 0;
    if (workers.empty() || count == 1 || inTask ||
        callsInFlight.load(std::memory_order_relaxed) > 1)
      return serial(uc, fn, min, count, closure);
    std::unique_lock<std::mutex> busy(callMutex, std::try_to_lock);
    if (!busy.owns_lock())
      return serial(uc, fn, min, count, closure);
    // No worker is inside (the last job was closed and drained).
    job = {uc, fn, min, count, closure};
    next.store(0, std::memory_order_relaxed);
    for (int w = 0; w < (count + 63) / 64 && w < kClaimWords; ++w)
      claimed[w].store(0, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    result.store(0, std::memory_order_relaxed);
    // Only this thread writes the generation bits (workers change the
    // count of those inside, which is 0 now).
    const uint64_t gen =
        (state.load(std::memory_order_relaxed) >> kGenShift) + 1;
    state.store((gen << kGenShift) | kOpen, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleepMutex);
      wake.notify_all();
    }
    runTasks(0);
    while (done.load(std::memory_order_acquire) < count)
      cpuRelax();
    // Close the job; wait for workers that entered to leave it.
    state.fetch_and(~kOpen, std::memory_order_acq_rel);
    while (state.load(std::memory_order_acquire) & kActive)
      cpuRelax();
    return result.load(std::memory_order_relaxed);
  }

private:
  struct Job {
    void *uc = nullptr;
    halide_task_t fn = nullptr;
    int min = 0, count = 0;
    uint8_t *closure = nullptr;
  };

  // state: bits 0–31 workers inside the job, bit 32 open, bits 33– the
  // job's generation.
  static constexpr uint64_t kActive = 0xffffffffull, kOpen = 1ull << 32;
  static constexpr int kGenShift = 33;

  static int serial(void *uc, halide_task_t fn, int min, int count,
                    uint8_t *closure) {
    const bool outer = !inTask;
    inTask = true;
    int r = 0;
    for (int i = 0; i < count && r == 0; ++i)
      r = fn(uc, min + i, closure);
    if (outer)
      inTask = false;
    return r;
  }

  void run(int i) {
    if (int r = job.fn(job.uc, job.min + i, job.closure)) {
      int expected = 0;
      result.compare_exchange_strong(expected, r);
    }
    done.fetch_add(1, std::memory_order_acq_rel);
  }

  /// Claims task i (true once per task and job).
  bool claim(int i) {
    const uint64_t bit = 1ull << (i % 64);
    std::atomic<uint64_t> &w = claimed[i / 64];
    return !(w.load(std::memory_order_relaxed) & bit) &&
           !(w.fetch_or(bit, std::memory_order_acq_rel) & bit);
  }

  /// The tasks, as participant `self` (the caller 0, worker k k): first the
  /// tasks i with i mod threads = self — so that a kernel splitting its
  /// rows into one run per thread gives each thread the same rows in every
  /// kernel, and the rows an op writes are in the cache of the core that
  /// reads them next — then any task still unclaimed (a late worker's).
  void runTasks(int self) {
    const bool outer = !inTask;
    inTask = true;
    if (job.count <= 64 * kClaimWords) {
      for (int i = self; i < job.count; i += participants)
        if (claim(i))
          run(i);
      for (int i = 0; i < job.count; ++i)
        if (claim(i))
          run(i);
    } else {
      for (;;) {
        const int i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= job.count)
          break;
        run(i);
      }
    }
    if (outer)
      inTask = false;
  }

  void work() {
    const int self = ++workersStarted; // 1 … threads − 1
    uint64_t seen = 0; // generation of the last job this worker saw
    for (;;) {
      uint64_t s = state.load(std::memory_order_acquire);
      if ((s >> kGenShift) == seen) {
        // Idle: spin, then sleep until a new job or the end.
        const auto deadline = std::chrono::steady_clock::now() + kSpin;
        for (int n = 0; (s >> kGenShift) == seen; ++n) {
          cpuRelax();
          s = state.load(std::memory_order_acquire);
          if ((n & 255) == 255 && std::chrono::steady_clock::now() > deadline) {
            std::unique_lock<std::mutex> lock(sleepMutex);
            sleepers.fetch_add(1, std::memory_order_seq_cst);
            wake.wait(lock, [&] {
              return stop || (state.load(std::memory_order_seq_cst) >>
                              kGenShift) != seen;
            });
            sleepers.fetch_sub(1, std::memory_order_relaxed);
            if (stop)
              return;
            s = state.load(std::memory_order_acquire);
          }
        }
      }
      seen = s >> kGenShift;
      // Enter only an open job, and only the one seen.
      while ((s & kOpen) && (s >> kGenShift) == seen &&
             !state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel))
        ;
      if ((s & kOpen) && (s >> kGenShift) == seen) {
        runTasks(self);
        state.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  std::vector<pthread_t> workers;
  // The caller and the workers asked for (a worker pthread_create refused
  // leaves its tasks to the others' second loop).
  const int participants;
  std::mutex callMutex;
  Job job;
  std::atomic<uint64_t> state{0};
  std::atomic<int> next{0}, done{0}, result{0};
  // Claimed tasks of a job of up to 64 · kClaimWords tasks (larger ones
  // take the next index from `next`).
  static constexpr int kClaimWords = 16;
  std::atomic<uint64_t> claimed[kClaimWords] = {};
  std::atomic<int> workersStarted{0};
  std::mutex sleepMutex;
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
  bool stop = false;
};

std::atomic<int> requested{0};
std::mutex poolMutex;
Pool *pool = nullptr; // replaced by setThreadCount, never freed while used

int defaultThreads() {
  for (const char *var : {"HL_NUM_THREADS", "HL_NUMTHREADS"})
    if (const char *v = std::getenv(var))
      if (int n = std::atoi(v); n > 0)
        return n;
  return int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

Pool &thePool() {
  std::lock_guard<std::mutex> lock(poolMutex);
  if (!pool)
    pool = new Pool(threadCount());
  return *pool;
}

int doParFor(void *uc, halide_task_t fn, int min, int count,
             uint8_t *closure) {
  return thePool().parallelFor(uc, fn, min, count, closure);
}

// Installed before main: every Halide kernel's parallel loops come here.
const bool installed = (halide_set_custom_do_par_for(doParFor), true);

} // namespace

void setThreadCount(int n) {
  n = std::max(1, n);
  halide_set_num_threads(n); // Halide's own pool (parallel tasks) too
  requested = n;
  std::lock_guard<std::mutex> lock(poolMutex);
  if (pool && pool->size() != n) {
    delete pool;
    pool = nullptr;
  }
  (void)installed;
}

void beginModelCall() { callsInFlight.fetch_add(1, std::memory_order_relaxed); }
void endModelCall() { callsInFlight.fetch_sub(1, std::memory_order_relaxed); }

int availableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  return int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

int threadCount() {
  if (int n = requested.load())
    return n;
  return defaultThreads();
}

int64_t attentionRuns(int64_t heads, int64_t tiles) {
  const int64_t threads = threadCount();
  int64_t chunks = 1;
  while (chunks < tiles && heads * chunks < 2 * threads)
    ++chunks;
  for (int64_t c = chunks; c <= std::min<int64_t>(tiles, 2 * chunks); ++c)
    if ((heads * c) % threads == 0)
      return c;
  return chunks;
}

void runInRuns(int64_t n, int64_t per,
               void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx) {
  struct Closure {
    void (*fn)(void *, int64_t, int64_t);
    void *ctx;
    int64_t n, per;
  } c{fn, ctx, n, per};
  halide_do_par_for(
      nullptr,
      [](void *, int i, uint8_t *closure) {
        const Closure *c = reinterpret_cast<const Closure *>(closure);
        const int64_t begin = i * c->per;
        c->fn(c->ctx, begin, std::min(c->n, begin + c->per));
        return 0;
      },
      0, int((n + per - 1) / per), reinterpret_cast<uint8_t *>(&c));
}

int64_t runLength(int64_t n) {
  const int64_t runs = int64_t(threadCount());
  return std::max<int64_t>(1, (n + runs - 1) / runs);
}

} // namespace slim::rt
