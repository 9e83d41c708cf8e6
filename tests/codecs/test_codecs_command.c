/* Command-line codecs (codec_registry.h): definitions and their rules, registration (PATH lookup,
 * version, name clashes, slots), encode/decode through tests/harness/toy_codec.py against a C
 * recomputation of the toy codec, every failure of a program as one clean message, arguments
 * passed literally (no shell), concurrent calls, and no temporary folder left behind.
 *
 * Usage: test_codecs_command PYTHON TOY_CODEC.py FAULTY_CODEC.py */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec_registry.h"
#include "codec_test_util.h"

static const char *python, *toy, *faulty;
static char scratch[] = "/tmp/saicbench_cmdtest_XXXXXX"; /* the test's own files */
static char tmpdir[300];                                 /* TMPDIR: the codec's folders only */

/* ---- definitions ---- */

/* A definition on the stack: `argv` lists are NULL-terminated string arrays. */
typedef struct def_buf {
  codec_command_def d;
  unsigned char enc_path[16], dec_path[16], ver_path[16];
} def_buf;

static size_t count(const char *const *a) {
  size_t n = 0;
  while (a && a[n])
    n++;
  return n;
}

/* The argv of a template; the scripts of tests/harness are marked !path. */
static codec_command_argv tmpl(const char *const *args, unsigned char *is_path) {
  codec_command_argv t = {(char **)(uintptr_t)args, is_path, count(args)};
  for (size_t i = 0; i < t.n; i++)
    is_path[i] = !strcmp(args[i], toy) || !strcmp(args[i], faulty);
  return t;
}

static void make_def(def_buf *b, const char *name, const char *const *enc, const char *const *dec,
                     const char *const *ver) {
  memset(b, 0, sizeof *b);
  b->d.name = (char *)(uintptr_t)name;
  b->d.encode = tmpl(enc, b->enc_path);
  b->d.decode = tmpl(dec, b->dec_path);
  b->d.version = tmpl(ver, b->ver_path);
  b->d.knob_name = "q";
  b->d.knob_kind = CODEC_KNOB_INT;
  b->d.knob_min = 1;
  b->d.knob_max = 256;
  b->d.rate_increases = 1;
  b->d.format = CODEC_COMMAND_PPM;
  b->d.timeout_s = 60;
}

static int has(const char *s, const char *part) { return s && strstr(s, part) != NULL; }

/* The toy codec's pixels for q levels (toy_codec.py quantise/dequantise). */
static void toy_expect(const uint8_t *in, uint8_t *out, size_t n, int q) {
  for (size_t i = 0; i < n; i++) {
    int level = q == 1 ? 0 : (in[i] * (q - 1) + 127) / 255;
    out[i] = (uint8_t)(q == 1 ? 128 : (level * 255 + (q - 1) / 2) / (q - 1));
  }
}

static void test_rules(void) {
  const char *enc[] = {"python3", "{input}", "{output}", "{knob}", NULL};
  const char *dec[] = {"python3", "{input}", "{output}", NULL};
  def_buf b;
  char err[512];
  make_def(&b, "ok", enc, dec, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) == 0, "%s", err);

  struct {
    const char *arg, *want;
    codec_command_role role;
  } args[] = {
      {"{inptu}", "unknown placeholder {inptu}", CODEC_COMMAND_ENCODE},
      {"x{input", "unclosed '{'", CODEC_COMMAND_ENCODE},
      {"{knob}", "placeholder {knob} is not available in decode", CODEC_COMMAND_DECODE},
      {"{width}", "not available in decode", CODEC_COMMAND_DECODE},
      {"{input}", "not available in version", CODEC_COMMAND_VERSION},
  };
  for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
    err[0] = '\0';
    CHECK(codec_command_check_arg(args[i].role, args[i].arg, err, sizeof err) != 0, "%s",
          args[i].arg);
    CHECK(has(err, args[i].want), "'%s': '%s'", args[i].arg, err);
  }
  CHECK(codec_command_check_arg(CODEC_COMMAND_VERSION, "{{literal}} }", err, sizeof err) == 0, "%s",
        err);
  CHECK(codec_command_check_arg(CODEC_COMMAND_ENCODE, "-q={knob}:{width}x{height}", err,
                                sizeof err) == 0,
        "%s", err);

  const char *no_knob[] = {"python3", "{input}", "{output}", NULL};
  make_def(&b, "t", no_knob, dec, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "no {knob} placeholder"),
        "%s", err);
  const char *no_out[] = {"python3", "{input}", NULL};
  make_def(&b, "t", enc, no_out, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 &&
            has(err, "decode has no {output} placeholder"),
        "%s", err);
  const char *none[] = {NULL};
  make_def(&b, "t", enc, none, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "no decode command"), "%s",
        err);
  const char *prog_ph[] = {"{input}", "{output}", NULL};
  make_def(&b, "t", enc, prog_ph, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "cannot hold"), "%s", err);
  make_def(&b, "Bad Name", enc, dec, NULL);
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "invalid name"), "%s", err);
  make_def(&b, "t", enc, dec, NULL);
  b.d.knob_min = 5;
  b.d.knob_max = 5;
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "is empty"), "%s", err);
  b.d.knob_min = 0.2;
  b.d.knob_max = 0.8;
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "holds no integer"), "%s",
        err);
  make_def(&b, "t", enc, dec, NULL);
  b.d.stream_extension = "B;x";
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "stream_extension"), "%s",
        err);
  b.d.stream_extension = NULL;
  b.d.timeout_s = 0;
  CHECK(codec_command_check_def(&b.d, err, sizeof err) != 0 && has(err, "timeout"), "%s", err);
}

/* ---- registration ---- */

static void test_register(void) {
  codec_registry *reg = NULL;
  char err[1024] = "";
  CHECK(codec_registry_create(&reg, err, sizeof err) == 0, "%s", err);
  if (!reg)
    return;
  const char *enc[] = {python, toy, "encode", "{input}", "{output}", "{knob}", NULL};
  const char *dec[] = {python, toy, "decode", "{input}", "{output}", NULL};
  const char *ver[] = {python, toy, "--version", NULL};
  def_buf b;
  make_def(&b, "toy", enc, dec, ver);
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) == 0, "%s", err);
  const codec_vtable *vt = codec_registry_find(reg, "toy");
  CHECK(vt != NULL);
  if (vt) {
    /* The version command's line, then the !path file's hash. */
    const char *want = "toy_codec 1.0; toy_codec.py sha256:";
    CHECK(!strncmp(vt->library_version(), want, strlen(want)) &&
              strlen(vt->library_version()) == strlen(want) + 16,
          "version '%s'", vt->library_version());
    CHECK(codec_registry_plugin_path(reg, vt) == NULL);
    const codec_command_def *d = codec_registry_command_def(reg, vt);
    CHECK(d && d->encode.args[0][0] == '/' && d->encode.args[1][0] == '/',
          "programs resolved: %s %s", d ? d->encode.args[0] : "?", d ? d->encode.args[1] : "?");
    CHECK(codec_registry_command_def(reg, codec_registry_find(reg, "jpeg")) == NULL);
    CHECK(vt->knob.kind == CODEC_KNOB_INT && vt->knob.min == 1 && vt->knob.max == 256 &&
          !strcmp(vt->knob.name, "q"));
    void *inst = NULL;
    codec_option opt = {"speed", "1"};
    CHECK(vt->create(&opt, 1, &inst, err, sizeof err) != 0 && has(err, "unknown setting 'speed'"),
          "%s", err);
  }
  /* Name clashes: a built-in, a command codec registered before. */
  make_def(&b, "jpeg", enc, dec, NULL);
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) != 0 &&
            has(err, "command codec jpeg: a codec of that name is already registered (built in)"),
        "%s", err);
  make_def(&b, "toy", enc, dec, NULL);
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) != 0 &&
            has(err, "another command codec"),
        "%s", err);
  /* Programs that are not there. */
  const char *nowhere[] = {"saicbench-no-such-program", "{input}", "{output}", "{knob}", NULL};
  make_def(&b, "gone", nowhere, dec, NULL);
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) != 0 &&
            has(err, "command codec gone: encode: program 'saicbench-no-such-program' not found "
                     "on PATH"),
        "%s", err);
  const char *nofile[] = {python, "/nonexistent/x.py", "{input}", "{output}", NULL};
  make_def(&b, "gone", enc, nofile, NULL);
  b.dec_path[1] = 1;
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) != 0 &&
            has(err, "decode: file '/nonexistent/x.py' not found"),
        "%s", err);
  /* A version command that fails is a registration error with its stderr. */
  const char *badver[] = {python, faulty, "fail", NULL};
  make_def(&b, "badver", enc, dec, badver);
  CHECK(codec_registry_add_command(reg, &b.d, err, sizeof err) != 0 &&
            has(err, "version: python3 faulty_codec.py exited with status 3") &&
            has(err, "deliberate failure for the test"),
        "%s", err);
  CHECK(codec_registry_find(reg, "badver") == NULL && codec_registry_find(reg, "gone") == NULL);
  codec_registry_destroy(reg);

  /* Slots: 64 at once, the 65th refused; destroying a registry gives them back. */
  const char *plain_enc[] = {"true", "{input}", "{output}", "{knob}", NULL};
  const char *plain_dec[] = {"true", "{input}", "{output}", NULL};
  for (int round = 0; round < 2; round++) {
    CHECK(codec_registry_create(&reg, err, sizeof err) == 0, "%s", err);
    int ok = 0;
    for (int i = 0; i < CODEC_COMMAND_MAX_CODECS + 1; i++) {
      char name[16];
      snprintf(name, sizeof name, "c%d", i);
      make_def(&b, name, plain_enc, plain_dec, NULL);
      ok += codec_registry_add_command(reg, &b.d, err, sizeof err) == 0;
    }
    CHECK(ok == CODEC_COMMAND_MAX_CODECS, "round %d: %d registered", round, ok);
    CHECK(has(err, "more than 64 command codecs"), "%s", err);
    CHECK(!strcmp(codec_registry_find(reg, "c5")->library_version(), "no version command"));
    codec_registry_destroy(reg);
  }
}

/* ---- encode and decode ---- */

typedef struct codec_fixture {
  codec_registry *reg;
  const codec_vtable *vt;
  void *inst;
} codec_fixture;

/* Registers one codec from templates and creates its instance; timeout in seconds. */
static int fixture(codec_fixture *f, const char *name, const char *const *enc,
                   const char *const *dec, codec_command_format fmt, int timeout) {
  char err[1024] = "";
  memset(f, 0, sizeof *f);
  def_buf b;
  make_def(&b, name, enc, dec, NULL);
  b.d.format = fmt;
  b.d.timeout_s = timeout;
  if (codec_registry_create(&f->reg, err, sizeof err) ||
      codec_registry_add_command(f->reg, &b.d, err, sizeof err) ||
      !(f->vt = codec_registry_find(f->reg, name)) ||
      f->vt->create(NULL, 0, &f->inst, err, sizeof err)) {
    CHECK(0, "%s: %s", name, err);
    codec_registry_destroy(f->reg);
    f->reg = NULL;
    return -1;
  }
  return 0;
}

static void fixture_free(codec_fixture *f) {
  if (f->vt && f->inst)
    f->vt->destroy(f->inst);
  codec_registry_destroy(f->reg);
}

static void test_roundtrip(codec_command_format fmt) {
  const char *enc[] = {python, toy, "encode", "{input}", "{output}", "{knob}", NULL};
  const char *dec[] = {python, toy, "decode", "{input}", "{output}", NULL};
  codec_fixture f;
  if (fixture(&f, "toy", enc, dec, fmt, 60))
    return;
  const int w = 37, h = 23;
  uint8_t *img = ctu_make_image(w, h, CTU_TEXTURED, 5), want[37 * 23 * 3];
  size_t prev = 0;
  for (int q = 2; q <= 256; q *= 4) {
    codec_encoded e = {0};
    char err[512] = "";
    CHECK(f.vt->encode(f.inst, img, w, h, q, &e, err, sizeof err) == 0, "q %d: %s", q, err);
    CHECK(codec_check_encoded(f.vt, &e, err, sizeof err) == 0, "%s", err);
    CHECK(e.size == e.stream_bytes && e.size > 14 && !memcmp(e.data, "TOY1", 4), "q %d: %zu/%zu", q,
          e.size, e.stream_bytes);
    CHECK(e.size > prev, "q %d: %zu bytes, not more than %zu", q, e.size, prev);
    prev = e.size;
    uint8_t *rgb = NULL;
    int dw = 0, dh = 0;
    CHECK(f.vt->decode(f.inst, e.data, e.size, &rgb, &dw, &dh, err, sizeof err) == 0, "%s", err);
    toy_expect(img, want, sizeof want, q);
    CHECK(rgb && dw == w && dh == h && !memcmp(rgb, want, sizeof want), "q %d %s: pixels differ", q,
          codec_command_format_name(fmt));
    free(rgb);
    free(e.data);
  }
  /* Knob values are checked like a built-in's. */
  codec_encoded e = {0};
  char err[512] = "";
  CHECK(f.vt->encode(f.inst, img, w, h, 300, &e, err, sizeof err) != 0 && has(err, "outside"), "%s",
        err);
  free(img);
  fixture_free(&f);
}

/* One encode (or, when dec_only, a toy encode then the decode) that must fail with `want`. */
static void expect_failure(const char *what, const char *const *enc, const char *const *dec,
                           int dec_only, int timeout, const char *want, const char *want2) {
  codec_fixture f;
  if (fixture(&f, "faulty", enc, dec, CODEC_COMMAND_PPM, timeout))
    return;
  uint8_t *img = ctu_make_image(16, 12, CTU_SMOOTH, 1);
  codec_encoded e = {0};
  char err[512] = "";
  int rc = f.vt->encode(f.inst, img, 16, 12, 8, &e, err, sizeof err);
  if (dec_only) {
    CHECK(rc == 0, "%s: encode: %s", what, err);
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    rc = rc ? rc : f.vt->decode(f.inst, e.data, e.size, &rgb, &w, &h, err, sizeof err);
    /* A decoder's image of the wrong size passes decode() and is the harness's contract
     * check's to catch, as for any codec. */
    if (!rc)
      rc = codec_check_decoded(f.vt, rgb, w, h, 16, 12, err, sizeof err);
    free(rgb);
  }
  CHECK(rc != 0, "%s: did not fail", what);
  CHECK(has(err, want) && (!want2 || has(err, want2)), "%s: '%s' lacks '%s'%s%s", what, err, want,
        want2 ? " / " : "", want2 ? want2 : "");
  CHECK(!strchr(err, '\n'), "%s: message has several lines", what);
  free(e.data);
  free(img);
  fixture_free(&f);
}

static void test_failures(void) {
  const char *toy_enc[] = {python, toy, "encode", "{input}", "{output}", "{knob}", NULL};
  const char *toy_dec[] = {python, toy, "decode", "{input}", "{output}", NULL};
#define ENC(...) (const char *[]){python, faulty, __VA_ARGS__, NULL}
  expect_failure("exit 3", ENC("fail", "{input}", "{output}", "{knob}"), toy_dec, 0, 60,
                 "command codec faulty: encode: python3 faulty_codec.py exited with status 3; "
                 "stderr: ",
                 "first line faulty_codec: deliberate failure for the test");
  expect_failure("signal", ENC("signal", "{input}", "{output}", "{knob}"), toy_dec, 0, 60,
                 "python3 faulty_codec.py was killed by signal 11 (SIGSEGV)", NULL);
  expect_failure("no output", ENC("nooutput", "{input}", "{output}", "{knob}"), toy_dec, 0, 60,
                 "python3 faulty_codec.py exited with status 0 but wrote no stream.bin", NULL);
  expect_failure("empty output", ENC("empty", "{output}", "{input}", "{knob}"), toy_dec, 0, 60,
                 "wrote an empty stream.bin (0 bytes)", NULL);
  expect_failure("wrong size", toy_enc, ENC("wrongsize", "{output}", "{input}"), 1, 60,
                 "decoded size 7x5 differs from the original 16x12", NULL);
  expect_failure("huge png", toy_enc, ENC("hugepng", "{output}", "{input}"), 1, 60,
                 "command codec faulty: decode: python3 faulty_codec.py wrote an unreadable "
                 "image: output.ppm: not a binary PPM",
                 NULL);
  expect_failure("garbage", toy_enc, ENC("garbage", "{output}", "{input}"), 1, 60,
                 "wrote an unreadable image: output.ppm", NULL);

  /* Timeout: the program and the child it started are killed, after about 1 s. */
  char pidfile[400];
  snprintf(pidfile, sizeof pidfile, "%s/sleep.pid", scratch);
  double t0 = ctu_now();
  expect_failure("timeout", ENC("sleep", pidfile, "{input}", "{output}", "{knob}"), toy_dec, 0, 1,
                 "python3 faulty_codec.py timed out after 1 s (killed)", NULL);
  double took = ctu_now() - t0;
  CHECK(took < 8, "timeout took %.1f s", took);
  FILE *pf = fopen(pidfile, "r");
  long child = 0;
  CHECK(pf && fscanf(pf, "%ld", &child) == 1, "no pid file");
  if (pf)
    fclose(pf);
  int gone = 0;
  for (int i = 0; i < 100 && child > 0 && !gone; i++) { /* reparented: reaped by init soon */
    gone = kill((pid_t)child, 0) != 0 && errno == ESRCH;
    if (!gone)
      usleep(20000);
  }
  CHECK(gone, "the program's child %ld outlived the timeout", child);

  /* The huge-PNG decoder in PNG mode: refused from the header, before any allocation. */
  codec_fixture f;
  if (!fixture(&f, "hugepng", toy_enc, ENC("hugepng", "{output}", "{input}"), CODEC_COMMAND_PNG,
               60)) {
    uint8_t *img = ctu_make_image(8, 8, CTU_SMOOTH, 2), *rgb = NULL;
    codec_encoded e = {0};
    char err[512] = "";
    int w, h;
    CHECK(f.vt->encode(f.inst, img, 8, 8, 4, &e, err, sizeof err) == 0, "%s", err);
    CHECK(f.vt->decode(f.inst, e.data, e.size, &rgb, &w, &h, err, sizeof err) != 0 &&
              has(err, "output.png: PNG image too large (100000x100000") &&
              has(err, "refused before decoding"),
          "%s", err);
    free(rgb);
    free(e.data);
    free(img);
    fixture_free(&f);
  }

  /* A program removed after registration: the spawn itself fails. */
  char prog[400];
  snprintf(prog, sizeof prog, "%s/prog.sh", scratch);
  FILE *pg = fopen(prog, "w");
  if (pg) {
    fputs("#!/bin/sh\nexit 0\n", pg);
    fclose(pg);
    chmod(prog, 0755);
  }
  const char *gone_enc[] = {prog, "{input}", "{output}", "{knob}", NULL};
  if (!fixture(&f, "vanished", gone_enc, toy_dec, CODEC_COMMAND_PPM, 60)) {
    remove(prog);
    uint8_t *img = ctu_make_image(8, 8, CTU_SMOOTH, 2);
    codec_encoded e = {0};
    char err[512] = "";
    CHECK(f.vt->encode(f.inst, img, 8, 8, 4, &e, err, sizeof err) != 0 &&
              has(err, "command codec vanished: encode: cannot run ") &&
              has(err, "prog.sh: No such file or directory"),
          "%s", err);
    free(img);
    fixture_free(&f);
  }
#undef ENC
}

/* Spaces, quotes, ;, $(...), backquotes, {{ }} and $HOME reach the program as they are: the
 * program reports its argv, and nothing a shell would have run has happened. */
static void test_literal_args(void) {
  char a1[400], a2[400], a3[400];
  snprintf(a1, sizeof a1, "; touch %s/pwned-1", scratch);
  snprintf(a2, sizeof a2, "$(touch %s/pwned-2)", scratch);
  snprintf(a3, sizeof a3, "`touch %s/pwned-3`", scratch);
  const char *enc[] = {python,
                       faulty,
                       "argv",
                       "{output}",
                       "{input}",
                       "a b",
                       a1,
                       a2,
                       a3,
                       "'single' \"double\" $HOME *",
                       "{{not a placeholder}}",
                       "w={width} h={height} q={knob}",
                       NULL};
  const char *dec[] = {python, toy, "decode", "{input}", "{output}", NULL};
  codec_fixture f;
  if (fixture(&f, "literal", enc, dec, CODEC_COMMAND_PPM, 60))
    return;
  uint8_t *img = ctu_make_image(5, 3, CTU_SMOOTH, 3);
  codec_encoded e = {0};
  char err[512] = "", want[2048];
  CHECK(f.vt->encode(f.inst, img, 5, 3, 42, &e, err, sizeof err) == 0, "%s", err);
  snprintf(want, sizeof want,
           "[\"a b\", \"%s\", \"%s\", \"%s\", \"'single' \\\"double\\\" $HOME *\", "
           "\"{not a placeholder}\", \"w=5 h=3 q=42\"]",
           a1, a2, a3);
  CHECK(e.data && e.size == strlen(want) && !memcmp(e.data, want, e.size), "got '%.*s'",
        (int)e.size, e.data ? (const char *)e.data : "");
  for (int i = 1; i <= 3; i++) {
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/pwned-%d", scratch, i);
    CHECK(stat(p, &st) != 0, "%s exists: a shell ran", p);
  }
  free(e.data);
  free(img);
  fixture_free(&f);
}

/* ---- threads ---- */

typedef struct tjob {
  const codec_vtable *vt;
  const void *inst;
  int id, failures;
  char problem[512];
} tjob;

static void *tworker(void *arg) {
  tjob *j = arg;
  for (int round = 0; round < 3; round++) {
    const int w = 9 + j->id, h = 7 + round, q = 3 + j->id * 5 + round;
    uint8_t *img = ctu_make_image(w, h, CTU_TEXTURED, (uint64_t)(j->id * 10 + round));
    uint8_t *want = malloc((size_t)w * h * 3), *rgb = NULL;
    codec_encoded e = {0};
    int dw = 0, dh = 0;
    toy_expect(img, want, (size_t)w * h * 3, q);
    if (j->vt->encode(j->inst, img, w, h, q, &e, j->problem, sizeof j->problem) ||
        j->vt->decode(j->inst, e.data, e.size, &rgb, &dw, &dh, j->problem, sizeof j->problem) ||
        dw != w || dh != h || memcmp(rgb, want, (size_t)w * h * 3))
      j->failures++;
    free(rgb);
    free(e.data);
    free(want);
    free(img);
  }
  return NULL;
}

static void test_threads(void) {
  const char *enc[] = {python, toy, "encode", "{input}", "{output}", "{knob}", NULL};
  const char *dec[] = {python, toy, "decode", "{input}", "{output}", NULL};
  codec_fixture f;
  if (fixture(&f, "toy", enc, dec, CODEC_COMMAND_PNG, 60))
    return;
  enum { N = 4 };
  pthread_t t[N];
  tjob jobs[N];
  for (int i = 0; i < N; i++) {
    jobs[i] = (tjob){f.vt, f.inst, i, 0, ""};
    pthread_create(&t[i], NULL, tworker, &jobs[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    CHECK(jobs[i].failures == 0, "thread %d: %d failures (%s)", i, jobs[i].failures,
          jobs[i].problem);
  }
  fixture_free(&f);
}

/* Entries left in the codecs' TMPDIR (must be none: every call removes its folder). */
static int leftovers(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      fprintf(stderr, "left behind: %s/%s\n", tmpdir, e->d_name);
      n++;
    }
  if (d)
    closedir(d);
  return n;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: test_codecs_command PYTHON TOY_CODEC.py FAULTY_CODEC.py\n");
    return 2;
  }
  python = argv[1];
  toy = argv[2];
  faulty = argv[3];
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(tmpdir, sizeof tmpdir, "%s/tmp", scratch);
  mkdir(tmpdir, 0700);
  setenv("TMPDIR", tmpdir, 1);
  test_rules();
  test_register();
  test_roundtrip(CODEC_COMMAND_PPM);
  test_roundtrip(CODEC_COMMAND_PNG);
  test_failures();
  test_literal_args();
  test_threads();
  CHECK(leftovers() == 0, "temporary folders left behind");
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", scratch);
  return sb_test_status("test_codecs_command");
}
