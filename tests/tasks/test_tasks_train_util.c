/* test_tasks_train_util.c - the helpers both trainers share (train/train_util.c): h:mm:ss
 * formatting, progress fields, the rng hex round trip and its refusals, the epoch shuffle (a
 * permutation, drawn exactly as the trainers always did), nested output folders, checkpoint
 * resume checks with their messages, and the common command line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "sb_test.h"
#include "train_util.h"

static void test_hms(void) {
  char b[32];
  const struct {
    double s;
    const char *want;
  } cases[] = {{0, "00:00:00"},    {0.49, "00:00:00"}, {0.5, "00:00:01"}, {59.5, "00:01:00"},
               {3661, "01:01:01"}, {-5, "00:00:00"},   {1e9, "00:00:00"}, {360000, "100:00:00"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    train_util_fmt_hms(cases[i].s, b, sizeof b);
    CHECK(strcmp(b, cases[i].want) == 0);
  }
  train_util_fmt_hms(NAN, b, sizeof b);
  CHECK(strcmp(b, "00:00:00") == 0);

  /* 10 steps of 4 images in 20 s, 30 more steps to go: 2 img/s, 60 s left. */
  train_util_clock clk = {100.0, 5, 45, 4};
  char el[32], eta[32];
  double rate = train_util_progress(&clk, 15, 120.0, 3725.0, el, eta, sizeof el);
  CHECK(rate == 2.0);
  CHECK(strcmp(el, "01:02:05") == 0 && strcmp(eta, "00:01:00") == 0);
  rate = train_util_progress(&clk, 5, 120.0, 0, el, eta, sizeof el); /* nothing done yet */
  CHECK(rate == 0 && strcmp(eta, "00:00:00") == 0);
  CHECK(train_util_now_s() > 0);
}

static void test_rng_hex(void) {
  nn_rng r, back;
  nn_rng_seed(&r, 42);
  nn_rng_next(&r);
  char hex[80];
  train_util_rng_to_hex(&r, hex, sizeof hex);
  CHECK(strlen(hex) == 64);
  CHECK(train_util_rng_from_hex(hex, &back) == 0 && memcmp(&r, &back, sizeof r) == 0);
  const nn_rng fixed = {{0x0123456789abcdefULL, 0, UINT64_MAX, 1}};
  train_util_rng_to_hex(&fixed, hex, sizeof hex);
  CHECK(strcmp(hex, "0123456789abcdef0000000000000000ffffffffffffffff0000000000000001") == 0);
  CHECK(train_util_rng_from_hex(hex, &back) == 0 && memcmp(&fixed, &back, sizeof back) == 0);
  /* Refused: missing, too short, too long, a non-hex digit. */
  CHECK(train_util_rng_from_hex(NULL, &back) == -1);
  CHECK(train_util_rng_from_hex("0123", &back) == -1);
  char longer[sizeof hex + 1];
  memcpy(longer, hex, 64);
  memcpy(longer + 64, "0", 2);
  CHECK(train_util_rng_from_hex(longer, &back) == -1);
  hex[20] = 'g';
  CHECK(train_util_rng_from_hex(hex, &back) == -1);
}

static void test_shuffle(void) {
  enum { N = 50 };
  uint32_t perm[N], ref[N];
  nn_rng a, b;
  nn_rng_seed(&a, 9);
  b = a;
  train_util_shuffle(&a, perm, N);
  /* The trainers' original Fisher-Yates, draw for draw. */
  for (size_t i = 0; i < N; i++)
    ref[i] = (uint32_t)i;
  for (size_t i = N - 1; i > 0; i--) {
    size_t j = nn_rng_below(&b, (uint32_t)(i + 1));
    uint32_t t = ref[i];
    ref[i] = ref[j];
    ref[j] = t;
  }
  CHECK(memcmp(perm, ref, sizeof perm) == 0 && memcmp(&a, &b, sizeof a) == 0);
  int seen[N] = {0};
  for (int i = 0; i < N; i++)
    seen[perm[i] < N ? perm[i] : 0]++;
  for (int i = 0; i < N; i++)
    CHECK(seen[i] == 1);
  /* One element draws nothing. */
  nn_rng_seed(&a, 9);
  b = a;
  train_util_shuffle(&a, perm, 1);
  CHECK(perm[0] == 0 && memcmp(&a, &b, sizeof a) == 0);
}

static void test_dirs_and_ckpt(const char *base) {
  char dir[600], path[700];
  nn_err err = {0};
  snprintf(dir, sizeof dir, "%s/x/y/z", base);
  CHECK(train_util_ensure_dir(dir, &err) == NN_OK);
  CHECK(train_util_ensure_dir(dir, &err) == NN_OK); /* existing: fine */
  struct stat sb;
  CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
  snprintf(path, sizeof path, "%s/file", base);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f)
    fclose(f);
  snprintf(dir, sizeof dir, "%s/file/sub", base);
  CHECK(train_util_ensure_dir(dir, &err) == NN_E_IO && strstr(err.msg, "cannot create") != NULL);

  snprintf(path, sizeof path, "%s/last.ckpt", base);
  CHECK(train_util_check_resume(path, &err) == NN_E_IO);
  CHECK(strstr(err.msg, "--resume, but there is no checkpoint") != NULL);

  /* A checkpoint with a 2x3 tensor "optim.m.w" and metadata from train_util_meta_opts. */
  nn_net *net = nn_net_create(1, 1, 1, 1, &err);
  CHECK(net != NULL);
  if (!net)
    return;
  int dims[4] = {2, 3, 1, 1};
  nn_net_add_param(net, "optim.m.w", 2, dims, true);
  float *w = nn_net_param(net, 0)->value.data;
  for (int i = 0; i < 6; i++)
    w[i] = (float)i + 0.5f;
  train_util_opts o = {.command = "cmd", .dataset_hash = "h1"};
  nn_kv kv[4] = {{"arch", "test"}};
  int n = 1 + train_util_meta_opts(&o, kv + 1);
  CHECK(n == 3 && strcmp(kv[1].key, "command") == 0 && strcmp(kv[2].key, "dataset_hash") == 0);
  o.config_text = "a: 1\n";
  CHECK(train_util_meta_opts(&o, kv) == 3 && strcmp(kv[1].key, "config") == 0);
  kv[0] = (nn_kv){"arch", "test"};
  kv[1] = (nn_kv){"dataset_hash", "h1"};
  kv[2] = (nn_kv){"config", "a: 1\n"};
  CHECK(nn_ckpt_save(path, net, kv, 3, &err) == NN_OK);
  nn_net_free(net);
  CHECK(train_util_check_resume(path, &err) == NN_OK);
  nn_ckpt *ck = NULL;
  CHECK(nn_ckpt_read(path, &ck, &err) == NN_OK);
  if (!ck)
    return;
  CHECK(train_util_check_dataset(ck, &o, "P", "", &err) == NN_OK);
  o.dataset_hash = "h2";
  CHECK(train_util_check_dataset(ck, &o, "P", "cannot resume: ", &err) == NN_E_FORMAT);
  CHECK(strcmp(err.msg, "cannot resume: P: trained on data with hash h1, this data has hash h2") ==
        0);
  o.dataset_hash = NULL; /* nothing to compare */
  CHECK(train_util_check_dataset(ck, &o, "P", "", &err) == NN_OK);

  char logbuf[512] = "";
  FILE *log = fmemopen(logbuf, sizeof logbuf, "w");
  o.log = log;
  train_util_warn_config(ck, &o, "P"); /* same text: silent */
  o.config_text = "a: 2\n";
  train_util_warn_config(ck, &o, "P");
  fclose(log);
  CHECK(strcmp(logbuf, "warning: P was written with a different configuration; continuing with "
                       "the current one\n") == 0);

  float st[6] = {0};
  CHECK(train_util_restore_state(ck, "optim.m.w", st, 6, "P", "", &err) == NN_OK);
  CHECK(st[0] == 0.5f && st[5] == 5.5f);
  CHECK(train_util_restore_state(ck, "optim.v.w", st, 6, "P", "", &err) == NN_E_FORMAT);
  CHECK(strcmp(err.msg, "P: optimiser state \"optim.v.w\" missing") == 0);
  CHECK(train_util_restore_state(ck, "optim.m.w", st, 5, "P", "x: ", &err) == NN_E_FORMAT);
  CHECK(strcmp(err.msg, "x: P: optimiser state \"optim.m.w\" has the wrong size") == 0);
  nn_ckpt_free(ck);
}

static void usage(FILE *f) { fprintf(f, "usage: test\n"); }

typedef struct extra_ctx {
  long limit;
} extra_ctx;

static int extra(void *ctx, const char *prog, int argc, char **argv, int *i) {
  if (*i + 1 < argc && strcmp(argv[*i], "--limit") == 0) {
    const char *opt = argv[*i];
    return train_util_parse_count(prog, opt, argv[++*i], 1, 10, &((extra_ctx *)ctx)->limit) ? -1
                                                                                            : 1;
  }
  return 0;
}

static bool parse(int argc, const char **args, train_util_args *a, extra_ctx *x, int *status) {
  return train_util_parse_args(argc, (char **)args, "train test", "def-out", usage, extra, x, a,
                               status);
}

static void test_args(const char *base) {
  train_util_args a;
  extra_ctx x = {0};
  int st;
  unsetenv("SAICBENCH_DATA");
  const char *ok[] = {"test", "--config", "c.yaml",  "--data", "D",     "--threads",
                      "3",    "--resume", "--limit", "7",      "--out", "O"};
  CHECK(parse(12, ok, &a, &x, &st) && st == 0);
  CHECK(strcmp(a.config, "c.yaml") == 0 && strcmp(a.data, "D") == 0 && strcmp(a.out, "O") == 0);
  CHECK(a.resume && a.threads == 3 && x.limit == 7);
  const char *defaults[] = {"test", "--config", "c.yaml"};
  setenv("SAICBENCH_DATA", "ENV", 1);
  CHECK(parse(3, defaults, &a, &x, &st));
  CHECK(strcmp(a.data, "ENV") == 0 && strcmp(a.out, "def-out") == 0 && !a.resume && a.threads >= 1);
  /* Errors: exit status 2; --help: 0. (Messages go to stdout/stderr.) */
  const char *no_data[] = {"test", "--config", "c.yaml"};
  unsetenv("SAICBENCH_DATA");
  CHECK(!parse(3, no_data, &a, &x, &st) && st == 2);
  const char *no_config[] = {"test", "--data", "D"};
  CHECK(!parse(3, no_config, &a, &x, &st) && st == 2);
  const char *bad_threads[] = {"test", "--threads", "0", "--config", "c"};
  CHECK(!parse(5, bad_threads, &a, &x, &st) && st == 2);
  const char *bad_threads2[] = {"test", "--threads", "2x"};
  CHECK(!parse(3, bad_threads2, &a, &x, &st) && st == 2);
  const char *bad_extra[] = {"test", "--limit", "11"};
  CHECK(!parse(3, bad_extra, &a, &x, &st) && st == 2);
  const char *unknown[] = {"test", "--bogus"};
  CHECK(!parse(2, unknown, &a, &x, &st) && st == 2);
  const char *incomplete[] = {"test", "--config"};
  CHECK(!parse(2, incomplete, &a, &x, &st) && st == 2);
  const char *help[] = {"test", "--bogus", "-h"};
  CHECK(!parse(3, help, &a, &x, &st) && st == 2); /* read in order: the error comes first */
  const char *help2[] = {"test", "-h", "--bogus"};
  CHECK(!parse(3, help2, &a, &x, &st) && st == 0);
  long v = -1;
  CHECK(train_util_parse_count("p", "--n", "", 1, 5, &v) == -1 && v == -1);
  CHECK(train_util_parse_count("p", "--n", "99999999999999999999999", 1, 5, &v) == -1);
  CHECK(train_util_parse_count("p", "--n", "5", 1, 5, &v) == 0 && v == 5);

  char root[700], cmd[64];
  train_util_data_root(base, root, sizeof root); /* no cifar10/ inside: the folder itself */
  CHECK(strcmp(root, base) == 0);
  char sub[700];
  snprintf(sub, sizeof sub, "%s/cifar10", base);
  mkdir(sub, 0777);
  train_util_data_root(base, root, sizeof root);
  CHECK(strcmp(root, sub) == 0);
  rmdir(sub);
  const char *argv[] = {"codec", "--config", "c.yaml"};
  train_util_command(3, (char **)argv, cmd, sizeof cmd);
  CHECK(strcmp(cmd, "saicbench train codec --config c.yaml") == 0);
  train_util_command(3, (char **)argv, cmd, 20); /* truncated, still terminated */
  CHECK(strcmp(cmd, "saicbench train cod") == 0);
}

int main(void) {
  char base[] = "/tmp/test_tasks_train_util_XXXXXX";
  if (!mkdtemp(base)) {
    perror("mkdtemp");
    return 1;
  }
  test_hms();
  test_rng_hex();
  test_shuffle();
  test_dirs_and_ckpt(base);
  test_args(base);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", base);
  return sb_test_status("test_tasks_train_util");
}
