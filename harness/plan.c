/* plan.c - the plan of a run: datasets, codecs, task networks, the plan hash and their rows in
 * the result database (see internal/plan.h). */
#include "plan.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "base.h"
#include "metrics.h"

#ifndef SAICBENCH_VERSION
#define SAICBENCH_VERSION "unknown"
#endif
extern const char harness_git_revision[]; /* git_revision.c, generated at build time */

static char *join_path(const char *root, const char *path) {
  if (path[0] == '/' || !root || !*root)
    return strdup(path);
  sb_buf b = {0};
  sb_buf_printf(&b, "%s/%s", root, path);
  return sb_buf_take(&b);
}

/* The settings as given, plus "KEY.sha256" for each setting that names a file: a model file
 * replaced under the same name is then another run (not resumed into this one) and reports show
 * which file was used. */
static char *settings_json(const plan_codec *pc) {
  const suite_codec *sc = pc->sc;
  json_t *o = json_object();
  for (size_t i = 0; o && i < sc->n_options; i++) {
    json_object_set_new(o, sc->options[i].key, json_string(sc->options[i].value));
    if (pc->file_sha && pc->file_sha[i][0]) {
      char key[256];
      snprintf(key, sizeof key, "%s.sha256", sc->options[i].key);
      json_object_set_new(o, key, json_string(pc->file_sha[i]));
    }
  }
  char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

char *runner_library_versions_json(const codec_registry *reg) {
  json_t *o = json_object();
  if (!o)
    return NULL;
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    json_object_set_new(o, vt->name, json_string(vt->library_version()));
  }
  json_object_set_new(o, "sqlite", json_string(results_sqlite_version()));
  json_object_set_new(o, "libpng", json_string(png_get_libpng_ver(NULL)));
  json_object_set_new(o, "libyaml", json_string(yaml_get_version_string()));
  json_object_set_new(o, "jansson", json_string(JANSSON_VERSION));
  char omp[32];
  snprintf(omp, sizeof omp, "%d", _OPENMP);
  json_object_set_new(o, "openmp", json_string(omp));
  json_object_set_new(o, "metrics-kernels", json_string(metrics_kernel_name()));
  char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(o);
  return s;
}

/* Adds "butteraugli": "libjxl X.Y.Z" to the library versions of a run that computes it (only
 * then: other runs keep the entries they always had). Out of memory: left as it was. */
void plan_add_butteraugli_version(char **libs) {
  json_t *o = json_loads(*libs, 0, NULL);
  char *with = NULL;
  if (o && !json_object_set_new(o, "butteraugli", json_string(metrics_butteraugli_version())))
    with = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(o);
  if (with) {
    free(*libs);
    *libs = with;
  }
}

/* Opens the datasets and chooses their images. */
int plan_setup_datasets(const suite *s, const runner_options *opt, plan_dataset *pd, char *err,
                        size_t err_len) {
  for (size_t i = 0; i < s->n_datasets; i++) {
    const suite_dataset *sd = &s->datasets[i];
    pd[i].sd = sd;
    if (!(pd[i].path = join_path(opt->data_root, sd->path))) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    char derr[512];
    if (dataset_open(pd[i].path, sd->split, &pd[i].ds, derr, sizeof derr)) {
      /* A hint about the data folder only when the user did not name it. */
      if (opt->data_root_given)
        snprintf(err, err_len, "dataset '%s': %s", sd->name, derr);
      else if (!opt->data_root)
        snprintf(err, err_len,
                 "dataset '%s': %s (no data folder: give --data DIR or set SAICBENCH_DATA)",
                 sd->name, derr);
      else
        snprintf(err, err_len,
                 "dataset '%s': %s (dataset paths are relative to the default data folder %s: "
                 "give --data DIR or set SAICBENCH_DATA)",
                 sd->name, derr, opt->data_root);
      return -1;
    }
    size_t total = dataset_size(pd[i].ds), limit = sd->limit;
    if (opt->limit && (!limit || opt->limit < limit))
      limit = opt->limit;
    pd[i].items = malloc((total ? total : 1) * sizeof *pd[i].items);
    if (!pd[i].items) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    for (size_t k = sd->offset; k < total && (!limit || pd[i].n < limit); k += sd->stride)
      pd[i].items[pd[i].n++] = k;
    if (!pd[i].n) {
      snprintf(err, err_len, "dataset '%s' (%s): the selection (offset %zu, stride %zu) is empty",
               sd->name, pd[i].path, sd->offset, sd->stride);
      return -1;
    }
    pd[i].image_ids = calloc(pd[i].n, sizeof *pd[i].image_ids);
    pd[i].task_ok = calloc(s->n_tasks ? s->n_tasks : 1, 1);
    if (!pd[i].image_ids || !pd[i].task_ok) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
  }
  return 0;
}

/* Content hash of a dataset selection: names, labels and source bytes of each image. */
int plan_dataset_hash(const plan_dataset *pd, char out[33], char *err, size_t err_len) {
  XXH3_state_t *hs = XXH3_createState();
  if (!hs) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  XXH3_128bits_reset(hs);
  for (size_t k = 0; k < pd->n; k++) {
    size_t idx = pd->items[k];
    const char *name = dataset_item_name(pd->ds, idx);
    int label = dataset_item_label(pd->ds, idx);
    char h[33];
    if (dataset_item_source_hash(pd->ds, idx, h, err, err_len)) {
      /* An unreadable file is recorded per image later; hash its name only. */
      memset(h, '-', 32);
      h[32] = '\0';
    }
    XXH3_128bits_update(hs, name, strlen(name) + 1);
    XXH3_128bits_update(hs, &label, sizeof label);
    XXH3_128bits_update(hs, h, 32);
  }
  XXH128_hash_t v = XXH3_128bits_digest(hs);
  XXH3_freeState(hs);
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)v.high64, (unsigned long long)v.low64);
  return 0;
}

static int knob_value_ok(const codec_vtable *vt, double v) {
  if (v < vt->knob.min || v > vt->knob.max)
    return 0;
  return vt->knob.kind != CODEC_KNOB_INT || v == floor(v);
}

int plan_setup_codecs(const suite *s, const codec_registry *reg, plan_codec *pc, char *err,
                      size_t err_len) {
  for (size_t i = 0; i < s->n_codecs; i++) {
    const suite_codec *sc = &s->codecs[i];
    /* "FILE:LINE:COL: " for codecs of a suite file; command-line specs (line 0) have no
     * position, their messages name the codec. */
    char where[512] = "";
    if (s->path && sc->line > 0)
      snprintf(where, sizeof where, "%s:%d:%d: ", s->path, sc->line, sc->column);
    pc[i].sc = sc;
    pc[i].vt = codec_registry_find(reg, sc->codec);
    if (!pc[i].vt) {
      snprintf(err, err_len, "%sunknown codec '%s' (see `saicbench codecs`)", where, sc->codec);
      return -1;
    }
    const codec_vtable *vt = pc[i].vt;
    pc[i].an = codec_registry_analysis(reg, vt);
    for (size_t k = 0; k < sc->n_knobs; k++)
      if (!knob_value_ok(vt, sc->knobs[k])) {
        snprintf(err, err_len, "%scodec '%s': knob %s=%g outside %g..%g%s", where, sc->label,
                 vt->knob.name, sc->knobs[k], vt->knob.min, vt->knob.max,
                 vt->knob.kind == CODEC_KNOB_INT ? " (integers)" : "");
        return -1;
      }
    char cerr[512] = "";
    if (vt->create(sc->options, sc->n_options, &pc[i].instance, cerr, sizeof cerr)) {
      snprintf(err, err_len, "%scodec '%s': %s", where, sc->label, cerr);
      return -1;
    }
    for (size_t j = 0; sc->option_is_file && j < sc->n_options; j++) {
      if (!sc->option_is_file[j])
        continue;
      if (!pc[i].file_sha && !(pc[i].file_sha = calloc(sc->n_options, sizeof *pc[i].file_sha))) {
        snprintf(err, err_len, "out of memory");
        return -1;
      }
      char herr[512];
      if (sb_sha256_file(sc->options[j].value, pc[i].file_sha[j], herr, sizeof herr)) {
        snprintf(err, err_len, "%scodec '%s': %s: %s", where, sc->label, sc->options[j].key, herr);
        return -1;
      }
    }
    pc[i].n_points = sc->n_knobs + sc->n_bpps;
    pc[i].points = calloc(pc[i].n_points, sizeof *pc[i].points);
    if (!pc[i].points) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    for (size_t k = 0; k < sc->n_knobs; k++)
      pc[i].points[k] = (plan_point){0, sc->knobs[k], 0};
    for (size_t k = 0; k < sc->n_bpps; k++)
      pc[i].points[sc->n_knobs + k] = (plan_point){1, sc->bpps[k], 0};
  }
  return 0;
}

/* Loads every task network once per worker thread (a network is used by one thread at a time)
 * and decides which datasets each one scores. */
int plan_setup_tasks(const suite *s, const runner_options *opt, plan_dataset *pd, size_t n_pd,
                     plan_task *pt, char *err, size_t err_len) {
  if (s->n_tasks > 64) {
    snprintf(err, err_len, "at most 64 tasks in a suite (%zu given)", s->n_tasks);
    return -1;
  }
  for (size_t k = 0; k < s->n_tasks; k++) {
    const suite_task *st = &s->tasks[k];
    char e[512] = "";
    pt[k].st = st;
    if (sb_sha256_file(st->checkpoint, pt[k].sha256, e, sizeof e)) {
      snprintf(err, err_len, "task '%s': %s", st->name, e);
      return -1;
    }
    if (!(pt[k].clf = calloc((size_t)opt->threads, sizeof *pt[k].clf))) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    for (int i = 0; i < opt->threads; i++, pt[k].n_clf++) {
      nn_err ne = {0};
      if (classifier_load(st->checkpoint, 1, &pt[k].clf[i], &ne)) {
        snprintf(err, err_len, "task '%s': %s", st->name, ne.msg);
        return -1;
      }
    }
    const classifier_arch *a = classifier_get_arch(pt[k].clf[0]);
    pt[k].arch = a->name;
    pt[k].num_classes = a->num_classes;
    pt[k].in_w = a->in_w;
    pt[k].in_h = a->in_h;
    for (size_t i = 0; i < n_pd; i++) {
      int nc = dataset_num_classes(pd[i].ds);
      pd[i].task_ok[k] = nc == 0 || nc == a->num_classes;
      if (!pd[i].task_ok[k] && !opt->quiet)
        fprintf(stderr,
                "saicbench: task '%s' does not score dataset '%s' (%d classes, the network has "
                "%d)\n",
                st->name, pd[i].sd->name, nc, a->num_classes);
    }
  }
  return 0;
}

/* The plan hash identifies "the same run" for --resume: suite text, data selections and
 * content, codec library versions and the encode budget. Thread count is excluded on purpose:
 * results do not depend on it. */
void plan_hash(const suite *s, const plan_dataset *pd, char (*ds_hash)[33], const plan_codec *pc,
               const plan_task *pt, char out[33]) {
  sb_buf b = {0};
  sb_buf_printf(&b, "saicbench-plan-v1\nsuite=%s\nmax_encodes=%d\n", s->name, s->max_encodes);
  /* Only a non-default selection enters the plan, so earlier runs keep their hash (resume). */
  if (s->metrics && s->metrics != SUITE_METRICS_DEFAULT)
    sb_buf_printf(&b, "metrics=%u\n", s->metrics);
  if (s->metrics & SUITE_METRIC_BUTTERAUGLI) /* its values are libjxl's */
    sb_buf_printf(&b, "butteraugli=%s\n", metrics_butteraugli_version());
  if (s->text)
    sb_buf_puts(&b, s->text);
  for (size_t i = 0; i < s->n_datasets; i++)
    sb_buf_printf(&b, "\ndataset %s %zu %s", pd[i].sd->name, pd[i].n, ds_hash[i]);
  for (size_t i = 0; i < s->n_codecs; i++) {
    char *js = settings_json(&pc[i]);
    sb_buf_printf(&b, "\ncodec %s %s %s %s", pc[i].sc->label, pc[i].vt->name,
                  pc[i].vt->library_version(), js ? js : "");
    free(js);
    for (size_t k = 0; k < pc[i].n_points; k++)
      sb_buf_printf(&b, " %c%.17g", pc[i].points[k].is_bpp ? 'b' : 'k', pc[i].points[k].value);
  }
  for (size_t k = 0; k < s->n_tasks; k++)
    sb_buf_printf(&b, "\ntask %s %s %s", pt[k].st->name, pt[k].arch, pt[k].sha256);
  char *text = sb_buf_take(&b);
  sb_hash128_hex(text ? text : "", text ? strlen(text) : 0, out);
  free(text);
}

static char *class_names_json(const dataset *ds) {
  json_t *a = json_array();
  for (int c = 0; a && c < dataset_num_classes(ds); c++)
    json_array_append_new(a, json_string(dataset_class_name(ds, c)));
  char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
  json_decref(a);
  return s;
}

/* Inserts (or finds, when resuming) every dataset, image, codec and point row. */
int plan_store(store *st, int64_t run_id, const suite *s, const codec_registry *reg,
               plan_dataset *pd, char (*ds_hash)[33], plan_codec *pc, plan_task *pt, char *err,
               size_t err_len) {
  if (store_begin(st, err, err_len))
    return -1;
  for (size_t k = 0; k < s->n_tasks; k++) {
    store_task_info ti = {pt[k].st->name, "classifier",      pt[k].st->checkpoint, pt[k].sha256,
                          pt[k].arch,     pt[k].num_classes, pt[k].in_w,           pt[k].in_h};
    if (store_put_task(st, run_id, &ti, &pt[k].id, err, err_len))
      goto fail;
  }
  for (size_t i = 0; i < s->n_datasets; i++) {
    char sel[128];
    snprintf(sel, sizeof sel, "offset=%zu stride=%zu count=%zu", pd[i].sd->offset, pd[i].sd->stride,
             pd[i].n);
    char *cn = class_names_json(pd[i].ds);
    int rc = store_put_dataset(st, run_id, pd[i].sd->name, pd[i].path,
                               dataset_kind_name(dataset_get_kind(pd[i].ds)), ds_hash[i],
                               (int64_t)pd[i].n, dataset_num_classes(pd[i].ds), cn, sel, &pd[i].id,
                               err, err_len);
    free(cn);
    if (rc)
      goto fail;
    for (size_t k = 0; k < pd[i].n; k++) {
      size_t idx = pd[i].items[k];
      if (store_put_image(st, pd[i].id, (int64_t)idx, dataset_item_name(pd[i].ds, idx),
                          dataset_item_label(pd[i].ds, idx), &pd[i].image_ids[k], err, err_len))
        goto fail;
    }
  }
  for (size_t i = 0; i < s->n_codecs; i++) {
    char *js = settings_json(&pc[i]);
    int rc = store_put_codec(st, run_id, pc[i].sc->label, pc[i].vt->name,
                             pc[i].vt->library_version(), js ? js : "{}", pc[i].vt->knob.name,
                             codec_registry_plugin_path(reg, pc[i].vt), &pc[i].id, err, err_len);
    free(js);
    if (rc)
      goto fail;
    for (size_t k = 0; k < pc[i].n_points; k++)
      if (store_put_point(st, pc[i].id, pc[i].points[k].is_bpp ? "bpp" : "knob",
                          pc[i].points[k].value, &pc[i].points[k].id, err, err_len))
        goto fail;
  }
  return store_commit(st, err, err_len);
fail:
  store_rollback(st);
  return -1;
}

/* Continues the resumable run of this plan (opt->resume) or creates a new one; sets its id. */
int plan_open_run(store *st, const suite *s, const runner_options *opt, const char *phash,
                  const char *shard, const char *libs, runner_summary *sum, char *err,
                  size_t err_len) {
  int64_t run_id = 0;
  if (opt->resume && store_find_resumable_run(st, phash, shard, &run_id, err, err_len))
    return -1;
  if (opt->resume && !run_id && !opt->quiet)
    fprintf(stderr, "saicbench: nothing to resume for this plan in %s; starting a new run\n",
            opt->db_path);
  if (run_id) {
    sum->resumed = 1;
    if (store_set_run_status(st, run_id, "running", err, err_len))
      return -1;
  } else {
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    store_run_info info = {
        s->name, s->path,      phash, s->text,           opt->command, harness_git_revision,
        host,    opt->threads, libs,  SAICBENCH_VERSION, shard};
    if (store_create_run(st, &info, &run_id, err, err_len))
      return -1;
  }
  sum->run_id = run_id;
  return 0;
}

void plan_free(const suite *s, plan_dataset *pd, plan_codec *pc, plan_task *pt) {
  if (pc)
    for (size_t i = 0; i < s->n_codecs; i++) {
      if (pc[i].vt && pc[i].instance)
        pc[i].vt->destroy(pc[i].instance);
      free(pc[i].points);
      free(pc[i].file_sha);
    }
  if (pd)
    for (size_t i = 0; i < s->n_datasets; i++) {
      dataset_close(pd[i].ds);
      free(pd[i].task_ok);
      free(pd[i].path);
      free(pd[i].items);
      free(pd[i].image_ids);
    }
  if (pt)
    for (size_t k = 0; k < s->n_tasks; k++) {
      for (int i = 0; i < pt[k].n_clf; i++)
        classifier_free(pt[k].clf[i]);
      free(pt[k].clf);
    }
  free(pt);
  free(pd);
  free(pc);
}
