/* Runs a compiled BERT fixture through the C API of libbert.so: reads the
   int64 [1, 8] ids from a .npy (argv[1]), writes the raw float32 output
   after a 128-byte dummy .npy header (argv[2]) so its data tail can be
   compared with the executable's output. */
#include "bert.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  const slim_model_desc *d = slim_model_describe();
  printf("inputs %d: %s int64 rank %d\n", d->num_inputs, d->inputs[0].name,
         d->inputs[0].rank);
  printf("outputs %d: %s\n", d->num_outputs, d->outputs[0].name);
  int64_t ids[8];
  FILE *f = fopen(argv[1], "rb");
  if (!f || fseek(f, -(long)sizeof ids, SEEK_END) || fread(ids, sizeof ids, 1, f) != 1)
    return 3;
  fclose(f);
  static float out[8 * 64];
  slim_model_handle *m = slim_model_create(NULL);
  if (!m) {
    fprintf(stderr, "create: %s\n", slim_model_error(NULL));
    return 1;
  }
  void *ins[] = {ids};
  void *outs[] = {out};
  if (slim_model_run(m, ins, outs)) {
    fprintf(stderr, "run: %s\n", slim_model_error(m));
    return 1;
  }
  slim_model_destroy(m);
  FILE *o = fopen(argv[2], "wb");
  char header[128];
  memset(header, ' ', sizeof header);
  fwrite(header, sizeof header, 1, o);
  fwrite(out, sizeof out, 1, o);
  fclose(o);
  return 0;
}
