/* bench_peak.c - the float32 multiply-add peak of one core of this machine, for reading the
 * GFLOP/s of the other benchmarks against (docs/development.md).
 *
 * Twelve independent accumulator chains of fused multiply-adds (enough to cover the FMA latency
 * on current x86 cores), 16 floats per AVX-512 vector or 8 per AVX2 vector, --seconds per round,
 * --rounds rounds, one thread. Prints one line per instruction set:
 *   peak avx512|avx2 GFLOPS_BEST GFLOPS_MEDIAN
 * (2 FLOP per lane per FMA). An ISA the CPU lacks is skipped. The compiler builds each loop with
 * a target attribute, so the build needs no -m flags.
 *
 * usage: bench_peak [--seconds 1] [--rounds 5]
 * Not a test: run it on a quiet machine; under contention it shows the share of a core it got. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { CHAINS = 12, INNER = 1 << 20 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile float sink;

/* GFLOP/s of FMA chains of width 16 for about `seconds`. */
__attribute__((target("avx512f"))) static double run_avx512(double seconds) {
  __m512 acc[CHAINS];
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
  for (int i = 0; i < CHAINS; i++)
    acc[i] = _mm512_set1_ps((float)i);
  long iters = 0;
  const double t0 = now();
  double t;
  do {
    for (int k = 0; k < INNER; k++)
#pragma GCC unroll 12
      for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    iters += INNER;
    t = now() - t0;
  } while (t < seconds);
  float s = 0.f;
  for (int i = 0; i < CHAINS; i++)
    s += _mm512_reduce_add_ps(acc[i]);
  sink = s;
  return (double)iters * CHAINS * 16 * 2 / t * 1e-9;
}

__attribute__((target("avx2,fma"))) static double run_avx2(double seconds) {
  __m256 acc[CHAINS];
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
  for (int i = 0; i < CHAINS; i++)
    acc[i] = _mm256_set1_ps((float)i);
  long iters = 0;
  const double t0 = now();
  double t;
  do {
    for (int k = 0; k < INNER; k++)
#pragma GCC unroll 12
      for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    iters += INNER;
    t = now() - t0;
  } while (t < seconds);
  float out[8], s = 0.f;
  for (int i = 0; i < CHAINS; i++) {
    _mm256_storeu_ps(out, acc[i]);
    for (int j = 0; j < 8; j++)
      s += out[j];
  }
  sink = s;
  return (double)iters * CHAINS * 8 * 2 / t * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  double seconds = 1.0;
  int rounds = 5;
  static const struct option opts[] = {
      {"seconds", required_argument, 0, 's'}, {"rounds", required_argument, 0, 'r'}, {0, 0, 0, 0}};
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    if (c == 's')
      seconds = atof(optarg);
    else if (c == 'r')
      rounds = atoi(optarg);
    else {
      fprintf(stderr, "usage: bench_peak [--seconds 1] [--rounds 5]\n");
      return 2;
    }
  }
  if (!(seconds > 0) || rounds < 1 || rounds > 1000) {
    fprintf(stderr, "bench_peak: --seconds must be > 0 and --rounds 1..1000\n");
    return 2;
  }
  double *r512 = calloc((size_t)rounds, sizeof *r512), *r256 = calloc((size_t)rounds, sizeof *r256);
  if (!r512 || !r256) {
    fprintf(stderr, "bench_peak: out of memory\n");
    return 1;
  }
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f"),
            has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  printf("# float32 FMA peak of one thread: %d chains, %d rounds of %g s, interleaved\n", CHAINS,
         rounds, seconds);
  for (int r = 0; r < rounds; r++) { /* interleaved, so a change in load hits both */
    if (has512)
      r512[r] = run_avx512(seconds);
    if (has2)
      r256[r] = run_avx2(seconds);
  }
  const char *names[2] = {"avx512", "avx2"};
  double *res[2] = {r512, r256};
  const int has[2] = {has512, has2};
  for (int k = 0; k < 2; k++) {
    if (!has[k])
      continue;
    qsort(res[k], (size_t)rounds, sizeof(double), cmp_double);
    printf("peak %s %.1f %.1f\n", names[k], res[k][rounds - 1], res[k][rounds / 2]);
  }
  free(r512);
  free(r256);
  return 0;
}
#else
int main(void) {
  fprintf(stderr, "bench_peak: x86-64 only\n");
  return 1;
}
#endif
