/* The two sides of the gate (candidate, baseline): a SPEC resolved against the registry with the
 * gate's grid applied, or a baseline run checked against the candidate's; lookups in a side's
 * loaded run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "gate_internal.h"
#include "harness.h"

/* "models/x.ckpt" (no '=') is shorthand for "saic:model=models/x.ckpt". malloc()ed. */
static char *expand_spec(const char *spec) {
  size_t n = strlen(spec);
  sb_buf b = {0};
  if (n > 5 && !strcmp(spec + n - 5, ".ckpt") && !strchr(spec, '='))
    sb_buf_printf(&b, "saic:model=%s", spec);
  else
    sb_buf_puts(&b, spec);
  return sb_buf_take(&b);
}

/* Whether the spec (NAME:KEY=VAL:...) names the key `key` (or `alt`, may be NULL). */
static int spec_has_key(const char *spec, const char *key, const char *alt) {
  const char *p = strchr(spec, ':');
  while (p) {
    p++;
    size_t n = strcspn(p, "=:");
    if ((strlen(key) == n && !strncmp(p, key, n)) ||
        (alt && strlen(alt) == n && !strncmp(p, alt, n)))
      return 1;
    p = strchr(p, ':');
  }
  return 0;
}

static void append_grid(sb_buf *b, const char *key, const double *v, size_t n) {
  sb_buf_printf(b, ":%s=", key);
  for (size_t i = 0; i < n; i++) {
    char num[32];
    sb_format_number(v[i], num);
    sb_buf_printf(b, "%s%s", i ? "," : "", num);
  }
}

/* Resolves a side's SPEC: codec known, knob grid within the codec's range. */
int gate_side_from_spec(gate_side *s, const char *spec_in, const gate_config *cfg,
                        const codec_registry *reg, char *err, size_t err_len) {
  if (!(s->spec = expand_spec(spec_in)))
    return snprintf(err, err_len, "out of memory"), -1;
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(s->spec, ":"), s->spec);
  if (!(s->vt = codec_registry_find(reg, name))) {
    snprintf(err, err_len, "%s '%s': unknown codec '%s' (see `saicbench codecs`)", s->role, spec_in,
             name);
    return -1;
  }
  int has_knob = spec_has_key(s->spec, "knob", s->vt->knob.name);
  int has_bpp = spec_has_key(s->spec, "bpp", NULL);
  sb_buf b = {0};
  sb_buf_puts(&b, s->spec);
  if (!has_knob && cfg->n_knobs)
    append_grid(&b, s->vt->knob.name, cfg->knobs, cfg->n_knobs);
  if (!has_bpp && cfg->n_bpps)
    append_grid(&b, "bpp", cfg->bpps, cfg->n_bpps);
  sb_buf_printf(&b, ":label=%s", s->role);
  if (!(s->run_spec = sb_buf_take(&b)) || !(s->label = strdup(s->role)))
    return snprintf(err, err_len, "out of memory"), -1;
  /* Check the grid here, so the message names the side rather than a suite line. */
  suite *tmp = suite_new_adhoc("gate");
  if (!tmp)
    return snprintf(err, err_len, "out of memory"), -1;
  char e[512];
  int rc = suite_add_codec_spec(tmp, s->run_spec, s->vt->knob.name, e, sizeof e);
  if (rc) {
    snprintf(err, err_len, "%s: %s", s->role, e);
  } else {
    const suite_codec *sc = &tmp->codecs[0];
    const codec_knob *kb = &s->vt->knob;
    for (size_t i = 0; i < sc->n_knobs && !rc; i++)
      if (sc->knobs[i] < kb->min || sc->knobs[i] > kb->max ||
          (kb->kind == CODEC_KNOB_INT && sc->knobs[i] != floor(sc->knobs[i]))) {
        snprintf(err, err_len,
                 "%s '%s': knob %s=%g outside %g..%g%s (the gate's knob grid is for another "
                 "codec: give this one's in its spec, e.g. %s:%s=...)",
                 s->role, spec_in, kb->name, sc->knobs[i], kb->min, kb->max,
                 kb->kind == CODEC_KNOB_INT ? " (integers)" : "", name, kb->name);
        rc = -1;
      }
  }
  suite_free(tmp);
  return rc;
}

void gate_side_free(gate_side *s) {
  free(s->spec);
  free(s->run_spec);
  free(s->label);
  if (s->data_loaded)
    results_data_free(&s->data);
}

int gate_find_codec(const results_data *d, const char *label, size_t *out) {
  for (size_t i = 0; i < d->n_codecs; i++)
    if (!strcmp(d->codecs[i].label, label))
      return *out = i, 0;
  return -1;
}

int gate_find_task(const results_data *d, const char *name, size_t *out) {
  for (size_t i = 0; i < d->n_tasks; i++)
    if (!strcmp(d->tasks[i].name, name))
      return *out = i, 0;
  return -1;
}

const results_dataset *gate_find_dataset(const results_data *d, const char *name) {
  for (size_t i = 0; i < d->n_datasets; i++)
    if (!strcmp(d->datasets[i].name, name))
      return &d->datasets[i];
  return NULL;
}

/* A baseline given as a run: it must be complete, hold the codec and the same images. */
int gate_check_baseline_run(const gate_side *cand, gate_side *base, const char *label, char *err,
                            size_t err_len) {
  const results_data *d = base->d;
  if (!d->run.status || strcmp(d->run.status, "complete")) {
    snprintf(err, err_len, "baseline run %lld is %s, not complete", (long long)base->run_id,
             d->run.status ? d->run.status : "?");
    return -1;
  }
  if (label) {
    if (gate_find_codec(d, label, &base->codec)) {
      snprintf(err, err_len, "baseline run %lld has no codec '%s'", (long long)base->run_id, label);
      return -1;
    }
  } else if (d->n_codecs == 1) {
    base->codec = 0;
  } else {
    sb_buf b = {0};
    for (size_t i = 0; i < d->n_codecs; i++)
      sb_buf_printf(&b, "%s%s", i ? ", " : "", d->codecs[i].label);
    char *labels = sb_buf_take(&b);
    snprintf(err, err_len,
             "baseline run %lld has %zu codecs (%s): choose one with "
             "--baseline-label",
             (long long)base->run_id, d->n_codecs, labels ? labels : "?");
    free(labels);
    return -1;
  }
  free(base->label);
  if (!(base->label = strdup(d->codecs[base->codec].label))) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  if (!cand)
    return 0;
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *cd = &cand->d->datasets[i];
    const results_dataset *bd = gate_find_dataset(d, cd->name);
    if (!bd || !bd->content_hash || !cd->content_hash ||
        strcmp(bd->content_hash, cd->content_hash)) {
      snprintf(err, err_len,
               "baseline run %lld: dataset '%s' %s; the gate compares on the same images",
               (long long)base->run_id, cd->name, bd ? "holds other images" : "is missing");
      return -1;
    }
  }
  for (size_t i = 0; i < cand->d->n_tasks; i++) {
    size_t k;
    if (gate_find_task(d, cand->d->tasks[i].name, &k)) {
      snprintf(err, err_len, "baseline run %lld has no task '%s'", (long long)base->run_id,
               cand->d->tasks[i].name);
      return -1;
    }
  }
  return 0;
}
