/* Suites: what to run. A suite names datasets, codecs with their settings and bitrate grids,
 * and optional plugins. Suites are YAML files (see suites/quick.yaml for the documented format)
 * or are built from command-line codec specs for ad-hoc runs.
 *
 * Errors name the file, line and column ("suites/quick.yaml:12:7: ...").
 * Thread-safety: a suite is plain data; read it from any thread, modify from one. */
#ifndef SAICBENCH_SUITE_H
#define SAICBENCH_SUITE_H

#include <stddef.h>

#include "saicbench_codec.h"

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

#endif
