/* Shared declarations of the report writers (one file per output format). Internal. */
#ifndef SAICBENCH_REPORT_INTERNAL_H
#define SAICBENCH_REPORT_INTERNAL_H

#include "report_strips.h"
#include "report_text.h"
#include "results.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Output file names of one report (see report.h for the naming rules). */
typedef struct report_files {
  char **csv;          /* [n_datasets] */
  char **tasks_csv;    /* [n_datasets]; NULL where the dataset has no task rows */
  char **perclass_csv; /* [n_datasets]; NULL where the dataset has no task rows */
  char **headline_md;  /* [n_datasets]; NULL where report_headline_available() is 0 */
  char **paired_csv;   /* [n_datasets]; NULL where the dataset has no paired rows */
  char **json;         /* [report_json_slot()]; NULL where no file is written */
  size_t n_datasets, n_codecs;
} report_files;

static inline size_t report_json_slot(const report_files *f, size_t ds, size_t codec, int is_bpp) {
  return (ds * f->n_codecs + codec) * 2 + (is_bpp ? 1 : 0);
}

/* A row goes into JSON files and plots only when it has a rate to put on the x axis. */
static inline int report_row_plottable(const results_row *r) { return isfinite(r->bpp); }

/* The opt-in image metrics of a row (results_row.extra, schema version 3), in schema order:
 * 0 psnr_y, 1 psnr_cb, 2 psnr_cr, 3 psnr_ycbcr, 4 ciede2000, 5 butteraugli_max,
 * 6 butteraugli_3norm. The CSV columns are store_extra_metric_columns (results.h), the JSON
 * keys report_extra_json (report.c). Every output shows one only where some row of the dataset
 * has a value of it, so a run without them reports exactly as before they existed. */
#define REPORT_N_EXTRA 7
extern const char *const report_extra_json[REPORT_N_EXTRA];
static inline double report_extra_value(const results_row *r, int k) {
  const store_extra_metrics *x = &r->extra;
  const double v[REPORT_N_EXTRA] = {x->psnr_y,           x->psnr_cb,   x->psnr_cr,
                                    x->psnr_ycbcr,       x->ciede2000, x->butteraugli_max,
                                    x->butteraugli_3norm};
  return v[k];
}
static inline int report_extra_present(const results_dataset *ds, int k) {
  for (size_t i = 0; i < ds->n_rows; i++)
    if (isfinite(report_extra_value(&ds->rows[i], k)))
      return 1;
  return 0;
}

/* Binomial standard error of an accuracy p over n labelled images, sqrt(p(1-p)/n); NAN
 * without p or n. */
static inline double report_accuracy_se(double p, int64_t n) {
  return isfinite(p) && n > 0 ? sqrt(p * (1.0 - p) / (double)n) : NAN;
}

/* The task row of (task, point) in a dataset, or NULL. */
static inline const results_task_row *report_task_row_of(const results_dataset *ds, size_t task,
                                                         int64_t point_id) {
  for (size_t i = 0; i < ds->n_task_rows; i++)
    if (ds->task_rows[i].task == task && ds->task_rows[i].point_id == point_id)
      return &ds->task_rows[i];
  return NULL;
}

/* Whether task has any row in the dataset. */
static inline int report_task_in_dataset(const results_dataset *ds, size_t task) {
  for (size_t i = 0; i < ds->n_task_rows; i++)
    if (ds->task_rows[i].task == task)
      return 1;
  return 0;
}

int report_write_csv(const results_data *d, size_t ds, const char *dir, const char *name, char *err,
                     size_t err_len);
/* tasks_<dataset>.csv and perclass_<dataset>.csv (only for datasets with task rows). */
int report_write_tasks_csv(const results_data *d, size_t ds, const char *dir, const char *name,
                           char *err, size_t err_len);
int report_write_perclass_csv(const results_data *d, size_t ds, const char *dir, const char *name,
                              char *err, size_t err_len);
/* paired_<dataset>.csv and its HTML table (results_paired.c), for datasets with paired rows. */
int report_write_paired_csv(const results_data *d, size_t ds, const char *dir, const char *name,
                            char *err, size_t err_len);
void report_put_paired_table(sb_buf *b, const results_data *d, const results_dataset *ds);
/* The headline table (report_headline.c): needs task rows and bpp-target points. md: Markdown
 * table, else an HTML table. */
int report_headline_available(const results_dataset *ds);
void report_put_headline(sb_buf *b, const results_data *d, const results_dataset *ds, int md);
int report_write_headline_md(const results_data *d, size_t ds, const char *dir, const char *name,
                             char *err, size_t err_len);
int report_write_compressai(const results_data *d, size_t ds, size_t codec, int is_bpp,
                            const char *dir, const char *name, char *err, size_t err_len);
/* What the page needs beyond the data and the file names. */
typedef struct report_html_extras {
  size_t anchor;               /* BD anchor: index into results_data.codecs (SIZE_MAX: none) */
  const report_strips *strips; /* [n_datasets]; NULL when example images are switched off */
} report_html_extras;

/* The BD anchor for an --anchor label (NULL: the default of report.h). Returns SIZE_MAX when
 * the run has no codecs or (label given) no codec has that label. */
size_t report_pick_anchor(const results_data *d, const char *label);

int report_write_html(const results_data *d, const report_files *files, const report_html_extras *x,
                      const char *dir, const char *name, char *err, size_t err_len);

#endif
