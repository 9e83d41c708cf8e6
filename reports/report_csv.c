/* points_<dataset>.csv, tasks_<dataset>.csv, perclass_<dataset>.csv (layout in report.h). */
#include "base.h"
#include "report_internal.h"

#include <inttypes.h>

static void put_real(sb_buf *b, double v) {
  char num[32];
  report_format_double(v, num);
  sb_buf_puts(b, ",");
  sb_buf_puts(b, num);
}

int report_write_csv(const results_data *d, size_t ds_index, const char *dir, const char *name,
                     char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf b = {0};
  sb_buf_puts(&b, "codec,codec_name,point_kind,point_value,n,n_errors,n_unreachable,"
                  "mean_knob,bpp,stream_bpp,psnr,psnr_of_mean_mse,ssim,ms_ssim,encode_ms,"
                  "decode_ms");
  int extra[REPORT_N_EXTRA]; /* the opt-in metrics with a value: appended columns */
  for (int k = 0; k < REPORT_N_EXTRA; k++)
    if ((extra[k] = report_extra_present(ds, k)))
      sb_buf_printf(&b, ",%s", store_extra_metric_columns[k]);
  sb_buf_puts(&b, "\r\n");
  for (size_t i = 0; i < ds->n_rows; i++) {
    const results_row *r = &ds->rows[i];
    const results_codec *c = &d->codecs[r->codec];
    report_csv_field(&b, c->label);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, c->codec);
    sb_buf_puts(&b, r->is_bpp ? ",bpp" : ",knob");
    put_real(&b, r->value);
    sb_buf_printf(&b, ",%" PRId64 ",%" PRId64 ",%" PRId64, r->n, r->n_errors, r->n_unreachable);
    const double cols[] = {r->mean_knob,        r->bpp,  r->stream_bpp, r->psnr,
                           r->psnr_of_mean_mse, r->ssim, r->ms_ssim,    r->encode_ms,
                           r->decode_ms};
    for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++)
      put_real(&b, cols[j]);
    for (int k = 0; k < REPORT_N_EXTRA; k++)
      if (extra[k])
        put_real(&b, report_extra_value(r, k));
    sb_buf_puts(&b, "\r\n");
  }
  return sb_buf_write_file(&b, dir, name, err, err_len);
}

/* tasks_<dataset>.csv (layout in report.h). */
int report_write_tasks_csv(const results_data *d, size_t ds_index, const char *dir,
                           const char *name, char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf b = {0};
  sb_buf_puts(&b,
              "task,task_arch,codec,codec_name,point_kind,point_value,bpp,stream_bpp,n,"
              "n_labelled,accuracy,accuracy_se,ref_accuracy,agreement,h_a,si,si_norm,i_y_a,i_y_b,"
              "delta_i,mean_kl\r\n");
  for (size_t i = 0; i < ds->n_task_rows; i++) {
    const results_task_row *r = &ds->task_rows[i];
    const results_task *t = &d->tasks[r->task];
    const results_codec *c = &d->codecs[r->codec];
    report_csv_field(&b, t->name);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, t->arch);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, c->label);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, c->codec);
    sb_buf_puts(&b, r->is_bpp ? ",bpp" : ",knob");
    put_real(&b, r->value);
    put_real(&b, r->bpp);
    put_real(&b, r->stream_bpp);
    sb_buf_printf(&b, ",%" PRId64 ",%" PRId64, r->n, r->n_labelled);
    const double cols[] = {r->accuracy,     report_accuracy_se(r->accuracy, r->n_labelled),
                           r->ref_accuracy, r->agreement,
                           r->h_a,          r->si,
                           r->si_norm,      r->i_y_a,
                           r->i_y_b,        r->delta_i,
                           r->mean_kl};
    for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++)
      put_real(&b, cols[j]);
    sb_buf_puts(&b, "\r\n");
  }
  return sb_buf_write_file(&b, dir, name, err, err_len);
}

/* One line per class: ...,class,class_name,n,correct,accuracy. */
static void put_classes(sb_buf *b, const results_dataset *ds, const char *prefix,
                        const int64_t *class_n, const int64_t *class_correct) {
  for (size_t k = 0; k < ds->n_class_cols; k++) {
    sb_buf_puts(b, prefix);
    sb_buf_printf(b, ",%zu,", k);
    report_csv_field(b, ds->class_names[k]);
    sb_buf_printf(b, ",%" PRId64 ",%" PRId64, class_n[k], class_correct[k]);
    put_real(b, class_n[k] > 0 ? (double)class_correct[k] / (double)class_n[k] : NAN);
    sb_buf_puts(b, "\r\n");
  }
}

/* perclass_<dataset>.csv (layout in report.h). */
int report_write_perclass_csv(const results_data *d, size_t ds_index, const char *dir,
                              const char *name, char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf b = {0}, prefix = {0};
  sb_buf_puts(&b, "task,codec,point_kind,point_value,bpp,class,class_name,n,correct,"
                  "accuracy\r\n");
  for (size_t t = 0; t < d->n_tasks; t++) {
    if (!report_task_in_dataset(ds, t))
      continue;
    sb_buf_reset(&prefix);
    report_csv_field(&prefix, d->tasks[t].name);
    sb_buf_puts(&prefix, ",original,,,");
    put_classes(&b, ds, sb_buf_str(&prefix), ds->task_refs[t].class_n,
                ds->task_refs[t].class_correct);
    for (size_t i = 0; i < ds->n_task_rows; i++) {
      const results_task_row *r = &ds->task_rows[i];
      if (r->task != t)
        continue;
      sb_buf_reset(&prefix);
      report_csv_field(&prefix, d->tasks[t].name);
      sb_buf_puts(&prefix, ",");
      report_csv_field(&prefix, d->codecs[r->codec].label);
      sb_buf_puts(&prefix, r->is_bpp ? ",bpp" : ",knob");
      put_real(&prefix, r->value);
      put_real(&prefix, r->bpp);
      put_classes(&b, ds, sb_buf_str(&prefix), r->class_n, r->class_correct);
    }
  }
  /* Rows built from a failed prefix are incomplete: the file fails as if b had. */
  b.failed |= sb_buf_failed(&prefix);
  sb_buf_free(&prefix);
  return sb_buf_write_file(&b, dir, name, err, err_len);
}

/* paired_<dataset>.csv (layout in report.h). */
int report_write_paired_csv(const results_data *d, size_t ds_index, const char *dir,
                            const char *name, char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf b = {0};
  sb_buf_puts(&b, "task,reference,codec,bpp_target,n,d_accuracy,d_accuracy_lo,"
                  "d_accuracy_hi,d_si_norm,d_si_norm_lo,d_si_norm_hi,d_psnr,d_psnr_lo,"
                  "d_psnr_hi,level,rounds,seed\r\n");
  for (size_t i = 0; i < ds->n_paired; i++) {
    const results_paired *p = &ds->paired[i];
    report_csv_field(&b, d->tasks[p->task].name);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, d->codecs[p->ref].label);
    sb_buf_puts(&b, ",");
    report_csv_field(&b, d->codecs[p->codec].label);
    put_real(&b, p->target);
    sb_buf_printf(&b, ",%" PRId64, p->n);
    const metrics_pboot_ci *cis[] = {&p->ci.accuracy, &p->ci.si_norm, &p->ci.psnr};
    for (int k = 0; k < 3; k++) {
      put_real(&b, cis[k]->delta);
      put_real(&b, cis[k]->lo);
      put_real(&b, cis[k]->hi);
    }
    put_real(&b, p->ci.level);
    sb_buf_printf(&b, ",%d,%u\r\n", p->ci.rounds, (unsigned)METRICS_PBOOT_DEFAULT_SEED);
  }
  return sb_buf_write_file(&b, dir, name, err, err_len);
}
