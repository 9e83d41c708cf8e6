/* libFuzzer target: `saicbench merge` (results.h: merge_shards) on two arbitrary shard
 * databases, merged into a fresh output database. The input is a little-endian u32 length L,
 * then L bytes of the first shard, then the second shard. Hostile shards must be refused with
 * a message naming the file and never crash.
 * Seed corpus: tests/fuzz/corpus/merge, the two shards of `saicbench run --shard 0/2` and
 * `--shard 1/2` of a two-image JPEG run, each rewritten with 512-byte pages (VACUUM) to keep
 * them small. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  size_t first =
      (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
  if (first > size - 4)
    first = size - 4;
  char shard0[128], shard1[128], out[128];
  fuzz_write("shard0.db", data + 4, first, shard0, sizeof shard0);
  fuzz_write("shard1.db", data + 4 + first, size - 4 - first, shard1, sizeof shard1);
  snprintf(out, sizeof out, "%s/out.db", fuzz_dir());
  const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (int i = 0; i < 4; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", out, suffixes[i]);
    unlink(p);
  }
  const char *shards[2] = {shard0, shard1};
  int64_t run_id = 0;
  size_t n_results = 0;
  char err[1024];
  merge_shards(out, shards, 2, "fuzz", &run_id, &n_results, err, sizeof err);
  return 0;
}
