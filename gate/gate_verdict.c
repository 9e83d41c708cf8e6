/* The verdict: its rows (gate_add_check) and its forms: verdict.json, verdict.md and the table
 * printed at the end. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "gate_internal.h"
#include "base.h"

static const char *const st_name[] = {"pass", "warn", "FAIL", "skip"};
static const char *const st_json[] = {"pass", "warn", "fail", "skip"};

gate_check *gate_add_check(gate_check_list *l, const char *check, const char *dataset_name,
                           const char *task, const char *point, int status, double num,
                           double limit_num, const char *detail_fmt, ...) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    gate_check *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->failed = 1;
      return NULL;
    }
    l->v = v;
    l->cap = cap;
  }
  gate_check *c = &l->v[l->n++];
  memset(c, 0, sizeof *c);
  snprintf(c->check, sizeof c->check, "%s", check);
  snprintf(c->dataset, sizeof c->dataset, "%s", dataset_name ? dataset_name : "");
  snprintf(c->task, sizeof c->task, "%s", task ? task : "");
  snprintf(c->point, sizeof c->point, "%s", point ? point : "");
  c->status = status;
  c->num = num;
  c->limit_num = limit_num;
  c->ci_lo = c->ci_hi = NAN;
  if (detail_fmt) {
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(c->detail, sizeof c->detail, detail_fmt, ap);
    va_end(ap);
  }
  return c;
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *verdict_json(const gate_options *o, const gate_config *cfg, const gate_side *cand,
                            const gate_side *base, const gate_check_list *l, int pass,
                            const int counts[4]) {
  json_t *root = json_object();
  json_object_set_new(root, "verdict", json_string(pass ? "pass" : "fail"));
  json_object_set_new(root, "exit_status", json_integer(pass ? GATE_PASS : GATE_FAIL));
  json_object_set_new(root, "suite", json_string(o->suite_path));
  const gate_side *sides[2] = {cand, base};
  for (int i = 0; i < 2; i++) {
    const gate_side *s = sides[i];
    json_t *j = json_object();
    json_object_set_new(j, "spec", s->spec ? json_string(s->spec) : json_null());
    json_object_set_new(j, "codec", json_string(s->d->codecs[s->codec].codec));
    json_object_set_new(j, "run", json_integer(s->run_id));
    json_object_set_new(j, "label", json_string(s->label));
    json_object_set_new(root, s->role, j);
  }
  json_t *t = json_object();
  json_object_set_new(t, "min_bpp", jnum(cfg->min_bpp));
  json_object_set_new(t, "max_bpp", jnum(cfg->max_bpp));
  json_object_set_new(t, "tolerance_se", json_real(cfg->tolerance_se));
  json_object_set_new(t, "accuracy_floor", json_real(cfg->accuracy_floor));
  json_object_set_new(t, "si_norm_tol", json_real(cfg->si_norm_tol));
  json_object_set_new(t, "max_bd_rate", json_real(cfg->max_bd_rate));
  json_object_set_new(t, "min_bd_accuracy", json_real(cfg->min_bd_accuracy));
  json_object_set_new(t, "not_comparable", json_string(cfg->not_comparable_fail ? "fail" : "warn"));
  json_object_set_new(t, "determinism", json_boolean(cfg->determinism));
  json_object_set_new(t, "determinism_images", json_integer((json_int_t)cfg->determinism_images));
  json_object_set_new(root, "thresholds", t);
  json_t *sum = json_object();
  for (int s = 0; s < 4; s++)
    json_object_set_new(sum, st_json[s], json_integer(counts[s]));
  json_object_set_new(root, "summary", sum);
  json_t *arr = json_array();
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    json_t *j = json_object();
    json_object_set_new(j, "check", json_string(c->check));
    json_object_set_new(j, "dataset", *c->dataset ? json_string(c->dataset) : json_null());
    json_object_set_new(j, "task", *c->task ? json_string(c->task) : json_null());
    json_object_set_new(j, "point", *c->point ? json_string(c->point) : json_null());
    json_object_set_new(j, "status", json_string(st_json[c->status]));
    json_object_set_new(j, "value", jnum(c->num));
    json_object_set_new(j, "limit", jnum(c->limit_num));
    json_object_set_new(j, "ci95_lo", jnum(c->ci_lo));
    json_object_set_new(j, "ci95_hi", jnum(c->ci_hi));
    json_object_set_new(j, "value_text", json_string(c->value));
    json_object_set_new(j, "limit_text", json_string(c->limit));
    json_object_set_new(j, "detail", json_string(c->detail));
    json_array_append_new(arr, j);
  }
  json_object_set_new(root, "checks", arr);
  return root;
}

static void side_text(const gate_side *s, char *out, size_t len) {
  if (s->spec)
    snprintf(out, len, "%s (run %lld)", s->spec, (long long)s->run_id);
  else
    snprintf(out, len, "run %lld codec '%s' (%s)", (long long)s->run_id, s->label,
             s->d->codecs[s->codec].codec);
}

static void print_table(FILE *f, const gate_options *o, const gate_side *cand,
                        const gate_side *base, const gate_check_list *l, int pass,
                        const int counts[4]) {
  char a[512], b[512];
  side_text(cand, a, sizeof a);
  side_text(base, b, sizeof b);
  fprintf(f, "gate: candidate %s\n      baseline  %s\n      suite     %s\n\n", a, b, o->suite_path);
  fprintf(f, "%-18s %-14s %-12s %-10s %-18s %-20s %-6s %s\n", "check", "dataset", "task", "point",
          "value", "limit", "result", "detail");
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    fprintf(f, "%-18s %-14.14s %-12.12s %-10s %-18s %-20s %-6s %s\n", c->check,
            *c->dataset ? c->dataset : "-", *c->task ? c->task : "-", *c->point ? c->point : "-",
            *c->value ? c->value : "-", *c->limit ? c->limit : "-", st_name[c->status], c->detail);
  }
  fprintf(f, "\nverdict: %s (%d passed, %d warnings, %d failed, %d skipped); exit status %d\n",
          pass ? "PASS" : "FAIL", counts[ST_PASS], counts[ST_WARN], counts[ST_FAIL],
          counts[ST_SKIP], pass ? GATE_PASS : GATE_FAIL);
}

static char *verdict_markdown(const gate_options *o, const gate_side *cand, const gate_side *base,
                              const gate_check_list *l, int pass, const int counts[4]) {
  sb_buf b = {0};
  char a[512], s[512];
  side_text(cand, a, sizeof a);
  side_text(base, s, sizeof s);
  sb_buf_printf(&b, "# Gate verdict: %s\n\n", pass ? "PASS" : "FAIL");
  sb_buf_printf(&b, "- candidate: `%s`\n- baseline: `%s`\n- suite: `%s`\n", a, s, o->suite_path);
  sb_buf_printf(&b, "- %d passed, %d warnings, %d failed, %d skipped\n\n", counts[ST_PASS],
                counts[ST_WARN], counts[ST_FAIL], counts[ST_SKIP]);
  sb_buf_puts(&b, "| check | dataset | task | point | value | limit | result | detail |\n"
                  "|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    char detail[sizeof c->detail];
    snprintf(detail, sizeof detail, "%s", c->detail);
    for (char *p = detail; *p; p++)
      if (*p == '|')
        *p = '/';
    sb_buf_printf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c->check,
                  *c->dataset ? c->dataset : "", *c->task ? c->task : "", c->point, c->value,
                  c->limit, c->status == ST_FAIL ? "**FAIL**" : st_json[c->status], detail);
  }
  return sb_buf_take(&b);
}

int gate_write_verdict(const gate_options *o, const gate_config *cfg, const gate_side *cand,
                       const gate_side *base, const gate_check_list *l, FILE *out, char *err,
                       size_t err_len) {
  char *md = NULL, *json_text = NULL;
  int status = GATE_ERROR;
  int counts[4] = {0};
  for (size_t i = 0; i < l->n; i++)
    counts[l->v[i].status]++;
  int pass = counts[ST_FAIL] == 0;
  json_t *root = verdict_json(o, cfg, cand, base, l, pass, counts);
  json_text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
  json_decref(root);
  md = verdict_markdown(o, cand, base, l, pass, counts);
  if (!json_text || !md) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (sb_write_file(o->out_dir, "verdict.json", json_text, strlen(json_text), err, err_len) ||
      sb_write_file(o->out_dir, "verdict.md", md, strlen(md), err, err_len))
    goto out;
  if (out)
    print_table(out, o, cand, base, l, pass, counts);
  status = pass ? GATE_PASS : GATE_FAIL;
out:
  free(json_text);
  free(md);
  return status;
}
