/* test_saic_crc8.c - CRC-8/SMBUS (codecs/saic/saic_crc8.c): the published check value 0xF4 for
 * "123456789", agreement with a bitwise reference (one bit at a time, polynomial 0x07, MSB first)
 * on random messages of 0..300 bytes, chaining (update over pieces = one pass), and the error
 * detection the bitstream relies on: every single-bit flip and every burst of up to 8 bits in a
 * message changes the CRC. */
#include "saic_coder.h"
#include "saic_test_util.h"

/* The definition, one bit at a time. */
static uint8_t crc8_bitwise(const uint8_t *p, size_t n) {
  uint8_t crc = 0x00;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int b = 0; b < 8; b++)
      crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ SAIC_CRC8_POLY : crc << 1);
  }
  return crc;
}

static void test_check_value(void) {
  const char *s = "123456789";
  CHECK(saic_crc8(s, 9) == 0xF4, "crc8(\"123456789\") = %02x, want f4", saic_crc8(s, 9));
  CHECK(SAIC_CRC8_CHECK == 0xF4 && crc8_bitwise((const uint8_t *)s, 9) == 0xF4,
        "bitwise reference gives %02x", crc8_bitwise((const uint8_t *)s, 9));
  CHECK(saic_crc8(NULL, 0) == 0 && saic_crc8_update(0x5a, NULL, 0) == 0x5a, "empty input");
}

static void test_random(void) {
  trng r = {20240611};
  uint8_t buf[300];
  int bad = 0, bad_chain = 0;
  for (int t = 0; t < 2000; t++) {
    const size_t n = trng_below(&r, sizeof buf + 1);
    for (size_t i = 0; i < n; i++)
      buf[i] = (uint8_t)trng_next(&r);
    const uint8_t want = crc8_bitwise(buf, n);
    bad += saic_crc8(buf, n) != want;
    const size_t cut = n ? trng_below(&r, (uint32_t)n + 1) : 0;
    bad_chain += saic_crc8_update(saic_crc8(buf, cut), buf + cut, n - cut) != want;
  }
  CHECK(bad == 0, "%d of 2000 random messages differ from the bitwise reference", bad);
  CHECK(bad_chain == 0, "%d of 2000 chained computations differ", bad_chain);
  /* Every single byte value, alone (the table itself). */
  for (int v = 0; v < 256; v++) {
    const uint8_t b = (uint8_t)v;
    CHECK(saic_crc8(&b, 1) == crc8_bitwise(&b, 1), "byte %02x", v);
  }
}

/* Bursts: every error pattern whose first and last flipped bits are at most 8 bits apart (in
 * message order, MSB first), at every position of a 64-byte message. */
static void test_bursts(void) {
  trng r = {77};
  uint8_t msg[64], e[64];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t)trng_next(&r);
  const uint8_t ref = saic_crc8(msg, sizeof msg);
  const int nbits = 8 * (int)sizeof msg;
  long tried = 0, missed = 0;
  for (int start = 0; start < nbits; start++)
    for (int len = 1; len <= 8 && start + len <= nbits; len++) {
      /* first and last bit set, the len - 2 between free */
      const int inner = len > 2 ? len - 2 : 0;
      for (uint32_t mid = 0; mid < (1u << inner); mid++) {
        memcpy(e, msg, sizeof msg);
        for (int k = 0; k < len; k++) {
          const int on = k == 0 || k == len - 1 || (mid >> (k - 1) & 1);
          if (on) {
            const int bit = start + k;
            e[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
          }
        }
        tried++;
        missed += saic_crc8(e, sizeof e) == ref;
      }
    }
  CHECK(missed == 0, "%ld of %ld bursts of <= 8 bits undetected", missed, tried);
  printf("  %ld bursts of 1..8 bits in a 64-byte message: %ld undetected\n", tried, missed);
}

int main(void) {
  test_check_value();
  test_random();
  test_bursts();
  return sb_test_status("saic_crc8");
}
