/* loss.c - softmax cross-entropy (computed per row in double, log-sum-exp shifted by the max). */
#include <math.h>

#include "nn_internal.h"

static int check_logits(const nn_tensor *z, const char *what, nn_err *err) {
  if (!z || !z->data || z->n <= 0 || z->c <= 0 || z->h <= 0 || z->w <= 0)
    return nn_err_set(err, NN_E_ARG, "%s: empty logits", what);
  return NN_OK;
}

int nn_softmax_xent(const nn_tensor *logits, const int *labels, double *loss, nn_tensor *grad,
                    nn_err *err) {
  int rc = check_logits(logits, "nn_softmax_xent", err);
  if (rc)
    return rc;
  const int N = logits->n, K = logits->c * logits->h * logits->w;
  if (grad && (grad->n != N || grad->c * grad->h * grad->w != K || !grad->data))
    return nn_err_set(err, NN_E_SHAPE,
                      "nn_softmax_xent: gradient tensor shape differs from logits");
  for (int n = 0; n < N; n++)
    if (labels[n] < 0 || labels[n] >= K)
      return nn_err_set(err, NN_E_ARG, "nn_softmax_xent: label %d of sample %d not in [0, %d)",
                        labels[n], n, K);
  double total = 0;
  for (int n = 0; n < N; n++) {
    const float *z = logits->data + (size_t)n * K;
    double mx = z[0];
    for (int k = 1; k < K; k++)
      mx = z[k] > mx ? z[k] : mx;
    double se = 0;
    for (int k = 0; k < K; k++)
      se += exp(z[k] - mx);
    double lse = mx + log(se);
    total += lse - z[labels[n]];
    if (grad) {
      float *g = grad->data + (size_t)n * K;
      for (int k = 0; k < K; k++)
        g[k] = (float)((exp(z[k] - lse) - (k == labels[n])) / N);
    }
  }
  *loss = total / N;
  return NN_OK;
}

int nn_softmax(const nn_tensor *logits, nn_tensor *probs, nn_err *err) {
  int rc = check_logits(logits, "nn_softmax", err);
  if (rc)
    return rc;
  const int N = logits->n, K = logits->c * logits->h * logits->w;
  if (!probs || !probs->data || probs->n != N || probs->c * probs->h * probs->w != K)
    return nn_err_set(err, NN_E_SHAPE, "nn_softmax: output shape differs from logits");
  for (int n = 0; n < N; n++) {
    const float *z = logits->data + (size_t)n * K;
    double mx = z[0];
    for (int k = 1; k < K; k++)
      mx = z[k] > mx ? z[k] : mx;
    double se = 0;
    for (int k = 0; k < K; k++)
      se += exp(z[k] - mx);
    for (int k = 0; k < K; k++)
      probs->data[(size_t)n * K + k] = (float)(exp(z[k] - mx) / se);
  }
  return NN_OK;
}
