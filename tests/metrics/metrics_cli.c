/* metrics_cli: PSNR / SSIM / MS-SSIM of two raw RGB8 files, for the Python oracle test.
 *
 *   metrics_cli [--ref] WIDTH HEIGHT A.rgb B.rgb
 *
 * Files are WIDTH*HEIGHT*3 bytes, rows packed, R G B interleaved. Prints "mse", "psnr", "ssim"
 * and "ms_ssim" lines with %.10f ("nan" where undefined). --ref uses the reference code; otherwise
 * the values come from the combined metrics_full_rgb8 (what the harness uses), which must equal
 * the separate fast calls bit for bit (exit status 1 and a message if not). */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_raw(const char *path, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "metrics_cli: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(n + 1);
  size_t got = buf ? fread(buf, 1, n + 1, f) : 0;
  fclose(f);
  if (!buf || got != n) {
    fprintf(stderr, "metrics_cli: %s: expected %zu bytes, read %zu\n", path, n, got);
    free(buf);
    return NULL;
  }
  return buf;
}

/* Bit-identical, or both NAN. */
static int same_double(double x, double y) {
  return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
}

static int parse_side(const char *s, int *out) {
  char *end;
  errno = 0;
  const long v = strtol(s, &end, 10);
  if (errno || *end || v <= 0 || v > 65536)
    return -1;
  *out = (int)v;
  return 0;
}

int main(int argc, char **argv) {
  int ref = 0, arg = 1;
  if (argc > 1 && strcmp(argv[1], "--ref") == 0) {
    ref = 1;
    arg++;
  }
  int w, h;
  if (argc - arg != 4 || parse_side(argv[arg], &w) || parse_side(argv[arg + 1], &h)) {
    fprintf(stderr, "usage: metrics_cli [--ref] WIDTH HEIGHT A.rgb B.rgb\n");
    return 2;
  }
  const size_t n = (size_t)w * (size_t)h * 3;
  uint8_t *a = read_raw(argv[arg + 2], n);
  uint8_t *b = a ? read_raw(argv[arg + 3], n) : NULL;
  if (!a || !b) {
    free(a);
    return 1;
  }
  const double mse = ref ? metrics_mse_rgb8_ref(a, b, w, h) : metrics_mse_rgb8(a, b, w, h);
  const double ssim = ref ? metrics_ssim_rgb8_ref(a, b, w, h) : metrics_ssim_rgb8(a, b, w, h);
  const double ms = ref ? metrics_ms_ssim_rgb8_ref(a, b, w, h) : metrics_ms_ssim_rgb8(a, b, w, h);
  metrics_full f = {mse, metrics_psnr_from_mse(mse), ssim, ms};
  int rc = 0;
  if (!ref) {
    metrics_full_rgb8(a, b, w, h, &f);
    if (!same_double(f.mse, mse) || !same_double(f.psnr, metrics_psnr_from_mse(mse)) ||
        !same_double(f.ssim, ssim) || !same_double(f.ms_ssim, ms)) {
      fprintf(stderr, "metrics_cli: metrics_full_rgb8 differs from the separate calls\n");
      rc = 1;
    }
  }
  printf("kernel %s\n", ref ? "ref" : metrics_kernel_name());
  printf("mse %.10f\npsnr %.10f\nssim %.10f\nms_ssim %.10f\n", f.mse, f.psnr, f.ssim, f.ms_ssim);
  free(a);
  free(b);
  return rc;
}
