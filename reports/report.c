/* report_write / results_latest_run: load the run, name the files, run the writers. */
#include "report.h"

#include "base.h"
#include "report_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPORT_NAME_COMPONENT_MAX 64

_Static_assert(REPORT_N_EXTRA == STORE_N_EXTRA_METRICS, "one report column per stored metric");
/* CompressAI-style keys (dashes, as "psnr-rgb"). */
const char *const report_extra_json[REPORT_N_EXTRA] = {
    "psnr-y",    "psnr-cb",         "psnr-cr",          "psnr-ycbcr",
    "ciede2000", "butteraugli-max", "butteraugli-3norm"};

/* All names handed out so far, to keep every output name unique. */
typedef struct name_set {
  char **names;
  size_t n, cap;
} name_set;

static int name_taken(const name_set *s, const char *name) {
  /* Case-insensitive: "JPEG" and "jpeg" must not overwrite each other on macOS/Windows. */
  for (size_t i = 0; i < s->n; i++)
    if (strcasecmp(s->names[i], name) == 0)
      return 1;
  return 0;
}

/* Returns base + ext, or base + "-K" + ext for the smallest K >= 2 not yet taken; the string
 * is owned by the set. NULL when out of memory. */
static char *name_claim(name_set *s, const char *base, const char *ext) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    char **p = realloc(s->names, cap * sizeof *p);
    if (!p)
      return NULL;
    s->names = p;
    s->cap = cap;
  }
  sb_buf b = {0};
  sb_buf_printf(&b, "%s%s", base, ext);
  for (unsigned k = 2; !sb_buf_failed(&b) && name_taken(s, sb_buf_str(&b)); k++) {
    sb_buf_reset(&b);
    sb_buf_printf(&b, "%s-%u%s", base, k, ext);
  }
  if (sb_buf_failed(&b)) {
    sb_buf_free(&b);
    return NULL;
  }
  return s->names[s->n++] = b.data;
}

static void name_set_free(name_set *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->names[i]);
  free(s->names);
}

/* Fills files (pointers into names). JSON slots stay NULL where the codec has no plottable
 * point of that kind on the dataset. */
static int assign_names(const results_data *d, name_set *names, report_files *files) {
  files->n_datasets = d->n_datasets;
  files->n_codecs = d->n_codecs;
  files->csv = calloc(d->n_datasets ? d->n_datasets : 1, sizeof *files->csv);
  files->tasks_csv = calloc(d->n_datasets ? d->n_datasets : 1, sizeof *files->tasks_csv);
  files->perclass_csv = calloc(d->n_datasets ? d->n_datasets : 1, sizeof *files->perclass_csv);
  files->headline_md = calloc(d->n_datasets ? d->n_datasets : 1, sizeof *files->headline_md);
  files->paired_csv = calloc(d->n_datasets ? d->n_datasets : 1, sizeof *files->paired_csv);
  files->json = calloc(d->n_datasets * d->n_codecs * 2 + 1, sizeof *files->json);
  if (!files->csv || !files->tasks_csv || !files->perclass_csv || !files->headline_md ||
      !files->paired_csv || !files->json || !name_claim(names, "report", ".html"))
    return -1;
  sb_buf base = {0};
  int rc = 0;
  for (size_t ds = 0; ds < d->n_datasets && rc == 0; ds++) {
    sb_buf_reset(&base);
    sb_buf_puts(&base, "points_");
    report_file_component(&base, d->datasets[ds].name, REPORT_NAME_COMPONENT_MAX);
    files->csv[ds] = sb_buf_failed(&base) ? NULL : name_claim(names, base.data, ".csv");
    rc = files->csv[ds] ? 0 : -1;
  }
  /* Task files only where the dataset has task rows (never for schema-version-1 databases). */
  for (size_t ds = 0; ds < d->n_datasets && rc == 0; ds++) {
    if (d->datasets[ds].n_task_rows == 0)
      continue;
    for (int k = 0; k < 2 && rc == 0; k++) {
      sb_buf_reset(&base);
      sb_buf_puts(&base, k == 0 ? "tasks_" : "perclass_");
      report_file_component(&base, d->datasets[ds].name, REPORT_NAME_COMPONENT_MAX);
      char *name = sb_buf_failed(&base) ? NULL : name_claim(names, base.data, ".csv");
      (k == 0 ? files->tasks_csv : files->perclass_csv)[ds] = name;
      rc = name ? 0 : -1;
    }
    if (rc == 0 && report_headline_available(&d->datasets[ds])) {
      sb_buf_reset(&base);
      sb_buf_puts(&base, "headline_");
      report_file_component(&base, d->datasets[ds].name, REPORT_NAME_COMPONENT_MAX);
      files->headline_md[ds] = sb_buf_failed(&base) ? NULL : name_claim(names, base.data, ".md");
      rc = files->headline_md[ds] ? 0 : -1;
    }
    if (rc == 0 && d->datasets[ds].n_paired > 0) {
      sb_buf_reset(&base);
      sb_buf_puts(&base, "paired_");
      report_file_component(&base, d->datasets[ds].name, REPORT_NAME_COMPONENT_MAX);
      files->paired_csv[ds] = sb_buf_failed(&base) ? NULL : name_claim(names, base.data, ".csv");
      rc = files->paired_csv[ds] ? 0 : -1;
    }
  }
  for (size_t ds = 0; ds < d->n_datasets && rc == 0; ds++) {
    const results_dataset *set = &d->datasets[ds];
    for (size_t c = 0; c < d->n_codecs && rc == 0; c++) {
      for (int is_bpp = 0; is_bpp <= 1 && rc == 0; is_bpp++) {
        int any = 0;
        for (size_t i = 0; i < set->n_rows && !any; i++)
          any = set->rows[i].codec == c && set->rows[i].is_bpp == is_bpp &&
                report_row_plottable(&set->rows[i]);
        if (!any)
          continue;
        sb_buf_reset(&base);
        sb_buf_puts(&base, "compressai_");
        report_file_component(&base, d->codecs[c].label, REPORT_NAME_COMPONENT_MAX);
        sb_buf_puts(&base, "_");
        report_file_component(&base, set->name, REPORT_NAME_COMPONENT_MAX);
        if (is_bpp)
          sb_buf_puts(&base, "_bpp");
        char *name = sb_buf_failed(&base) ? NULL : name_claim(names, base.data, ".json");
        files->json[report_json_slot(files, ds, c, is_bpp)] = name;
        rc = name ? 0 : -1;
      }
    }
  }
  sb_buf_free(&base);
  return rc;
}

/* Loads the run inside one read transaction (or the caller's, when one is open). */
static int load_consistent(store *st, int64_t run_id, size_t n_strip, const report_options *opt,
                           results_data *d, report_strips **strips, char *err, size_t err_len) {
  int began = 0;
  if (results_begin_read(st, &began, err, err_len)) {
    memset(d, 0, sizeof *d);
    return -1;
  }
  int rc = results_load(st, run_id, d, err, err_len);
  if (rc == 0 && opt->bootstrap_rounds >= 0) {
    /* Paired intervals against the reference (default: the BD anchor); an unknown label is
     * reported by the caller. */
    size_t ref = report_pick_anchor(d, opt->reference ? opt->reference : opt->anchor);
    rc = results_paired_query(
        st, d, ref, opt->bootstrap_rounds ? opt->bootstrap_rounds : METRICS_PBOOT_DEFAULT_ROUNDS,
        err, err_len);
  }
  if (rc == 0 && n_strip > 0 && d->n_datasets > 0) {
    *strips = calloc(d->n_datasets, sizeof **strips);
    rc = *strips ? report_strips_query(st, d, n_strip, *strips, err, err_len)
                 : sb_errf(err, err_len, "out of memory");
  }
  if (rc == 0)
    rc = results_end_read(st, began, err, err_len);
  else if (began)
    results_end_read(st, began, NULL, 0);
  return rc;
}

size_t report_pick_anchor(const results_data *d, const char *label) {
  if (label) {
    for (size_t c = 0; c < d->n_codecs; c++)
      if (d->codecs[c].label && strcmp(d->codecs[c].label, label) == 0)
        return c;
    return SIZE_MAX;
  }
  if (d->n_codecs == 0)
    return SIZE_MAX;
  size_t first = 0, first_jpeg = SIZE_MAX;
  for (size_t c = 0; c < d->n_codecs; c++) {
    const results_codec *k = &d->codecs[c];
    if (k->label && strcmp(k->label, "jpeg") == 0)
      return c;
    if (k->id < d->codecs[first].id)
      first = c;
    if (k->codec && strcmp(k->codec, "jpeg") == 0 &&
        (first_jpeg == SIZE_MAX || k->id < d->codecs[first_jpeg].id))
      first_jpeg = c;
  }
  return first_jpeg != SIZE_MAX ? first_jpeg : first;
}

int report_write(store *st, int64_t run_id, const char *out_dir, char *err, size_t err_len) {
  return report_write_opts(st, run_id, out_dir, NULL, err, err_len);
}

int report_write_opts(store *st, int64_t run_id, const char *out_dir, const report_options *opt,
                      char *err, size_t err_len) {
  static const report_options defaults = {0};
  if (!opt)
    opt = &defaults;
  if (!st || !out_dir || !*out_dir)
    return sb_errf(err, err_len, "report_write: %s", !st ? "no database" : "no output directory");
  size_t n_strip = opt->no_images      ? 0
                   : opt->strip_images ? opt->strip_images
                                       : REPORT_DEFAULT_STRIP_IMAGES;
  results_data d;
  report_strips *strips = NULL;
  if (load_consistent(st, run_id, n_strip, opt, &d, &strips, err, err_len)) {
    report_strips_free(strips, d.n_datasets);
    free(strips);
    results_data_free(&d);
    return -1;
  }
  report_html_extras extras = {report_pick_anchor(&d, opt->anchor), strips};
  const int bad_anchor = opt->anchor && extras.anchor == SIZE_MAX;
  if (bad_anchor || (opt->reference && report_pick_anchor(&d, opt->reference) == SIZE_MAX)) {
    sb_buf labels = {0};
    for (size_t c = 0; c < d.n_codecs; c++) {
      sb_buf_puts(&labels, c ? ", " : "");
      report_utf8_repair(&labels, d.codecs[c].label);
    }
    sb_errf(err, err_len, "%s '%s': no codec with this label in run %" PRId64 " (%s%s)",
            bad_anchor ? "anchor" : "reference", bad_anchor ? opt->anchor : opt->reference, run_id,
            d.n_codecs ? "codecs: " : "the run has no codecs", sb_buf_str(&labels));
    sb_buf_free(&labels);
    report_strips_free(strips, d.n_datasets);
    free(strips);
    results_data_free(&d);
    return -1;
  }
  name_set names = {0};
  report_files files = {0};
  int rc = sb_mkdirs(out_dir, err, err_len);
  if (rc == 0 && assign_names(&d, &names, &files))
    rc = sb_errf(err, err_len, "out of memory naming the report files in '%s'", out_dir);
  for (size_t ds = 0; ds < d.n_datasets && rc == 0; ds++) {
    rc = report_write_csv(&d, ds, out_dir, files.csv[ds], err, err_len);
    if (rc == 0 && files.tasks_csv[ds])
      rc = report_write_tasks_csv(&d, ds, out_dir, files.tasks_csv[ds], err, err_len);
    if (rc == 0 && files.perclass_csv[ds])
      rc = report_write_perclass_csv(&d, ds, out_dir, files.perclass_csv[ds], err, err_len);
    if (rc == 0 && files.headline_md[ds])
      rc = report_write_headline_md(&d, ds, out_dir, files.headline_md[ds], err, err_len);
    if (rc == 0 && files.paired_csv[ds])
      rc = report_write_paired_csv(&d, ds, out_dir, files.paired_csv[ds], err, err_len);
  }
  for (size_t ds = 0; ds < d.n_datasets && rc == 0; ds++)
    for (size_t c = 0; c < d.n_codecs && rc == 0; c++)
      for (int is_bpp = 0; is_bpp <= 1 && rc == 0; is_bpp++) {
        const char *name = files.json[report_json_slot(&files, ds, c, is_bpp)];
        if (name)
          rc = report_write_compressai(&d, ds, c, is_bpp, out_dir, name, err, err_len);
      }
  /* The page last: it lists the other files. */
  if (rc == 0)
    rc = report_write_html(&d, &files, &extras, out_dir, "report.html", err, err_len);
  free(files.csv);
  free(files.tasks_csv);
  free(files.perclass_csv);
  free(files.headline_md);
  free(files.paired_csv);
  free(files.json);
  name_set_free(&names);
  report_strips_free(strips, d.n_datasets);
  free(strips);
  results_data_free(&d);
  return rc;
}
