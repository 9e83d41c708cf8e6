/* train_loop.c - the epoch and step loop both trainers run (see train_loop.h). */
#include "train_loop.h"

#include <stdlib.h>

#include "train_util.h"

/* Fills x and labels with the images perm[first .. first + batch - 1]. */
static void fill_batch(const train_loop_spec *s, const train_loop_hooks *h, void *ctx,
                       const uint32_t *perm, size_t first, nn_tensor *x, int *labels) {
  const size_t img_bytes = (size_t)s->w * (size_t)s->h * 3;
  for (int b = 0; b < s->batch; b++) {
    const size_t idx = perm[first + (size_t)b];
    h->load(ctx, s->rgb + idx * img_bytes, x->data + (size_t)b * img_bytes);
    labels[b] = s->labels ? s->labels[idx] : 0;
  }
}

static void report_progress(const train_loop_spec *s, const train_loop_state *st,
                            const train_loop_hooks *h, void *ctx, const train_util_clock *clk,
                            double ep_start, long window, float lr) {
  train_loop_progress p = {.epoch = *st->epoch + 1,
                           .step = *st->step,
                           .total_steps = clk->total_steps,
                           .window_steps = window,
                           .lr = lr};
  const double now = train_util_now_s();
  p.img_per_s = train_util_progress(clk, *st->step, now, *st->train_seconds + (now - ep_start),
                                    p.elapsed, p.eta, sizeof p.eta);
  h->progress(ctx, s->log, &p);
}

/* One epoch's steps; *loss_sum receives the sum of the step losses. */
static int run_epoch(const train_loop_spec *s, const train_loop_state *st,
                     const train_loop_hooks *h, void *ctx, const train_util_clock *clk,
                     uint32_t *perm, nn_tensor *xraw, nn_tensor *xaug, int *labels, double ep_start,
                     double *loss_sum, nn_err *err) {
  const long steps = (long)(s->n / (size_t)s->batch);
  const bool augment = s->crop_pad > 0 || s->flip;
  long window = 0;
  *loss_sum = 0;
  train_util_shuffle(st->rng, perm, s->n);
  for (long k = 0; k < steps; k++) {
    fill_batch(s, h, ctx, perm, (size_t)k * (size_t)s->batch, xraw, labels);
    nn_tensor *x = xraw;
    int rc;
    if (augment) {
      if ((rc = nn_augment_crop_flip(st->rng, xraw, xaug, s->crop_pad, s->flip, err)) != NN_OK)
        return rc;
      x = xaug;
    }
    const float lr = nn_lr_at(s->sched, *st->step);
    double loss = 0;
    if ((rc = h->step(ctx, x, labels, lr, &loss, err)) != NN_OK)
      return rc;
    ++*st->step;
    *loss_sum += loss;
    window++;
    if (s->log && (window >= s->log_every || k == steps - 1)) {
      report_progress(s, st, h, ctx, clk, ep_start, window, lr);
      window = 0;
    }
  }
  return NN_OK;
}

int train_loop_run(const train_loop_spec *s, train_loop_state st, const train_loop_hooks *h,
                   void *ctx, nn_err *err) {
  const long steps = (long)(s->n / (size_t)s->batch);
  nn_tensor xraw = {0}, xaug = {0};
  int *labels = malloc(sizeof(int) * (size_t)s->batch);
  uint32_t *perm = malloc(sizeof(uint32_t) * (s->n ? s->n : 1));
  int rc = NN_OK;
  if (!labels || !perm) {
    rc = nn_err_set(err, NN_E_NOMEM, "out of memory");
    goto done;
  }
  if ((rc = nn_tensor_alloc(&xraw, s->batch, 3, s->h, s->w, err)) != NN_OK ||
      (rc = nn_tensor_alloc(&xaug, s->batch, 3, s->h, s->w, err)) != NN_OK)
    goto done;
  const train_util_clock clk = {train_util_now_s(), *st.step, steps * s->epochs, s->batch};
  while (*st.epoch < s->epochs) {
    const double ep_start = train_util_now_s();
    if (h->begin_epoch)
      h->begin_epoch(ctx);
    double loss_sum;
    if ((rc = run_epoch(s, &st, h, ctx, &clk, perm, &xraw, &xaug, labels, ep_start, &loss_sum,
                        err)) != NN_OK)
      goto done;
    ++*st.epoch;
    train_loop_epoch e = {.epoch = *st.epoch,
                          .last = *st.epoch == s->epochs,
                          .steps = steps,
                          .batch = s->batch,
                          .mean_loss = loss_sum / (double)steps,
                          .start = ep_start,
                          .train_time = train_util_now_s() - ep_start};
    e.save_last = e.epoch % s->checkpoint_every == 0 || e.last || e.epoch == s->stop_after_epoch;
    if (h->evaluate && (rc = h->evaluate(ctx, &e, err)) != NN_OK)
      goto done;
    *st.train_seconds += train_util_now_s() - ep_start;
    if ((rc = h->end_epoch(ctx, &e, err)) != NN_OK)
      goto done;
    if (s->stop_after_epoch > 0 && *st.epoch >= s->stop_after_epoch)
      break;
  }
done:
  nn_tensor_free(&xraw);
  nn_tensor_free(&xaug);
  free(labels);
  free(perm);
  return rc;
}
