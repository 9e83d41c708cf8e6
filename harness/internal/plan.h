/* plan.h - internal to sb_harness: the plan of a run (prefix plan_), what runner.c executes.
 *
 * A run's plan is made from a suite before any unit runs: the selected items of every dataset
 * (plan_dataset), every codec with its instance and grid points (plan_codec), every task network
 * with one classifier per worker thread (plan_task), the plan hash that identifies the run, and
 * the rows that describe them in the result database. plan.c makes it; runner.c runs it.
 *
 * Thread-safety: made and freed on the runner's thread; read-only while the workers run. */
#ifndef SAICBENCH_HARNESS_PLAN_H
#define SAICBENCH_HARNESS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "classifier.h"
#include "data.h"
#include "harness.h"
#include "results.h"

typedef struct plan_point {
  int is_bpp; /* 0: knob grid point, 1: bpp target */
  double value;
  int64_t id;
} plan_point;

typedef struct plan_codec {
  const suite_codec *sc;
  const codec_vtable *vt;
  const codec_analysis_vtable *an; /* analysis reuse (saicbench_codec.h), or NULL: encode() */
  void *instance;
  plan_point *points;
  size_t n_points;
  int64_t id;
  char (*file_sha)[65]; /* per option: SHA-256 of the file it names (suite !path), else "" */
} plan_codec;

/* A task network; one classifier instance per worker thread (instances are not shared). */
typedef struct plan_task {
  const suite_task *st;
  classifier **clf;
  int n_clf;
  const char *arch;
  int num_classes, in_w, in_h;
  char sha256[65];
  int64_t id;
} plan_task;

/* Task inference runs on fixed-size batches (the last one padded): a network's output for an
 * image then does not depend on how many other images it was batched with, so results are the
 * same whatever was resumed or deduplicated, and the backend never re-plans for a new size. */
enum { TASK_BATCH = 16 };

typedef struct plan_dataset {
  const suite_dataset *sd;
  dataset *ds;
  char *path;
  size_t *items; /* selected item indices */
  int64_t *image_ids;
  size_t n;
  int64_t id;
  unsigned char *task_ok; /* per plan task: the dataset's labels fit the task's classes */
} plan_dataset;

/* Adds "butteraugli": "libjxl X.Y.Z" to the library versions of a run that computes it (only
 * then: other runs keep the entries they always had). Out of memory: left as it was. */
void plan_add_butteraugli_version(char **libs);
/* Opens the datasets and chooses their images. */
int plan_setup_datasets(const suite *s, const runner_options *opt, plan_dataset *pd, char *err,
                        size_t err_len);
/* Content hash of a dataset selection: names, labels and source bytes of each image. */
int plan_dataset_hash(const plan_dataset *pd, char out[33], char *err, size_t err_len);
int plan_setup_codecs(const suite *s, const codec_registry *reg, plan_codec *pc, char *err,
                      size_t err_len);
/* Loads every task network once per worker thread (a network is used by one thread at a time)
 * and decides which datasets each one scores. */
int plan_setup_tasks(const suite *s, const runner_options *opt, plan_dataset *pd, size_t n_pd,
                     plan_task *pt, char *err, size_t err_len);
/* Continues the resumable run of this plan (opt->resume) or creates a new one; sets its id. */
int plan_open_run(store *st, const suite *s, const runner_options *opt, const char *phash,
                  const char *shard, const char *libs, runner_summary *sum, char *err,
                  size_t err_len);
void plan_free(const suite *s, plan_dataset *pd, plan_codec *pc, plan_task *pt);

/* The plan hash identifies "the same run" for --resume: suite text, data selections and
 * content, codec library versions and the encode budget. Thread count is excluded on purpose:
 * results do not depend on it. */
void plan_hash(const suite *s, const plan_dataset *pd, char (*ds_hash)[33], const plan_codec *pc,
               const plan_task *pt, char out[33]);
/* Inserts (or finds, when resuming) every dataset, image, codec and point row. */
int plan_store(store *st, int64_t run_id, const suite *s, const codec_registry *reg,
               plan_dataset *pd, char (*ds_hash)[33], plan_codec *pc, plan_task *pt, char *err,
               size_t err_len);

#endif
