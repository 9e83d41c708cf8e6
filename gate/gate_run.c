/* gate_run: loads the validation suite, resolves the two sides, runs them, checks and writes the
 * verdict. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "codec_registry.h"
#include "gate_internal.h"
#include "base.h"
#include "results.h"
#include "harness.h"

static int all_digits(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* The suite the gate runs: the validation suite's datasets, tasks and settings, with the
 * candidate (and the baseline when it is a SPEC) as its codecs. */
static suite *gate_suite(const suite *vs, const gate_side *cand, const gate_side *base,
                         int64_t base_run, char *err, size_t err_len) {
  suite *g = suite_new_adhoc(vs->name);
  if (!g || !(g->path = strdup(vs->path)) ||
      (vs->description && !(g->description = strdup(vs->description)))) {
    suite_free(g);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  g->max_encodes = vs->max_encodes;
  for (size_t i = 0; i < vs->n_datasets; i++) {
    const suite_dataset *d = &vs->datasets[i];
    if (suite_add_dataset(g, d->name, d->path, d->split, d->stride, d->limit, err, err_len))
      goto fail;
    g->datasets[i].offset = d->offset;
  }
  for (size_t i = 0; i < vs->n_tasks; i++) {
    sb_buf b = {0};
    sb_buf_printf(&b, "%s=%s", vs->tasks[i].name, vs->tasks[i].checkpoint);
    char *spec = sb_buf_take(&b);
    int rc = spec ? suite_add_task_spec(g, spec, err, err_len) : -1;
    if (!spec)
      snprintf(err, err_len, "out of memory");
    free(spec);
    if (rc)
      goto fail;
  }
  if (suite_add_codec_spec(g, cand->run_spec, cand->vt->knob.name, err, err_len))
    goto fail;
  if (base->run_spec && suite_add_codec_spec(g, base->run_spec, base->vt->knob.name, err, err_len))
    goto fail;
  sb_buf t = {0};
  sb_buf_puts(&t, vs->text);
  sb_buf_printf(&t, "\n# saicbench gate: candidate %s, baseline ", cand->run_spec);
  if (base->run_spec)
    sb_buf_puts(&t, base->run_spec);
  else
    sb_buf_printf(&t, "run %lld", (long long)base_run);
  sb_buf_puts(&t, "\n");
  if (!(g->text = sb_buf_take(&t))) {
    snprintf(err, err_len, "out of memory");
    goto fail;
  }
  return g;
fail:
  suite_free(g);
  return NULL;
}

/* Loads the validation suite and its `gate:` mapping; the gate judges task accuracy, so the suite
 * must name tasks. */
static int load_validation_suite(const gate_options *o, suite **vs, gate_config *cfg, char *err,
                                 size_t err_len) {
  if (suite_load_file(o->suite_path, vs, err, err_len) ||
      gate_config_parse((*vs)->text, o->suite_path, cfg, err, err_len))
    return -1;
  if (!(*vs)->n_tasks) {
    snprintf(err, err_len,
             "%s: the validation suite names no 'tasks' (the gate judges task "
             "accuracy)",
             o->suite_path);
    return -1;
  }
  return 0;
}

/* The codec registry with the suite's plugins (relative to the suite file's folder) and the
 * --plugin ones. */
static int create_registry(const gate_options *o, const suite *vs, codec_registry **reg, char *err,
                           size_t err_len) {
  if (codec_registry_create(reg, err, err_len))
    return -1;
  for (size_t i = 0; i < vs->n_plugins; i++) {
    const char *slash = strrchr(o->suite_path, '/');
    sb_buf b = {0};
    if (vs->plugins[i][0] == '/' || !slash)
      sb_buf_puts(&b, vs->plugins[i]);
    else
      sb_buf_printf(&b, "%.*s/%s", (int)(slash - o->suite_path), o->suite_path, vs->plugins[i]);
    char *p = sb_buf_take(&b);
    int rc = p ? codec_registry_load_plugin(*reg, p, err, err_len) : -1;
    if (!p)
      snprintf(err, err_len, "out of memory");
    free(p);
    if (rc)
      return -1;
  }
  for (size_t i = 0; i < o->n_plugins; i++)
    if (codec_registry_load_plugin(*reg, o->plugins[i], err, err_len))
      return -1;
  return 0;
}

/* The baseline: a RUN_ID (bspec all digits) is read from db_path before anything runs, so a
 * wrong id fails in a second, not after the run; a SPEC is resolved like the candidate's. */
static int resolve_baseline(const gate_options *o, const gate_config *cfg,
                            const codec_registry *reg, const char *bspec, int base_is_run,
                            const char *db_path, gate_side *base, char *err, size_t err_len) {
  if (!base_is_run)
    return gate_side_from_spec(base, bspec, cfg, reg, err, err_len);
  store *st = NULL;
  int rc = -1;
  base->run_id = strtoll(bspec, NULL, 10);
  char e[900];
  if (store_open_readonly(db_path, &st, e, sizeof e) ||
      results_load(st, base->run_id, &base->data, e, sizeof e)) {
    base->data_loaded = 1;
    snprintf(err, err_len, "baseline %s: %s", bspec, e);
    goto out;
  }
  base->data_loaded = 1;
  base->d = &base->data;
  rc = gate_check_baseline_run(NULL, base, o->baseline_label, err, err_len);
out:
  store_close(st);
  return rc;
}

/* Runs the gate's suite into db_path: 0 with the run's id, GATE_INTERRUPTED or GATE_ERROR with
 * err set. */
static int run_suite(const gate_options *o, codec_registry *reg, const suite *gs,
                     const char *db_path, int64_t *run_id, char *err, size_t err_len) {
  runner_options ro = {.db_path = db_path,
                       .data_root = o->data_root,
                       .threads = o->threads,
                       .quiet = o->quiet,
                       .command = o->command,
                       .stop = o->stop};
  runner_summary rs;
  if (runner_run(gs, reg, &ro, &rs, err, err_len))
    return GATE_ERROR;
  if (rs.interrupted) {
    snprintf(err, err_len, "interrupted: run %lld is incomplete; the gate was not evaluated",
             (long long)rs.run_id);
    return GATE_INTERRUPTED;
  }
  *run_id = rs.run_id;
  return 0;
}

/* Loads the candidate's run (*st stays open: check (c) reads it) and finds both sides' codecs in
 * the loaded runs; a baseline run must hold the candidate's images and tasks. */
static int load_sides(const gate_options *o, const char *db_path, int base_is_run, gate_side *cand,
                      gate_side *base, store **st, char *err, size_t err_len) {
  if (store_open_readonly(db_path, st, err, err_len) ||
      results_load(*st, cand->run_id, &cand->data, err, err_len)) {
    cand->data_loaded = 1;
    return -1;
  }
  cand->data_loaded = 1;
  cand->d = &cand->data;
  if (gate_find_codec(cand->d, cand->label, &cand->codec)) {
    snprintf(err, err_len, "run %lld has no codec '%s'", (long long)cand->run_id, cand->label);
    return -1;
  }
  if (base_is_run)
    return gate_check_baseline_run(cand, base, o->baseline_label, err, err_len);
  base->run_id = cand->run_id;
  base->d = cand->d;
  if (gate_find_codec(base->d, base->label, &base->codec)) {
    snprintf(err, err_len, "run %lld has no codec '%s'", (long long)cand->run_id, base->label);
    return -1;
  }
  return 0;
}

/* The checks (a) to (d) as verdict rows. */
static int run_checks(const gate_options *o, const gate_config *cfg, const suite *gs,
                      const gate_side *cand, const gate_side *base, store *db, gate_check_list *l,
                      char *err, size_t err_len) {
  gate_check_rate_range(cfg, cand, base, l);
  if (cfg->determinism) {
    if (gate_check_determinism(o, cfg, gs, cand, l, err, err_len))
      return -1;
  } else {
    gate_add_check(l, "determinism", NULL, NULL, NULL, ST_SKIP, NAN, NAN,
                   "gate.determinism: false");
  }
  gate_check_points(cfg, cand, base, db, l);
  gate_check_bd(cfg, cand, base, l);
  if (l->failed) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  return 0;
}

int gate_run(const gate_options *o, FILE *out, char *err, size_t err_len) {
  gate_config cfg;
  gate_config_defaults(&cfg);
  gate_side cand = {.role = "candidate"}, base = {.role = "baseline"};
  suite *vs = NULL, *gs = NULL;
  codec_registry *reg = NULL;
  store *st = NULL;
  gate_check_list l = {0};
  char *db_path = NULL;
  int status = GATE_ERROR;
  if (load_validation_suite(o, &vs, &cfg, err, err_len) ||
      create_registry(o, vs, &reg, err, err_len) ||
      gate_side_from_spec(&cand, o->candidate, &cfg, reg, err, err_len))
    goto out;
  const char *bspec = o->baseline ? o->baseline : cfg.baseline;
  int base_is_run = bspec && all_digits(bspec);
  if (!bspec) {
    snprintf(err, err_len, "no baseline: give --baseline SPEC|RUN_ID or gate.baseline in %s",
             o->suite_path);
    goto out;
  }
  if (o->baseline_label && !base_is_run) {
    snprintf(err, err_len, "--baseline-label is for a baseline given as RUN_ID");
    goto out;
  }
  if (sb_mkdirs(o->out_dir, err, err_len))
    goto out;
  if (!(db_path = o->db_path ? strdup(o->db_path) : gate_path_join(o->out_dir, "gate.db"))) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (resolve_baseline(o, &cfg, reg, bspec, base_is_run, db_path, &base, err, err_len) ||
      !(gs = gate_suite(vs, &cand, &base, base.run_id, err, err_len)))
    goto out;
  int rs = run_suite(o, reg, gs, db_path, &cand.run_id, err, err_len);
  if (rs) {
    status = rs;
    goto out;
  }
  if (load_sides(o, db_path, base_is_run, &cand, &base, &st, err, err_len) ||
      run_checks(o, &cfg, gs, &cand, &base, st, &l, err, err_len))
    goto out;
  status = gate_write_verdict(o, &cfg, &cand, &base, &l, out, err, err_len);
out:
  free(l.v);
  store_close(st);
  gate_side_free(&cand);
  gate_side_free(&base);
  suite_free(gs);
  suite_free(vs);
  codec_registry_destroy(reg);
  gate_config_free(&cfg);
  free(db_path);
  return status;
}
