/* test_saic_rc.c - the range coder: round trips over random tables and messages (bypass bits
 * mixed in), edge tables, carries, termination overhead against the ideal code length, bit-exact
 * output (a pinned checksum), and decoding of arbitrary bytes. */
#include "saic_coder.h"
#include "saic_test_util.h"

#define MAX_TABLES 8

typedef struct msg_item {
  int table; /* -1: bypass bits */
  uint32_t value;
  int nbits;
} msg_item;

typedef struct tables {
  uint32_t *cdf[MAX_TABLES];
  uint32_t n[MAX_TABLES];
  int count;
} tables;

static void tables_random(trng *r, tables *t) {
  t->count = 1 + (int)trng_below(r, MAX_TABLES);
  for (int i = 0; i < t->count; i++) {
    uint32_t k = trng_below(r, 10);
    /* Mostly small alphabets like a latent's, sometimes one symbol or a huge one. */
    uint32_t n = k == 0   ? 1
                 : k == 1 ? 2 + trng_below(r, 4000)
                 : k == 2 ? 65536
                          : 2 + trng_below(r, 64);
    t->n[i] = n;
    t->cdf[i] = malloc((n + 1) * sizeof(uint32_t));
    if (!t->cdf[i])
      abort();
    random_cdf(r, t->cdf[i], n);
  }
}

static void tables_free(tables *t) {
  for (int i = 0; i < t->count; i++)
    free(t->cdf[i]);
}

/* A random message; returns its ideal length in bits (sum of -log2 p, bypass bits at 1 each). */
static double message_random(trng *r, const tables *t, msg_item *m, size_t len, int bypass) {
  double bits = 0;
  for (size_t i = 0; i < len; i++) {
    if (bypass && trng_below(r, 8) == 0) {
      m[i].table = -1;
      m[i].nbits = 1 + (int)trng_below(r, SAIC_RC_MAX_BITS);
      m[i].value = (uint32_t)(trng_next(r) & ((1u << m[i].nbits) - 1));
      bits += m[i].nbits;
    } else {
      m[i].table = (int)trng_below(r, (uint32_t)t->count);
      m[i].value = draw_symbol(r, t->cdf[m[i].table], t->n[m[i].table]);
      m[i].nbits = 0;
      bits += symbol_bits(t->cdf[m[i].table], m[i].value);
    }
  }
  return bits;
}

static int encode(const tables *t, const msg_item *m, size_t len, uint8_t **out, size_t *out_len) {
  saic_rc_enc e;
  saic_rc_enc_init(&e);
  for (size_t i = 0; i < len; i++) {
    int rc = m[i].table < 0 ? saic_rc_enc_put_bits(&e, m[i].value, m[i].nbits)
                            : saic_rc_enc_put(&e, t->cdf[m[i].table], t->n[m[i].table], m[i].value);
    if (rc != SAIC_OK) {
      saic_rc_enc_free(&e);
      return rc;
    }
  }
  return saic_rc_enc_finish(&e, out, out_len);
}

/* Decodes len items with the message's own layout; returns the index of the first mismatch or
 * len. Also checks the decoder consumed at least the whole stream. */
static size_t decode_check(const tables *t, const msg_item *m, size_t len, const uint8_t *data,
                           size_t size) {
  saic_rc_dec d;
  saic_rc_dec_init(&d, data, size);
  for (size_t i = 0; i < len; i++) {
    uint32_t v = m[i].table < 0 ? saic_rc_dec_get_bits(&d, m[i].nbits)
                                : saic_rc_dec_get(&d, t->cdf[m[i].table], t->n[m[i].table]);
    if (v != m[i].value)
      return i;
  }
  CHECK(saic_rc_dec_consumed(&d) >= size, "decoder consumed %zu of %zu bytes",
        saic_rc_dec_consumed(&d), size);
  return len;
}

static void test_roundtrip_and_overhead(void) {
  trng r = {1};
  const int trials = 20000;
  double sum_over = 0, max_over = -1e9, min_over = 1e9;
  int failures = 0;
  msg_item *m = malloc(2000 * sizeof *m);
  if (!m)
    abort();
  for (int trial = 0; trial < trials; trial++) {
    tables t;
    tables_random(&r, &t);
    size_t len = 1 + trng_below(&r, 2000);
    double ideal = message_random(&r, &t, m, len, trial % 2);
    uint8_t *buf;
    size_t size;
    int rc = encode(&t, m, len, &buf, &size);
    CHECK(rc == SAIC_OK, "trial %d: encode rc %d", trial, rc);
    if (rc == SAIC_OK) {
      size_t bad = decode_check(&t, m, len, buf, size);
      if (bad != len && failures++ < 5)
        CHECK(0, "trial %d: mismatch at item %zu of %zu", trial, bad, len);
      CHECK(size == 0 || buf[size - 1] != 0, "trial %d: stream ends in 0x00", trial);
      double over = (double)size - ideal / 8;
      sum_over += over;
      max_over = over > max_over ? over : max_over;
      min_over = over < min_over ? over : min_over;
    }
    free(buf);
    tables_free(&t);
  }
  free(m);
  double mean = sum_over / trials;
  printf("range coder overhead vs ideal over %d messages: mean %.3f bytes, max %.3f, min %.3f\n",
         trials, mean, max_over, min_over);
  /* Termination costs at most ~1 bit plus the rounding to whole bytes. */
  CHECK(mean < 1.0, "mean overhead %.3f bytes", mean);
  CHECK(max_over < 1.25, "max overhead %.3f bytes", max_over);
  /* No lower bound: the stream length is not self-delimiting (the decoder knows the symbol
   * count), so messages whose interval contains a point with many trailing zeros, e.g. near 0,
   * come out shorter than their ideal length. */
}

/* Sequences that stress the edges of the interval: always the bottom symbol (bytes of 0x00),
 * always the top symbol (runs of 0xFF and carries), certain symbols (n = 1), symbols of
 * frequency 1 (16 bits each), and long bypass runs. */
static void test_edges(void) {
  static uint32_t two_lo[3] = {0, 1, SAIC_RC_TOTAL};                 /* symbol 1 ~ certain */
  static uint32_t two_hi[3] = {0, SAIC_RC_TOTAL - 1, SAIC_RC_TOTAL}; /* symbol 0 ~ certain */
  static uint32_t one[2] = {0, SAIC_RC_TOTAL};
  static uint32_t half[3] = {0, SAIC_RC_TOTAL / 2, SAIC_RC_TOTAL};
  struct {
    const char *name;
    const uint32_t *cdf;
    uint32_t n, sym;
    size_t count;
  } cases[] = {
      {"top symbol, near certain", two_lo, 2, 1, 100000},
      {"bottom symbol, near certain", two_hi, 2, 0, 100000},
      {"top symbol of frequency 1", two_hi, 2, 1, 3000},
      {"bottom symbol of frequency 1", two_lo, 2, 0, 3000},
      {"single-symbol alphabet", one, 1, 0, 100000},
      {"top half", half, 2, 1, 5000},
      {"bottom half", half, 2, 0, 5000},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    saic_rc_enc e;
    saic_rc_enc_init(&e);
    int ok = 1;
    for (size_t i = 0; i < cases[c].count; i++)
      ok &= saic_rc_enc_put(&e, cases[c].cdf, cases[c].n, cases[c].sym) == SAIC_OK;
    uint8_t *buf;
    size_t size;
    ok &= saic_rc_enc_finish(&e, &buf, &size) == SAIC_OK;
    CHECK(ok, "%s: encode failed", cases[c].name);
    double ideal = cases[c].count * symbol_bits(cases[c].cdf, cases[c].sym) / 8;
    /* Always the bottom symbol codes the point 0: all bytes are zero and stripped. */
    size_t want_max = cases[c].sym == 0 ? 0 : (size_t)(ideal + 1.0);
    CHECK(size <= want_max, "%s: %zu bytes for an ideal %.2f", cases[c].name, size, ideal);
    saic_rc_dec d;
    saic_rc_dec_init(&d, buf, size);
    size_t bad = cases[c].count;
    for (size_t i = 0; i < cases[c].count && bad == cases[c].count; i++)
      if (saic_rc_dec_get(&d, cases[c].cdf, cases[c].n) != cases[c].sym)
        bad = i;
    CHECK(bad == cases[c].count, "%s: mismatch at %zu", cases[c].name, bad);
    free(buf);
  }

  /* The empty message, and one that is certain, are 0 bytes. */
  saic_rc_enc e;
  saic_rc_enc_init(&e);
  uint8_t *buf = (uint8_t *)&e;
  size_t size = 99;
  CHECK(saic_rc_enc_finish(&e, &buf, &size) == SAIC_OK && size == 0 && buf == NULL,
        "empty message: %zu bytes", size);

  /* All-ones and all-zeros bypass runs, 16 bits at a time. */
  for (uint32_t pattern = 0; pattern < 2; pattern++) {
    saic_rc_enc_init(&e);
    for (int i = 0; i < 1000; i++)
      saic_rc_enc_put_bits(&e, pattern ? 0xFFFFu : 0u, 16);
    CHECK(saic_rc_enc_finish(&e, &buf, &size) == SAIC_OK, "bypass finish");
    CHECK(size <= 2001, "bypass pattern %u: %zu bytes for 2000", pattern, size);
    saic_rc_dec d;
    saic_rc_dec_init(&d, buf, size);
    int bad = 0;
    for (int i = 0; i < 1000; i++)
      bad += saic_rc_dec_get_bits(&d, 16) != (pattern ? 0xFFFFu : 0u);
    CHECK(bad == 0, "bypass pattern %u: %d mismatches", pattern, bad);
    free(buf);
  }

  /* Argument checks. */
  saic_rc_enc_init(&e);
  CHECK(saic_rc_enc_put(&e, half, 2, 2) == SAIC_E_ARG, "symbol past the table accepted");
  CHECK(saic_rc_enc_put_bits(&e, 2, 1) == SAIC_E_ARG, "value wider than nbits accepted");
  CHECK(saic_rc_enc_put_bits(&e, 0, 0) == SAIC_E_ARG, "0 bits accepted");
  CHECK(saic_rc_enc_put_bits(&e, 0, 17) == SAIC_E_ARG, "17 bits accepted");
  saic_rc_enc_free(&e);
  saic_rc_dec d;
  saic_rc_dec_init(&d, NULL, 0);
  CHECK(saic_rc_dec_get_bits(&d, 0) == 0 && saic_rc_dec_get_bits(&d, 17) == 0,
        "bad nbits decoded something");
}

/* A fixed workload's bytes, pinned: the coder is integers only, so this checksum must be the
 * same on every machine and compiler. Also encodes each message twice and compares. */
static void test_bit_exact(void) {
  trng r = {20240601};
  uint64_t h = FNV_INIT;
  size_t total = 0;
  msg_item *m = malloc(500 * sizeof *m);
  if (!m)
    abort();
  for (int trial = 0; trial < 200; trial++) {
    tables t;
    tables_random(&r, &t);
    size_t len = 1 + trng_below(&r, 500);
    message_random(&r, &t, m, len, 1);
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int ok = encode(&t, m, len, &a, &na) == SAIC_OK && encode(&t, m, len, &b, &nb) == SAIC_OK;
    CHECK(ok && na == nb && (na == 0 || memcmp(a, b, na) == 0), "trial %d: repeat differs", trial);
    h = fnv1a(h, a, na);
    total += na;
    free(a);
    free(b);
    tables_free(&t);
  }
  free(m);
  const uint64_t pinned = 0xcd102eb011521327ull;
  printf("bit-exact workload: %zu bytes, FNV-1a 0x%016llx\n", total, (unsigned long long)h);
  CHECK(h == pinned, "checksum 0x%016llx, pinned 0x%016llx", (unsigned long long)h,
        (unsigned long long)pinned);
}

/* Arbitrary bytes decode to something, within the tables' alphabets, without reading past the
 * input (ASan in CI checks the reads; here we copy each input into an exact-size buffer). */
static void test_hostile(void) {
  trng r = {77};
  for (int trial = 0; trial < 3000; trial++) {
    tables t;
    tables_random(&r, &t);
    size_t len = trng_below(&r, 48);
    uint8_t *data = len ? malloc(len) : NULL;
    for (size_t i = 0; i < len; i++)
      data[i] = (uint8_t)trng_next(&r);
    saic_rc_dec d;
    saic_rc_dec_init(&d, data, len);
    int bad = 0;
    for (int i = 0; i < 500; i++) {
      if (trng_below(&r, 4) == 0) {
        int nb = 1 + (int)trng_below(&r, 16);
        bad += saic_rc_dec_get_bits(&d, nb) >> nb != 0;
      } else {
        int k = (int)trng_below(&r, (uint32_t)t.count);
        bad += saic_rc_dec_get(&d, t.cdf[k], t.n[k]) >= t.n[k];
      }
    }
    CHECK(bad == 0, "trial %d: %d out-of-alphabet results", trial, bad);
    free(data);
    tables_free(&t);
  }
}

int main(void) {
  test_roundtrip_and_overhead();
  test_edges();
  test_bit_exact();
  test_hostile();
  return sb_test_status("saic_rc");
}
