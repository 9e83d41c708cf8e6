/* What the files of the gate (gate/) share; not for use outside this folder. gate.h describes
 * the checks. The files:
 *   gate_config.c       the suite's `gate:` mapping (gate_config)
 *   gate_side.c         the candidate and the baseline (gate_side): specs, baseline runs
 *   gate_checks.c       checks (a) rate range, (c) grid points, (d) BD values
 *   gate_determinism.c  check (b): encode twice, decode in two processes
 *   gate_decode.c       the decoder process of check (b), `saicbench __gate-decode`
 *   gate_verdict.c      the verdict's rows and verdict.json, verdict.md, the printed table
 *   gate_run.c          gate_run: the steps in order */
#ifndef SAICBENCH_GATE_INTERNAL_H
#define SAICBENCH_GATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec_registry.h"
#include "gate.h"
#include "results.h"
#include "harness.h"

#define GATE_MAX_DETERMINISM_IMAGES 64

/* ------------------------------------------------------------------ configuration */

/* The suite's `gate:` mapping. Defaults in gate_config_defaults. */
typedef struct gate_config {
  double *knobs, *bpps; /* the grid applied to candidate and baseline */
  size_t n_knobs, n_bpps;
  char *baseline;          /* default baseline SPEC, or NULL */
  double min_bpp, max_bpp; /* the candidate's points must reach both (NAN: not checked) */
  double tolerance_se;     /* per-point tolerance in standard errors of the difference */
  double accuracy_floor;   /* ... but at least this (accuracy as a fraction) */
  double si_norm_tol;      /* ... and at least this for SI_norm */
  double max_bd_rate;      /* percent: BD-rate at equal accuracy at most this */
  double min_bd_accuracy;  /* accuracy points: BD-accuracy at least this */
  int not_comparable_fail; /* a BD value or point comparison that cannot be made: 1 fail, 0 warn */
  int determinism;         /* run check (b) */
  size_t determinism_images;
} gate_config;

void gate_config_defaults(gate_config *c);
void gate_config_free(gate_config *c);
/* Parses the `gate:` mapping of the suite text (file: its name in messages). */
int gate_config_parse(const char *text, const char *file, gate_config *cfg, char *err,
                      size_t err_len);

/* ------------------------------------------------------------------ the two sides */

/* One side of the gate: its spec and where its results are. */
typedef struct gate_side {
  const char *role; /* "candidate" or "baseline" */
  char *spec;       /* as given, .ckpt expanded; NULL for a baseline run */
  char *run_spec;   /* spec with the gate grid and label=ROLE, as run */
  const codec_vtable *vt;
  int64_t run_id;    /* the run holding its results */
  char *label;       /* its codec label in that run */
  results_data data; /* that run (the candidate's run loaded once even when shared) */
  int data_loaded;
  results_data *d; /* &data, or the other side's data when both are in one run */
  size_t codec;    /* index into d->codecs */
} gate_side;

/* Resolves a side's SPEC: codec known, knob grid within the codec's range. */
int gate_side_from_spec(gate_side *s, const char *spec_in, const gate_config *cfg,
                        const codec_registry *reg, char *err, size_t err_len);
void gate_side_free(gate_side *s);
/* A baseline given as a run: it must be complete, hold the codec (label, or its only one) and,
 * once the candidate has run (cand not NULL), the same images and tasks. */
int gate_check_baseline_run(const gate_side *cand, gate_side *base, const char *label, char *err,
                            size_t err_len);
/* Lookups in a loaded run: 0 (or the dataset) when found, -1 (NULL) when not. */
int gate_find_codec(const results_data *d, const char *label, size_t *out);
int gate_find_task(const results_data *d, const char *name, size_t *out);
const results_dataset *gate_find_dataset(const results_data *d, const char *name);

/* ------------------------------------------------------------------ verdict rows */

enum { ST_PASS, ST_WARN, ST_FAIL, ST_SKIP };

typedef struct gate_check {
  char check[40], dataset[72], task[72], point[40];
  char value[96], limit[96], detail[200];
  double num, limit_num; /* NAN where not a single number */
  double ci_lo, ci_hi;   /* paired bootstrap 95 % interval of num (accuracy, SI_norm); NAN: none */
  int status;
} gate_check;

typedef struct gate_check_list {
  gate_check *v;
  size_t n, cap;
  int failed; /* out of memory */
} gate_check_list;

/* Appends a row (detail: printf format, may be NULL); NULL, with l->failed set, when out of
 * memory. */
__attribute__((format(printf, 9, 10))) gate_check *
gate_add_check(gate_check_list *l, const char *check, const char *dataset_name, const char *task,
               const char *point, int status, double num, double limit_num, const char *detail_fmt,
               ...);

/* Writes OUT/verdict.json and OUT/verdict.md and prints the table to `out` (may be NULL).
 * Returns GATE_PASS or GATE_FAIL, or GATE_ERROR with err set. */
int gate_write_verdict(const gate_options *o, const gate_config *cfg, const gate_side *cand,
                       const gate_side *base, const gate_check_list *l, FILE *out, char *err,
                       size_t err_len);

/* ------------------------------------------------------------------ checks */

/* (a) gate_checks.c */
void gate_check_rate_range(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                           gate_check_list *l);
/* (c) gate_checks.c; db holds both runs (for the paired intervals) */
void gate_check_points(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                       store *db, gate_check_list *l);
/* (d) gate_checks.c */
void gate_check_bd(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                   gate_check_list *l);
/* (b) gate_determinism.c: failures of the candidate are verdict rows; errors of the harness
 * (cannot write files, cannot start a process) return -1 with err set. gs: the suite run. */
int gate_check_determinism(const gate_options *o, const gate_config *cfg, const suite *gs,
                           const gate_side *cand, gate_check_list *l, char *err, size_t err_len);

/* "dir/name", malloc()ed; NULL when out of memory. */
char *gate_path_join(const char *dir, const char *name);

#endif
