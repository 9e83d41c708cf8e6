/* test_saic_coder.c - latent tensors through the coder: round trips with escapes (up to the
 * |v| < 2^20 limit), extreme and single-value tables, bit-exact output (pinned checksum),
 * rate against the ideal, argument errors, hostile streams (random, truncated, padded,
 * over-long escapes), and several threads sharing one table set. */
#include <pthread.h>

#include "saic_coder.h"
#include "saic_test_util.h"

/* Discretised Laplacian (mass of [v - 1/2, v + 1/2]) and the tail outside [lo, hi]. */
static void laplace(float *pmf, int lo, int hi, double mu, double b, float *tail) {
  double sum = 0;
  for (int v = lo; v <= hi; v++) {
    double a = v - 0.5 - mu, c = v + 0.5 - mu;
    double ca = a < 0 ? 0.5 * exp(a / b) : 1 - 0.5 * exp(-a / b);
    double cc = c < 0 ? 0.5 * exp(c / b) : 1 - 0.5 * exp(-c / b);
    pmf[v - lo] = (float)(cc - ca);
    sum += cc - ca;
  }
  *tail = (float)(1.0 - sum > 0 ? 1.0 - sum : 0);
}

/* Draws from a Laplacian with the same parameters (inverse CDF; rounded). */
static int32_t laplace_draw(trng *r, double mu, double b) {
  double u = trng_unit(r) - 0.5;
  double x = mu - b * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
  double v = floor(x + 0.5);
  if (v > 1e6)
    v = 1e6;
  if (v < -1e6)
    v = -1e6;
  return (int32_t)v;
}

typedef struct model {
  saic_cdf_set *set;
  double mu[16], b[16];
  int ntables;
} model;

/* ntables Laplacian tables with random scales. Clipped ranges (cover = 0) force escapes; with
 * cover = 1 the range holds all but ~e^-25 of the mass, as a real codec's tables would. */
static void model_random_ex(trng *r, model *m, int ntables, int cover) {
  m->ntables = ntables;
  m->set = saic_cdf_set_new(ntables);
  float pmf[1024], tail;
  char err[256];
  for (int t = 0; t < ntables; t++) {
    m->mu[t] = trng_unit(r) - 0.5;
    m->b[t] = exp(-3 + 6 * trng_unit(r));
    int half = cover ? (int)fmin(500, 2 + ceil(25 * m->b[t])) : 1 + (int)trng_below(r, 40);
    laplace(pmf, -half, half, m->mu[t], m->b[t], &tail);
    if (saic_cdf_set_from_pmf(m->set, t, -half, pmf, 2 * half + 1, tail, err, sizeof err))
      abort();
  }
}

static void model_random(trng *r, model *m, int ntables) { model_random_ex(r, m, ntables, 0); }

static void test_roundtrip(void) {
  trng r = {3};
  char err[256];
  int mismatches = 0, escapes = 0;
  for (int trial = 0; trial < 1500; trial++) {
    model m;
    model_random(&r, &m, 1 + (int)trng_below(&r, 16));
    int C = 1 + (int)trng_below(&r, 100), H = 1 + (int)trng_below(&r, 6),
        W = 1 + (int)trng_below(&r, 6);
    size_t n = (size_t)C * H * W;
    int32_t *idx = malloc((size_t)C * sizeof *idx), *sym = malloc(n * sizeof *sym),
            *dec = malloc(n * sizeof *dec);
    if (!idx || !sym || !dec)
      abort();
    for (int c = 0; c < C; c++)
      idx[c] = (int32_t)trng_below(&r, (uint32_t)m.ntables);
    for (size_t i = 0; i < n; i++) {
      int t = idx[i / ((size_t)H * W)];
      sym[i] = laplace_draw(&r, m.mu[t], m.b[t]);
      uint32_t k = trng_below(&r, 200);
      if (k == 0) /* far escapes, to the format's limit */
        sym[i] = (int32_t)(trng_below(&r, 2) ? SAIC_CDF_VALUE_LIMIT - 1 - trng_below(&r, 3)
                                             : -(SAIC_CDF_VALUE_LIMIT - 1) + trng_below(&r, 3));
      else if (k == 1)
        sym[i] = (int32_t)trng_below(&r, 100000) - 50000;
    }
    uint8_t *buf;
    size_t len;
    int rc = saic_coder_encode_channels(m.set, idx, sym, C, H, W, &buf, &len, err, sizeof err);
    CHECK(rc == SAIC_OK, "trial %d: %s", trial, err);
    if (rc == SAIC_OK) {
      rc = saic_coder_decode_channels(m.set, idx, buf, len, dec, C, H, W, err, sizeof err);
      CHECK(rc == SAIC_OK, "trial %d: decode: %s", trial, err);
      if (rc == SAIC_OK && memcmp(sym, dec, n * sizeof *sym) != 0 && mismatches++ < 5)
        CHECK(0, "trial %d: decoded symbols differ", trial);
      for (size_t i = 0; i < n; i++) {
        const saic_cdf *t = saic_cdf_set_get(m.set, idx[i / ((size_t)H * W)]);
        escapes += sym[i] < t->min || sym[i] > t->min + (int32_t)t->nsym - 2;
      }
    }
    free(buf);
    free(idx);
    free(sym);
    free(dec);
    saic_cdf_set_free(m.set);
  }
  printf("round trips: 1500 tensors, %d escaped values\n", escapes);
  CHECK(escapes > 1000, "only %d escapes exercised", escapes);
}

/* One value with (almost) all the mass, and a single-value alphabet (only escapes otherwise). */
static void test_extreme_tables(void) {
  char err[256];
  saic_cdf_set *s = saic_cdf_set_new(2);
  const float certain[5] = {0, 0, 1, 0, 0}, single[1] = {1.0f};
  CHECK(saic_cdf_set_from_pmf(s, 0, -2, certain, 5, 0, err, sizeof err) == SAIC_OK, "%s", err);
  CHECK(saic_cdf_set_from_pmf(s, 1, 3, single, 1, 0, err, sizeof err) == SAIC_OK, "%s", err);
  enum { C = 96, H = 4, W = 4, N = C * H * W };
  int32_t idx[C], sym[N], dec[N];
  for (int c = 0; c < C; c++)
    idx[c] = c % 2;
  for (int i = 0; i < N; i++)
    sym[i] = idx[i / (H * W)] ? 3 : 0;
  uint8_t *buf;
  size_t len;
  /* 1536 near-certain symbols cost 1536 * log2(65536/65531) < 0.2 bits: the final interval
   * holds 0.5, one bit, written as one byte (0 bytes only if the point 0 were inside, i.e. if
   * the mode were symbol 0). */
  CHECK(saic_coder_encode_channels(s, idx, sym, C, H, W, &buf, &len, err, sizeof err) == SAIC_OK,
        "%s", err);
  CHECK(len <= 1, "certain tensor took %zu bytes", len);
  CHECK(saic_coder_decode_channels(s, idx, buf, len, dec, C, H, W, err, sizeof err) == SAIC_OK &&
            memcmp(sym, dec, sizeof sym) == 0,
        "certain tensor: %s", err);
  free(buf);
  /* A few escapes on each table, both sides, including the single-value one. */
  sym[5] = -3;
  sym[17] = 2;
  sym[16 * 3 + 1] = 4;
  sym[16 * 5 + 2] = 2;
  sym[N - 1] = -(SAIC_CDF_VALUE_LIMIT - 1);
  CHECK(saic_coder_encode_channels(s, idx, sym, C, H, W, &buf, &len, err, sizeof err) == SAIC_OK,
        "%s", err);
  CHECK(len > 0 && len < 24, "5 escapes took %zu bytes", len);
  CHECK(saic_coder_decode_channels(s, idx, buf, len, dec, C, H, W, err, sizeof err) == SAIC_OK &&
            memcmp(sym, dec, sizeof sym) == 0,
        "escapes: %s", err);
  free(buf);
  saic_cdf_set_free(s);
}

/* The rate of realistic latents (96 x 4 x 4, the 32x32 codec's) against the ideal under the
 * quantised tables, and against the float pmf (adds the table quantisation loss). */
static void test_rate(void) {
  trng r = {8};
  char err[256];
  double over_q = 0, over_f = 0, max_q = -1e9, bytes = 0;
  const int trials = 2000;
  enum { C = 96, H = 4, W = 4, N = C * H * W };
  for (int trial = 0; trial < trials; trial++) {
    model m;
    model_random_ex(&r, &m, 8, 1);
    int32_t idx[C], sym[N];
    for (int c = 0; c < C; c++)
      idx[c] = (int32_t)trng_below(&r, 8);
    double ideal_q = 0, ideal_f = 0;
    for (int i = 0; i < N; i++) {
      int t = idx[i / (H * W)];
      sym[i] = laplace_draw(&r, m.mu[t], m.b[t]);
      const saic_cdf *tab = saic_cdf_set_get(m.set, t);
      int32_t max = tab->min + (int32_t)tab->nsym - 2;
      int in = sym[i] >= tab->min && sym[i] <= max;
      uint32_t s = in ? (uint32_t)(sym[i] - tab->min) : tab->nsym - 1;
      ideal_q += symbol_bits(tab->cdf, s);
      float pmf[1], tail;
      laplace(pmf, sym[i], sym[i], m.mu[t], m.b[t], &tail);
      ideal_f += -log2(pmf[0] > 1e-30f ? pmf[0] : 1e-30f);
      if (!in) { /* the escape's bypass bits count as coded cost */
        uint32_t u = sym[i] < tab->min ? 2u * (uint32_t)(tab->min - sym[i] - 1)
                                       : 2u * (uint32_t)(sym[i] - max - 1) + 1;
        int nb = 0;
        while (((u + 1) >> (nb + 1)) != 0)
          nb++;
        ideal_q += 2 * nb + 1;
      }
    }
    uint8_t *buf;
    size_t len;
    if (saic_coder_encode_channels(m.set, idx, sym, C, H, W, &buf, &len, err, sizeof err) !=
        SAIC_OK)
      abort();
    double oq = (double)len - ideal_q / 8;
    over_q += oq;
    over_f += (double)len - ideal_f / 8;
    max_q = oq > max_q ? oq : max_q;
    bytes += (double)len;
    free(buf);
    saic_cdf_set_free(m.set);
  }
  printf("96x4x4 latents: mean %.1f bytes; overhead vs ideal under the tables: mean %.3f, max "
         "%.3f bytes; vs the float pmf: mean %.3f bytes\n",
         bytes / trials, over_q / trials, max_q, over_f / trials);
  CHECK(over_q / trials < 1.0 && max_q < 1.25, "coder overhead mean %.3f max %.3f", over_q / trials,
        max_q);
}

/* Same input, same bytes, every run and every machine (pinned checksum). The workload avoids
 * libm (geometric pmfs from integers, symbols drawn from the integer tables), so the checksum
 * tests the coder, not the platform's exp/log. */
static void test_bit_exact(void) {
  trng r = {99};
  char err[256];
  uint64_t h = FNV_INIT;
  size_t total = 0;
  enum { C = 32, H = 4, W = 4, N = C * H * W, T = 4 };
  for (int trial = 0; trial < 100; trial++) {
    saic_cdf_set *set = saic_cdf_set_new(T);
    float pmf[64], tail;
    for (int t = 0; t < T; t++) {
      int n = 1 + (int)trng_below(&r, 64);
      int mode = (int)trng_below(&r, (uint32_t)n); /* one draw per statement: argument */
      uint32_t decay = 1 + trng_below(&r, 255);    /* order is unspecified in C */
      geometric_pmf(pmf, n, mode, decay, &tail);
      if (saic_cdf_set_from_pmf(set, t, -(int32_t)trng_below(&r, 64), pmf, n, tail, err,
                                sizeof err) != SAIC_OK)
        abort();
    }
    int32_t idx[C], sym[N];
    for (int c = 0; c < C; c++)
      idx[c] = (int32_t)trng_below(&r, T);
    for (int i = 0; i < N; i++) {
      const saic_cdf *t = saic_cdf_set_get(set, idx[i / (H * W)]);
      uint32_t s = draw_symbol(&r, t->cdf, t->nsym);
      sym[i] = s + 1 < t->nsym ? t->min + (int32_t)s
                               : (int32_t)trng_below(&r, 2 * SAIC_CDF_VALUE_LIMIT - 1) -
                                     (SAIC_CDF_VALUE_LIMIT - 1);
    }
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int ok =
        saic_coder_encode_channels(set, idx, sym, C, H, W, &a, &na, err, sizeof err) == SAIC_OK &&
        saic_coder_encode_channels(set, idx, sym, C, H, W, &b, &nb, err, sizeof err) == SAIC_OK;
    CHECK(ok && na == nb && (na == 0 || memcmp(a, b, na) == 0), "trial %d: repeat differs", trial);
    h = fnv1a(h, a, na);
    total += na;
    free(a);
    free(b);
    saic_cdf_set_free(set);
  }
  const uint64_t pinned = 0xc1b42034e04292baull;
  printf("bit-exact tensors: %zu bytes, FNV-1a 0x%016llx\n", total, (unsigned long long)h);
  CHECK(h == pinned, "checksum 0x%016llx, pinned 0x%016llx", (unsigned long long)h,
        (unsigned long long)pinned);
}

static void test_errors(void) {
  char err[256] = "";
  trng r = {1};
  model m;
  model_random(&r, &m, 2);
  int32_t idx[2] = {0, 1}, sym[8] = {0}, dec[8];
  uint8_t *buf = NULL;
  size_t len = 0;
  sym[3] = SAIC_CDF_VALUE_LIMIT;
  CHECK(saic_coder_encode_channels(m.set, idx, sym, 2, 2, 2, &buf, &len, err, sizeof err) ==
                SAIC_E_RANGE &&
            buf == NULL && strstr(err, "channel 0, position 3"),
        "value 2^20: %s", err);
  sym[3] = -SAIC_CDF_VALUE_LIMIT;
  CHECK(saic_coder_encode_channels(m.set, idx, sym, 2, 2, 2, &buf, &len, err, sizeof err) ==
            SAIC_E_RANGE,
        "value -2^20 accepted");
  sym[3] = 0;
  idx[1] = 2;
  CHECK(saic_coder_encode_channels(m.set, idx, sym, 2, 2, 2, &buf, &len, err, sizeof err) ==
                SAIC_E_ARG &&
            strstr(err, "channel 1 uses table 2"),
        "bad index: %s", err);
  CHECK(saic_coder_decode_channels(m.set, idx, NULL, 0, dec, 2, 2, 2, err, sizeof err) ==
            SAIC_E_ARG,
        "decode with a bad index accepted");
  idx[1] = 1;
  CHECK(saic_coder_encode_channels(m.set, idx, sym, 0, 2, 2, &buf, &len, err, sizeof err) ==
                SAIC_E_ARG &&
            strstr(err, "empty"),
        "0 channels: %s", err);
  CHECK(saic_coder_encode_channels(m.set, idx, sym, 65536, 65536, 2, &buf, &len, err, sizeof err) ==
                SAIC_E_ARG &&
            strstr(err, "exceeds"),
        "huge shape: %s", err);
  CHECK(saic_coder_encode_channels(NULL, idx, sym, 2, 2, 2, &buf, &len, err, sizeof err) ==
            SAIC_E_ARG,
        "NULL tables accepted");
  saic_cdf_set *partial = saic_cdf_set_new(2);
  CHECK(saic_coder_encode_channels(partial, idx, sym, 2, 2, 2, &buf, &len, err, sizeof err) ==
                SAIC_E_ARG &&
            strstr(err, "not set"),
        "incomplete set: %s", err);
  saic_cdf_set_free(partial);
  saic_cdf_set_free(m.set);
}

/* Corrupt streams decode to values (|v| < 2^20) or fail with SAIC_E_CORRUPT and a message. */
static void test_hostile(void) {
  trng r = {4242};
  char err[256];
  model m;
  model_random(&r, &m, 4);
  enum { C = 24, H = 4, W = 4, N = C * H * W };
  int32_t idx[C], sym[N], dec[N];
  for (int c = 0; c < C; c++)
    idx[c] = c % 4;
  int ok = 0, refused = 0, bad = 0;
  for (int trial = 0; trial < 20000; trial++) {
    size_t len = trng_below(&r, 64);
    uint8_t *data = len ? malloc(len) : NULL; /* exact size: ASan sees any over-read */
    for (size_t i = 0; i < len; i++) {
      data[i] = (uint8_t)(trial % 3 == 0 ? 0xFF : trng_next(&r));
      data[i] ^= (uint8_t)(trng_below(&r, 4) == 0);
    }
    err[0] = 0;
    int rc = saic_coder_decode_channels(m.set, idx, data, len, dec, C, H, W, err, sizeof err);
    if (rc == SAIC_OK) {
      ok++;
      for (int i = 0; i < N; i++)
        bad += dec[i] <= -SAIC_CDF_VALUE_LIMIT || dec[i] >= SAIC_CDF_VALUE_LIMIT;
    } else {
      refused++;
      bad += rc != SAIC_E_CORRUPT || err[0] == 0;
    }
    free(data);
  }
  printf("random streams: %d decoded, %d refused\n", ok, refused);
  CHECK(bad == 0, "%d bad outcomes", bad);
  CHECK(ok > 0 && refused > 0, "expected both outcomes (%d, %d)", ok, refused);

  /* A real stream: every truncation decodes or is refused; padding is refused. */
  for (int i = 0; i < N; i++)
    sym[i] = laplace_draw(&r, m.mu[idx[i / 16]], m.b[idx[i / 16]] * 4);
  uint8_t *buf;
  size_t len;
  if (saic_coder_encode_channels(m.set, idx, sym, C, H, W, &buf, &len, err, sizeof err))
    abort();
  CHECK(len > 8, "stream only %zu bytes", len);
  int prefixes_bad = 0;
  for (size_t n = 0; n < len; n++) {
    uint8_t *p = n ? malloc(n) : NULL;
    if (n)
      memcpy(p, buf, n);
    int rc = saic_coder_decode_channels(m.set, idx, p, n, dec, C, H, W, err, sizeof err);
    prefixes_bad += rc != SAIC_OK && rc != SAIC_E_CORRUPT;
    free(p);
  }
  CHECK(prefixes_bad == 0, "%d truncations gave unexpected codes", prefixes_bad);
  uint8_t *pad = malloc(len + 8);
  memcpy(pad, buf, len);
  memset(pad + len, 0x5A, 8);
  CHECK(saic_coder_decode_channels(m.set, idx, pad, len + 8, dec, C, H, W, err, sizeof err) ==
                SAIC_E_CORRUPT &&
            strstr(err, "left over"),
        "8 padding bytes: %s", err);
  pad[len] = 0;
  CHECK(saic_coder_decode_channels(m.set, idx, pad, len + 1, dec, C, H, W, err, sizeof err) ==
                SAIC_E_CORRUPT &&
            strstr(err, "zero byte"),
        "zero padding: %s", err);
  free(pad);
  free(buf);

  /* Escapes the encoder never writes: a gamma prefix of 23+ zeros (a run of zero bytes after an
   * escape does this), and a 22-bit code whose value passes 2^20. */
  const saic_cdf *t0 = saic_cdf_set_get(m.set, 0);
  for (int kind = 0; kind < 2; kind++) {
    saic_rc_enc e;
    saic_rc_enc_init(&e);
    saic_rc_enc_put(&e, t0->cdf, t0->nsym, t0->nsym - 1);
    if (kind == 0) {
      for (int i = 0; i < 30; i++)
        saic_rc_enc_put_bits(&e, 0, 1);
      saic_rc_enc_put_bits(&e, 1, 1);
    } else {
      for (int i = 0; i < 22; i++)
        saic_rc_enc_put_bits(&e, 0, 1);
      saic_rc_enc_put_bits(&e, 0x7F, 7);    /* 1 then 6 ones */
      saic_rc_enc_put_bits(&e, 0xFFFF, 16); /* u + 1 = 2^23 - 1: |v| ~ 2^22 */
    }
    for (int i = 1; i < C * H * W; i++)
      saic_rc_enc_put(&e, t0->cdf, t0->nsym, 0);
    uint8_t *s;
    size_t sl;
    saic_rc_enc_finish(&e, &s, &sl);
    int32_t all0[C];
    memset(all0, 0, sizeof all0);
    int rc = saic_coder_decode_channels(m.set, all0, s, sl, dec, C, H, W, err, sizeof err);
    CHECK(rc == SAIC_E_CORRUPT && strstr(err, "corrupt escape at channel 0, position 0"),
          "crafted escape %d: rc %d, %s", kind, rc, err);
    free(s);
  }
  saic_cdf_set_free(m.set);
}

/* Several threads code with one shared set; each must get the single-thread bytes. */
typedef struct job {
  const model *m;
  const int32_t *idx, *sym;
  const uint8_t *want;
  size_t want_len;
  int ok;
} job;

static void *worker(void *arg) {
  job *j = arg;
  char err[256];
  j->ok = 1;
  int32_t dec[64 * 16];
  for (int rep = 0; rep < 200; rep++) {
    uint8_t *buf;
    size_t len;
    if (saic_coder_encode_channels(j->m->set, j->idx, j->sym, 64, 4, 4, &buf, &len, err,
                                   sizeof err) != SAIC_OK ||
        len != j->want_len || memcmp(buf, j->want, len) != 0)
      j->ok = 0;
    if (saic_coder_decode_channels(j->m->set, j->idx, buf, len, dec, 64, 4, 4, err, sizeof err) !=
            SAIC_OK ||
        memcmp(dec, j->sym, sizeof dec) != 0)
      j->ok = 0;
    free(buf);
  }
  return NULL;
}

static void test_threads(void) {
  trng r = {31};
  char err[256];
  model m;
  model_random(&r, &m, 8);
  int32_t idx[64], sym[64 * 16];
  for (int c = 0; c < 64; c++)
    idx[c] = c % 8;
  for (int i = 0; i < 64 * 16; i++)
    sym[i] = laplace_draw(&r, m.mu[idx[i / 16]], m.b[idx[i / 16]]);
  uint8_t *want;
  size_t want_len;
  if (saic_coder_encode_channels(m.set, idx, sym, 64, 4, 4, &want, &want_len, err, sizeof err))
    abort();
  pthread_t th[4];
  job jobs[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (job){&m, idx, sym, want, want_len, 0};
    pthread_create(&th[i], NULL, worker, &jobs[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(jobs[i].ok, "thread %d got different results", i);
  }
  free(want);
  saic_cdf_set_free(m.set);
}

int main(void) {
  test_roundtrip();
  test_extreme_tables();
  test_rate();
  test_bit_exact();
  test_errors();
  test_hostile();
  test_threads();
  return sb_test_status("saic_coder");
}
