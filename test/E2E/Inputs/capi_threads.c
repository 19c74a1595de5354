/* Calls one model handle from several threads at once and checks that
   every result equals the serial result bit for bit. Compiled with
   -include OUT.h (any model's header).

     capi_threads run THREADS RUNS   slim_model_run: K = 4 input sets, filled
                                     deterministically (ids in [0, 8))
     capi_threads gen THREADS RUNS   slim_model_generate: 4 prompts, greedy
                                     and seeded sampling, tokens and logits
     capi_threads share NAME         two handles of a model with external
                                     weights: prints how many mappings of
                                     the file NAME the process has (1:
                                     shared) and whether both handles give
                                     the same output

   Prints "<mode>: THREADS threads x RUNS calls, M mismatches, E errors" and
   exits non-zero when M or E is not 0. The calls run twice: a first tenth
   (the pool of arenas grows to the number of threads), then all of them,
   and the resident set after each is printed with the second round's calls
   per second (a soak: from 10 000 calls per thread on, growth of more than
   1 MiB between the two fails). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kSets = 4, kGen = 6 };

static slim_model_handle *model;
static const slim_model_desc *desc;
static int runs;
static int genMode;
/* Per set: input buffers, reference outputs. */
static void *inputs[kSets][16];
static void *reference[kSets][16];
static size_t outBytes[16];
static int64_t refTokens[kSets][kGen];
static float *refLogits[kSets];
static int64_t prompts[kSets][5];

static size_t elementSize(int32_t dtype) {
  switch (dtype) {
  case 0: return 4; case 1: return 8; case 2: return 8; case 3: return 4;
  case 4: return 2; default: return 1;
  }
}

static size_t count(const slim_tensor_desc *t) {
  size_t n = 1;
  for (int d = 0; d < t->rank; ++d)
    n *= (size_t)t->shape[d];
  return n;
}

static int callRun(int set, void **outs) {
  return slim_model_run(model, inputs[set], outs);
}

static int callGen(int set, int64_t *tokens, float *logits) {
  /* Sets 0-1 greedy, 2-3 sampled with a seed per set. */
  double temperature = set < 2 ? 0.0 : 0.8;
  return slim_model_generate(model, prompts[set], 5, kGen, temperature, 8,
                             (uint64_t)(11 + set), tokens, logits);
}

struct Result { long mismatches, errors; };

static void *worker(void *arg) {
  long id = (long)(intptr_t)arg;
  struct Result *r = calloc(1, sizeof *r);
  void *outs[16];
  for (int o = 0; o < desc->num_outputs; ++o)
    outs[o] = malloc(outBytes[o]);
  int64_t tokens[kGen];
  float *logits = genMode ? malloc(sizeof(float) * kGen * desc->vocab_size) : NULL;
  for (int i = 0; i < runs; ++i) {
    int set = (int)((id + i) % kSets);
    if (genMode) {
      if (callGen(set, tokens, logits)) {
        ++r->errors;
        continue;
      }
      if (memcmp(tokens, refTokens[set], sizeof tokens) ||
          memcmp(logits, refLogits[set], sizeof(float) * kGen * desc->vocab_size))
        ++r->mismatches;
      continue;
    }
    if (callRun(set, outs)) {
      ++r->errors;
      continue;
    }
    for (int o = 0; o < desc->num_outputs; ++o)
      if (memcmp(outs[o], reference[set][o], outBytes[o])) {
        ++r->mismatches;
        break;
      }
  }
  for (int o = 0; o < desc->num_outputs; ++o)
    free(outs[o]);
  free(logits);
  return r;
}

/* Lines of /proc/self/maps that map a file whose path ends in `name`. */
static int mappingsOf(const char *name) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[4096];
  int n = 0;
  size_t len = strlen(name);
  while (f && fgets(line, sizeof line, f)) {
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
      line[--l] = 0;
    n += l >= len && strcmp(line + l - len, name) == 0;
  }
  if (f)
    fclose(f);
  return n;
}

static int share(const char *name) {
  desc = slim_model_describe();
  slim_model_handle *a = slim_model_create(NULL);
  slim_model_handle *b = slim_model_create(NULL);
  if (!a || !b) {
    fprintf(stderr, "create: %s\n", slim_model_error(NULL));
    return 1;
  }
  printf("share: 2 handles, %d mapping(s) of %s\n", mappingsOf(name), name);
  void *ins[16], *outA[16], *outB[16];
  for (int i = 0; i < desc->num_inputs; ++i)
    ins[i] = calloc(count(&desc->inputs[i]), elementSize(desc->inputs[i].dtype));
  int same = 1;
  for (int o = 0; o < desc->num_outputs; ++o) {
    size_t bytes = count(&desc->outputs[o]) * elementSize(desc->outputs[o].dtype);
    outA[o] = malloc(bytes);
    outB[o] = malloc(bytes);
  }
  if (slim_model_run(a, ins, outA) || slim_model_run(b, ins, outB))
    return 1;
  for (int o = 0; o < desc->num_outputs; ++o)
    same &= memcmp(outA[o], outB[o],
                   count(&desc->outputs[o]) * elementSize(desc->outputs[o].dtype)) == 0;
  slim_model_destroy(a);
  printf("share: outputs %s; after one handle is destroyed, %d mapping(s)\n",
         same ? "equal" : "differ", mappingsOf(name));
  if (slim_model_run(b, ins, outA))
    return 1;
  slim_model_destroy(b);
  printf("share: all destroyed, %d mapping(s)\n", mappingsOf(name));
  for (int i = 0; i < desc->num_inputs; ++i)
    free(ins[i]);
  for (int o = 0; o < desc->num_outputs; ++o) {
    free(outA[o]);
    free(outB[o]);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "share") == 0)
    return share(argv[2]);
  if (argc != 4)
    return 2;
  genMode = strcmp(argv[1], "gen") == 0;
  int threads = atoi(argv[2]);
  runs = atoi(argv[3]);
  desc = slim_model_describe();
  model = slim_model_create(NULL);
  if (!model) {
    fprintf(stderr, "create: %s\n", slim_model_error(NULL));
    return 1;
  }
  uint32_t state = 12345;
  for (int s = 0; s < kSets; ++s) {
    for (int k = 0; k < 5; ++k)
      prompts[s][k] = (state = state * 1103515245u + 12345u) >> 16 & 7;
    for (int i = 0; i < desc->num_inputs; ++i) {
      const slim_tensor_desc *t = &desc->inputs[i];
      size_t n = count(t), e = elementSize(t->dtype);
      unsigned char *p = malloc(n * e);
      for (size_t k = 0; k < n; ++k) {
        state = state * 1103515245u + 12345u;
        uint32_t r = state >> 16;
        if (t->dtype == 0) {
          float v = (float)(r % 2001) / 1000.0f - 1.0f;
          memcpy(p + k * 4, &v, 4);
        } else if (t->dtype == 2) {
          int64_t v = r & 7;
          memcpy(p + k * 8, &v, 8);
        } else if (t->dtype == 3) {
          int32_t v = r & 7;
          memcpy(p + k * 4, &v, 4);
        } else {
          memset(p + k * e, (int)(r & 1), e);
        }
      }
      inputs[s][i] = p;
    }
    /* The serial reference. */
    if (genMode) {
      refLogits[s] = malloc(sizeof(float) * kGen * desc->vocab_size);
      if (callGen(s, refTokens[s], refLogits[s])) {
        fprintf(stderr, "generate: %s\n", slim_model_error(model));
        return 1;
      }
      continue;
    }
    for (int o = 0; o < desc->num_outputs; ++o) {
      outBytes[o] = count(&desc->outputs[o]) * elementSize(desc->outputs[o].dtype);
      reference[s][o] = malloc(outBytes[o]);
    }
    if (callRun(s, reference[s])) {
      fprintf(stderr, "run: %s\n", slim_model_error(model));
      return 1;
    }
  }
  pthread_t tid[64];
  if (threads < 1 || threads > 64)
    return 2;
  long mismatches = 0, errors = 0, rss[2];
  double seconds = 0;
  const int total = runs;
  for (int round = 0; round < 2; ++round) {
    runs = round == 0 ? (total + 9) / 10 : total;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long t = 0; t < threads; ++t)
      pthread_create(&tid[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < threads; ++t) {
      struct Result *r;
      pthread_join(tid[t], (void **)&r);
      mismatches += r->mismatches;
      errors += r->errors;
      free(r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = -1;
    if (f)
      fclose(f);
    rss[round] = resident * (sysconf(_SC_PAGESIZE) / 1024);
  }
  printf("%s: %d threads x %d calls, %ld mismatches, %ld errors\n",
         genMode ? "gen" : "run", threads, total, mismatches, errors);
  printf("%s: %.0f calls/s; RSS %ld KiB after the first tenth, %ld KiB "
         "after all (%+ld KiB)\n",
         genMode ? "gen" : "run", threads * (double)total / seconds, rss[0],
         rss[1], rss[1] - rss[0]);
  if (errors)
    fprintf(stderr, "last error: %s\n", slim_model_error(model));
  slim_model_destroy(model);
  int grew = total >= 10000 && rss[1] - rss[0] > 1024;
  if (grew)
    fprintf(stderr, "the resident set grew by %ld KiB\n", rss[1] - rss[0]);
  return mismatches || errors || grew;
}
