/* Replays every file of a corpus folder through a fuzz target (no libFuzzer needed). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  DIR *d = opendir(argv[1]);
  if (!d) {
    perror(argv[1]);
    return 2;
  }
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f)
      continue;
    uint8_t *buf = malloc(1 << 20);
    size_t size = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!buf)
      return 2;
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    n++;
  }
  closedir(d);
  printf("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
