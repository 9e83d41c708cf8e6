/* optim.c - SGD(momentum, Nesterov), Adam, AdamW with PyTorch's update rules; LR schedules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

struct nn_optim {
  nn_net *net;
  nn_optim_cfg cfg;
  long step;
  int nparams;
  float **m, **v; /* per parameter state (momentum buffer / Adam moments), NULL for buffers */
};

nn_optim_cfg nn_optim_defaults(nn_optim_kind kind) {
  nn_optim_cfg c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.momentum = kind == NN_SGD ? 0.9f : 0.f;
  c.beta1 = 0.9f;
  c.beta2 = 0.999f;
  c.eps = 1e-8f;
  for (int g = 0; g < NN_MAX_GROUPS; g++)
    c.group_lr_mult[g] = 1.f;
  return c;
}

void nn_optim_free(nn_optim *o) {
  if (!o)
    return;
  for (int i = 0; i < o->nparams; i++) {
    if (o->m)
      nn_aligned_free(o->m[i]);
    if (o->v)
      nn_aligned_free(o->v[i]);
  }
  free(o->m);
  free(o->v);
  free(o);
}

nn_optim *nn_optim_create(nn_net *net, const nn_optim_cfg *cfg, nn_err *err) {
  if (cfg->kind < NN_SGD || cfg->kind > NN_ADAMW || cfg->momentum < 0 || cfg->momentum >= 1 ||
      cfg->weight_decay < 0 ||
      (cfg->kind != NN_SGD && (cfg->beta1 < 0 || cfg->beta1 >= 1 || cfg->beta2 < 0 ||
                               cfg->beta2 >= 1 || !(cfg->eps > 0)))) {
    nn_err_set(err, NN_E_ARG, "nn_optim_create: invalid configuration");
    return NULL;
  }
  if (cfg->nesterov && (cfg->kind != NN_SGD || cfg->momentum <= 0)) {
    nn_err_set(err, NN_E_ARG, "nn_optim_create: Nesterov needs SGD with momentum > 0");
    return NULL;
  }
  nn_optim *o = calloc(1, sizeof *o);
  if (!o)
    goto nomem;
  o->net = net;
  o->cfg = *cfg;
  o->nparams = nn_net_num_params(net);
  o->m = calloc((size_t)o->nparams + 1, sizeof *o->m);
  o->v = calloc((size_t)o->nparams + 1, sizeof *o->v);
  if (!o->m || !o->v)
    goto nomem;
  for (int i = 0; i < o->nparams; i++) {
    nn_param *p = nn_net_param(net, i);
    if (p->buffer)
      continue;
    size_t bytes = sizeof(float) * nn_tensor_numel(&p->value);
    if ((cfg->kind != NN_SGD || cfg->momentum > 0) && !(o->m[i] = nn_aligned_alloc(bytes)))
      goto nomem;
    if (cfg->kind != NN_SGD && !(o->v[i] = nn_aligned_alloc(bytes)))
      goto nomem;
  }
  return o;
nomem:
  nn_optim_free(o);
  nn_err_set(err, NN_E_NOMEM, "nn_optim_create: out of memory");
  return NULL;
}

long nn_optim_steps(const nn_optim *o) { return o->step; }

float *nn_optim_state(nn_optim *o, int i, int which) {
  if (!o || i < 0 || i >= o->nparams || which < 0 || which > 1)
    return NULL;
  return which == 0 ? o->m[i] : o->v[i];
}

void nn_optim_set_steps(nn_optim *o, long steps) { o->step = steps < 0 ? 0 : steps; }

int nn_optim_step(nn_optim *o, float lr) {
  if (nn_net_num_params(o->net) != o->nparams)
    return nn_err_set(&o->net->err, NN_E_STATE,
                      "nn_optim_step: the network gained parameters after the optimiser was made");
  const nn_optim_cfg *c = &o->cfg;
  const long t = ++o->step;
  o->net->param_gen++;
  const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
  for (int i = 0; i < o->nparams; i++) {
    nn_param *p = nn_net_param(o->net, i);
    if (p->buffer || p->frozen)
      continue;
    float mult = c->group_lr_mult[p->group] > 0 ? c->group_lr_mult[p->group] : 1.f;
    const float a = lr * mult;
    /* Weight decay skips biases and normalisation parameters (nn_param.no_decay). */
    const float wd = p->no_decay ? 0.f : c->weight_decay;
    const size_t n = nn_tensor_numel(&p->value);
    float *w = p->value.data, *g = p->grad.data, *m = o->m[i], *v = o->v[i];
    if (c->kind == NN_SGD) {
      const float mu = c->momentum;
      for (size_t j = 0; j < n; j++) {
        float d = g[j] + wd * w[j];
        if (m) {
          m[j] = t == 1 ? d : mu * m[j] + d; /* torch: the buffer starts as the first gradient */
          d = c->nesterov ? d + mu * m[j] : m[j];
        }
        w[j] -= a * d;
      }
    } else {
      const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
      const float step_size = (float)(a / bc1), sbc2 = (float)sqrt(bc2);
      const bool decoupled = c->kind == NN_ADAMW;
      for (size_t j = 0; j < n; j++) {
        float d = g[j];
        if (decoupled)
          w[j] *= 1.f - a * wd;
        else
          d += wd * w[j];
        m[j] = b1 * m[j] + (1.f - b1) * d;
        v[j] = b2 * v[j] + (1.f - b2) * d * d;
        w[j] -= step_size * m[j] / (sqrtf(v[j]) / sbc2 + eps);
      }
    }
  }
  return NN_OK;
}

float nn_lr_at(const nn_lr_sched *s, long step) {
  if (step < 0)
    step = 0;
  if (step < s->warmup_steps)
    return s->base_lr *
           (s->warmup_start + (1.f - s->warmup_start) * (float)step / (float)s->warmup_steps);
  long t = step - s->warmup_steps;
  switch (s->kind) {
  case NN_LR_STEP:
    return s->step_size > 0 ? s->base_lr * powf(s->gamma, (float)(t / s->step_size)) : s->base_lr;
  case NN_LR_COSINE: {
    long T = s->total_steps - s->warmup_steps;
    if (T <= 0 || t >= T)
      return s->min_lr;
    return (float)(s->min_lr +
                   (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * (double)t / (double)T)));
  }
  default: return s->base_lr;
  }
}
