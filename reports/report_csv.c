/* points_<dataset>.csv (layout in report.h). */
#include "report_fs.h"
#include "report_internal.h"

#include <inttypes.h>

static void put_real(report_buf *b, double v) {
  char num[32];
  report_format_double(v, num);
  report_buf_puts(b, ",");
  report_buf_puts(b, num);
}

int report_write_csv(const report_data *d, size_t ds_index, const char *dir, const char *name,
                     char *err, size_t err_len) {
  const report_dataset *ds = &d->datasets[ds_index];
  report_buf b = {0};
  report_buf_puts(&b, "codec,codec_name,point_kind,point_value,n,n_errors,n_unreachable,"
                      "mean_knob,bpp,stream_bpp,psnr,psnr_of_mean_mse,ssim,ms_ssim,encode_ms,"
                      "decode_ms\r\n");
  for (size_t i = 0; i < ds->n_rows; i++) {
    const report_row *r = &ds->rows[i];
    const report_codec *c = &d->codecs[r->codec];
    report_csv_field(&b, c->label);
    report_buf_puts(&b, ",");
    report_csv_field(&b, c->codec);
    report_buf_puts(&b, r->is_bpp ? ",bpp" : ",knob");
    put_real(&b, r->value);
    report_buf_printf(&b, ",%" PRId64 ",%" PRId64 ",%" PRId64, r->n, r->n_errors, r->n_unreachable);
    const double cols[] = {r->mean_knob,        r->bpp,  r->stream_bpp, r->psnr,
                           r->psnr_of_mean_mse, r->ssim, r->ms_ssim,    r->encode_ms,
                           r->decode_ms};
    for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++)
      put_real(&b, cols[j]);
    report_buf_puts(&b, "\r\n");
  }
  int rc;
  if (report_buf_failed(&b))
    rc = report_errf(err, err_len, "out of memory building '%s/%s'", dir, name);
  else
    rc = report_write_file(dir, name, b.data, b.len, err, err_len);
  report_buf_free(&b);
  return rc;
}
