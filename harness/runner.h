/* The runner: turns a suite into work and executes it.
 *
 * Plan: every selected image of every dataset x every codec x every grid point is one unit.
 * Units are grouped into tasks (one image, all codecs and points) so each image is read once
 * and encodes are shared between grid points. Tasks run on OpenMP workers; results go through
 * a queue to one writer thread that owns the SQLite connection and commits in batches.
 * Resuming skips units already stored, so an interrupted run (Ctrl-C, kill -9) completes with
 * the same stored metrics and aggregates as an uninterrupted one.
 *
 * Thread-safety: runner_run is not reentrant on the same database file; the stop flag may be
 * set from a signal handler. */
#ifndef SAICBENCH_RUNNER_H
#define SAICBENCH_RUNNER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "codec_registry.h"
#include "suite.h"

typedef struct runner_options {
  const char *db_path;
  const char *data_root;       /* suite dataset paths are relative to it */
  int threads;                 /* >= 1 */
  int resume;                  /* continue the newest unfinished run with the same plan */
  size_t limit;                /* if > 0: at most this many images per dataset */
  int quiet;                   /* no progress output */
  const char *command;         /* the command line, stored with the run */
  volatile sig_atomic_t *stop; /* set (e.g. by SIGINT) to stop cleanly; may be NULL */
  uint64_t kill_after_units;   /* testing: raise SIGKILL once this many results are stored */
  unsigned shard_index; /* with shard_count > 1: run only the image tasks t (plan order) with */
  unsigned shard_count; /* t % shard_count == shard_index (0-based); 0 or 1: everything */
  /* Timing: the encode and decode of every stored result are run this many times and the
   * median is stored (0 or 1: once). Other results do not depend on it. Before its first timed
   * call on an image size, each worker encodes and decodes once untimed (per codec, for the
   * first RUNNER_WARMUP_SIZES sizes it meets), so start-up costs stay out of the timings. */
  int timing_repeats;
  int data_root_given; /* data_root came from the user (--data): dataset errors add no hint */
  /* Example images for the report: the first strip_images images of each dataset's selection
   * get thumbnails (the original and every decoded image, at most RUNNER_THUMB_MAX_W px wide)
   * stored with their results; 0: none. `saicbench run` uses RUNNER_DEFAULT_STRIP_IMAGES. */
  int strip_images;
} runner_options;

#define RUNNER_WARMUP_SIZES 8
#define RUNNER_DEFAULT_STRIP_IMAGES 2 /* what the report shows by default */
#define RUNNER_MAX_STRIP_IMAGES 64
#define RUNNER_THUMB_MAX_W 128

typedef struct runner_summary {
  int64_t run_id;
  int resumed;
  size_t units_total;   /* all units of the plan */
  size_t units_skipped; /* already stored (resume) */
  size_t units_stored;  /* stored by this invocation */
  size_t units_failed;  /* of those, rows with an error */
  int interrupted;
  double wall_s;
} runner_summary;

/* Runs the suite. Returns 0 when the run completed or was stopped cleanly (see
 * summary->interrupted), non-zero with a message on error (stored results are kept). */
int runner_run(const suite *s, const codec_registry *reg, const runner_options *opt,
               runner_summary *summary, char *err, size_t err_len);

/* JSON object of the library versions this build uses (malloc()ed). */
char *runner_library_versions_json(const codec_registry *reg);

#endif
