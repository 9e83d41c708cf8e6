/* saic_cli.c - `saicbench export`, `encode` and `decode` (see saic_cli.h). */
#include "saic_cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "data.h"
#include "saic.h"
#include "train.h"

/* Parsed options of one subcommand: --key VALUE pairs and up to two positional arguments. */
typedef struct cli_args {
  const char *model, *out, *rate, *threads, *tail_mass, *max_half_range, *max_pixels;
  const char *pos[2];
  int npos, help;
} cli_args;

static int cli_fail(const char *cmd, const char *msg) {
  fprintf(stderr, "saicbench %s: %s\n", cmd, msg);
  return 2;
}

/* Returns 0, or 2 after a message. `allowed` lists the option names this command takes. */
static int parse_args(const char *cmd, int argc, char **argv, const char *const *allowed,
                      int max_pos, cli_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
      a->help = 1;
      return 0;
    }
    if (s[0] == '-' && s[1] == '-') {
      const char *name = s + 2;
      int ok = 0;
      for (int k = 0; allowed[k]; k++)
        ok |= !strcmp(allowed[k], name);
      const char **slot = !strcmp(name, "model")            ? &a->model
                          : !strcmp(name, "out")            ? &a->out
                          : !strcmp(name, "rate")           ? &a->rate
                          : !strcmp(name, "threads")        ? &a->threads
                          : !strcmp(name, "tail-mass")      ? &a->tail_mass
                          : !strcmp(name, "max-half-range") ? &a->max_half_range
                          : !strcmp(name, "max-pixels")     ? &a->max_pixels
                                                            : NULL;
      if (!ok || !slot) {
        fprintf(stderr, "saicbench %s: unknown option '%s' (see --help)\n", cmd, s);
        return 2;
      }
      if (i + 1 >= argc) {
        fprintf(stderr, "saicbench %s: %s needs a value\n", cmd, s);
        return 2;
      }
      *slot = argv[++i];
    } else {
      if (a->npos >= max_pos) {
        fprintf(stderr, "saicbench %s: unexpected argument '%s' (see --help)\n", cmd, s);
        return 2;
      }
      a->pos[a->npos++] = s;
    }
  }
  return 0;
}

static int parse_long(const char *cmd, const char *opt, const char *v, long lo, long hi,
                      long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi) {
    fprintf(stderr, "saicbench %s: %s: expected an integer from %ld to %ld, got '%s'\n", cmd, opt,
            lo, hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

static int parse_double(const char *cmd, const char *opt, const char *v, double lo, double hi,
                        double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !(x >= lo && x <= hi)) {
    fprintf(stderr, "saicbench %s: %s: expected a number from %g to %g, got '%s'\n", cmd, opt, lo,
            hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len, char *err,
                      size_t err_len) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot create: %s", path, strerror(errno));
    return -1;
  }
  int bad = len && fwrite(data, 1, len, f) != len;
  bad |= fclose(f) != 0;
  if (bad) {
    snprintf(err, err_len, "%s: write failed: %s", path, strerror(errno));
    remove(path);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ export */

int saic_cli_export_main(int argc, char **argv) {
  static const char *const allowed[] = {"model", "out", "tail-mass", "max-half-range", NULL};
  cli_args a;
  if (parse_args("export", argc, argv, allowed, 0, &a))
    return 2;
  if (a.help) {
    printf("usage: saicbench export --model TRAIN.ckpt --out CODEC.ckpt [options]\n"
           "\n"
           "Turns a trained SAIC model (final.ckpt or last.ckpt of `saicbench train codec`) into\n"
           "a codec checkpoint: the networks plus one integer CDF table per latent channel,\n"
           "built from the learned density, and the model's SHA-256 (its first byte tags every\n"
           "stream). Use it with `--codec saic:model=CODEC.ckpt`, `saicbench encode/decode`.\n"
           "\n"
           "  --model PATH          training checkpoint (arch saic-fp)\n"
           "  --out PATH            codec checkpoint to write (arch saic-codec)\n"
           "  --tail-mass P         density mass left to the escape code (default 1e-9)\n"
           "  --max-half-range N    most table values on each side of the median (default "
           "4096)\n");
    return 0;
  }
  if (!a.model || !a.out)
    return cli_fail("export", "--model TRAIN.ckpt and --out CODEC.ckpt are required (see --help)");
  saic_export_opts o = saic_export_defaults();
  long half;
  if (a.tail_mass && parse_double("export", "--tail-mass", a.tail_mass, 1e-15, 0.01, &o.tail_mass))
    return 2;
  if (a.max_half_range &&
      parse_long("export", "--max-half-range", a.max_half_range, 1, 32768, &half))
    return 2;
  if (a.max_half_range)
    o.max_half_range = (int)half;
  saic_export_info info;
  nn_err e = {0};
  if (saic_export(a.model, a.out, &o, &info, &e) != NN_OK)
    return cli_fail("export", e.msg);
  char hex[65];
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", info.sha256[i]);
  fprintf(stderr,
          "saicbench export: %s: %d channels x %d rate indices: tables of %d..%d values (%ld in "
          "all, %d capped), model SHA-256 %02x%02x%02x%02x... (seeds every stream's check byte)\n",
          a.out, info.channels, info.rates, info.min_values, info.max_values, info.total_values,
          info.capped, info.sha256[0], info.sha256[1], info.sha256[2], info.sha256[3]);
  printf("%s\n", hex);
  return 0;
}

/* ------------------------------------------------------------------ encode / decode */

/* Default of `decode --max-pixels`: 2^24 pixels (4096 x 4096), half the codec's own limit.
 * Decoding needs about 700 bytes per pixel (networks at the padded size, latent, image), so the
 * limit is what caps the memory a stream can ask for; the payload bound (saic_codec.h) makes a
 * stream pay for its size in bytes. */
#define DECODE_DEFAULT_MAX_PIXELS ((long)1 << 24)

/* max_pixels: the limit without --max-pixels (0: the codec's, 2^25). */
static int open_codec(const char *cmd, const cli_args *a, long max_pixels, saic_codec **c) {
  long threads = 1;
  if (a->threads && parse_long(cmd, "--threads", a->threads, 1, 256, &threads))
    return 2;
  if (a->max_pixels &&
      parse_long(cmd, "--max-pixels", a->max_pixels, 1, (long)CODEC_MAX_PIXELS, &max_pixels))
    return 2;
  saic_codec_opts o = {(int)threads, (size_t)max_pixels};
  char err[512];
  if (saic_codec_open(a->model, &o, c, err, sizeof err))
    return cli_fail(cmd, err);
  return 0;
}

int saic_cli_encode_main(int argc, char **argv) {
  static const char *const allowed[] = {"model", "rate", "threads", NULL};
  cli_args a;
  if (parse_args("encode", argc, argv, allowed, 2, &a))
    return 2;
  if (a.help) {
    printf("usage: saicbench encode IN.png OUT.saic --model CODEC.ckpt --rate R [--threads N]\n"
           "\n"
           "Encodes a PNG or JPEG image with the SAIC codec.\n"
           "  --model PATH   codec checkpoint from `saicbench export`\n"
           "  --rate R       rate knob, continuous (77 steps over its range): 0 .. levels-1 are\n"
           "                 the model's trained levels (0 = lowest rate); up to levels-1/3 the\n"
           "                 gains are extrapolated past the top level (more bits; quality\n"
           "                 limited by the transforms)\n"
           "  --threads N    threads of the networks (default 1)\n"
           "Prints the sizes (file, header, payload) and bpp.\n");
    return 0;
  }
  if (a.npos != 2 || !a.model || !a.rate)
    return cli_fail("encode",
                    "usage: saicbench encode IN.png OUT.saic --model CODEC.ckpt --rate R (see "
                    "--help)");
  double rate;
  if (parse_double("encode", "--rate", a.rate, 0, SAIC_CKPT_MAX_LEVELS - 1, &rate))
    return 2;
  char err[512];
  image_rgb8 img = {0};
  /* Images the codec cannot take are refused from their header, before decoding. */
  if (image_load_file_max(a.pos[0], CODEC_MAX_PIXELS, &img, err, sizeof err))
    return cli_fail("encode", err);
  saic_codec *c = NULL;
  int rc = open_codec("encode", &a, 0, &c);
  uint8_t *data = NULL;
  size_t len = 0;
  saic_encode_stats st;
  if (!rc &&
      saic_codec_encode(c, img.rgb, img.width, img.height, rate, &data, &len, &st, err, sizeof err))
    rc = cli_fail("encode", err);
  if (!rc && write_file(a.pos[1], data, len, err, sizeof err))
    rc = cli_fail("encode", err);
  if (!rc) {
    const int L = saic_codec_get_model(c)->cfg.levels;
    printf("%s: %dx%d, rate %.6g (index %d), %zu bytes (header %zu, payload %zu), %.4f bpp, "
           "model estimate %.1f bits\n",
           a.pos[1], img.width, img.height, saic_codec_rate_value(L, st.rate_index), st.rate_index,
           len, st.header_bytes, st.payload_bytes,
           8.0 * (double)len / ((double)img.width * img.height), st.est_bits);
  }
  free(data);
  saic_codec_close(c);
  image_free(&img);
  return rc;
}

int saic_cli_decode_main(int argc, char **argv) {
  static const char *const allowed[] = {"model", "threads", "max-pixels", NULL};
  cli_args a;
  if (parse_args("decode", argc, argv, allowed, 2, &a))
    return 2;
  if (a.help) {
    printf("usage: saicbench decode IN.saic OUT.png --model CODEC.ckpt [--threads N]\n"
           "                        [--max-pixels N]\n"
           "\n"
           "Decodes a SAIC stream into an 8-bit RGB PNG. The model must be the one that encoded\n"
           "it: a stream's check byte covers the model's SHA-256, so another model's stream,\n"
           "like a damaged one, is refused (all but about 1 in 256 of them).\n"
           "  --model PATH     codec checkpoint from `saicbench export`\n"
           "  --threads N      threads of the networks (default 1)\n"
           "  --max-pixels N   refuse streams whose header declares more than N pixels (width x\n"
           "                   height), before anything is allocated (default %ld = 4096 x 4096,\n"
           "                   at most %zu). Decoding takes about 700 bytes of memory per pixel\n"
           "                   (~11 GB at the default); a stream must also carry a payload large\n"
           "                   enough for the size it declares.\n",
           DECODE_DEFAULT_MAX_PIXELS, (size_t)CODEC_MAX_PIXELS);
    return 0;
  }
  if (a.npos != 2 || !a.model)
    return cli_fail("decode",
                    "usage: saicbench decode IN.saic OUT.png --model CODEC.ckpt (see --help)");
  char err[512];
  uint8_t *data = NULL;
  size_t len = 0;
  if (image_read_file(a.pos[0], (size_t)1 << 30, &data, &len, err, sizeof err))
    return cli_fail("decode", err);
  saic_codec *c = NULL;
  int rc = open_codec("decode", &a, DECODE_DEFAULT_MAX_PIXELS, &c);
  image_rgb8 img = {0};
  if (!rc && saic_codec_decode(c, data, len, &img.rgb, &img.width, &img.height, err, sizeof err)) {
    char msg[700];
    snprintf(msg, sizeof msg, "%s: %s", a.pos[0], err);
    rc = cli_fail("decode", msg);
  }
  if (!rc && image_save_png(a.pos[1], &img, err, sizeof err))
    rc = cli_fail("decode", err);
  if (!rc)
    printf("%s: %dx%d\n", a.pos[1], img.width, img.height);
  image_free(&img);
  saic_codec_close(c);
  free(data);
  return rc;
}
