/* Suite parsing: a valid file, each class of error with its line and column, codec specs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sb_test.h"

static suite *parse_ok(const char *text) {
  char err[512] = "";
  suite *s = NULL;
  int rc = suite_parse(text, strlen(text), "t.yaml", &s, err, sizeof err);
  CHECK(rc == 0 && s, "%s", err);
  return s;
}

/* Parses text that must fail and checks that the message starts with `where` and contains
 * `what`. */
static void parse_bad(const char *text, const char *where, const char *what) {
  char err[512] = "";
  suite *s = NULL;
  int rc = suite_parse(text, strlen(text), "t.yaml", &s, err, sizeof err);
  CHECK(rc != 0 && s == NULL, "accepted: %s", text);
  CHECK(strncmp(err, where, strlen(where)) == 0, "message '%s' does not start with '%s'", err,
        where);
  CHECK(strstr(err, what) != NULL, "message '%s' lacks '%s'", err, what);
  suite_free(s);
}

/* Settings tagged !path: resolved against the suite file's folder on load, flagged as files;
 * plain settings and absolute paths are left alone; an unknown tag is an error. */
static void test_path_settings(void) {
  char dir[] = "/tmp/saicbench_suite_XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0, "mkdtemp failed");
    return;
  }
  char path[256];
  snprintf(path, sizeof path, "%s/s.yaml", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f)
    return;
  fputs("name: p\ndatasets: [{path: cifar10}]\ncodecs:\n  - codec: saic\n"
        "    settings: {model: !path ../models/m.ckpt, threads: 2, other: !path /abs/x}\n"
        "    knob: [1]\n",
        f);
  fclose(f);
  suite *s = NULL;
  char err[512] = "";
  CHECK(suite_load_file(path, &s, err, sizeof err) == 0 && s, "%s", err);
  if (s && s->n_codecs == 1 && s->codecs[0].n_options == 3) {
    const suite_codec *c = &s->codecs[0];
    char want[300];
    snprintf(want, sizeof want, "%s/../models/m.ckpt", dir);
    CHECK(c->option_is_file && c->option_is_file[0] && !c->option_is_file[1] &&
          c->option_is_file[2]);
    CHECK(!strcmp(c->options[0].value, want), "resolved to '%s'", c->options[0].value);
    CHECK(!strcmp(c->options[1].value, "2") && !strcmp(c->options[2].value, "/abs/x"));
  } else {
    CHECK(0, "unexpected suite shape");
  }
  suite_free(s);
  remove(path);
  rmdir(dir);
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: saic\n"
            "    settings: {model: !file m.ckpt}\n    knob: [1]\n",
            "t.yaml:5:", "unknown tag '!file'");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: saic\n"
            "    settings: {model: !path ''}\n    knob: [1]\n",
            "t.yaml:5:", "empty !path");
}

/* `command_codecs:`: a full definition parsed into its fields, defaults, !path arguments
 * resolved against the suite file's folder on load, and every mistake with its position. */
static void test_command_codecs(void) {
  static const char head[] = "name: c\ndatasets: [{path: a}]\ncodecs: [{codec: toy, knob: 5}]\n";
  char text[2048];
  snprintf(text, sizeof text,
           "%scommand_codecs:\n"
           "  - name: toy\n"
           "    description: toy program codec\n"
           "    encode: [python3, !path toy.py, encode, \"{input}\", \"{output}\", \"-q={knob}\"]\n"
           "    decode: [python3, !path toy.py, decode, \"{input}\", \"{output}\"]\n"
           "    version: [python3, !path /abs/toy.py, --version]\n"
           "    knob: {name: q, min: 1, max: 100, integer: true, rate_increases: true}\n"
           "    image_format: png\n"
           "    stream_extension: toy\n"
           "    timeout: 30\n"
           "  - name: qp-codec\n"
           "    encode: [enc, \"{input}\", \"{output}\", \"{knob}\"]\n"
           "    decode: [dec, \"{input}\", \"{output}\"]\n"
           "    knob: {name: qp, min: 0, max: 51.5, rate_increases: false}\n",
           head);
  suite *s = parse_ok(text);
  if (s && s->n_command_codecs == 2) {
    const codec_command_def *d = &s->command_codecs[0].def;
    CHECK(!strcmp(d->name, "toy") && !strcmp(d->description, "toy program codec"));
    CHECK(d->encode.n == 6 && !strcmp(d->encode.args[5], "-q={knob}") && d->encode.is_path[1] &&
          !d->encode.is_path[0] && !d->encode.is_path[2]);
    CHECK(d->decode.n == 5 && d->version.n == 3 && d->version.is_path[1]);
    CHECK(!strcmp(d->knob_name, "q") && d->knob_kind == CODEC_KNOB_INT && d->knob_min == 1 &&
          d->knob_max == 100 && d->rate_increases == 1);
    CHECK(d->format == CODEC_COMMAND_PNG && !strcmp(d->stream_extension, "toy") &&
          d->timeout_s == 30);
    CHECK(s->command_codecs[0].line == 5 && s->command_codecs[0].column == 5, "%d:%d",
          s->command_codecs[0].line, s->command_codecs[0].column);
    const codec_command_def *q = &s->command_codecs[1].def;
    CHECK(q->knob_kind == CODEC_KNOB_REAL && q->rate_increases == -1 && q->knob_max == 51.5);
    CHECK(q->format == CODEC_COMMAND_PPM && !q->stream_extension && !q->version.n &&
          q->timeout_s == CODEC_COMMAND_DEFAULT_TIMEOUT_S && !q->description);
  } else {
    CHECK(0, "unexpected suite shape");
  }
  suite_free(s);

  /* On load, !path arguments are relative to the suite file's folder; others stay as written. */
  char dir[] = "/tmp/saicbench_suite_cmd_XXXXXX", path[256];
  if (mkdtemp(dir)) {
    snprintf(path, sizeof path, "%s/s.yaml", dir);
    FILE *f = fopen(path, "w");
    if (f) {
      fputs(text, f);
      fclose(f);
    }
    s = NULL;
    char err[512] = "";
    CHECK(suite_load_file(path, &s, err, sizeof err) == 0 && s, "%s", err);
    if (s && s->n_command_codecs == 2) {
      char want[300];
      snprintf(want, sizeof want, "%s/toy.py", dir);
      const codec_command_def *d = &s->command_codecs[0].def;
      CHECK(!strcmp(d->encode.args[1], want) && !strcmp(d->decode.args[1], want), "%s",
            d->encode.args[1]);
      CHECK(!strcmp(d->encode.args[0], "python3") && !strcmp(d->version.args[1], "/abs/toy.py"));
    }
    suite_free(s);
    remove(path);
    rmdir(dir);
  }

  /* Mistakes, each with its position. */
  static const struct {
    const char *entry, *where, *what;
  } bad[] = {
      {"  - name: t\n    encode: [e, \"{input}\", \"{outptu}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n",
       "t.yaml:6:28:", "argument 3 '{outptu}': unknown placeholder {outptu}"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\", \"{knob}\"]\n    knob: {name: q, min: 1, "
       "max: 9, rate_increases: true}\n",
       "t.yaml:7:40:", "placeholder {knob} is not available in decode"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    knob: {name: q, min: 1, max: 9, rate_increases: true}\n",
       "t.yaml:5:5:", "entry without 'decode'"},
      {"  - name: t\n    decode: [d, \"{input}\", \"{output}\"]\n"
       "    knob: {name: q, min: 1, max: 9, rate_increases: true}\n",
       "t.yaml:5:5:", "entry without 'encode'"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n",
       "t.yaml:5:5:", "encode has no {knob} placeholder"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 9, max: 1, "
       "rate_increases: true}\n",
       "t.yaml:8:11:", "range 9..1 is empty"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 0.2, max: 0.8, "
       "integer: true, rate_increases: true}\n",
       "t.yaml:8:11:", "integer range 0.2..0.8 holds no integer"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9}\n",
       "t.yaml:8:11:", "'rate_increases' is missing"},
      {"  - name: t\n    encode: [e, {input}, \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n",
       "t.yaml:6:17:", "argument 2 is not a string (quote placeholders"},
      {"  - name: t\n    encode: \"e {input} {output} {knob}\"\n",
       "t.yaml:6:13:", "encode: expected a list"},
      {"  - name: t\n    encode: [e, !file x, \"{input}\", \"{output}\", \"{knob}\"]\n",
       "t.yaml:6:17:", "unknown tag '!file'"},
      {"  - name: t\n    image_format: bmp\n", "t.yaml:6:19:", "'bmp' is not ppm or png"},
      {"  - name: t\n    timeout: 0\n", "t.yaml:6:14:", "expected whole seconds 1..86400"},
      {"  - name: t\n    timeout: 1.5\n", "t.yaml:6:14:", "expected whole seconds"},
      {"  - name: t\n    shell: true\n", "t.yaml:6:5:", "unknown key 'shell'"},
      {"  - name: Toy Codec\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n",
       "t.yaml:5:5:", "invalid name"},
      {"  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n"
       "  - name: t\n    encode: [e, \"{input}\", \"{output}\", \"{knob}\"]\n"
       "    decode: [d, \"{input}\", \"{output}\"]\n    knob: {name: q, min: 1, max: 9, "
       "rate_increases: true}\n",
       "t.yaml:9:5:", "name 't' used twice"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text, "%scommand_codecs:\n%s", head, bad[i].entry);
    parse_bad(text, bad[i].where, bad[i].what);
  }
  snprintf(text, sizeof text, "%scommand_codecs: []\n", head);
  parse_bad(text, "t.yaml:4:17:", "command_codecs: empty list");
}

/* `report:` (anchor and reference of the report that `run --report` writes): labels of the
 * suite's codecs, given in any order relative to `codecs:`; every mistake is an error with its
 * position. */
static void test_report_key(void) {
  static const char head[] = "name: r\ndatasets: [{path: a}]\n";
  static const char codecs[] = "codecs:\n  - {codec: jpeg, knob: 1}\n"
                               "  - {codec: saic, label: saic-mse, knob: 1}\n";
  char text[512];
  snprintf(text, sizeof text, "%sreport: {anchor: jpeg, reference: saic-mse}\n%s", head, codecs);
  suite *s = parse_ok(text);
  CHECK(s && s->report_anchor && !strcmp(s->report_anchor, "jpeg"));
  CHECK(s && s->report_reference && !strcmp(s->report_reference, "saic-mse"));
  suite_free(s);
  snprintf(text, sizeof text, "%s%sreport:\n  reference: jpeg\n", head, codecs);
  s = parse_ok(text);
  CHECK(s && !s->report_anchor && s->report_reference && !strcmp(s->report_reference, "jpeg"));
  suite_free(s);
  snprintf(text, sizeof text, "%s%s", head, codecs); /* none: NULL, the report's defaults */
  s = parse_ok(text);
  CHECK(s && !s->report_anchor && !s->report_reference);
  suite_free(s);

  snprintf(text, sizeof text, "%s%sreport:\n  anchor: webp\n", head, codecs);
  parse_bad(text, "t.yaml:7:11:",
            "report.anchor: 'webp' is not the label of a codec of this "
            "suite (labels: jpeg, saic-mse)");
  snprintf(text, sizeof text, "%sreport: {reference: saic}\n%s", head, codecs);
  parse_bad(text, "t.yaml:3:21:", "report.reference: 'saic' is not the label");
  snprintf(text, sizeof text, "%s%sreport:\n  anchor: jpeg\n  ancor: jpeg\n", head, codecs);
  parse_bad(text, "t.yaml:8:3:", "report: unknown key 'ancor' (known: anchor, reference)");
  snprintf(text, sizeof text, "%s%sreport: jpeg\n", head, codecs);
  parse_bad(text, "t.yaml:6:9:", "report: expected a mapping");
  snprintf(text, sizeof text, "%s%sreport: {anchor: [jpeg]}\n", head, codecs);
  parse_bad(text, "t.yaml:6:18:", "report.anchor: expected a string");
  snprintf(text, sizeof text, "%s%sreport: {anchor: jpeg, anchor: jpeg}\n", head, codecs);
  parse_bad(text, "t.yaml:6:24:", "'anchor' given twice");
  snprintf(text, sizeof text, "%s%sreport: {anchor: jpeg}\nreport: {anchor: jpeg}\n", head, codecs);
  parse_bad(text, "t.yaml:7:1:", "'report' given twice");
  snprintf(text, sizeof text, "%s%sreprot: {anchor: jpeg}\n", head, codecs);
  parse_bad(text, "t.yaml:6:1:", "unknown key 'reprot'");

  /* The shipped suites: the report compares against webp (BD) and the MSE-trained SAIC codec
   * (paired differences). */
  static const char *const shipped[] = {"quick.yaml", "nightly.yaml", "perceptual.yaml"};
  for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
    char path[1024], err[512] = "";
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/../../suites/%s", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".", shipped[i]);
    s = NULL;
    CHECK(suite_load_file(path, &s, err, sizeof err) == 0, "%s", err);
    CHECK(s && s->report_anchor && !strcmp(s->report_anchor, "webp") && s->report_reference &&
              !strcmp(s->report_reference, "saic-mse"),
          "%s", path);
    /* The perceptual suite computes every metric; the others the default three. */
    const unsigned want = i == 2 ? SUITE_METRICS_DEFAULT | SUITE_METRIC_PSNR_Y |
                                       SUITE_METRIC_PSNR_YCBCR | SUITE_METRIC_CIEDE2000 |
                                       SUITE_METRIC_BUTTERAUGLI
                                 : SUITE_METRICS_DEFAULT;
    CHECK(s && (s->metrics ? s->metrics : SUITE_METRICS_DEFAULT) == want, "%s: metrics %#x", path,
          s ? s->metrics : 0);
    suite_free(s);
  }
}

/* Leniency closed: a key given twice (in any mapping), a second YAML document, numbers that
 * are not decimal, nesting deeper than SB_YAML_MAX_DEPTH, too many anchors; each with
 * file:line:col. */
/* `metrics:` and --metrics: PSNR always, SSIM and MS-SSIM by default, unknown names refused. */
static void test_metrics(void) {
  static const char head[] = "name: m\ndatasets: [{path: a}]\ncodecs: [{codec: jpeg, knob: 1}]\n";
  char text[512];
  suite *s = parse_ok(head);
  CHECK(s && s->metrics == SUITE_METRICS_DEFAULT);
  suite_free(s);
  snprintf(text, sizeof text, "%smetrics: [psnr]\n", head);
  s = parse_ok(text);
  CHECK(s && s->metrics == SUITE_METRIC_PSNR);
  suite_free(s);
  snprintf(text, sizeof text, "%smetrics: [ms_ssim]\n", head); /* PSNR comes anyway */
  s = parse_ok(text);
  CHECK(s && s->metrics == (SUITE_METRIC_PSNR | SUITE_METRIC_MS_SSIM));
  suite_free(s);
  snprintf(text, sizeof text, "%smetrics: [psnr, vmaf]\n", head);
  parse_bad(text, "t.yaml:4:17:",
            "metrics: unknown metric 'vmaf' (known: psnr, ssim, ms_ssim, psnr_y, psnr_ycbcr, "
            "ciede2000, butteraugli)");
  /* The opt-in metrics (docs/metrics.md): every name, and in any order. */
  snprintf(text, sizeof text,
           "%smetrics: [psnr, ssim, ms_ssim, psnr_y, psnr_ycbcr, ciede2000, butteraugli]\n", head);
  s = parse_ok(text);
  CHECK(s && s->metrics == (SUITE_METRICS_DEFAULT | SUITE_METRICS_EXTRA), "%x",
        s ? s->metrics : 0u);
  suite_free(s);
  snprintf(text, sizeof text, "%smetrics: [butteraugli, psnr_y]\n", head);
  s = parse_ok(text);
  CHECK(s && s->metrics == (SUITE_METRIC_PSNR | SUITE_METRIC_BUTTERAUGLI | SUITE_METRIC_PSNR_Y));
  suite_free(s);
  snprintf(text, sizeof text, "%smetrics: [ciede2000, psnr_ycbcr, ciede2000]\n", head);
  parse_bad(text, "t.yaml:4:34:", "metrics: 'ciede2000' listed twice");
  /* Near misses are refused, not guessed. */
  snprintf(text, sizeof text, "%smetrics: [psnr-y]\n", head);
  parse_bad(text, "t.yaml:4:11:", "metrics: unknown metric 'psnr-y' (known: psnr, ssim,");
  snprintf(text, sizeof text, "%smetrics: [ciede2000, Butteraugli]\n", head);
  parse_bad(text, "t.yaml:4:22:", "metrics: unknown metric 'Butteraugli'");
  snprintf(text, sizeof text, "%smetrics: [ssim, ssim]\n", head);
  parse_bad(text, "t.yaml:4:17:", "metrics: 'ssim' listed twice");
  snprintf(text, sizeof text, "%smetrics: psnr\n", head);
  parse_bad(text, "t.yaml:4:10:", "metrics: expected a list");
  snprintf(text, sizeof text, "%smetrics: []\n", head);
  parse_bad(text, "t.yaml:4:10:", "metrics: expected a list");
  unsigned m = 0;
  char err[256];
  CHECK(suite_parse_metrics("psnr,ssim", &m, err, sizeof err) == 0 &&
        m == (SUITE_METRIC_PSNR | SUITE_METRIC_SSIM));
  CHECK(suite_parse_metrics("ms_ssim", &m, err, sizeof err) == 0 &&
        m == (SUITE_METRIC_PSNR | SUITE_METRIC_MS_SSIM));
  CHECK(suite_parse_metrics("psnr,", &m, err, sizeof err) != 0 && strstr(err, "unknown metric ''"));
  CHECK(suite_parse_metrics("SSIM", &m, err, sizeof err) != 0 && strstr(err, "'SSIM'"));
  CHECK(suite_parse_metrics("psnr_ycbcr,ciede2000", &m, err, sizeof err) == 0 &&
        m == (SUITE_METRIC_PSNR | SUITE_METRIC_PSNR_YCBCR | SUITE_METRIC_CIEDE2000));
  CHECK(suite_parse_metrics("butteraugli,ssim,ms_ssim,psnr_y", &m, err, sizeof err) == 0 &&
        m == (SUITE_METRICS_DEFAULT | SUITE_METRIC_BUTTERAUGLI | SUITE_METRIC_PSNR_Y));
  CHECK(suite_parse_metrics("ciede", &m, err, sizeof err) != 0 &&
            !strcmp(err, "--metrics: unknown metric 'ciede' (known: psnr, ssim, ms_ssim, psnr_y, "
                         "psnr_ycbcr, ciede2000, butteraugli)"),
        "%s", err);
}

static void test_strictness(void) {
  const char *codecs = "datasets: [{path: a}]\ncodecs: [{codec: jpeg, knob: [50]}]\n";
  char text[4096];
  snprintf(text, sizeof text, "name: x\n%sname: y\n", codecs);
  parse_bad(text, "t.yaml:4:1:", "'name' given twice (first at line 1)");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: jpeg\n    knob: [50]\n"
            "    knob: [70]\n",
            "t.yaml:6:5:", "'knob' given twice (first at line 5)");
  parse_bad("name: x\ndatasets: [{path: a, name: b, name: c}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:2:31:", "'name' given twice (first at line 2)");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs: [{codec: j, knob: 1}]\n"
            "gate: {knob: [1], knob: [2]}\n",
            "t.yaml:4:19:", "'knob' given twice");
  snprintf(text, sizeof text, "name: x\n%s---\nname: y\n", codecs);
  parse_bad(text, "t.yaml:4:1:", "a second YAML document");
  snprintf(text, sizeof text, "name: x\n%s...\n", codecs); /* an end marker alone is fine */
  suite_free(parse_ok(text));
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs: [{codec: jpeg, knob: [0x32]}]\n",
            "t.yaml:3:", "expected a number, got '0x32'");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs: [{codec: jpeg, bpp: [ .5, inf]}]\n",
            "t.yaml:3:", "got 'inf'");
  parse_bad("name: x\ndatasets: [{path: a, limit: 0x10}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:2:", "expected a non-negative decimal integer, got '0x10'");
  parse_bad("name: x\ndatasets: [{path: a, limit: +10}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:2:", "got '+10'");
  suite *s = parse_ok("name: x\ndatasets: [{path: a}]\n"
                      "codecs: [{codec: j, knob: [-1.5e1, .5, 5., +2, 1E2]}]\n");
  CHECK(s && s->codecs[0].n_knobs == 5 && s->codecs[0].knobs[0] == -15 &&
        s->codecs[0].knobs[4] == 100);
  suite_free(s);

  /* Nesting: 64 levels are fine, 65 are not, and a million are refused at once. */
  snprintf(text, sizeof text, "name: x\n%sgate: {a: %.*s%.*s}\n", codecs, 62,
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 62,
           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
  suite_free(parse_ok(text));
  snprintf(text, sizeof text, "name: x\n%sgate: {a: %.*s%.*s}\n", codecs, 63,
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 63,
           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
  parse_bad(text, "t.yaml:4:73:", "nested more than 64 levels deep");
  size_t deep = 1000000, head = strlen("name: x\ngate: ");
  char *big = malloc(head + 2 * deep + 2);
  if (big) {
    memcpy(big, "name: x\ngate: ", head);
    memset(big + head, '[', deep);
    memset(big + head + deep, ']', deep);
    memcpy(big + head + 2 * deep, "\n", 2);
    parse_bad(big, "t.yaml:2:", "nested more than 64 levels deep");
    free(big);
  }
  /* Anchors and aliases: bounded (libyaml looks each up linearly). */
  char *many = malloc(80 * 20 + 64);
  if (many) {
    size_t n = (size_t)sprintf(many, "name: x\nlist: [");
    for (int i = 0; i < 70; i++)
      n += (size_t)sprintf(many + n, "&a%d %d, ", i, i);
    sprintf(many + n, "]\n");
    parse_bad(many, "t.yaml:2:", "more than 64 anchors");
    free(many);
  }
}

int main(void) {
  suite *s = parse_ok("name: quick\n"
                      "description: a test\n"
                      "max_encodes: 9\n"
                      "datasets:\n"
                      "  - {name: cifar, path: cifar10, split: test, stride: 10, limit: 100}\n"
                      "  - path: kodak\n"
                      "codecs:\n"
                      "  - codec: jpeg\n"
                      "    settings: {subsampling: 444, optimize: true}\n"
                      "    knob: [10, 50, 90]\n"
                      "    bpp: [0.5, 1]\n"
                      "  - codec: webp\n"
                      "    label: webp-m6\n"
                      "    knob: 75\n");
  if (s) {
    CHECK(!strcmp(s->name, "quick") && s->max_encodes == 9);
    CHECK(s->n_datasets == 2 && s->n_codecs == 2);
    CHECK(!strcmp(s->datasets[0].name, "cifar") && !strcmp(s->datasets[0].split, "test"));
    CHECK(s->datasets[0].stride == 10 && s->datasets[0].limit == 100);
    CHECK(!strcmp(s->datasets[1].name, "kodak") && s->datasets[1].stride == 1);
    CHECK(!strcmp(s->codecs[0].label, "jpeg") && s->codecs[0].n_knobs == 3);
    CHECK(s->codecs[0].n_bpps == 2 && s->codecs[0].bpps[0] == 0.5);
    CHECK(s->codecs[0].n_options == 2 && !strcmp(s->codecs[0].options[0].key, "subsampling") &&
          !strcmp(s->codecs[0].options[0].value, "444"));
    CHECK(s->codecs[0].line == 8 && s->codecs[0].column == 5);
    CHECK(!strcmp(s->codecs[1].label, "webp-m6") && s->codecs[1].n_knobs == 1 &&
          s->codecs[1].knobs[0] == 75);
    CHECK(s->text && strstr(s->text, "webp-m6"));
  }
  suite_free(s);

  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: jpeg\n    knob: [10, abc]\n",
            "t.yaml:5:16:", "expected a number");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: jpeg\n    bpp: [0.5, -1]\n",
            "t.yaml:5:16:", "positive");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: jpeg\n    qualty: [1]\n",
            "t.yaml:5:5:", "unknown key 'qualty'");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs:\n  - codec: jpeg\n", "t.yaml:4:5:", "no grid");
  parse_bad("name: x\ndatasets: [{path: a, stride: 0}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:2:30:", "stride");
  parse_bad("name: x\ndatasets: [{path: a}]\n", "t.yaml:1:1:", "no 'codecs'");
  parse_bad("name: [x\n", "t.yaml:", "YAML syntax error");
  parse_bad("- a\n- b\n", "t.yaml:1:1:", "must be a mapping");
  parse_bad("", "t.yaml", "empty");
  parse_bad("name: x\ndatasets: [{path: a}, {path: a}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:1:1:", "used twice");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs: [{codec: j, knob: 1}, {codec: j, knob: 2}]\n",
            "t.yaml:3:", "label 'j' used twice");
  parse_bad("name: x\ndatasets: [{path: a}]\ncodecs: [{codec: j, knob: [1, 1]}]\n",
            "t.yaml:3:", "appears twice");
  parse_bad("name: x\ndatasets: [{path: a, name: 'a b'}]\ncodecs: [{codec: j, knob: 1}]\n",
            "t.yaml:2:", "letters, digits");

  /* Command-line codec specs. */
  char err[512];
  suite *a = suite_new_adhoc("adhoc");
  CHECK(a != NULL);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=10,50,90:subsampling=444", "quality", err,
                             sizeof err) == 0);
  CHECK(a->n_codecs == 1 && a->codecs[0].n_knobs == 3 && a->codecs[0].knobs[2] == 90);
  CHECK(a->codecs[0].n_options == 1 && !strcmp(a->codecs[0].options[0].value, "444"));
  CHECK(suite_add_codec_spec(a, "webp:bpp=0.5,1:method=6", "quality", err, sizeof err) == 0);
  CHECK(a->codecs[1].n_bpps == 2 && a->codecs[1].bpps[1] == 1.0);
  CHECK(suite_add_codec_spec(a, "webp:knob=50", "quality", err, sizeof err) != 0);
  CHECK(strstr(err, "used twice") != NULL);
  CHECK(suite_add_codec_spec(a, "webp:knob=50:label=w2", "quality", err, sizeof err) == 0);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=1,x", "quality", err, sizeof err) != 0);
  CHECK(strstr(err, "'x' is not a number") != NULL);
  CHECK(suite_add_codec_spec(a, "jpeg:subsampling=444", "quality", err, sizeof err) != 0);
  CHECK(strstr(err, "no grid") != NULL);
  CHECK(suite_add_codec_spec(a, "jpeg:bpp=0", "quality", err, sizeof err) != 0);
  CHECK(suite_add_codec_spec(a, "jpeg:oops", "quality", err, sizeof err) != 0);
  /* Command-line labels follow the suite's rules; a key given twice is an error. */
  CHECK(suite_add_codec_spec(a, "jpeg:quality=50:label==HYPERLINK(\"x\")", "quality", err,
                             sizeof err) != 0);
  CHECK(strstr(err, "label '=HYPERLINK(\"x\")': use letters, digits") != NULL, "%s", err);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=50:label=a b", "quality", err, sizeof err) != 0);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=50:label=j.q-50_x", "quality", err, sizeof err) == 0);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=50:knob=60:label=k", "quality", err, sizeof err) !=
        0);
  CHECK(strstr(err, "'knob' given twice") != NULL, "%s", err);
  CHECK(suite_add_codec_spec(a, "jpeg:quality=0x32:label=h", "quality", err, sizeof err) != 0);
  CHECK(strstr(err, "'0x32' is not a number") != NULL, "%s", err);
  suite_free(a);
  test_strictness();
  test_metrics();
  test_path_settings();
  test_report_key();
  test_command_codecs();
  return sb_test_status("test_suite");
}
