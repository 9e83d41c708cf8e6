/* How often damaged SAIC streams (format 2, saic_codec.h) get past the decoder: streams of a small
 * random model (n 8, m 8, 3 levels, the model of test_saic_codec) for 400 images (32x32 mostly,
 * also 16x16, 40x24, 7x5) at rates 0 .. 2.6, each damaged in every way below and decoded with
 * saic_codec_decode_symbols (it refuses exactly what saic_codec_decode refuses, without running
 * the networks). "Missed" = accepted. A damaged stream first has to pass the check byte (CRC-8,
 * expected 1/256 = 0.39 % for errors the CRC has no guarantee for), then the payload decoder's own
 * checks (a trailing zero byte, bytes left over, bad escapes), so the miss rate is at most ~0.39 %.
 *   (a) truncation to every length from len - 1 down to 2 bytes: < 1.5 %
 *   (b) 1..20 random bytes appended: < 1.5 %
 *   (c) every single-bit flip: none missed (a CRC catches every single-bit error)
 *   (d) 16 random one-byte substitutions per stream: none missed (an error inside one byte is a
 *       burst of <= 8 bits); 16 random substitutions of 2..4 bytes at random positions: < 1.5 %
 *   (e) every burst of 1..8 bits (first and last bit flipped, any pattern between) in 6 of the
 *       streams (32x32 at rates 0, 0.7, 2.6; 40x24, 16x16, 7x5): none missed unless the burst
 *       straddles the check byte (bytes 0/1 or 1/2: byte 1 is not part of the CRC's message, so
 *       such bursts are ordinary errors to it): < 1.5 %
 *   (f) the intact streams and 3,600 more (32x32, every rate index) decoded with a second model
 *       (seed 2, level gains e^(5 + 0.3 l): another SHA-256, a quicker export): < 2 %. The CRC
 *       is linear, so the check bytes of one stream under two models differ by the CRC-8 of the
 *       XOR of their hashes, whatever the stream: when crc8(hash a) != crc8(hash b) no stream of
 *       one passes the other's check byte, when they are equal (1 pair of models in 256) every
 *       stream does -- checked here exactly. Per pair of models, the odds of format 1's tag byte.
 * The measured rates are printed, e.g. "(a) truncation  161/73054 accepted (0.2204 %); passed the
 * check byte: 161 (0.2204 %)" ("passed the check byte" counts saic_codec_parse_header's accepts,
 * so it includes the payload bound, which refuses many truncations that get past the CRC: 279
 * before the bound existed). Fixed seeds; ~8 s of CPU, most of it exporting the two models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "saic.h"
#include "saic_codec_test_util.h"
#include "saic_coder.h"
#include "sb_test.h"

enum { N = 8, M = 8, LEVELS = 3, NSTREAMS = 400, NBURST_STREAMS = 6, NOTHER = 3600 };

typedef struct tally {
  const char *name;
  long tried, passed_check, accepted;
} tally;

/* Decodes d[0..n) with c; counts it, and whether it passed the check byte (and the header) and
 * whether the payload decoder accepted it too. Returns 1 when accepted. */
static int attempt(const saic_codec *c, const uint8_t *d, size_t n, tally *t) {
  saic_stream_info info;
  char err[512];
  t->tried++;
  if (saic_codec_parse_header(c, d, n, &info, err, sizeof err))
    return 0;
  t->passed_check++;
  int32_t *sym = NULL;
  size_t count = 0;
  if (saic_codec_decode_symbols(c, d, n, &sym, &count, NULL, err, sizeof err))
    return 0;
  free(sym);
  t->accepted++;
  return 1;
}

static double pct(const tally *t) { return t->tried ? 100.0 * (double)t->accepted / t->tried : 0; }

static void report(const tally *t) {
  printf("  %-40s %ld/%ld accepted (%.4f %%); passed the check byte: %ld (%.4f %%)\n", t->name,
         t->accepted, t->tried, pct(t), t->passed_check,
         t->tried ? 100.0 * (double)t->passed_check / t->tried : 0);
}

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n) { return (size_t)(rng_next(s) % n); }

int main(void) {
  char dir[64], path_a[512], path_b[512], err[512];
  const clock_t t_setup = clock();
  snprintf(dir, sizeof dir, "/tmp/saicbench_check_XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  if (sct_make_codec(dir, "a", N, M, LEVELS, 1, 2.0, path_a, sizeof path_a, err, sizeof err) ||
      sct_make_codec(dir, "b", N, M, LEVELS, 2, 0.3, path_b, sizeof path_b, err, sizeof err)) {
    fprintf(stderr, "setup: %s\n", err);
    return 1;
  }
  saic_codec_opts o = {1, 0};
  saic_codec *a = NULL, *b = NULL;
  if (saic_codec_open(path_a, &o, &a, err, sizeof err) ||
      saic_codec_open(path_b, &o, &b, err, sizeof err)) {
    fprintf(stderr, "open: %s\n", err);
    return 1;
  }
  CHECK(memcmp(saic_codec_get_model(a)->sha256, saic_codec_get_model(b)->sha256, 32) != 0,
        "the two models share a SHA-256");
  const char *names[] = {"a.train.ckpt", "a.ckpt", "b.train.ckpt", "b.ckpt"};
  for (int i = 0; i < 4; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    remove(p);
  }
  rmdir(dir);

  /* The streams. */
  const clock_t t0 = clock();
  const int sizes[][2] = {{32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 32},
                          {16, 16}, {40, 24}, {32, 32}, {7, 5},   {32, 32}};
  const double rates[] = {0, 0.7, 1.37, 2, 2.6};
  uint8_t *streams[NSTREAMS];
  size_t lens[NSTREAMS], maxlen = 0, total = 0;
  for (int i = 0; i < NSTREAMS; i++) {
    const int w = sizes[i % 10][0], h = sizes[i % 10][1];
    uint8_t *img = sct_image(w, h, 1000 + (uint64_t)i);
    if (saic_codec_encode(a, img, w, h, rates[(i / 10) % 5], &streams[i], &lens[i], NULL, err,
                          sizeof err)) {
      fprintf(stderr, "encode: %s\n", err);
      return 1;
    }
    free(img);
    maxlen = lens[i] > maxlen ? lens[i] : maxlen;
    total += lens[i];
  }
  const clock_t t1 = clock();
  printf("%d streams, %zu bytes in all (%.1f mean, %zu largest)\n", NSTREAMS, total,
         (double)total / NSTREAMS, maxlen);
  uint8_t *buf = malloc(maxlen + 32);
  if (!buf)
    abort();
  uint64_t rng = 20260611;
  tally trunc = {"(a) truncation", 0, 0, 0}, ext = {"(b) extension by 1..20 bytes", 0, 0, 0},
        flip = {"(c) single-bit flip", 0, 0, 0}, sub1 = {"(d) one-byte substitution", 0, 0, 0},
        subn = {"(d) 2..4-byte substitution", 0, 0, 0},
        burst = {"(e) burst <= 8 bits, not across byte 1", 0, 0, 0},
        burst1 = {"(e) burst <= 8 bits across byte 1", 0, 0, 0},
        other = {"(f) another model's stream", 0, 0, 0};
  for (int i = 0; i < NSTREAMS; i++) {
    const uint8_t *s = streams[i];
    const size_t n = lens[i];
    CHECK(attempt(a, s, n, &(tally){"intact", 0, 0, 0}), "stream %d does not decode", i);
    for (size_t l = n - 1; l >= 2 && l < n; l--)
      attempt(a, s, l, &trunc);
    for (size_t extra = 1; extra <= 20; extra++) {
      memcpy(buf, s, n);
      for (size_t k = 0; k < extra; k++)
        buf[n + k] = (uint8_t)rng_next(&rng);
      attempt(a, buf, n + extra, &ext);
    }
    memcpy(buf, s, n);
    for (size_t p = 0; p < n; p++)
      for (int bit = 0; bit < 8; bit++) {
        buf[p] ^= (uint8_t)(1u << bit);
        attempt(a, buf, n, &flip);
        buf[p] ^= (uint8_t)(1u << bit);
      }
    for (int t = 0; t < 16; t++) {
      const size_t p = below(&rng, n);
      buf[p] = (uint8_t)(s[p] ^ (1 + below(&rng, 255)));
      attempt(a, buf, n, &sub1);
      buf[p] = s[p];
    }
    if (n >= 2)
      for (int t = 0; t < 16; t++) {
        const size_t k = 2 + below(&rng, 3 < n - 1 ? 3 : n - 1);
        size_t pos[4];
        for (size_t j = 0; j < k; j++) { /* k distinct positions */
          int again;
          do {
            pos[j] = below(&rng, n);
            again = 0;
            for (size_t q = 0; q < j; q++)
              again |= pos[q] == pos[j];
          } while (again);
          buf[pos[j]] = (uint8_t)(s[pos[j]] ^ (1 + below(&rng, 255)));
        }
        attempt(a, buf, n, &subn);
        for (size_t j = 0; j < k; j++)
          buf[pos[j]] = s[pos[j]];
      }
    attempt(b, s, n, &other);
  }
  /* More streams for (f) alone: 32x32 at every rate index, decoded with the other model. */
  for (int i = 0; i < NOTHER; i++) {
    uint8_t *img = sct_image(32, 32, 5000 + (uint64_t)i), *d = NULL;
    size_t n = 0;
    const double r = saic_codec_rate_value(LEVELS, i % (SAIC_CODEC_RATE_STEPS + 1));
    if (saic_codec_encode(a, img, 32, 32, r, &d, &n, NULL, err, sizeof err)) {
      CHECK(0, "encode: %s", err);
    } else {
      attempt(b, d, n, &other);
    }
    free(d);
    free(img);
  }
  /* Every burst in NBURST_STREAMS of the streams: bits numbered MSB first through the file. */
  for (int i = 0; i < NBURST_STREAMS; i++) {
    /* stream i has size i % 10 and rate (i / 10) % 5 */
    static const int pick[NBURST_STREAMS] = {0, 13, 41, 16, 25, 38};
    const int si = pick[i];
    const uint8_t *s = streams[si];
    const size_t n = lens[si], nbits = 8 * n;
    memcpy(buf, s, n);
    for (size_t start = 0; start < nbits; start++)
      for (size_t len = 1; len <= 8 && start + len <= nbits; len++) {
        const size_t first = start / 8, last = (start + len - 1) / 8;
        tally *t = (first <= 1 && last >= 1 && first != last) ? &burst1 : &burst;
        const uint32_t inner = len > 2 ? (uint32_t)len - 2 : 0;
        for (uint32_t mid = 0; mid < (1u << inner); mid++) {
          for (size_t k = 0; k < len; k++)
            if (k == 0 || k == len - 1 || (mid >> (k - 1) & 1))
              buf[(start + k) / 8] ^= (uint8_t)(0x80u >> ((start + k) % 8));
          attempt(a, buf, n, t);
          memcpy(buf + first, s + first, last - first + 1);
        }
      }
  }
  const clock_t t2 = clock();
  printf("miss rates (accepted = decoded without an error; expected <= 1/256 = 0.39 %% where the "
         "CRC gives no guarantee):\n");
  const tally *all[] = {&trunc, &ext, &flip, &sub1, &subn, &burst, &burst1, &other};
  for (int i = 0; i < 8; i++)
    report(all[i]);
  printf("CPU: %.2f s making the two models, %.2f s encoding, %.2f s damaging and decoding\n",
         (double)(t0 - t_setup) / CLOCKS_PER_SEC, (double)(t1 - t0) / CLOCKS_PER_SEC,
         (double)(t2 - t1) / CLOCKS_PER_SEC);
  CHECK(flip.accepted == 0, "%ld single-bit flips accepted", flip.accepted);
  CHECK(sub1.accepted == 0, "%ld one-byte substitutions accepted", sub1.accepted);
  CHECK(burst.accepted == 0, "%ld bursts <= 8 bits (not across byte 1) accepted", burst.accepted);
  CHECK(pct(&trunc) < 1.5, "truncation miss rate %.4f %%", pct(&trunc));
  CHECK(pct(&ext) < 1.5, "extension miss rate %.4f %%", pct(&ext));
  CHECK(pct(&subn) < 1.5, "substitution miss rate %.4f %%", pct(&subn));
  CHECK(pct(&burst1) < 1.5, "burst across byte 1 miss rate %.4f %%", pct(&burst1));
  CHECK(pct(&other) < 2.0, "another model's streams accepted at %.4f %%", pct(&other));
  const uint8_t ka = saic_crc8(saic_codec_get_model(a)->sha256, 32),
                kb = saic_crc8(saic_codec_get_model(b)->sha256, 32);
  CHECK(other.passed_check == (ka != kb ? 0 : other.tried),
        "crc8 of the model hashes %02x / %02x, yet %ld of %ld streams passed the other's check", ka,
        kb, other.passed_check, other.tried);
  printf("CRC-8 of the model hashes: %02x (a), %02x (b): %s\n", ka, kb,
         ka != kb ? "no stream of one passes the other's check byte"
                  : "every stream of one passes the other's check byte");
  CHECK(trunc.tried > 10000 && flip.tried > 100000 && burst.tried > 100000 && other.tried == 4000,
        "too few trials");
  for (int i = 0; i < NSTREAMS; i++)
    free(streams[i]);
  free(buf);
  saic_codec_close(a);
  saic_codec_close(b);
  return sb_test_status("test_saic_stream_check");
}
