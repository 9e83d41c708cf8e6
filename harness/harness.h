/* harness.h - sb_harness's public interface: suites and runs (their YAML layer is sb_base's,
 * base.h). Two parts: suite_    a suite: datasets, codecs with their grids, tasks, metrics,
 * command-line codecs; runner_   a run of a suite into a result database (rate control and the
 * writer thread are internal: harness/internal/). The sections below keep each part's own
 * documentation. */
#ifndef SAICBENCH_HARNESS_H
#define SAICBENCH_HARNESS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "codec_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======== suite ======== */
/* Suites: what to run. A suite names datasets, codecs with their settings and bitrate grids,
 * and optional plugins. Suites are YAML files (see suites/quick.yaml for the documented format)
 * or are built from command-line codec specs for ad-hoc runs.
 *
 * Errors name the file, line and column ("suites/quick.yaml:12:7: ...").
 * Thread-safety: a suite is plain data; read it from any thread, modify from one. */

struct codec_registry;

typedef struct suite_dataset {
  char *name;    /* unique within the suite */
  char *path;    /* relative to the data root unless absolute */
  char *split;   /* "test", "train" or NULL */
  size_t offset; /* first item taken */
  size_t stride; /* every k-th item (>= 1) */
  size_t limit;  /* at most this many items after offset/stride; 0 = all */
} suite_dataset;

typedef struct suite_codec {
  char *label; /* unique within the suite; defaults to the codec name */
  char *codec; /* codec name in the registry */
  codec_option *options;
  size_t n_options;
  /* option_is_file[i]: options[i] names a file (a suite value tagged !path, resolved against
   * the suite file's folder on load); the runner hashes its contents into the run's identity.
   * NULL when no option is a file. */
  unsigned char *option_is_file;
  double *knobs; /* quality grid: knob values */
  size_t n_knobs;
  double *bpps; /* target grid: bpp targets */
  size_t n_bpps;
  int line; /* where it was defined, for messages (0 for ad-hoc) */
  int column;
} suite_codec;

/* A command-line codec defined by the suite (key `command_codecs:`, codec_registry.h). */
typedef struct suite_command_codec {
  codec_command_def def; /* !path arguments: relative to the suite file's folder (resolved on
                          * load) */
  int line, column;      /* where it was defined, for messages */
} suite_command_codec;

/* A task network scored on every decoded image it fits (suite key `tasks:`). */
typedef struct suite_task {
  char *name;       /* unique within the suite; defaults to the checkpoint's file name stem */
  char *checkpoint; /* path; in a suite file relative to the file's folder (resolved on load) */
  int line, column; /* for messages (0 for ad-hoc) */
} suite_task;

typedef struct suite {
  char *name;
  char *description;
  char *path; /* NULL for ad-hoc suites */
  char *text; /* the file's contents, or a canonical description for ad-hoc suites */
  suite_dataset *datasets;
  size_t n_datasets;
  suite_codec *codecs;
  size_t n_codecs;
  suite_task *tasks;
  size_t n_tasks;
  char **plugins; /* shared libraries to load, relative to the suite file's folder */
  size_t n_plugins;
  suite_command_codec *command_codecs; /* registered by suite_register_command_codecs */
  size_t n_command_codecs;
  int max_encodes; /* encode budget per image x bpp target (bisection); default 12 */
  /* Image metrics computed for every decoded image (SUITE_METRIC_* bits; suite key `metrics:`,
   * `saicbench run --metrics`): MSE and PSNR always, SSIM and MS-SSIM by default; the ones left
   * out are stored as NULL. */
  unsigned metrics;
  /* Suite key `report:` (labels of codecs of this suite, checked on parse; NULL when not given):
   * the BD anchor and the reference of the paired differences of the report that
   * `saicbench run --report` writes (report_options.anchor / .reference), and the defaults of
   * `saicbench report` for runs of this suite (read back from runs.suite_text). */
  char *report_anchor;
  char *report_reference;
} suite;

#define SUITE_DEFAULT_MAX_ENCODES 12

enum {
  SUITE_METRIC_PSNR = 1u << 0, /* with MSE; always computed */
  SUITE_METRIC_SSIM = 1u << 1,
  SUITE_METRIC_MS_SSIM = 1u << 2,
  SUITE_METRICS_DEFAULT = SUITE_METRIC_PSNR | SUITE_METRIC_SSIM | SUITE_METRIC_MS_SSIM,
  /* Opt-in (docs/metrics.md), never in the default, so that runs without them keep their plan
   * hash and stored values. */
  SUITE_METRIC_PSNR_Y = 1u << 3,     /* results.psnr_y */
  SUITE_METRIC_PSNR_YCBCR = 1u << 4, /* psnr_y, psnr_cb, psnr_cr, psnr_ycbcr */
  SUITE_METRIC_CIEDE2000 = 1u << 5,
  SUITE_METRIC_BUTTERAUGLI = 1u << 6, /* butteraugli_max, butteraugli_3norm */
  SUITE_METRICS_EXTRA = SUITE_METRIC_PSNR_Y | SUITE_METRIC_PSNR_YCBCR | SUITE_METRIC_CIEDE2000 |
                        SUITE_METRIC_BUTTERAUGLI
};

/* The metric names, comma-separated, for messages and help texts. */
#define SUITE_METRIC_NAMES "psnr, ssim, ms_ssim, psnr_y, psnr_ycbcr, ciede2000, butteraugli"

/* Parses a metric list ("psnr,ssim" from the command line; names: SUITE_METRIC_NAMES). PSNR is
 * always included. Returns 0 with *out set, or -1 with a message naming the unknown metric. */
int suite_parse_metrics(const char *list, unsigned *out, char *err, size_t err_len);

/* Parses a suite file. */
int suite_load_file(const char *path, suite **out, char *err, size_t err_len);
/* Parses suite text; `name_for_errors` is used as the file name in messages. */
int suite_parse(const char *text, size_t len, const char *name_for_errors, suite **out, char *err,
                size_t err_len);
/* Registers the suite's command codecs in reg (do it after loading the suite's plugins): each
 * one's programs are resolved and its version command is run. Errors are
 * "FILE:LINE:COL: command codec NAME: ..." (codec_registry_add_command). */
int suite_register_command_codecs(const suite *s, struct codec_registry *reg, char *err,
                                  size_t err_len);
/* An empty suite for ad-hoc runs. */
suite *suite_new_adhoc(const char *name);
/* Adds a dataset (ad-hoc runs). */
int suite_add_dataset(suite *s, const char *name, const char *path, const char *split,
                      size_t stride, size_t limit, char *err, size_t err_len);
/* Adds a codec from a command-line spec: NAME[:KEY=V[,V...]]..., where KEY is "knob" or the
 * knob's own name (a quality grid), "bpp" (a target grid), "label", or a codec setting.
 * `knob_name` is the codec's knob name (so "quality=10,50" works for JPEG). */
int suite_add_codec_spec(suite *s, const char *spec, const char *knob_name, char *err,
                         size_t err_len);
/* Adds a task from a command-line spec: [NAME=]CHECKPOINT (path as given). */
int suite_add_task_spec(suite *s, const char *spec, char *err, size_t err_len);
void suite_free(suite *s);

/* ======== runner ======== */
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
  /* Encode every knob value from scratch even for codecs with analysis reuse (saicbench_codec.h:
   * codec_analysis_vtable). Results are the same either way; this is for checking that, and for
   * measuring what the reuse saves. */
  int no_analysis_reuse;
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
  /* Encoder work of this invocation, all codecs: whole encodes (encode(): results, timing
   * repeats and warm-ups), analyses and encodes from an analysis (analysis reuse). */
  uint64_t whole_encodes, analyses, analyzed_encodes;
} runner_summary;

/* Runs the suite. Returns 0 when the run completed or was stopped cleanly (see
 * summary->interrupted), non-zero with a message on error (stored results are kept). */
int runner_run(const suite *s, const codec_registry *reg, const runner_options *opt,
               runner_summary *summary, char *err, size_t err_len);

/* JSON object of the library versions this build uses (malloc()ed). */
char *runner_library_versions_json(const codec_registry *reg);

#ifdef __cplusplus
}
#endif
#endif
