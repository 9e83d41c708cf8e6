/* nn_ref.h - double-precision reference executor for an nn_net (tests and debugging only).
 *
 * Runs the same graph with plain loops in double: no oneDNN, no OpenMP, no layout tricks.
 * Tests verify it against central finite differences (where double makes them accurate to
 * ~1e-9) and then compare the fast float kernels against it. */
#ifndef SB_NN_REF_H
#define SB_NN_REF_H

#include "nn.h"

typedef struct nn_refnet {
  nn_net *net; /* structure only; parameters are copied at creation */
  int batch;
  nn_mode mode;
  double **out, **grad;   /* per node, batch-sized */
  double **save;          /* per node: BN mean/invstd (2C), GDN norm */
  int **idx;              /* per node: max-pool argmax */
  double **pval, **pgrad; /* per parameter; pgrad is overwritten by each backward */
  double **aff, **agrad;  /* per node, chaffine only (else NULL): scale then shift (2C), copied
                             at creation like the parameters; agrad: their gradients,
                             overwritten by each backward */
} nn_refnet;

/* Copies the network's current float parameters into double. NULL on failure (err). */
nn_refnet *nn_ref_create(nn_net *net, int batch, nn_err *err);
void nn_ref_free(nn_refnet *r);
/* x is [batch, C, H, W] in double. Train mode also updates running stats in r->pval. */
int nn_ref_forward(nn_refnet *r, const double *x, nn_mode mode);
/* Full backward (every parameter, and the input in r->grad[0]) from gradients seeded at nodes,
 * through the mode of the last forward. */
int nn_ref_backward(nn_refnet *r, int nseeds, const int *nodes, const double *const *grads);
size_t nn_ref_numel(const nn_refnet *r, int node);

#endif
