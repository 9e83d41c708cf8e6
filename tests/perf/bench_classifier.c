/* bench_classifier.c - throughput of the nn/ core on a registry classifier architecture
 * (tasks/classifier.h), for comparison with PyTorch (bench_classifier_torch.py, same
 * architectures and measures; bench_vs_torch.py runs both interleaved and tabulates).
 *
 * Three measures, in images/s over --steps timed iterations after --warmup untimed ones:
 *   train  - forward in train mode + softmax cross-entropy + backward + SGD step (momentum 0.9,
 *            Nesterov, weight decay 5e-4: the trainer's defaults, through nn_optim);
 *   infer  - eval-mode forward + softmax;
 *   igrad  - gradient w.r.t. the input through the frozen network in eval mode (forward + CE +
 *            backward, no optimiser step): GSW's use.
 * Inputs are standard-normal, labels uniform, both from a fixed seed.
 *
 * Output: '#' lines for people, then one machine-readable line per item:
 *   c ARCH params N
 *   c ARCH train|infer|igrad IMG_PER_S
 *
 * usage: bench_classifier [--arch NAME] [--threads 2] [--batch 128] [--steps 20] [--warmup 3]
 *                         [--seed 1] [--measure train|infer|igrad]
 * (--measure runs only that one, e.g. for a profiler.)
 * Not a test: run it on a quiet machine. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier.h"
#include "nn.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench {
  nn_net *net;
  nn_optim *opt;
  int logits;
  nn_tensor x, g, probs;
  int *labels;
} bench;

enum { M_TRAIN, M_INFER, M_IGRAD };
static const char *const measure_names[] = {"train", "infer", "igrad"};

/* One iteration of a measure; 0 on success, else prints why and returns non-zero. */
static int step(bench *b, int measure) {
  nn_err err = {0};
  double loss;
  int rc;
  switch (measure) {
  case M_TRAIN:
    nn_net_zero_grad(b->net);
    rc = nn_net_forward(b->net, &b->x, NN_TRAIN);
    if (!rc)
      rc = nn_softmax_xent(nn_net_output(b->net, b->logits), b->labels, &loss, &b->g, &err);
    if (!rc)
      rc = nn_net_backward(b->net, 1, &b->logits, &b->g);
    if (!rc)
      rc = nn_optim_step(b->opt, 0.05f);
    break;
  case M_INFER:
    rc = nn_net_forward(b->net, &b->x, NN_EVAL);
    if (!rc)
      rc = nn_softmax(nn_net_output(b->net, b->logits), &b->probs, &err);
    break;
  default:
    rc = nn_net_forward(b->net, &b->x, NN_EVAL);
    if (!rc)
      rc = nn_softmax_xent(nn_net_output(b->net, b->logits), b->labels, &loss, &b->g, &err);
    if (!rc)
      rc = nn_net_backward(b->net, 1, &b->logits, &b->g);
    if (!rc && !nn_net_grad(b->net, 0)) {
      fprintf(stderr, "bench_classifier: no input gradient after backward\n");
      return 1;
    }
    break;
  }
  if (rc) {
    fprintf(stderr, "bench_classifier: %s step failed: %s\n", measure_names[measure],
            err.code ? err.msg : (nn_net_error(b->net) ? nn_net_error(b->net) : "unknown error"));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"arch", required_argument, 0, 'a'},    {"threads", required_argument, 0, 't'},
      {"batch", required_argument, 0, 'b'},   {"steps", required_argument, 0, 's'},
      {"warmup", required_argument, 0, 'w'},  {"seed", required_argument, 0, 'r'},
      {"measure", required_argument, 0, 'm'}, {0, 0, 0, 0}};
  const char *arch_name = "resnet32-w16";
  int threads = 2, batch = 128, steps = 20, warmup = 3, only = -1, c;
  unsigned long long seed = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'a')
      arch_name = optarg;
    else if (c == 't')
      threads = atoi(optarg);
    else if (c == 'b')
      batch = atoi(optarg);
    else if (c == 's')
      steps = atoi(optarg);
    else if (c == 'w')
      warmup = atoi(optarg);
    else if (c == 'r')
      seed = strtoull(optarg, NULL, 10);
    else if (c == 'm') {
      for (int m = M_TRAIN; m <= M_IGRAD; m++)
        if (strcmp(optarg, measure_names[m]) == 0)
          only = m;
      if (only < 0)
        return 2;
    } else
      return 2;
  }
  if (optind != argc || threads < 1 || batch < 1 || steps < 1 || warmup < 0) {
    fprintf(stderr, "usage: bench_classifier [--arch NAME] [--threads 2] [--batch 128] "
                    "[--steps 20] [--warmup 3] [--seed 1] [--measure train|infer|igrad]\n");
    return 2;
  }
  const classifier_arch *arch = classifier_arch_find(arch_name);
  if (!arch) {
    fprintf(stderr, "bench_classifier: unknown architecture \"%s\"; known:", arch_name);
    for (int i = 0; i < classifier_num_archs(); i++)
      fprintf(stderr, " %s", classifier_arch_at(i)->name);
    fprintf(stderr, "\n");
    return 2;
  }

  nn_err err = {0};
  bench b = {0};
  b.net = classifier_build_net(arch, threads, seed, &b.logits, &err);
  if (!b.net) {
    fprintf(stderr, "bench_classifier: %s\n", err.msg);
    return 1;
  }
  nn_optim_cfg oc = nn_optim_defaults(NN_SGD);
  oc.momentum = 0.9f;
  oc.nesterov = true;
  oc.weight_decay = 5e-4f;
  b.opt = nn_optim_create(b.net, &oc, &err);
  b.labels = malloc(sizeof(int) * (size_t)batch);
  if (!b.opt || !b.labels ||
      nn_tensor_alloc(&b.x, batch, arch->in_c, arch->in_h, arch->in_w, &err) ||
      nn_tensor_alloc(&b.g, batch, arch->num_classes, 1, 1, &err) ||
      nn_tensor_alloc(&b.probs, batch, arch->num_classes, 1, 1, &err)) {
    fprintf(stderr, "bench_classifier: setup failed: %s\n", err.code ? err.msg : "out of memory");
    return 1;
  }
  nn_rng rng;
  nn_rng_seed(&rng, seed);
  for (size_t i = 0; i < nn_tensor_numel(&b.x); i++)
    b.x.data[i] = (float)nn_rng_normal(&rng);
  for (int i = 0; i < batch; i++)
    b.labels[i] = (int)nn_rng_below(&rng, (uint32_t)arch->num_classes);

  const long np = classifier_count_params(b.net);
  printf("# bench_classifier (nn/ on oneDNN): arch %s, %ld parameters, threads %d, batch %d, "
         "%d timed steps after %d warm-up\n",
         arch->name, np, threads, batch, steps, warmup);
  printf("c %s params %ld\n", arch->name, np);
  fflush(stdout);

  int status = 0;
  for (int m = M_TRAIN; m <= M_IGRAD && !status; m++) {
    if (only >= 0 && m != only)
      continue;
    if (m == M_IGRAD) { /* frozen network: only the input gradient is computed */
      nn_net_set_frozen(b.net, true);
      nn_net_set_input_grad(b.net, true);
    }
    for (int i = 0; i < warmup && !status; i++)
      status = step(&b, m);
    const double t0 = now();
    for (int i = 0; i < steps && !status; i++)
      status = step(&b, m);
    const double t = now() - t0;
    if (status)
      break;
    printf("# %s: %d steps in %.3f s, %.2f ms/step\n", measure_names[m], steps, t, 1e3 * t / steps);
    printf("c %s %s %.1f\n", arch->name, measure_names[m], (double)batch * steps / t);
    fflush(stdout);
  }

  free(b.labels);
  nn_tensor_free(&b.x);
  nn_tensor_free(&b.g);
  nn_tensor_free(&b.probs);
  nn_optim_free(b.opt);
  nn_net_free(b.net);
  return status;
}
