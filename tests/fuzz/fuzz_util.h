/* fuzz_util.h - what the file-based fuzz targets share: one private temporary folder per process
 * (created on first use, removed at exit) and writing the input into a file there, because the
 * loaders under test read paths, as saicbench does. */
#ifndef SAICBENCH_FUZZ_UTIL_H
#define SAICBENCH_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir_path[64];

static void fuzz_dir_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
  if (system(cmd) != 0)
    fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir_path);
}

/* The process's temporary folder ("/tmp/sb_fuzz_XXXXXX"); aborts when it cannot be made. */
static const char *fuzz_dir(void) {
  if (!fuzz_dir_path[0]) {
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "/tmp/sb_fuzz_XXXXXX");
    if (!mkdtemp(fuzz_dir_path))
      abort();
    atexit(fuzz_dir_remove);
  }
  return fuzz_dir_path;
}

/* Writes data to DIR/name (replacing it) and returns the path in out (out_len bytes). */
static const char *fuzz_write(const char *name, const uint8_t *data, size_t size, char *out,
                              size_t out_len) {
  snprintf(out, out_len, "%s/%s", fuzz_dir(), name);
  FILE *f = fopen(out, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
    abort();
  return out;
}

#endif
