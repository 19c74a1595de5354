/* Generates through the C API of a generating library (slimc --emit=lib
   --max-seq-len): prints the greedy tokens for the prompt given as
   arguments, whether a second call (a fresh start on the same cache) gives
   the same tokens, whether two sampled runs with one seed agree, and the
   error of a prompt that overflows the cache. */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kCount = 32 };

int main(int argc, char **argv) {
  const slim_model_desc *d = slim_model_describe();
  if (!d->prefill || !d->decode) {
    fprintf(stderr, "no step functions\n");
    return 1;
  }
  printf("max_seq_len %lld vocab %lld kv_layers %d prefill_tokens %lld\n",
         (long long)d->max_seq_len, (long long)d->vocab_size, d->kv_layers,
         (long long)d->prefill_tokens);
  int64_t prompt[64];
  int n = 0;
  for (int i = 1; i < argc && n < 64; ++i)
    prompt[n++] = atoll(argv[i]);
  slim_model_handle *m = slim_model_create(NULL);
  if (!m) {
    fprintf(stderr, "create: %s\n", slim_model_error(NULL));
    return 1;
  }
  int64_t a[kCount], b[kCount], s1[kCount], s2[kCount];
  float *logits = malloc(sizeof(float) * kCount * d->vocab_size);
  if (slim_model_generate(m, prompt, n, kCount, 0.0, 0, 0, a, logits) ||
      slim_model_generate(m, prompt, n, kCount, 0.0, 0, 0, b, NULL) ||
      slim_model_generate(m, prompt, n, kCount, 0.9, 20, 7, s1, NULL) ||
      slim_model_generate(m, prompt, n, kCount, 0.9, 20, 7, s2, NULL)) {
    fprintf(stderr, "generate: %s\n", slim_model_error(m));
    return 1;
  }
  printf("tokens");
  for (int i = 0; i < kCount; ++i)
    printf(" %lld", (long long)a[i]);
  printf("\nrepeat %s\n", memcmp(a, b, sizeof a) ? "differs" : "same");
  printf("seeded sampling %s\n", memcmp(s1, s2, sizeof s1) ? "differs" : "same");
  int rc = slim_model_generate(m, prompt, n, d->max_seq_len, 0.0, 0, 0, a, NULL);
  printf("overflow rc=%d: %s\n", rc, slim_model_error(m));
  free(logits);
  slim_model_destroy(m);
  return 0;
}
