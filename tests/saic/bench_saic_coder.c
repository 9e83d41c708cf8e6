/* bench_saic_coder.c - throughput of the SAIC entropy coder on 32x32-codec latents (96 x 4 x 4,
 * Laplacian tables of mixed scales) and on a larger 192 x 48 x 32 latent (a Kodak-sized image),
 * with the rate against the ideal. Built, not a test: bench_saic_coder [seconds-per-case]. */
#include <time.h>

#include "saic_coder.h"
#include "saic_test_util.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int32_t draw(trng *r, double b) {
  double u = trng_unit(r) - 0.5;
  double x = -b * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
  return (int32_t)floor(x + 0.5);
}

static void run(int C, int H, int W, double seconds) {
  enum { T = 16 };
  trng r = {C};
  saic_cdf_set *set = saic_cdf_set_new(T);
  double scale[T];
  char err[256];
  float pmf[81];
  for (int t = 0; t < T; t++) {
    scale[t] = exp(-2.5 + 5.0 * t / (T - 1));
    double sum = 0;
    for (int v = -40; v <= 40; v++) {
      double a = abs(v) - 0.5, c = abs(v) + 0.5;
      double p =
          v == 0 ? 1 - exp(-0.5 / scale[t]) : 0.5 * (exp(-a / scale[t]) - exp(-c / scale[t]));
      pmf[v + 40] = (float)p;
      sum += p;
    }
    if (saic_cdf_set_from_pmf(set, t, -40, pmf, 81, (float)(1 - sum > 0 ? 1 - sum : 0), err,
                              sizeof err) != SAIC_OK) {
      fprintf(stderr, "%s\n", err);
      exit(2);
    }
  }
  size_t n = (size_t)C * H * W;
  int32_t *idx = malloc((size_t)C * sizeof *idx), *sym = malloc(n * sizeof *sym),
          *dec = malloc(n * sizeof *dec);
  if (!idx || !sym || !dec)
    exit(2);
  double ideal = 0;
  for (int c = 0; c < C; c++)
    idx[c] = c % T;
  for (size_t i = 0; i < n; i++) {
    int t = idx[i / ((size_t)H * W)];
    sym[i] = draw(&r, scale[t]);
    const saic_cdf *tab = saic_cdf_set_get(set, t);
    if (sym[i] >= -40 && sym[i] <= 40)
      ideal += symbol_bits(tab->cdf, (uint32_t)(sym[i] + 40));
    else { /* escape symbol + Elias-gamma bits (saic_coder.h) */
      uint32_t u =
          sym[i] < -40 ? 2u * (uint32_t)(-40 - sym[i] - 1) : 2u * (uint32_t)(sym[i] - 41) + 1;
      int nb = 0;
      while (((u + 1) >> (nb + 1)) != 0)
        nb++;
      ideal += symbol_bits(tab->cdf, 81) + 2 * nb + 1;
    }
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  int reps = 0;
  double t0 = now(), enc_s, dec_s;
  do {
    free(buf);
    if (saic_coder_encode_channels(set, idx, sym, C, H, W, &buf, &len, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      exit(2);
    }
    reps++;
  } while (now() - t0 < seconds);
  enc_s = (now() - t0) / reps;
  reps = 0;
  t0 = now();
  do {
    if (saic_coder_decode_channels(set, idx, buf, len, dec, C, H, W, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      exit(2);
    }
    reps++;
  } while (now() - t0 < seconds);
  dec_s = (now() - t0) / reps;
  int same = memcmp(sym, dec, n * sizeof *sym) == 0;
  printf("%4d x %2d x %2d: %8zu bytes (ideal %10.1f)  encode %7.1f Msym/s  decode %7.1f Msym/s"
         "  %s\n",
         C, H, W, len, ideal / 8, n / enc_s / 1e6, n / dec_s / 1e6, same ? "ok" : "MISMATCH");
  free(buf);
  free(idx);
  free(sym);
  free(dec);
  saic_cdf_set_free(set);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0.5;
  run(96, 4, 4, seconds);
  run(192, 48, 32, seconds);
  return 0;
}
