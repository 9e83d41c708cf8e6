/* Merging the shard databases of a partitioned run (`saicbench run --shard I/N`) into one run.
 *
 * Every shard must hold a complete run of the same plan (same plan hash), the shards must be
 * exactly 0..N-1 of one N, and no unit may appear twice. The merged run gets its own rows in
 * out_db (created if missing; existing runs there are kept) and aggregates recomputed from the
 * union of the results, which are then identical to those of a single-process run.
 * Not thread-safe with other writers of out_db beyond SQLite's own locking. */
#ifndef SAICBENCH_MERGE_H
#define SAICBENCH_MERGE_H

#include <stddef.h>
#include <stdint.h>

int merge_shards(const char *out_db, const char *const *shard_dbs, size_t n_shards,
                 const char *command, int64_t *run_id, size_t *n_results, char *err,
                 size_t err_len);

#endif
