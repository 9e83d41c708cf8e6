/* Metrics logic and kernel dispatch (docs/metrics.md; definitions in metrics.h).
 *
 * SSIM is computed per channel by streaming rows: each input row becomes the 5 moment rows
 * (x, y, x^2, y^2, x*y), is filtered horizontally into a ring of the last 11 filtered rows, and
 * once 11 rows are in the ring the vertical filter and the SSIM map reduction produce one
 * output row; this runs strip by strip (see METRICS_STRIP). Nothing of image size is ever
 * written in double, except the 1/4-size planes of the MS-SSIM scales.
 *
 * SSIM and MS-SSIM share their first scale (same channels, window and moments): one ssim_plane
 * pass gives both its SSIM map mean and its cs map mean, which metrics_full_rgb8 uses to compute
 * all metrics for the cost of MS-SSIM alone.
 *
 * Everything is double precision. With 8-bit data E[x^2] reaches 65025 while C2 is only 58.5,
 * so var = E[x^2] - E[x]^2 cancels badly in float32: measured against the reference, float32
 * separable filtering was off by up to 2.8e-4 in SSIM on near-flat bright 11x11 images, and
 * still 7.8e-5 with the data centred at 128; in double the error is ~1e-12. */
#include "metrics.h"
#include "metrics_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const double metrics_ms_ssim_weights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

/* ---- dispatch ------------------------------------------------------------------------------ */

/* The only mutable global of the module: written once under pthread_once, read-only after. */
static metrics_kernels g_kernels;
static pthread_once_t g_kernels_once = PTHREAD_ONCE_INIT;

static void kernels_init_once(void) {
  metrics_kernels k;
  metrics_kernels_init_scalar(&k);
  if (metrics_cpu_has_avx2()) {
    metrics_kernels_init_avx2(&k);
    if (metrics_cpu_has_avx512()) /* upgrades the filters, keeps the avx2 sse kernel */
      metrics_kernels_init_avx512(&k);
  }
  g_kernels = k;
}

const metrics_kernels *metrics_kernels_get(void) {
  pthread_once(&g_kernels_once, kernels_init_once);
  return &g_kernels;
}

int metrics_kernels_by_name(const char *name, metrics_kernels *k) {
  if (!name || !k)
    return -1;
  metrics_kernels t;
  metrics_kernels_init_scalar(&t);
  if (strcmp(name, "scalar") == 0) {
    *k = t;
    return 0;
  }
  if (strcmp(name, "avx2") == 0 && metrics_cpu_has_avx2()) {
    metrics_kernels_init_avx2(&t);
    *k = t;
    return 0;
  }
  if (strcmp(name, "avx512") == 0 && metrics_cpu_has_avx2() && metrics_cpu_has_avx512()) {
    metrics_kernels_init_avx2(&t); /* avx512 set keeps the avx2 sse kernel */
    metrics_kernels_init_avx512(&t);
    *k = t;
    return 0;
  }
  return -1;
}

const char *metrics_kernel_name(void) { return metrics_kernels_get()->name; }

/* ---- arguments ----------------------------------------------------------------------------- */

int metrics_check_args(const uint8_t *a, const uint8_t *b, int width, int height) {
  /* The size bound keeps every byte and double index (up to 8 planes of doubles) in size_t. */
  if (!a || !b || width <= 0 || height <= 0 ||
      (size_t)width > SIZE_MAX / 64 / (size_t)height / sizeof(double)) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* ---- PSNR ---------------------------------------------------------------------------------- */

double metrics_mse_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                             int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  const size_t n = (size_t)width * (size_t)height * 3;
  return (double)k->sse_u8(a, b, n) / (double)n;
}

double metrics_mse_rgb8(const uint8_t *a, const uint8_t *b, int width, int height) {
  return metrics_mse_rgb8_with(metrics_kernels_get(), a, b, width, height);
}

double metrics_psnr_from_mse(double mse) {
  if (isnan(mse) || mse < 0.0)
    return NAN;
  if (mse == 0.0)
    return METRICS_PSNR_CAP_DB;
  const double psnr = 10.0 * log10(255.0 * 255.0 / mse);
  return psnr < METRICS_PSNR_CAP_DB ? psnr : METRICS_PSNR_CAP_DB;
}

/* ---- SSIM core ----------------------------------------------------------------------------- */

/* One plane of a pair: either channel `channel` of an interleaved RGB8 image or a double plane. */
typedef struct plane_src {
  const uint8_t *u8;
  const double *f64;
  int channel;
} plane_src;

/* Output columns per strip. The plane is processed in vertical strips so that the ring of
 * filtered rows (55 x STRIP doubles, 28 KiB at 64) stays in L1: the vertical filter reads each
 * ring row 11 times, and from L2 that traffic, not arithmetic, bounded the speed. The cost is
 * re-filtering 10 overlapping columns per strip horizontally. */
#ifndef METRICS_STRIP
#define METRICS_STRIP 64
#endif

static int strip_out(int width) {
  const int ow = width - (METRICS_WIN - 1);
  return ow < METRICS_STRIP ? ow : METRICS_STRIP;
}

/* Scratch for one plane of the given width, all rows 64-byte aligned and padded as the kernel
 * contract in metrics_internal.h requires: 5 prepared input rows (stride prep_stride), the ring
 * of 5 x 11 horizontally filtered rows and 5 vertically filtered rows (stride out_stride). */
static size_t prep_stride(int width) {
  return METRICS_ROUND8(strip_out(width) + (METRICS_WIN - 1)) + 16;
}
static size_t out_stride(int width) { return METRICS_ROUND8(strip_out(width)); }
static size_t scratch_doubles(int width) {
  return METRICS_NMOM * prep_stride(width) +
         (size_t)METRICS_NMOM * (METRICS_WIN + 1) * out_stride(width);
}

/* Zeroed so that the padding lanes SIMD kernels touch always hold finite values. */
static double *scratch_alloc(int max_width) {
  const size_t bytes = (scratch_doubles(max_width) * sizeof(double) + 63) & ~(size_t)63;
  double *p = aligned_alloc(64, bytes);
  if (p)
    memset(p, 0, bytes);
  return p;
}

/* Valid-region means of the SSIM and cs maps of one plane pair (width, height >= 11). */
static void ssim_plane(const metrics_kernels *k, const plane_src *a, const plane_src *b, int width,
                       int height, double *scratch, double *ssim_mean, double *cs_mean) {
  const int ow = width - (METRICS_WIN - 1);
  const size_t rs = prep_stride(width), os = out_stride(width);
  double *const ring = scratch + METRICS_NMOM * rs;
  double *prep[METRICS_NMOM], *vout[METRICS_NMOM];
  const double *prep_c[METRICS_NMOM], *vout_c[METRICS_NMOM];
  /* Ring slot s of moment m, listed twice so that the 11 rows of a window, which start at any
   * slot and wrap around, are always 11 consecutive entries: rows r..r+10 are
   * &slot_c[m][r % 11]. Set up once instead of recomputing 55 pointers per output row. */
  double *slot[METRICS_NMOM][2 * METRICS_WIN];
  const double *slot_c[METRICS_NMOM][2 * METRICS_WIN];
  for (int m = 0; m < METRICS_NMOM; m++) {
    prep_c[m] = prep[m] = scratch + (size_t)m * rs;
    vout_c[m] = vout[m] = ring + ((size_t)METRICS_NMOM * METRICS_WIN + (size_t)m) * os;
    for (int t = 0; t < 2 * METRICS_WIN; t++)
      slot_c[m][t] = slot[m][t] = ring + ((size_t)m * METRICS_WIN + (size_t)(t % METRICS_WIN)) * os;
  }
  const size_t row_bytes = (size_t)width * 3;
  double ssim_sum = 0.0, cs_sum = 0.0;
  for (int x0 = 0; x0 < ow; x0 += METRICS_STRIP) {
    const int sw = ow - x0 < METRICS_STRIP ? ow - x0 : METRICS_STRIP; /* output columns */
    const int iw = sw + (METRICS_WIN - 1);                            /* input columns */
    int in_slot = 0;  /* i % 11: ring slot of filtered row i */
    int out_slot = 0; /* r % 11: ring slot of the first row of output row r's window */
    for (int i = 0; i < height; i++) {
      if (a->u8) {
        const size_t off = (size_t)i * row_bytes + (size_t)x0 * 3 + (size_t)a->channel;
        k->prep_u8(a->u8 + off, b->u8 + off, iw, prep);
      } else {
        const size_t off = (size_t)i * (size_t)width + (size_t)x0;
        k->prep_f64(a->f64 + off, b->f64 + off, iw, prep);
      }
      double *hout[METRICS_NMOM];
      for (int m = 0; m < METRICS_NMOM; m++)
        hout[m] = slot[m][in_slot];
      k->hpass(prep_c, hout, sw);
      in_slot = in_slot == METRICS_WIN - 1 ? 0 : in_slot + 1;
      if (i < METRICS_WIN - 1)
        continue;
      /* Output row r = i - 10; its window is input rows r..i. */
      for (int m = 0; m < METRICS_NMOM; m++)
        k->vfilter(&slot_c[m][out_slot], sw, vout[m]);
      k->ssim_reduce(vout_c, sw, &ssim_sum, &cs_sum);
      out_slot = out_slot == METRICS_WIN - 1 ? 0 : out_slot + 1;
    }
  }
  const double count = (double)ow * (double)(height - (METRICS_WIN - 1));
  *ssim_mean = ssim_sum / count;
  *cs_mean = cs_sum / count;
}

double metrics_ssim_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                              int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  if (width < METRICS_WIN || height < METRICS_WIN)
    return NAN;
  double *scratch = scratch_alloc(width);
  if (!scratch) {
    errno = ENOMEM;
    return NAN;
  }
  double total = 0.0;
  for (int c = 0; c < 3; c++) {
    const plane_src pa = {a, NULL, c}, pb = {b, NULL, c};
    double ssim, cs;
    ssim_plane(k, &pa, &pb, width, height, scratch, &ssim, &cs);
    total += ssim;
  }
  free(scratch);
  return total / 3.0;
}

double metrics_ssim_rgb8(const uint8_t *a, const uint8_t *b, int width, int height) {
  return metrics_ssim_rgb8_with(metrics_kernels_get(), a, b, width, height);
}

/* ---- MS-SSIM ------------------------------------------------------------------------------- */

/* Planes of MS-SSIM scales 2..5 for both images (one channel at a time): ws[j] x hs[j] at
 * offset off[j] of px and of py, j = 1..4 (index 0 is the full-size image itself). */
typedef struct ms_planes {
  int ws[5], hs[5];
  size_t off[5];
  double *px, *py;
} ms_planes;

/* 0, or -1 (errno untouched) if the planes cannot be allocated. */
static int ms_planes_alloc(ms_planes *p, int width, int height) {
  size_t planes = 0;
  p->ws[0] = width;
  p->hs[0] = height;
  p->off[0] = 0;
  for (int j = 1; j < 5; j++) {
    p->ws[j] = p->ws[j - 1] / 2;
    p->hs[j] = p->hs[j - 1] / 2;
    p->off[j] = planes;
    planes += (size_t)p->ws[j] * (size_t)p->hs[j];
  }
  p->px = malloc(2 * planes * sizeof *p->px);
  p->py = p->px ? p->px + planes : NULL;
  return p->px ? 0 : -1;
}

/* 2x2 box average of channel c of an RGB8 image, odd sizes floored. Exact in double. */
static void downsample_u8(const metrics_kernels *k, const uint8_t *img, int width, int height,
                          int c, double *out) {
  const int ow = width / 2, oh = height / 2;
  const size_t stride = (size_t)width * 3;
  for (int i = 0; i < oh; i++) {
    const uint8_t *p = img + (size_t)(2 * i) * stride + (size_t)c;
    k->down_u8(p, p + stride, ow, out + (size_t)i * (size_t)ow);
  }
}

static void downsample_f64(const metrics_kernels *k, const double *in, int width, int height,
                           double *out) {
  const int ow = width / 2, oh = height / 2;
  for (int i = 0; i < oh; i++) {
    const double *p = in + (size_t)(2 * i) * (size_t)width;
    k->down_f64(p, p + width, ow, out + (size_t)i * (size_t)ow);
  }
}

/* The MS-SSIM value of channel c, given cs_1 (the scale-1 cs map mean, which ssim_plane on the
 * full-size channel yields together with its SSIM map mean): scales 2..5 as metrics.h says. */
static double ms_ssim_channel(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int c,
                              double cs1, const ms_planes *p, double *scratch) {
  const int *ws = p->ws, *hs = p->hs;
  const size_t *off = p->off;
  double *const px = p->px, *const py = p->py;
  double value = 1.0;
  value *= pow(cs1 > 0.0 ? cs1 : 0.0, metrics_ms_ssim_weights[0]);
  for (int j = 1; j < 5; j++) {
    if (j == 1) {
      downsample_u8(k, a, ws[0], hs[0], c, px + off[1]);
      downsample_u8(k, b, ws[0], hs[0], c, py + off[1]);
    } else {
      downsample_f64(k, px + off[j - 1], ws[j - 1], hs[j - 1], px + off[j]);
      downsample_f64(k, py + off[j - 1], ws[j - 1], hs[j - 1], py + off[j]);
    }
    double ssim, cs;
    if (ws[j] >= METRICS_WIN && hs[j] >= METRICS_WIN) {
      const plane_src pa = {NULL, px + off[j], c}, pb = {NULL, py + off[j], c};
      ssim_plane(k, &pa, &pb, ws[j], hs[j], scratch, &ssim, &cs);
    } else {
      /* Only the last scale of an image with a 161..175 px side: that axis is 10 px long
       * and its window degenerates to one tap (see metrics.h). The plane is 1/256 of the
       * image, so the direct reference code is cheap enough here. */
      metrics_ref_ssim_plane(px + off[j], py + off[j], ws[j], hs[j],
                             ws[j] >= METRICS_WIN ? METRICS_RADIUS : 0,
                             hs[j] >= METRICS_WIN ? METRICS_RADIUS : 0, &ssim, &cs);
    }
    const double m = j < 4 ? cs : ssim;
    value *= pow(m > 0.0 ? m : 0.0, metrics_ms_ssim_weights[j]);
  }
  return value;
}

double metrics_ms_ssim_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                                 int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  if (width < METRICS_MS_SSIM_MIN_SIDE || height < METRICS_MS_SSIM_MIN_SIDE)
    return NAN;
  ms_planes p;
  const int planes_failed = ms_planes_alloc(&p, width, height);
  double *scratch = scratch_alloc(width);
  if (planes_failed || !scratch) {
    free(p.px);
    free(scratch);
    errno = ENOMEM;
    return NAN;
  }
  double total = 0.0;
  for (int c = 0; c < 3; c++) {
    const plane_src pa = {a, NULL, c}, pb = {b, NULL, c};
    double ssim1, cs1;
    ssim_plane(k, &pa, &pb, width, height, scratch, &ssim1, &cs1);
    total += ms_ssim_channel(k, a, b, c, cs1, &p, scratch);
  }
  free(p.px);
  free(scratch);
  return total / 3.0;
}

double metrics_ms_ssim_rgb8(const uint8_t *a, const uint8_t *b, int width, int height) {
  return metrics_ms_ssim_rgb8_with(metrics_kernels_get(), a, b, width, height);
}

/* ---- all metrics at once ------------------------------------------------------------------- */

/* Each step below is the corresponding separate function's code, in the same order, so the
 * results are bit-identical to theirs (tests/metrics checks it for every kernel set). */
void metrics_full_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int width,
                            int height, metrics_full *out) {
  out->mse = out->psnr = out->ssim = out->ms_ssim = NAN;
  if (metrics_check_args(a, b, width, height))
    return;
  const size_t n = (size_t)width * (size_t)height * 3;
  out->mse = (double)k->sse_u8(a, b, n) / (double)n;
  out->psnr = metrics_psnr_from_mse(out->mse);
  if (width < METRICS_WIN || height < METRICS_WIN)
    return;
  double *scratch = scratch_alloc(width);
  if (!scratch) {
    errno = ENOMEM;
    return;
  }
  int ms = width >= METRICS_MS_SSIM_MIN_SIDE && height >= METRICS_MS_SSIM_MIN_SIDE;
  ms_planes p = {.px = NULL};
  if (ms && ms_planes_alloc(&p, width, height)) {
    errno = ENOMEM; /* SSIM is still computed; only MS-SSIM is lost */
    ms = 0;
  }
  double ssim_total = 0.0, ms_total = 0.0;
  for (int c = 0; c < 3; c++) {
    const plane_src pa = {a, NULL, c}, pb = {b, NULL, c};
    double ssim1, cs1;
    ssim_plane(k, &pa, &pb, width, height, scratch, &ssim1, &cs1);
    ssim_total += ssim1;
    if (ms)
      ms_total += ms_ssim_channel(k, a, b, c, cs1, &p, scratch);
  }
  out->ssim = ssim_total / 3.0;
  if (ms)
    out->ms_ssim = ms_total / 3.0;
  free(p.px);
  free(scratch);
}

void metrics_full_rgb8(const uint8_t *a, const uint8_t *b, int width, int height,
                       metrics_full *out) {
  metrics_full_rgb8_with(metrics_kernels_get(), a, b, width, height, out);
}
