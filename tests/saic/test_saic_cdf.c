/* test_saic_cdf.c - pmf -> CDF quantisation (hand-checked cases, invariants on random pmfs,
 * rate loss against the float pmf), table sets, and the serialised form: round trip, pinned
 * bytes, and a loader that refuses damaged or hostile bytes with clear messages. */
#include "saic_coder.h"
#include "saic_test_util.h"

static int cdf_equal(const uint32_t *a, const uint32_t *b, uint32_t n1) {
  return memcmp(a, b, n1 * sizeof *a) == 0;
}

/* Every frequency >= 1, total exactly 65536. */
static int cdf_valid(const uint32_t *cdf, uint32_t nsym) {
  if (cdf[0] != 0 || cdf[nsym] != SAIC_RC_TOTAL)
    return 0;
  for (uint32_t i = 0; i < nsym; i++)
    if (cdf[i + 1] <= cdf[i])
      return 0;
  return 1;
}

static void test_quantize_known(void) {
  char err[256];
  uint32_t cdf[8];
  /* Equal halves, no tail: the escape is clamped to 1; 65535 split 32767.5 each, the tie goes
   * to the lower index. */
  const float halves[2] = {0.5f, 0.5f};
  CHECK(saic_cdf_quantize(halves, 2, 0.0f, cdf, err, sizeof err) == SAIC_OK, "%s", err);
  const uint32_t want_halves[4] = {0, 32768, 65535, 65536};
  CHECK(cdf_equal(cdf, want_halves, 4), "halves: %u %u %u %u", cdf[0], cdf[1], cdf[2], cdf[3]);

  const float certain[1] = {1.0f};
  CHECK(saic_cdf_quantize(certain, 1, 0.0f, cdf, err, sizeof err) == SAIC_OK, "%s", err);
  const uint32_t want_certain[3] = {0, 65535, 65536};
  CHECK(cdf_equal(cdf, want_certain, 3), "certain: %u %u %u", cdf[0], cdf[1], cdf[2]);

  const float quarters[3] = {0.25f, 0.25f, 0.25f};
  CHECK(saic_cdf_quantize(quarters, 3, 0.25f, cdf, err, sizeof err) == SAIC_OK, "%s", err);
  const uint32_t want_quarters[5] = {0, 16384, 32768, 49152, 65536};
  CHECK(cdf_equal(cdf, want_quarters, 5), "quarters: %u %u %u %u %u", cdf[0], cdf[1], cdf[2],
        cdf[3], cdf[4]);

  /* Only the ratios matter: an unnormalised pmf gives the same table. */
  const float halves_small[2] = {0.125f, 0.125f};
  CHECK(saic_cdf_quantize(halves_small, 2, 0.0f, cdf, err, sizeof err) == SAIC_OK &&
            cdf_equal(cdf, want_halves, 4),
        "scaled halves differ");

  /* 2 : 1 with a tiny tail: shares 43690.33 and 21845.17 of 65535; the remainders are .33 and
   * .17 + ... so the leftover count goes to index 0. */
  const float thirds[2] = {2.0f / 3.0f, 1.0f / 3.0f};
  CHECK(saic_cdf_quantize(thirds, 2, 0.0f, cdf, err, sizeof err) == SAIC_OK, "%s", err);
  CHECK(cdf[1] - cdf[0] + cdf[2] - cdf[1] == 65535 && cdf[3] - cdf[2] == 1, "thirds: %u %u %u %u",
        cdf[0], cdf[1], cdf[2], cdf[3]);
  CHECK(cdf[1] == 43690 || cdf[1] == 43691, "thirds: mode got %u", cdf[1]);

  /* Full alphabet: 65535 values + escape all get exactly 1. */
  float *flat = malloc(65535 * sizeof *flat);
  uint32_t *big = malloc(65537 * sizeof *big);
  if (!flat || !big)
    abort();
  for (int i = 0; i < 65535; i++)
    flat[i] = i == 7 ? 1.0f : 1e-3f;
  CHECK(saic_cdf_quantize(flat, 65535, 0.5f, big, err, sizeof err) == SAIC_OK, "%s", err);
  int ones = 1;
  for (int i = 0; i < 65536; i++)
    ones &= big[i + 1] - big[i] == 1;
  CHECK(ones, "full alphabet is not all ones");
  free(flat);
  free(big);
}

static void test_quantize_refuses(void) {
  char err[256] = "";
  uint32_t cdf[8];
  const float ok[2] = {0.5f, 0.5f};
  const float nan_pmf[2] = {0.5f, NAN};
  const float neg[2] = {0.5f, -0.1f};
  const float big[2] = {0.5f, 1.5f};
  const float inf[2] = {0.5f, INFINITY};
  const float zero[2] = {0.0f, 0.0f};
  CHECK(saic_cdf_quantize(nan_pmf, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "pmf[1]"),
        "NaN: %s", err);
  CHECK(saic_cdf_quantize(neg, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG, "negative accepted");
  CHECK(saic_cdf_quantize(big, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG, "1.5 accepted");
  CHECK(saic_cdf_quantize(inf, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG, "inf accepted");
  CHECK(saic_cdf_quantize(ok, 2, NAN, cdf, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "tail mass"),
        "NaN tail: %s", err);
  CHECK(saic_cdf_quantize(zero, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "all zero"),
        "all zero: %s", err);
  /* Below 2^-32 everything rounds to weight 0. */
  const float tiny[2] = {1e-12f, 1e-12f};
  CHECK(saic_cdf_quantize(tiny, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG, "tiny accepted");
  CHECK(saic_cdf_quantize(ok, 0, 0, cdf, err, sizeof err) == SAIC_E_ARG, "0 values accepted");
  CHECK(saic_cdf_quantize(ok, 65536, 0, cdf, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "65536 values"),
        "65536 values: %s", err);
  CHECK(saic_cdf_quantize(NULL, 2, 0, cdf, err, sizeof err) == SAIC_E_ARG, "NULL accepted");
}

/* A discretised Laplacian over [lo, hi] with scale b (mass of [v - 1/2, v + 1/2]), and its
 * tail mass, like a factorized prior's pmf. */
static float laplace_pmf(double v, double mu, double b) {
  double lo = v - 0.5 - mu, hi = v + 0.5 - mu;
  double cl = lo < 0 ? 0.5 * exp(lo / b) : 1 - 0.5 * exp(-lo / b);
  double ch = hi < 0 ? 0.5 * exp(hi / b) : 1 - 0.5 * exp(-hi / b);
  return (float)(ch - cl);
}

static void laplace(float *pmf, int lo, int hi, double mu, double b, float *tail) {
  double sum = 0;
  for (int v = lo; v <= hi; v++) {
    pmf[v - lo] = laplace_pmf(v, mu, b);
    sum += pmf[v - lo];
  }
  *tail = (float)(1.0 - sum > 0 ? 1.0 - sum : 0);
}

/* Invariants on random pmfs (valid, deterministic, monotone in p) and the rate lost to
 * quantisation: cross-entropy of the float pmf under the table minus its entropy. */
static void test_quantize_random(void) {
  trng r = {5};
  char err[256];
  float pmf[600];
  uint32_t a[602], b[602];
  double worst_loss = 0;
  for (int trial = 0; trial < 3000; trial++) {
    int n = 1 + (int)trng_below(&r, trial % 10 == 0 ? 599 : 40);
    float tail = 0;
    int kind = (int)trng_below(&r, 4);
    if (kind == 0) { /* Laplacian of random scale: from very peaked to wide */
      double scale = exp(-4 + 8 * trng_unit(&r));
      laplace(pmf, -(n / 2), n - 1 - n / 2, trng_unit(&r) - 0.5, scale, &tail);
    } else if (kind == 1) { /* random */
      for (int i = 0; i < n; i++)
        pmf[i] = (float)trng_unit(&r);
      tail = (float)(trng_unit(&r) * 1e-3);
    } else if (kind == 2) { /* one value with ~all the mass */
      for (int i = 0; i < n; i++)
        pmf[i] = 1e-9f;
      pmf[trng_below(&r, (uint32_t)n)] = 1.0f;
      tail = 1e-9f;
    } else { /* many exact ties */
      for (int i = 0; i < n; i++)
        pmf[i] = (float)(1 + trng_below(&r, 3)) / 4;
      tail = 0.25f;
    }
    int rc = saic_cdf_quantize(pmf, n, tail, a, err, sizeof err);
    CHECK(rc == SAIC_OK, "trial %d: %s", trial, err);
    if (rc != SAIC_OK)
      continue;
    CHECK(cdf_valid(a, (uint32_t)n + 1), "trial %d: invalid table", trial);
    CHECK(saic_cdf_quantize(pmf, n, tail, b, err, sizeof err) == SAIC_OK &&
              cdf_equal(a, b, (uint32_t)n + 2),
          "trial %d: not deterministic", trial);
    int mono = 1;
    for (int i = 0; i <= n; i++)
      for (int j = 0; j <= n; j++) {
        float pi = i < n ? pmf[i] : tail, pj = j < n ? pmf[j] : tail;
        if (pi > pj && a[i + 1] - a[i] < a[j + 1] - a[j])
          mono = 0;
      }
    CHECK(mono, "trial %d: a more likely symbol got a smaller frequency", trial);
    if (kind == 0 || kind == 2) {
      double psum = tail, h = 0, ce = 0;
      for (int i = 0; i < n; i++)
        psum += pmf[i];
      for (int i = 0; i <= n; i++) {
        double p = (i < n ? pmf[i] : tail) / psum;
        if (p > 0) {
          h -= p * log2(p);
          ce -= p * log2((double)(a[i + 1] - a[i]) / SAIC_RC_TOTAL);
        }
      }
      if (ce - h > worst_loss)
        worst_loss = ce - h;
    }
  }
  printf("quantisation rate loss (Laplacian / peaked pmfs up to 600 values): worst %.5f "
         "bits/symbol\n",
         worst_loss);
  CHECK(worst_loss < 0.02, "quantisation loses %.5f bits/symbol", worst_loss);

  /* The case this procedure is for: a peaked channel at low rate. p(mode) = 0.99 with 999
   * values of ~1e-5: the mode keeps q close to 0.99 (taking the counts from the rare symbols),
   * where spreading every symbol's +1 over all symbols would cost 2.5x as much per mode. */
  float *peak = malloc(1000 * sizeof *peak);
  uint32_t *cdf = malloc(1002 * sizeof *cdf);
  if (!peak || !cdf)
    abort();
  for (int i = 0; i < 1000; i++)
    peak[i] = i == 500 ? 0.99f : 0.01f / 999;
  CHECK(saic_cdf_quantize(peak, 1000, 0, cdf, err, sizeof err) == SAIC_OK, "%s", err);
  double qmode = (double)(cdf[501] - cdf[500]) / SAIC_RC_TOTAL;
  printf("p(mode) 0.99 among 1000 values: q(mode) = %.5f (%.4f bits vs ideal %.4f)\n", qmode,
         -log2(qmode), -log2(0.99));
  CHECK(qmode > 0.984, "q(mode) = %.5f", qmode);
  free(peak);
  free(cdf);
}

static void test_sets(void) {
  char err[256] = "";
  CHECK(saic_cdf_set_new(0) == NULL && saic_cdf_set_new(SAIC_CDF_MAX_TABLES + 1) == NULL,
        "bad table counts accepted");
  saic_cdf_set *s = saic_cdf_set_new(3);
  CHECK(s && saic_cdf_set_count(s) == 3, "new set");
  if (!s)
    return;
  CHECK(saic_cdf_set_get(s, 0) == NULL && saic_cdf_set_get(s, 3) == NULL, "unset table visible");
  CHECK(saic_cdf_set_check_complete(s, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "table 0 of 3"),
        "incomplete: %s", err);
  const float pmf[3] = {0.2f, 0.6f, 0.2f};
  CHECK(saic_cdf_set_from_pmf(s, 0, -1, pmf, 3, 0.01f, err, sizeof err) == SAIC_OK, "%s", err);
  const saic_cdf *t = saic_cdf_set_get(s, 0);
  CHECK(t && t->min == -1 && t->nsym == 4 && cdf_valid(t->cdf, 4), "table 0 contents");
  /* Value ranges must stay inside |v| < 2^20. */
  CHECK(saic_cdf_set_from_pmf(s, 1, -SAIC_CDF_VALUE_LIMIT, pmf, 3, 0, err, sizeof err) ==
                SAIC_E_RANGE &&
            strstr(err, "exceeds"),
        "min -2^20: %s", err);
  CHECK(saic_cdf_set_from_pmf(s, 1, SAIC_CDF_VALUE_LIMIT - 2, pmf, 3, 0, err, sizeof err) ==
            SAIC_E_RANGE,
        "max 2^20 accepted");
  CHECK(saic_cdf_set_from_pmf(s, 1, SAIC_CDF_VALUE_LIMIT - 3, pmf, 3, 0, err, sizeof err) ==
            SAIC_OK,
        "max 2^20 - 1 refused: %s", err);
  CHECK(saic_cdf_set_from_pmf(s, 3, 0, pmf, 3, 0, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "out of range"),
        "index 3: %s", err);
  const float bad[3] = {0.2f, NAN, 0.2f};
  CHECK(saic_cdf_set_from_pmf(s, 2, 0, bad, 3, 0, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "CDF table 2") && strstr(err, "pmf[1]"),
        "NaN pmf: %s", err);

  /* Ready CDFs are validated like the loader's. */
  const uint32_t good[3] = {0, 100, 65536};
  const uint32_t flat_step[4] = {0, 100, 100, 65536};
  const uint32_t short_total[3] = {0, 100, 65535};
  const uint32_t nonzero_start[3] = {1, 100, 65536};
  const uint32_t single[2] = {0, 65536};
  CHECK(saic_cdf_set_from_cdf(s, 2, 5, good, 2, err, sizeof err) == SAIC_OK, "%s", err);
  CHECK(saic_cdf_set_from_cdf(s, 2, 5, flat_step, 3, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "not strictly increasing at symbol 1"),
        "zero frequency: %s", err);
  CHECK(saic_cdf_set_from_cdf(s, 2, 5, short_total, 2, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "must be 0..65536"),
        "total: %s", err);
  CHECK(saic_cdf_set_from_cdf(s, 2, 5, nonzero_start, 2, err, sizeof err) == SAIC_E_ARG,
        "cdf[0] = 1 accepted");
  CHECK(saic_cdf_set_from_cdf(s, 2, 5, single, 1, err, sizeof err) == SAIC_E_ARG &&
            strstr(err, "1 symbols"),
        "no room for the escape: %s", err);
  /* A failed set leaves the earlier table in place. */
  t = saic_cdf_set_get(s, 2);
  CHECK(t && t->min == 5 && t->nsym == 2 && t->cdf[1] == 100, "table 2 was clobbered");
  CHECK(saic_cdf_set_check_complete(s, err, sizeof err) == SAIC_OK, "%s", err);
  saic_cdf_set_free(s);
  saic_cdf_set_free(NULL);
}

/* A fixed set (libm-free, so its bytes can be pinned): geometric pmfs of several decays, a
 * certain symbol, a single-value alphabet. */
static saic_cdf_set *fixed_set(void) {
  saic_cdf_set *s = saic_cdf_set_new(6);
  float pmf[41], tail;
  char err[256];
  for (int i = 0; i < 4; i++) {
    geometric_pmf(pmf, 41, 20 + i, (uint32_t)(40 + 60 * i), &tail);
    if (saic_cdf_set_from_pmf(s, i, -20, pmf, 41, tail, err, sizeof err) != SAIC_OK)
      abort();
  }
  const float certain[3] = {0, 1, 0}, one[1] = {0.9f};
  if (saic_cdf_set_from_pmf(s, 4, -1, certain, 3, 0, err, sizeof err) != SAIC_OK ||
      saic_cdf_set_from_pmf(s, 5, 7, one, 1, 0.1f, err, sizeof err) != SAIC_OK)
    abort();
  return s;
}

static void put_u32le(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Deserialises a modified copy and checks it is refused with a message containing want. */
static void expect_refused(const uint8_t *blob, size_t len, const char *what, const char *want) {
  char err[256] = "";
  saic_cdf_set *s = (saic_cdf_set *)blob; /* must be reset to NULL */
  int rc = saic_cdf_set_deserialize(blob, len, &s, err, sizeof err);
  CHECK(rc == SAIC_E_CORRUPT && s == NULL && strstr(err, want), "%s: rc %d, \"%s\"", what, rc, err);
  if (rc == SAIC_OK)
    saic_cdf_set_free(s);
}

static void test_serialisation(void) {
  char err[256] = "";
  saic_cdf_set *s = fixed_set();
  uint8_t *blob;
  size_t len;
  CHECK(saic_cdf_set_serialize(s, &blob, &len, err, sizeof err) == SAIC_OK, "%s", err);
  size_t want_len = 20 + 6 * 8 + 2 * (4 * 41 + 3 + 1);
  CHECK(len == want_len, "blob is %zu bytes, expected %zu", len, want_len);
  /* Pinned bytes: the quantiser reads floats exactly and then uses integers only. */
  const uint64_t pinned = 0xaba01f99e9f6b4caull;
  uint64_t h = fnv1a(FNV_INIT, blob, len);
  printf("serialised fixed set: %zu bytes, FNV-1a 0x%016llx\n", len, (unsigned long long)h);
  CHECK(h == pinned, "checksum 0x%016llx, pinned 0x%016llx", (unsigned long long)h,
        (unsigned long long)pinned);

  saic_cdf_set *back = NULL;
  CHECK(saic_cdf_set_deserialize(blob, len, &back, err, sizeof err) == SAIC_OK, "%s", err);
  if (back) {
    int same = saic_cdf_set_count(back) == 6;
    for (int i = 0; i < 6 && same; i++) {
      const saic_cdf *x = saic_cdf_set_get(s, i), *y = saic_cdf_set_get(back, i);
      same = y && x->min == y->min && x->nsym == y->nsym && cdf_equal(x->cdf, y->cdf, x->nsym + 1);
    }
    CHECK(same, "round trip changed the tables");
    saic_cdf_set_free(back);
  }

  /* Every truncation, and trailing bytes, are refused. */
  int truncs_ok = 1;
  for (size_t n = 0; n < len; n++) {
    uint8_t *copy = n ? malloc(n) : NULL; /* exact size, so ASan sees any over-read */
    if (n)
      memcpy(copy, blob, n);
    saic_cdf_set *x = NULL;
    if (saic_cdf_set_deserialize(copy, n, &x, err, sizeof err) != SAIC_E_CORRUPT || x)
      truncs_ok = 0;
    saic_cdf_set_free(x);
    free(copy);
  }
  CHECK(truncs_ok, "a truncated blob was accepted");
  uint8_t *m = malloc(len + 1);
  if (!m)
    abort();
  memcpy(m, blob, len);
  m[len] = 0;
  expect_refused(m, len + 1, "trailing byte", "trailing bytes");
  expect_refused(m, len - 1, "one byte short", "truncated");
  expect_refused(m, 10, "tiny", "shorter than the 20-byte header");

#define MUTATE(stmt, what, want)                                                                   \
  do {                                                                                             \
    memcpy(m, blob, len);                                                                          \
    stmt;                                                                                          \
    expect_refused(m, len, what, want);                                                            \
  } while (0)
  MUTATE(m[0] = 'X', "magic", "bad magic");
  MUTATE(put_u32le(m + 8, 2), "version", "format version 2");
  MUTATE(put_u32le(m + 12, 15), "precision", "precision 15");
  MUTATE(put_u32le(m + 16, 0), "no tables", "table count 0");
  MUTATE(put_u32le(m + 16, 70000), "too many tables", "table count 70000");
  MUTATE(put_u32le(m + 16, 60000), "huge count, short data", "cannot hold the directory");
  MUTATE(put_u32le(m + 16, 5), "count one less", "trailing bytes");
  MUTATE(put_u32le(m + 20 + 4, 1), "nsym 1", "CDF table 0: 1 symbols");
  MUTATE(put_u32le(m + 20 + 4, 0), "nsym 0", "CDF table 0: 0 symbols");
  MUTATE(put_u32le(m + 20 + 8 + 4, 70000), "nsym 70000", "CDF table 1: 70000 symbols");
  MUTATE(put_u32le(m + 20 + 8 + 4, 0xFFFFFFFFu), "nsym 2^32-1", "CDF table 1: 4294967295");
  MUTATE(put_u32le(m + 20 + 8 + 4, 43), "nsym one more", "truncated");
  MUTATE(put_u32le(m + 20 + 16, (uint32_t)-SAIC_CDF_VALUE_LIMIT), "min -2^20", "exceeds");
  MUTATE(put_u32le(m + 20 + 16, SAIC_CDF_VALUE_LIMIT - 40), "max 2^20", "exceeds");
  MUTATE(put_u32le(m + 20 + 16, 0x80000000u), "min INT32_MIN", "exceeds");
  /* CDF entries of table 0 start at 68: swap two to break monotonicity, zero a frequency. */
  MUTATE((m[68 + 2 * 10] = m[68 + 2 * 11], m[68 + 2 * 10 + 1] = m[68 + 2 * 11 + 1]),
         "zero frequency", "CDF table 0: CDF not strictly increasing at symbol 11");
  MUTATE((m[68] = 0, m[69] = 0), "cdf[1] = 0", "not strictly increasing at symbol 0");
  /* Table 4 (4 symbols) ends 2 bytes before the blob: its cdf[3] = 0 breaks the order. */
  MUTATE((m[len - 4] = 0, m[len - 3] = 0), "table 4 order", "CDF table 4: CDF not strictly");
#undef MUTATE
  /* An interior point of 0xFFFF is legal where it still increases: table 5 has 2 symbols and
   * cdf[1] = 65535 leaves the escape frequency 1. */
  memcpy(m, blob, len);
  m[len - 2] = 0xFF;
  m[len - 1] = 0xFF;
  saic_cdf_set *x = NULL;
  int rc = saic_cdf_set_deserialize(m, len, &x, err, sizeof err);
  CHECK(rc == SAIC_OK, "cdf[1] = 65535 of a 2-symbol table refused: %s", err);
  saic_cdf_set_free(x);

  /* Random single-byte damage: refused, or a valid set; never a crash. */
  trng r = {11};
  int refused = 0, accepted = 0;
  for (int i = 0; i < 20000; i++) {
    memcpy(m, blob, len);
    size_t at = trng_below(&r, (uint32_t)len);
    m[at] ^= (uint8_t)(1 + trng_below(&r, 255));
    x = NULL;
    rc = saic_cdf_set_deserialize(m, len, &x, err, sizeof err);
    if (rc == SAIC_OK) {
      int valid = 1;
      for (int t = 0; t < saic_cdf_set_count(x); t++)
        valid &= cdf_valid(saic_cdf_set_get(x, t)->cdf, saic_cdf_set_get(x, t)->nsym);
      CHECK(valid, "accepted an invalid table");
      accepted++;
    } else {
      CHECK(rc == SAIC_E_CORRUPT && err[0], "rc %d without a message", rc);
      refused++;
    }
    saic_cdf_set_free(x);
  }
  printf("random byte damage: %d refused, %d still valid\n", refused, accepted);
  free(m);

  /* Incomplete sets are not serialised. */
  saic_cdf_set *partial = saic_cdf_set_new(2);
  uint8_t *pb = (uint8_t *)partial;
  size_t pl = 1;
  CHECK(saic_cdf_set_serialize(partial, &pb, &pl, err, sizeof err) == SAIC_E_ARG && pb == NULL &&
            pl == 0 && strstr(err, "not set"),
        "partial set: %s", err);
  saic_cdf_set_free(partial);
  free(blob);
  saic_cdf_set_free(s);
}

int main(void) {
  test_quantize_known();
  test_quantize_refuses();
  test_quantize_random();
  test_sets();
  test_serialisation();
  return sb_test_status("saic_cdf");
}
