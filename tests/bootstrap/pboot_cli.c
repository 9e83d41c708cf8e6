/* pboot_cli - runs metrics_pboot_compute on a text file, for test_pboot_numpy.py.
 *
 * usage: pboot_cli FILE
 * FILE: a line "n n_classes rounds seed level", then n lines "label orig pred_a pred_b psnr_a
 * psnr_b". Prints "accuracy|si_norm|psnr delta lo hi" with 17 significant digits. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pboot_cli FILE\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  size_t n;
  int k, rounds;
  uint64_t seed;
  double level;
  if (fscanf(f, "%zu %d %d %" SCNu64 " %lf", &n, &k, &rounds, &seed, &level) != 5 || n == 0 ||
      n > 10000000) {
    fprintf(stderr, "%s: bad first line\n", argv[1]);
    return 2;
  }
  int *lab = malloc(n * sizeof *lab), *orig = malloc(n * sizeof *orig);
  int *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
  double *qa = malloc(n * sizeof *qa), *qb = malloc(n * sizeof *qb);
  if (!lab || !orig || !pa || !pb || !qa || !qb)
    return 2;
  for (size_t i = 0; i < n; i++)
    if (fscanf(f, "%d %d %d %d %lf %lf", &lab[i], &orig[i], &pa[i], &pb[i], &qa[i], &qb[i]) != 6) {
      fprintf(stderr, "%s: bad line %zu\n", argv[1], i + 2);
      return 2;
    }
  fclose(f);
  metrics_pboot_input in = {n, k, lab, orig, {pa, qa}, {pb, qb}};
  metrics_pboot_result r;
  if (metrics_pboot_compute(&in, rounds, seed, level, &r) != 0) {
    perror("metrics_pboot_compute");
    return 1;
  }
  printf("accuracy %.17g %.17g %.17g\n", r.accuracy.delta, r.accuracy.lo, r.accuracy.hi);
  printf("si_norm %.17g %.17g %.17g\n", r.si_norm.delta, r.si_norm.lo, r.si_norm.hi);
  printf("psnr %.17g %.17g %.17g\n", r.psnr.delta, r.psnr.lo, r.psnr.hi);
  free(lab);
  free(orig);
  free(pa);
  free(pb);
  free(qa);
  free(qb);
  return 0;
}
