/* metrics_color_cli: the colour and perceptual metrics of metrics.h, for the Python oracle test
 * (test_metrics_color_oracle.py).
 *
 *   metrics_color_cli rgb [--no-butteraugli] WIDTH HEIGHT A.rgb B.rgb
 *       prints "name value" lines: mse_y mse_cb mse_cr psnr_y psnr_cb psnr_cr psnr_ycbcr
 *       ciede2000 butteraugli_max butteraugli_3norm (%.17g, "nan" where undefined)
 *   metrics_color_cli lab          reads lines "L1 a1 b1 L2 a2 b2", prints dE00 per line
 *   metrics_color_cli srgb2lab     reads lines "R G B" (0..255), prints "L a b" per line
 *   metrics_color_cli time W H A.rgb B.rgb SECONDS
 *       prints the time per call (ms) of each metric in this one thread, repeated for SECONDS of
 *       the thread's CPU time each: "NAME_ms CPU WALL" (the thread's CPU time, which other
 *       processes on a busy machine barely change, and the wall-clock time)
 *
 * Files are WIDTH*HEIGHT*3 bytes, rows packed, R G B interleaved. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t *read_raw(const char *path, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "metrics_color_cli: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(n + 1);
  size_t got = buf ? fread(buf, 1, n + 1, f) : 0;
  fclose(f);
  if (!buf || got != n) {
    fprintf(stderr, "metrics_color_cli: %s: expected %zu bytes, read %zu\n", path, n, got);
    free(buf);
    return NULL;
  }
  return buf;
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

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile double g_sink; /* keeps the timed calls from being optimised away */

/* Milliseconds per call of metric k (thread CPU time, and wall time in *wall_ms), repeated
 * until `seconds` of CPU time have passed (at least 3 calls). */
static double time_metric(int k, const uint8_t *a, const uint8_t *b, int w, int h, double seconds,
                          double *wall_ms) {
  int n = 0;
  const double t0 = now_s(CLOCK_THREAD_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
  double t = t0;
  while (n < 3 || t - t0 < seconds) {
    metrics_ycbcr y;
    double mx, p3;
    switch (k) {
    case 0: metrics_ycbcr_rgb8(a, b, w, h, &y), g_sink = y.psnr_ycbcr; break;
    case 1: g_sink = metrics_ciede2000_rgb8(a, b, w, h); break;
    case 2: metrics_butteraugli_rgb8(a, b, w, h, &mx, &p3), g_sink = mx + p3; break;
    default: { /* the PSNR/SSIM/MS-SSIM of the default selection, for comparison */
      metrics_full f;
      metrics_full_rgb8(a, b, w, h, &f);
      g_sink = f.ssim;
    }
    }
    n++;
    t = now_s(CLOCK_THREAD_CPUTIME_ID);
  }
  *wall_ms = 1000.0 * (now_s(CLOCK_MONOTONIC) - w0) / n;
  return 1000.0 * (t - t0) / n;
}

static int cmd_rgb(int argc, char **argv, int timing) {
  int arg = 0, butteraugli = 1;
  if (!timing && argc > 0 && !strcmp(argv[0], "--no-butteraugli")) {
    butteraugli = 0;
    arg++;
  }
  int w, h;
  if (argc - arg != (timing ? 5 : 4) || parse_side(argv[arg], &w) ||
      parse_side(argv[arg + 1], &h)) {
    fprintf(stderr, "usage: metrics_color_cli rgb [--no-butteraugli] WIDTH HEIGHT A.rgb B.rgb\n"
                    "       metrics_color_cli time WIDTH HEIGHT A.rgb B.rgb SECONDS\n");
    return 2;
  }
  const size_t n = (size_t)w * (size_t)h * 3;
  uint8_t *a = read_raw(argv[arg + 2], n);
  uint8_t *b = a ? read_raw(argv[arg + 3], n) : NULL;
  if (!a || !b) {
    free(a);
    return 1;
  }
  int rc = 0;
  if (timing) {
    const double seconds = atof(argv[arg + 4]);
    static const char *const names[] = {"psnr_ycbcr", "ciede2000", "butteraugli",
                                        "psnr_ssim_ms_ssim"};
    for (int k = 0; k < 4; k++) {
      double wall;
      const double cpu = time_metric(k, a, b, w, h, seconds, &wall);
      printf("%s_ms %.4f %.4f\n", names[k], cpu, wall);
    }
  } else {
    metrics_ycbcr y;
    metrics_ycbcr_rgb8(a, b, w, h, &y);
    double mx = NAN, p3 = NAN;
    if (butteraugli && metrics_butteraugli_rgb8(a, b, w, h, &mx, &p3)) {
      fprintf(stderr, "metrics_color_cli: butteraugli failed: %s\n", strerror(errno));
      rc = 1;
    }
    const struct {
      const char *name;
      double v;
    } out[] = {{"mse_y", y.mse_y},           {"mse_cb", y.mse_cb},
               {"mse_cr", y.mse_cr},         {"psnr_y", y.psnr_y},
               {"psnr_cb", y.psnr_cb},       {"psnr_cr", y.psnr_cr},
               {"psnr_ycbcr", y.psnr_ycbcr}, {"ciede2000", metrics_ciede2000_rgb8(a, b, w, h)},
               {"butteraugli_max", mx},      {"butteraugli_3norm", p3}};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
      printf("%s %.17g\n", out[i].name, out[i].v);
  }
  free(a);
  free(b);
  return rc;
}

static int cmd_lab(void) {
  double l1[3], l2[3];
  while (scanf("%lf %lf %lf %lf %lf %lf", &l1[0], &l1[1], &l1[2], &l2[0], &l2[1], &l2[2]) == 6)
    printf("%.17g\n", metrics_ciede2000_lab(l1, l2));
  return ferror(stdin) ? 1 : 0;
}

static int cmd_srgb2lab(void) {
  unsigned r, g, b;
  while (scanf("%u %u %u", &r, &g, &b) == 3) {
    if (r > 255 || g > 255 || b > 255) {
      fprintf(stderr, "metrics_color_cli: %u %u %u is not an 8-bit colour\n", r, g, b);
      return 1;
    }
    const uint8_t rgb[3] = {(uint8_t)r, (uint8_t)g, (uint8_t)b};
    double lab[3];
    metrics_srgb8_to_lab(rgb, lab);
    printf("%.17g %.17g %.17g\n", lab[0], lab[1], lab[2]);
  }
  return ferror(stdin) ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "rgb"))
    return cmd_rgb(argc - 2, argv + 2, 0);
  if (argc >= 2 && !strcmp(argv[1], "time"))
    return cmd_rgb(argc - 2, argv + 2, 1);
  if (argc == 2 && !strcmp(argv[1], "lab"))
    return cmd_lab();
  if (argc == 2 && !strcmp(argv[1], "srgb2lab"))
    return cmd_srgb2lab();
  fprintf(stderr, "usage: metrics_color_cli rgb|lab|srgb2lab|time ... (see the source)\n");
  return 2;
}
