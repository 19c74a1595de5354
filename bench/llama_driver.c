/* llama_driver.c - times llama.cpp on one GGUF model, as Slim's generating
 * binaries time themselves (bench/peers.py compiles it against the llama.h
 * of the llama.cpp release the prebuilt libraries were built from).
 *
 *   llama-driver MODEL.gguf THREADS IDS.txt GENERATE RUNS [f32-cache]
 *                [logits=FILE]
 *
 * IDS.txt: the prompt's token ids, whitespace-separated. Each run clears
 * the KV cache, decodes the whole prompt as one batch (prefill; logits of
 * the last position only), then GENERATE − 1 greedy steps of one token
 * (the first largest logit), like `slim-binary --generate GENERATE`.
 * Warm-up runs repeat until the last three prefills agree within 5% (at
 * most 20); then RUNS timed runs. Prints the medians as
 * `prefill_ms=… decode_ms_per_token=…` and the greedy ids of the last run
 * (`ids=a,b,…`). Flash attention on and the thread count for both
 * phases, as llama.cpp's own tools default to; no GPU layers; the KV cache
 * in float16 (llama.cpp's default) unless `f32-cache` (for comparing
 * greedy tokens with float32 references). logits=FILE writes the logits
 * each greedy token was picked from in the last run (float32, GENERATE
 * rows of the vocabulary size).
 */
#define _POSIX_C_SOURCE 199309L
#include "ggml-backend.h"
#include "llama.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool no_progress(float progress, void *data) {
  (void)progress;
  (void)data;
  return true;
}

static void quiet(enum ggml_log_level level, const char *text, void *data) {
  (void)data;
  if (level >= GGML_LOG_LEVEL_ERROR)
    fputs(text, stderr);
}

/* One run: prefill, then generate − 1 steps. False on a llama error. */
static int run(struct llama_context *ctx, int n_vocab, llama_token *prompt,
               int n_prompt, int generate, llama_token *ids,
               double *prefill_ms, double *step_ms, float *kept) {
  llama_memory_clear(llama_get_memory(ctx), 1);
  double t0 = now_ms();
  if (llama_decode(ctx, llama_batch_get_one(prompt, n_prompt)))
    return 0;
  double t1 = now_ms();
  *prefill_ms = t1 - t0;
  for (int i = 0; i < generate; ++i) {
    const float *logits = llama_get_logits_ith(ctx, -1);
    int best = 0;
    for (int v = 1; v < n_vocab; ++v)
      if (logits[v] > logits[best])
        best = v;
    ids[i] = best;
    if (kept)
      memcpy(kept + (size_t)i * n_vocab, logits, n_vocab * sizeof *logits);
    if (i + 1 == generate)
      break;
    if (llama_decode(ctx, llama_batch_get_one(&ids[i], 1)))
      return 0;
  }
  *step_ms = generate > 1 ? (now_ms() - t1) / (generate - 1) : 0;
  return 1;
}

int main(int argc, char **argv) {
  int f32_cache = 0;
  const char *logits_file = NULL;
  for (int a = 6; a < argc; ++a) {
    if (!strcmp(argv[a], "f32-cache"))
      f32_cache = 1;
    else if (!strncmp(argv[a], "logits=", 7))
      logits_file = argv[a] + 7;
    else
      argc = 0; /* usage */
  }
  if (argc < 6) {
    fprintf(stderr,
            "usage: llama-driver MODEL.gguf THREADS IDS.txt GENERATE RUNS "
            "[f32-cache] [logits=FILE]\n");
    return 2;
  }
  const int threads = atoi(argv[2]), generate = atoi(argv[4]),
            runs = atoi(argv[5]);
  llama_token prompt[4096];
  int n_prompt = 0;
  FILE *f = fopen(argv[3], "r");
  if (!f) {
    perror(argv[3]);
    return 2;
  }
  while (n_prompt < 4096 && fscanf(f, "%d", &prompt[n_prompt]) == 1)
    ++n_prompt;
  fclose(f);
  if (n_prompt == 0 || generate < 1 || runs < 1 || threads < 1) {
    fprintf(stderr, "%s: need a prompt, GENERATE >= 1, RUNS >= 1\n", argv[0]);
    return 2;
  }

  llama_log_set(quiet, NULL);
  ggml_backend_load_all();
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.progress_callback = no_progress;
  struct llama_model *model = llama_model_load_from_file(argv[1], mp);
  if (!model) {
    fprintf(stderr, "%s: cannot load %s\n", argv[0], argv[1]);
    return 1;
  }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = n_prompt + generate + 16;
  cp.n_batch = cp.n_ubatch = n_prompt;
  cp.n_threads = cp.n_threads_batch = threads;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  cp.no_perf = 1;
  if (f32_cache)
    cp.type_k = cp.type_v = GGML_TYPE_F32;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    fprintf(stderr, "%s: cannot create a context\n", argv[0]);
    return 1;
  }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  llama_token *ids = calloc(generate, sizeof *ids);
  float *kept =
      logits_file ? malloc((size_t)generate * n_vocab * sizeof *kept) : NULL;
  double *prefill = calloc(runs + 20, sizeof *prefill),
         *step = calloc(runs + 20, sizeof *step);
  double p, s, warm[20];
  int w = 0;
  for (; w < 20; ++w) {
    if (!run(ctx, n_vocab, prompt, n_prompt, generate, ids, &warm[w], &s,
             NULL))
      goto fail;
    if (w >= 2) {
      double lo = warm[w], hi = warm[w];
      for (int k = w - 2; k < w; ++k) {
        lo = warm[k] < lo ? warm[k] : lo;
        hi = warm[k] > hi ? warm[k] : hi;
      }
      if (hi <= lo * 1.05)
        break;
    }
  }
  for (int r = 0; r < runs; ++r) {
    if (!run(ctx, n_vocab, prompt, n_prompt, generate, ids, &p, &s,
             r + 1 == runs ? kept : NULL))
      goto fail;
    prefill[r] = p;
    step[r] = s;
  }
  printf("prefill_ms=%.3f decode_ms_per_token=%.3f warmups=%d ids=",
         median(prefill, runs), median(step, runs), w + 1);
  for (int i = 0; i < generate; ++i)
    printf(i ? ",%d" : "%d", ids[i]);
  printf("\n");
  if (kept) {
    FILE *o = fopen(logits_file, "wb");
    if (!o || fwrite(kept, sizeof *kept, (size_t)generate * n_vocab, o) !=
                  (size_t)generate * n_vocab) {
      perror(logits_file);
      return 1;
    }
    fclose(o);
  }
  llama_free(ctx);
  llama_model_free(model);
  return 0;
fail:
  fprintf(stderr, "%s: llama_decode failed\n", argv[0]);
  return 1;
}
