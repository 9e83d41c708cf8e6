/* test_nn_ckpt.c - checkpoint round trip and every refusal: truncation at every length, a
 * flipped bit at every byte, wrong magic, wrong version, unknown flags, crafted files with a
 * valid checksum but lying lengths, wrong architecture, missing / unexpected tensors, wrong
 * shapes. Each refusal must name the file and the problem, and leave the network untouched. */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "nn.h"
#include "test_nn_common.h"

static char g_dir[64];

static nn_net *tiny(int width, bool extra, bool drop_fc) {
  nn_net *net = nn_net_create(3, 8, 8, 1, NULL);
  int x = nn_conv2d(net, 0, "conv", width, 3, 1, 1, true);
  x = nn_relu(net, nn_batchnorm(net, x, "bn", 1e-5f, 0.1f));
  x = nn_gdn(net, x, "gdn", false);
  x = nn_global_avgpool(net, x);
  if (!drop_fc)
    x = nn_linear(net, x, "fc", 10, true);
  if (extra)
    nn_linear(net, x, "fc2", 4, true);
  REQUIRE_OK(nn_net_last(net), net);
  CHECK(nn_net_error(net) == NULL, "tiny build: %s", nn_net_error(net));
  return net;
}

static unsigned char *slurp(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)sz + 1);
  *n = fread(b, 1, (size_t)sz, f);
  fclose(f);
  return b;
}

static void spit(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (n)
    fwrite(b, 1, n, f);
  fclose(f);
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static void fix_checksum(unsigned char *b, size_t n) {
  put_le(b + n - 8, XXH3_64bits(b, n - 8), 8);
}

/* Loads path into a fresh tiny net; expects refusal with a message containing `want` and the
 * path; checks the network's parameters were not modified. */
static void expect_refused(const char *path, const char *want, const char *what) {
  nn_net *net = tiny(6, false, false);
  nn_net_init_params(net, 5);
  nn_param *w = nn_net_find_param(net, "conv.weight");
  float keep = w->value.data[0];
  nn_err err = {0};
  int rc = nn_ckpt_load(path, net, "tiny-v1", &err);
  CHECK(rc != NN_OK, "%s: accepted", what);
  CHECK(rc == NN_OK || (strstr(err.msg, want) && strstr(err.msg, path)),
        "%s: message '%s' lacks '%s' or the path", what, err.msg, want);
  CHECK(w->value.data[0] == keep, "%s: network modified by a refused load", what);
  nn_net_free(net);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/nnckptXXXXXX");
  if (!mkdtemp(g_dir)) {
    perror("mkdtemp");
    return 2;
  }
  char good[128], bad[128];
  snprintf(good, sizeof good, "%s/good.ckpt", g_dir);
  snprintf(bad, sizeof bad, "%s/bad.ckpt", g_dir);

  /* ---- round trip ---- */
  nn_net *a = tiny(6, false, false);
  nn_net_init_params(a, 1);
  nn_rng rng;
  nn_rng_seed(&rng, 3);
  for (int i = 0; i < nn_net_num_params(a); i++) {
    nn_param *p = nn_net_param(a, i);
    fill_uniform(&rng, p->value.data, nn_tensor_numel(&p->value), 0.1, 1.0);
  }
  nn_kv meta[] = {{"arch", "tiny-v1"},
                  {"command", "saicbench train-classifier --config tiny.yaml"},
                  {"config", "{\"lr\": 0.1, \"epochs\": 1}"},
                  {"dataset_hash", "xxh3:0123456789abcdef"},
                  {"scores", "{\"top1\": 0.5}"}};
  nn_err err = {0};
  CHECK(nn_ckpt_save(good, a, meta, 5, &err) == NN_OK, "save: %s", err.msg);
  nn_ckpt *ck = NULL;
  CHECK(nn_ckpt_read(good, &ck, &err) == NN_OK, "read: %s", err.msg);
  if (ck) {
    CHECK(nn_ckpt_num_meta(ck) == 6, "meta count %d", nn_ckpt_num_meta(ck));
    for (int i = 0; i < 5; i++) {
      const char *v = nn_ckpt_meta(ck, meta[i].key);
      CHECK(v && strcmp(v, meta[i].value) == 0, "meta %s = %s", meta[i].key, v ? v : "(null)");
    }
    const char *cr = nn_ckpt_meta(ck, "created");
    CHECK(cr && strlen(cr) == 20 && cr[4] == '-' && cr[19] == 'Z', "created = %s",
          cr ? cr : "(null)");
    CHECK(nn_ckpt_num_tensors(ck) == nn_net_num_params(a), "tensor count");
    const char *name;
    int rank, dims[4];
    const float *data;
    CHECK(nn_ckpt_tensor_at(ck, 0, &name, &rank, dims, &data) == NN_OK, "tensor_at 0");
    CHECK(nn_ckpt_tensor_at(ck, 99, &name, &rank, dims, &data) == NN_E_ARG, "tensor_at 99");
    CHECK(strcmp(name, "conv.weight") == 0 && rank == 4 && dims[0] == 6 && dims[1] == 3 &&
              dims[2] == 3 && dims[3] == 3,
          "first tensor %s rank %d", name, rank);
    nn_ckpt_free(ck);
  }
  nn_net *b = tiny(6, false, false);
  CHECK(nn_ckpt_load(good, b, "tiny-v1", &err) == NN_OK, "load: %s", err.msg);
  bool same = true;
  for (int i = 0; i < nn_net_num_params(a); i++) {
    nn_param *pa = nn_net_param(a, i), *pb = nn_net_param(b, i);
    same &= memcmp(pa->value.data, pb->value.data, 4 * nn_tensor_numel(&pa->value)) == 0;
  }
  CHECK(same, "round trip changed parameter bits");
  nn_net_free(b);
  CHECK(nn_ckpt_save(good, a, meta + 1, 4, &err) == NN_E_ARG && strstr(err.msg, "arch"),
        "save without arch accepted");

  size_t n = 0;
  unsigned char *orig = slurp(good, &n);
  unsigned char *buf = malloc(n + 64);
  printf("checkpoint: %zu bytes\n", n);

  /* ---- truncated at every length ---- */
  int trunc_bad = 0;
  for (size_t len = 0; len < n; len++) {
    spit(bad, orig, len);
    nn_net *t = tiny(6, false, false);
    int rc = nn_ckpt_load(bad, t, "tiny-v1", &err);
    if (rc == NN_OK || !strstr(err.msg, "truncated") || !strstr(err.msg, bad)) {
      if (trunc_bad++ < 3)
        fprintf(stderr, "  truncated to %zu: rc %d '%s'\n", len, rc, err.msg);
    }
    nn_net_free(t);
  }
  CHECK(trunc_bad == 0, "%d truncation lengths not refused as truncated", trunc_bad);
  /* appended garbage */
  memcpy(buf, orig, n);
  buf[n] = 0;
  spit(bad, buf, n + 1);
  expect_refused(bad, "size mismatch", "appended byte");

  /* ---- one flipped bit at every byte ---- */
  int flip_bad = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(buf, orig, n);
    buf[i] ^= (unsigned char)(1u << (i % 8));
    spit(bad, buf, n);
    nn_net *t = tiny(6, false, false);
    int rc = nn_ckpt_load(bad, t, "tiny-v1", &err);
    const char *want = i < 8    ? "bad magic"
                       : i < 12 ? "version"
                       : i < 16 ? "flags"
                       : i < 24 ? (buf[i] > orig[i] ? "truncated" : "size")
                                : "checksum";
    if (rc == NN_OK || !strstr(err.msg, want)) {
      if (flip_bad++ < 3)
        fprintf(stderr, "  flip at %zu: rc %d '%s' (wanted '%s')\n", i, rc, err.msg, want);
    }
    nn_net_free(t);
  }
  CHECK(flip_bad == 0, "%d flipped bytes not refused with the right message", flip_bad);

  /* ---- wrong magic / version / flags, with a valid checksum ---- */
  memcpy(buf, orig, n);
  memcpy(buf, "PK\x03\x04xxxx", 8);
  fix_checksum(buf, n);
  spit(bad, buf, n);
  expect_refused(bad, "bad magic", "wrong magic");
  memcpy(buf, orig, n);
  put_le(buf + 8, 2, 4);
  fix_checksum(buf, n);
  spit(bad, buf, n);
  expect_refused(bad, "unsupported format version 2", "wrong version");
  memcpy(buf, orig, n);
  put_le(buf + 12, 1, 4);
  fix_checksum(buf, n);
  spit(bad, buf, n);
  expect_refused(bad, "unknown flags", "flags");

  /* ---- crafted bodies with valid checksums ---- */
  {
    /* metadata count far beyond the file */
    memcpy(buf, orig, n);
    put_le(buf + 24, 0x7fffffff, 4);
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "malformed", "huge metadata count");
    /* first key length beyond the file */
    memcpy(buf, orig, n);
    put_le(buf + 28, 0xfffffff0u, 4);
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "malformed", "huge key length");
    /* find the tensor count: it follows the metadata block */
    size_t pos = 28;
    uint32_t nm = (uint32_t)orig[24] | (uint32_t)orig[25] << 8;
    for (uint32_t i = 0; i < 2 * nm; i++) {
      uint32_t l = (uint32_t)orig[pos] | (uint32_t)orig[pos + 1] << 8 |
                   (uint32_t)orig[pos + 2] << 16 | (uint32_t)orig[pos + 3] << 24;
      pos += 4 + l;
    }
    memcpy(buf, orig, n);
    put_le(buf + pos, 0xffffffffu, 4);
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "malformed", "huge tensor count");
    /* first tensor: name "conv.weight" (11) then rank byte, dtype byte, dims */
    size_t t0 = pos + 4;
    CHECK(orig[t0] == 11 && memcmp(orig + t0 + 2, "conv.weight", 11) == 0, "layout assumption");
    memcpy(buf, orig, n);
    buf[t0 + 13] = 9; /* rank */
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "rank", "bad rank");
    memcpy(buf, orig, n);
    buf[t0 + 14] = 2; /* dtype */
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "dtype", "bad dtype");
    memcpy(buf, orig, n);
    put_le(buf + t0 + 15, 0x40000000u, 4); /* dim 0 huge: data beyond the file */
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "exceeds the file", "huge dimension");
    memcpy(buf, orig, n);
    put_le(buf + t0 + 15, 0, 4);
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "dimension", "zero dimension");
    memcpy(buf, orig, n);
    put_le(buf + t0 + 15, 5, 4); /* shrink dim 0: bytes left over at the end */
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "malformed", "inconsistent dims");
    memcpy(buf, orig, n);
    buf[t0 + 2] = 0; /* NUL inside a name */
    fix_checksum(buf, n);
    spit(bad, buf, n);
    expect_refused(bad, "malformed", "NUL in name");
  }

  /* ---- random mutations with a valid checksum: the parser must neither crash nor read out
   * of bounds (run under ASan in CI); each file is either refused or loads ---- */
  {
    nn_rng mr;
    nn_rng_seed(&mr, 2718);
    int accepted = 0, refused = 0;
    nn_net *t = tiny(6, false, false);
    for (int it = 0; it < 1500; it++) {
      memcpy(buf, orig, n);
      int nmut = 1 + (int)nn_rng_below(&mr, 4);
      for (int m = 0; m < nmut; m++) {
        /* bias toward the structural part (header, metadata, tensor headers) */
        size_t at = 24 + nn_rng_below(&mr, (uint32_t)(it % 2 ? n - 32 : 400));
        buf[at] = (unsigned char)nn_rng_below(&mr, 256);
      }
      fix_checksum(buf, n);
      spit(bad, buf, n);
      int rc = nn_ckpt_load(bad, t, NULL, &err);
      if (rc == NN_OK)
        accepted++;
      else {
        refused++;
        CHECK(strstr(err.msg, bad) != NULL, "mutation %d: message lacks the path: %s", it, err.msg);
      }
    }
    printf("random mutations: %d refused, %d accepted (data-only changes)\n", refused, accepted);
    nn_net_free(t);
  }

  /* ---- semantic refusals ---- */
  {
    nn_net *t = tiny(6, false, false);
    CHECK(nn_ckpt_load(good, t, "resnet20-v1", &err) != NN_OK &&
              strstr(err.msg, "wrong architecture") && strstr(err.msg, "tiny-v1") &&
              strstr(err.msg, good),
          "wrong arch: %s", err.msg);
    nn_net_free(t);
    t = tiny(6, true, false);
    CHECK(nn_ckpt_load(good, t, "tiny-v1", &err) != NN_OK && strstr(err.msg, "fc2.weight") &&
              strstr(err.msg, "missing"),
          "missing tensor: %s", err.msg);
    nn_net_free(t);
    t = tiny(6, false, true);
    CHECK(nn_ckpt_load(good, t, "tiny-v1", &err) != NN_OK && strstr(err.msg, "unexpected") &&
              strstr(err.msg, "fc."),
          "unexpected tensor: %s", err.msg);
    nn_net_free(t);
    t = tiny(5, false, false);
    CHECK(nn_ckpt_load(good, t, "tiny-v1", &err) != NN_OK &&
              strstr(err.msg, "'conv.weight' has shape [6, 3, 3, 3], the network expects "
                              "[5, 3, 3, 3]"),
          "wrong shape: %s", err.msg);
    nn_net_free(t);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.ckpt", g_dir);
    expect_refused(missing, "cannot open", "missing file");
    spit(bad, (const unsigned char *)"", 0);
    expect_refused(bad, "truncated", "empty file");
  }

  /* ---- many names: the duplicate checks and lookups are n log n (they were quadratic: 80,000
   * one-element tensors took 23 s, 40,000 metadata keys 4 s, before a refusal) ---- */
  {
    enum { NT = 80000, NM = 40000 };
    nn_ckpt_extra *ex = calloc(NT, sizeof *ex);
    char(*tnames)[16] = calloc(NT, sizeof *tnames);
    nn_kv *kv = calloc(NM + 1, sizeof *kv);
    char(*keys)[16] = calloc(NM, sizeof *keys);
    static const float one = 1;
    for (int i = 0; i < NT; i++) {
      snprintf(tnames[i], sizeof tnames[i], "t%d", (i * 7919) % NT); /* not in sorted order */
      ex[i] = (nn_ckpt_extra){tnames[i], 1, {1, 1, 1, 1}, &one};
    }
    kv[0] = (nn_kv){"arch", "many"};
    for (int i = 1; i < NM; i++) {
      snprintf(keys[i], sizeof keys[i], "k%d", (i * 7919) % NM);
      kv[i] = (nn_kv){keys[i], "v"};
    }
    /* {tensors, keys, which name repeats}: unique (accepted, lookups work), a repeated tensor
     * name, a repeated key; each read takes a few milliseconds on a quiet machine and must stay
     * under 5 s, far below the 23 s the quadratic duplicate check took, with room for a loaded
     * one (ctest beside background jobs). */
    for (int round = 0; round < 3; round++) {
      if (round == 1)
        ex[NT - 1].name = ex[NT / 2].name;
      if (round == 2) {
        ex[NT - 1].name = "last";
        kv[NM - 1].key = kv[NM / 3].key;
      }
      nn_err e = {0};
      CHECK(nn_ckpt_save_parts(bad, NULL, 0, ex, NT, kv, NM, &e) == NN_OK, "save: %s", e.msg);
      struct timespec t0, t1;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      nn_ckpt *many = NULL;
      const int rc = nn_ckpt_read(bad, &many, &e);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      const double secs =
          (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
      printf("  %d tensors, %d metadata keys (%s): read in %.3f s: %s\n", NT, NM + 1,
             round == 0   ? "unique"
             : round == 1 ? "a tensor name twice"
                          : "a key twice",
             secs, rc == NN_OK ? "accepted" : e.msg);
      CHECK(secs < 5.0, "%d tensors / %d keys took %.2f s", NT, NM, secs);
      if (round == 0) {
        CHECK(rc == NN_OK, "unique names refused: %s", e.msg);
        if (rc == NN_OK) {
          CHECK(nn_ckpt_num_tensors(many) == NT && nn_ckpt_num_meta(many) == NM + 1, "counts");
          CHECK(nn_ckpt_find_tensor(many, "t0") == 0 && nn_ckpt_find_tensor(many, "t7919") == 1 &&
                    nn_ckpt_find_tensor(many, "t80000") < 0 && nn_ckpt_find_tensor(many, "t") < 0,
                "tensor lookups");
          CHECK(nn_ckpt_meta(many, "arch") && !strcmp(nn_ckpt_meta(many, "arch"), "many") &&
                    nn_ckpt_meta(many, "k7919") && nn_ckpt_meta(many, "created") &&
                    !nn_ckpt_meta(many, "k") && !nn_ckpt_meta(many, "k40000"),
                "metadata lookups");
        }
      } else {
        const char *want = round == 1 ? "duplicate tensor 't40000'" : "duplicate metadata key 'k";
        CHECK(rc != NN_OK && strstr(e.msg, want) && strstr(e.msg, bad), "round %d: %s", round,
              e.msg);
      }
      nn_ckpt_free(many);
    }
    free(ex);
    free(tnames);
    free(kv);
    free(keys);
  }

  free(orig);
  free(buf);
  nn_net_free(a);
  remove(good);
  remove(bad);
  rmdir(g_dir);
  return sb_test_status("test_nn_ckpt");
}
