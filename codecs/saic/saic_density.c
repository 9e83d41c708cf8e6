/* saic_density.c - factorized prior: forward, rate and its gradients (see saic_density.h). */
#include "saic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-channel constants derived from the raw parameters once per call. */
typedef struct chan {
  double sp1[3], sg1[3], ta1[3], dta1[3], b1[3]; /* softplus(H), sigmoid(H), tanh(a), 1-tanh^2 */
  double sp2[9], sg2[9], ta2[3], dta2[3], b2[3];
  double sp3[9], sg3[9], ta3[3], dta3[3], b3[3];
  double sp4[3], sg4[3], b4;
} chan;

/* Activations of one evaluation, kept for the backward pass. */
typedef struct act {
  double v;
  double t1[3], g1[3];
  double t2[3], g2[3];
  double t3[3], g3[3];
} act;

static double softplus(double x) { return x > 30 ? x : log1p(exp(x)); }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static void chan_load(const float *p, chan *c) {
  for (int i = 0; i < 3; i++) {
    c->sp1[i] = softplus(p[SAIC_DENSITY_H1 + i]);
    c->sg1[i] = sigmoid(p[SAIC_DENSITY_H1 + i]);
    c->b1[i] = p[SAIC_DENSITY_B1 + i];
    c->ta1[i] = tanh(p[SAIC_DENSITY_A1 + i]);
    c->dta1[i] = 1 - c->ta1[i] * c->ta1[i];
    c->b2[i] = p[SAIC_DENSITY_B2 + i];
    c->ta2[i] = tanh(p[SAIC_DENSITY_A2 + i]);
    c->dta2[i] = 1 - c->ta2[i] * c->ta2[i];
    c->b3[i] = p[SAIC_DENSITY_B3 + i];
    c->ta3[i] = tanh(p[SAIC_DENSITY_A3 + i]);
    c->dta3[i] = 1 - c->ta3[i] * c->ta3[i];
    c->sp4[i] = softplus(p[SAIC_DENSITY_H4 + i]);
    c->sg4[i] = sigmoid(p[SAIC_DENSITY_H4 + i]);
  }
  for (int i = 0; i < 9; i++) {
    c->sp2[i] = softplus(p[SAIC_DENSITY_H2 + i]);
    c->sg2[i] = sigmoid(p[SAIC_DENSITY_H2 + i]);
    c->sp3[i] = softplus(p[SAIC_DENSITY_H3 + i]);
    c->sg3[i] = sigmoid(p[SAIC_DENSITY_H3 + i]);
  }
  c->b4 = p[SAIC_DENSITY_B4];
}

static double mlp_forward(const chan *c, double v, act *a) {
  a->v = v;
  for (int j = 0; j < 3; j++) {
    double z = c->sp1[j] * v + c->b1[j];
    a->t1[j] = tanh(z);
    a->g1[j] = z + c->ta1[j] * a->t1[j];
  }
  for (int i = 0; i < 3; i++) {
    double z = c->b2[i];
    for (int j = 0; j < 3; j++)
      z += c->sp2[3 * i + j] * a->g1[j];
    a->t2[i] = tanh(z);
    a->g2[i] = z + c->ta2[i] * a->t2[i];
  }
  for (int i = 0; i < 3; i++) {
    double z = c->b3[i];
    for (int j = 0; j < 3; j++)
      z += c->sp3[3 * i + j] * a->g2[j];
    a->t3[i] = tanh(z);
    a->g3[i] = z + c->ta3[i] * a->t3[i];
  }
  double logit = c->b4;
  for (int j = 0; j < 3; j++)
    logit += c->sp4[j] * a->g3[j];
  return logit;
}

/* Backward of d(loss)/d(logit) = d: adds parameter gradients to gp (raw parameter layout, in
 * double) and returns d(loss)/dv. */
static double mlp_backward(const chan *c, const act *a, double d, double *gp) {
  double dg3[3], dz3[3], dg2[3] = {0, 0, 0}, dz2[3], dg1[3] = {0, 0, 0}, dz1[3];
  for (int j = 0; j < 3; j++) {
    dg3[j] = d * c->sp4[j];
    gp[SAIC_DENSITY_H4 + j] += d * a->g3[j] * c->sg4[j];
  }
  gp[SAIC_DENSITY_B4] += d;
  for (int i = 0; i < 3; i++) {
    dz3[i] = dg3[i] * (1 + c->ta3[i] * (1 - a->t3[i] * a->t3[i]));
    gp[SAIC_DENSITY_A3 + i] += dg3[i] * a->t3[i] * c->dta3[i];
    gp[SAIC_DENSITY_B3 + i] += dz3[i];
    for (int j = 0; j < 3; j++) {
      gp[SAIC_DENSITY_H3 + 3 * i + j] += dz3[i] * a->g2[j] * c->sg3[3 * i + j];
      dg2[j] += dz3[i] * c->sp3[3 * i + j];
    }
  }
  for (int i = 0; i < 3; i++) {
    dz2[i] = dg2[i] * (1 + c->ta2[i] * (1 - a->t2[i] * a->t2[i]));
    gp[SAIC_DENSITY_A2 + i] += dg2[i] * a->t2[i] * c->dta2[i];
    gp[SAIC_DENSITY_B2 + i] += dz2[i];
    for (int j = 0; j < 3; j++) {
      gp[SAIC_DENSITY_H2 + 3 * i + j] += dz2[i] * a->g1[j] * c->sg2[3 * i + j];
      dg1[j] += dz2[i] * c->sp2[3 * i + j];
    }
  }
  double dv = 0;
  for (int j = 0; j < 3; j++) {
    dz1[j] = dg1[j] * (1 + c->ta1[j] * (1 - a->t1[j] * a->t1[j]));
    gp[SAIC_DENSITY_A1 + j] += dg1[j] * a->t1[j] * c->dta1[j];
    gp[SAIC_DENSITY_B1 + j] += dz1[j];
    gp[SAIC_DENSITY_H1 + j] += dz1[j] * a->v * c->sg1[j];
    dv += dz1[j] * c->sp1[j];
  }
  return dv;
}

void saic_density_init(float *params, int channels, double init_scale, double (*uniform01)(void *),
                       void *rng) {
  static const int width_out[4] = {3, 3, 3, 1};
  static const int h_off[4] = {SAIC_DENSITY_H1, SAIC_DENSITY_H2, SAIC_DENSITY_H3, SAIC_DENSITY_H4};
  static const int h_len[4] = {3, 9, 9, 3};
  double scale = pow(init_scale, 1.0 / 4.0);
  for (int c = 0; c < channels; c++) {
    float *p = params + (size_t)c * SAIC_DENSITY_NPARAM;
    memset(p, 0, SAIC_DENSITY_NPARAM * sizeof *p);
    for (int k = 0; k < 4; k++) {
      float h = (float)log(expm1(1.0 / scale / width_out[k]));
      for (int i = 0; i < h_len[k]; i++)
        p[h_off[k] + i] = h;
    }
    /* Biases in layer order, as CompressAI draws them. */
    for (int i = 0; i < 3; i++)
      p[SAIC_DENSITY_B1 + i] = (float)(uniform01(rng) - 0.5);
    for (int i = 0; i < 3; i++)
      p[SAIC_DENSITY_B2 + i] = (float)(uniform01(rng) - 0.5);
    for (int i = 0; i < 3; i++)
      p[SAIC_DENSITY_B3 + i] = (float)(uniform01(rng) - 0.5);
    p[SAIC_DENSITY_B4] = (float)(uniform01(rng) - 0.5);
  }
}

double saic_density_logit(const float *params, int channel, double x) {
  chan c;
  act a;
  chan_load(params + (size_t)channel * SAIC_DENSITY_NPARAM, &c);
  return mlp_forward(&c, x, &a);
}

/* Likelihood from the two logits, and its derivatives with respect to them. */
static double interval_prob(double l, double u, double *dl, double *du) {
  double s = l + u > 0 ? -1.0 : 1.0;
  double su = sigmoid(s * u), sl = sigmoid(s * l);
  if (du)
    *du = su * (1 - su);
  if (dl)
    *dl = -sl * (1 - sl);
  return s * (su - sl);
}

double saic_density_likelihood(const float *params, int channel, double x) {
  return saic_density_likelihood_step(params, channel, x, 1.0);
}

double saic_density_likelihood_step(const float *params, int channel, double x, double step) {
  chan c;
  act a;
  chan_load(params + (size_t)channel * SAIC_DENSITY_NPARAM, &c);
  double u = mlp_forward(&c, (x + 0.5) * step, &a), l = mlp_forward(&c, (x - 0.5) * step, &a);
  return interval_prob(l, u, NULL, NULL);
}

double saic_density_bits(const float *params, int channels, const float *y, int n, size_t hw,
                         double scale, float *grad_y, float *grad_params, int threads) {
  return saic_density_bits_step(params, channels, y, n, hw, NULL, scale, grad_y, grad_params, NULL,
                                threads);
}

double saic_density_bits_step(const float *params, int channels, const float *y, int n, size_t hw,
                              const float *step, double scale, float *grad_y, float *grad_params,
                              double *grad_step, int threads) {
  double *bits = calloc((size_t)(channels > 0 ? channels : 1), sizeof *bits);
  if (!bits)
    return NAN;
  const double ln2 = log(2.0);
#pragma omp parallel for schedule(static) num_threads(threads > 1 ? threads : 1)
  for (int ch = 0; ch < channels; ch++) {
    chan c;
    chan_load(params + (size_t)ch * SAIC_DENSITY_NPARAM, &c);
    const double st = step ? (double)step[ch] : 1.0;
    double gp[SAIC_DENSITY_NPARAM] = {0};
    double sum = 0, gst = 0;
    const int want_grad = grad_y || grad_params || grad_step;
    for (int s = 0; s < n; s++) {
      const float *ys = y + ((size_t)s * (size_t)channels + (size_t)ch) * hw;
      float *gys = grad_y ? grad_y + ((size_t)s * (size_t)channels + (size_t)ch) * hw : NULL;
      for (size_t i = 0; i < hw; i++) {
        act au, al;
        const double xu = (double)ys[i] + 0.5, xl = (double)ys[i] - 0.5;
        double u = mlp_forward(&c, xu * st, &au);
        double l = mlp_forward(&c, xl * st, &al);
        double dl, du;
        double p = interval_prob(l, u, &dl, &du);
        double pb = p > SAIC_DENSITY_MIN_LIKELIHOOD ? p : SAIC_DENSITY_MIN_LIKELIHOOD;
        sum -= log2(pb);
        if (!want_grad)
          continue;
        double dp = -scale / (ln2 * pb); /* d(scale * bits) / d(likelihood) */
        /* d/d(evaluation point) at the upper and lower bound; the points are (x +- 1/2) step. */
        double gu = mlp_backward(&c, &au, dp * du, gp), gl = mlp_backward(&c, &al, dp * dl, gp);
        if (gys)
          gys[i] = (float)((gu + gl) * st);
        gst += gu * xu + gl * xl;
      }
    }
    bits[ch] = sum;
    if (grad_params) {
      float *g = grad_params + (size_t)ch * SAIC_DENSITY_NPARAM;
      for (int k = 0; k < SAIC_DENSITY_NPARAM; k++)
        g[k] += (float)gp[k];
    }
    if (grad_step)
      grad_step[ch] += gst;
  }
  double total = 0;
  for (int ch = 0; ch < channels; ch++)
    total += bits[ch];
  free(bits);
  return total;
}
