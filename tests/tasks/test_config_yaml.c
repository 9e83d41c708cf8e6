/* test_config_yaml.c - the YAML plumbing shared by the training configurations: the walk's
 * leaves (dotted keys, marks, lists), its own errors, key lookup, scalar parsers, file reading
 * and the message formatter. The configurations' own messages are in test_tasks_config.c and
 * tests/saic/test_saic_trainer.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_yaml.h"
#include "sb_test.h"

/* Records every node as one line "event key=value@line:col key@line:col". */
typedef struct log_ctx {
  char text[2048];
  bool accept_lists;
} log_ctx;

static int log_node(void *ctx, const config_yaml_node *n, char *err, size_t err_len) {
  log_ctx *lc = ctx;
  static const char *names[] = {"scalar", "list", "item", "end"};
  size_t u = strlen(lc->text);
  snprintf(lc->text + u, sizeof lc->text - u, "%s %s=%s@%zu:%zu k@%zu:%zu\n", names[n->event],
           n->key, n->value ? n->value : "-", n->mark.line + 1, n->mark.column + 1,
           n->key_mark.line + 1, n->key_mark.column + 1);
  if (n->event == CONFIG_YAML_LIST && !lc->accept_lists)
    return config_yaml_fail(err, err_len, n->file, n->mark, "%s: no lists", n->key);
  return 0; /* accepts even a non-scalar list element: the walk must stop by itself */
}

/* Walking `text` must fail with exactly `want`. */
static void expect_walk_error(const char *text, bool accept_lists, const char *want) {
  log_ctx lc = {.accept_lists = accept_lists};
  char err[256] = "";
  int rc = config_yaml_walk("w.yaml", text, strlen(text), log_node, &lc, err, sizeof err);
  CHECK(rc != 0 && strcmp(err, want) == 0, "yaml:\n%s\n  rc %d\n  got  \"%s\"\n  want \"%s\"", text,
        rc, err, want);
}

static void test_walk(void) {
  const char *doc = "a: 1\n"
                    "b:\n"
                    "  c: x\n"
                    "  d: {e: on}\n"
                    "f: [1, 2]\n"
                    "g: ''\n";
  log_ctx lc = {.accept_lists = true};
  char err[256] = "";
  CHECK(config_yaml_walk("w.yaml", doc, strlen(doc), log_node, &lc, err, sizeof err) == 0);
  const char *want = "scalar a=1@1:4 k@1:1\n"
                     "scalar b.c=x@3:6 k@3:3\n"
                     "scalar b.d.e=on@4:10 k@4:7\n"
                     "list f=-@5:4 k@5:1\n"
                     "item f=1@5:5 k@5:1\n"
                     "item f=2@5:8 k@5:1\n"
                     "end f=-@5:10 k@5:1\n"
                     "scalar g=@6:4 k@6:1\n";
  CHECK(strcmp(lc.text, want) == 0, "walk log:\n%s\nwant:\n%s", lc.text, want);

  /* The callback's error stops the walk and is returned as is. */
  expect_walk_error("a: 1\nf: [1]\n", false, "w.yaml:2:4: f: no lists");
  /* Errors of the walk itself. */
  expect_walk_error("", false, "w.yaml: empty configuration");
  expect_walk_error("# only a comment\n", false, "w.yaml: empty configuration");
  expect_walk_error("- 1\n", false, "w.yaml:1:1: the configuration must be a mapping");
  expect_walk_error("just text\n", false, "w.yaml:1:1: the configuration must be a mapping");
  expect_walk_error("a: 1\n---\nb: 2\n", false,
                    "w.yaml:2:1: a second YAML document ('---'); the file must hold one");
  /* The YAML layer is the suites' (base.h): an alias stands for its anchor's value. */
  log_ctx la = {0};
  CHECK(config_yaml_walk("w.yaml", "a: &x 1\nb: *x\n", 14, log_node, &la, err, sizeof err) == 0 &&
            strstr(la.text, "scalar b=1@") != NULL,
        "%s", la.text);
  expect_walk_error("? [1]\n: 2\n", false, "w.yaml:1:3: a list cannot be a key");
  expect_walk_error("? {a: 1}\n: 2\n", false, "w.yaml:1:3: a mapping cannot be a key");
  expect_walk_error("a: {b: {c: {d: {e: 1}}}}\n", false, "w.yaml:1:16: mappings nested too deeply");
  expect_walk_error("a: 1\nb: [\n", true,
                    "w.yaml:3:1: YAML syntax error: did not find expected node content while "
                    "parsing a flow node");
  /* A non-scalar list element the callback fails to reject still stops the walk. */
  expect_walk_error("f: [1, [2]]\n", true, "w.yaml:1:8: f: list elements must be scalars");

  /* A key path longer than the walk keeps is an error, not a silent truncation. */
  char big[600];
  int u = snprintf(big, sizeof big, "%0100d:\n  %0100d:\n    x: 1\n", 0, 0);
  CHECK(u > 0 && (size_t)u < sizeof big);
  log_ctx lc2 = {0};
  CHECK(config_yaml_walk("w.yaml", big, strlen(big), log_node, &lc2, err, sizeof err) != 0);
  CHECK(strcmp(err, "w.yaml:2:3: key path too long") == 0, "%s", err);
}

typedef struct entry {
  const char *path;
  int extra;
} entry;

static void test_lookup(void) {
  static const entry table[] = {{"a", 1}, {"b.c", 2}, {"d", 3}};
  bool seen[3] = {false};
  char err[256] = "";
  config_yaml_node n = {CONFIG_YAML_SCALAR, "l.yaml", "b.c", "1", {4, 6}, {4, 2}};
  CHECK(config_yaml_lookup(&n, table, 3, sizeof table[0], seen, err, sizeof err) == 1);
  CHECK(!seen[0] && seen[1] && !seen[2]);
  CHECK(config_yaml_lookup(&n, table, 3, sizeof table[0], seen, err, sizeof err) == -1);
  CHECK(strcmp(err, "l.yaml:5:3: duplicate key \"b.c\"") == 0);
  n.key = "b";
  CHECK(config_yaml_lookup(&n, table, 3, sizeof table[0], seen, err, sizeof err) == -1);
  CHECK(strcmp(err, "l.yaml:5:3: unknown key \"b\"") == 0);
}

static void test_scalars(void) {
  char err[256] = "";
  config_yaml_node n = {CONFIG_YAML_SCALAR, "s.yaml", "k", "", {0, 3}, {0, 0}};
  int i = -7;
  n.value = "12";
  CHECK(config_yaml_int(&n, 1, 12, &i, err, sizeof err) == 0 && i == 12);
  n.value = "13";
  CHECK(config_yaml_int(&n, 1, 12, &i, err, sizeof err) != 0 && i == 12);
  CHECK(strcmp(err, "s.yaml:1:4: k: 13 is out of range [1, 12]") == 0);
  n.value = "1.5";
  CHECK(config_yaml_int(&n, 1, 12, &i, err, sizeof err) != 0);
  CHECK(strcmp(err, "s.yaml:1:4: k: expected an integer, got \"1.5\"") == 0);
  n.value = "99999999999999999999";
  CHECK(config_yaml_int(&n, 0, 1e30, &i, err, sizeof err) != 0 && i == 12);

  uint64_t x = 0;
  n.value = "0x10";
  CHECK(config_yaml_u64(&n, &x, err, sizeof err) == 0 && x == 16);
  n.value = "18446744073709551615";
  CHECK(config_yaml_u64(&n, &x, err, sizeof err) == 0 && x == UINT64_MAX);
  n.value = "-1";
  CHECK(config_yaml_u64(&n, &x, err, sizeof err) != 0 && x == UINT64_MAX);
  CHECK(strcmp(err, "s.yaml:1:4: k: expected a non-negative integer, got \"-1\"") == 0);

  double d = 0;
  n.value = "2.5e-1";
  CHECK(config_yaml_double(&n, 0, 1, &d, err, sizeof err) == 0 && d == 0.25);
  n.value = "1.5";
  CHECK(config_yaml_double(&n, 0, 1, &d, err, sizeof err) != 0 && d == 0.25);
  CHECK(strcmp(err, "s.yaml:1:4: k: 1.5 is out of range [0, 1]") == 0);
  n.value = "inf";
  CHECK(config_yaml_double(&n, 0, 1e300, &d, err, sizeof err) != 0);
  CHECK(strcmp(err, "s.yaml:1:4: k: expected a number, got \"inf\"") == 0);
  n.value = "nan";
  CHECK(config_yaml_double(&n, 0, 1, &d, err, sizeof err) != 0 && d == 0.25);

  float fl = 0;
  n.value = "0.1";
  CHECK(config_yaml_float(&n, 0, 1, &fl, err, sizeof err) == 0 && fl == 0.1f);
  n.value = "-0.1";
  CHECK(config_yaml_float(&n, 0, 1, &fl, err, sizeof err) != 0 && fl == 0.1f);
  CHECK(strcmp(err, "s.yaml:1:4: k: -0.1 is out of range [0, 1]") == 0);

  bool b = false;
  n.value = "Yes";
  CHECK(config_yaml_bool(&n, &b, err, sizeof err) == 0 && b);
  n.value = "OFF";
  CHECK(config_yaml_bool(&n, &b, err, sizeof err) == 0 && !b);
  n.value = "0"; /* the one boolean spelling of base.h: 1/0 too */
  CHECK(config_yaml_bool(&n, &b, err, sizeof err) == 0 && !b);
  n.value = "maybe";
  CHECK(config_yaml_bool(&n, &b, err, sizeof err) != 0);
  CHECK(strcmp(err, "s.yaml:1:4: k: expected true or false, got \"maybe\"") == 0);
}

static void test_fail(void) {
  char err[16];
  config_yaml_mark m = {9, 0};
  CHECK(config_yaml_fail(err, sizeof err, "f.yaml", m, "%s", "a long message") == -1);
  CHECK(strcmp(err, "f.yaml:10:1: a ") == 0); /* truncated, still terminated */
  CHECK(config_yaml_fail(NULL, 0, "f.yaml", m, "x") == -1);
}

/* A parse function for config_yaml_load: fails on text starting with "bad". */
static int parse_probe(const char *path, const char *text, size_t len, void *cfg, char *err,
                       size_t err_len) {
  *(size_t *)cfg = len;
  if (strncmp(text, "bad", 3) == 0) {
    snprintf(err, err_len, "%s: bad", path);
    return -1;
  }
  return 0;
}

static void test_load(const char *path) {
  char err[256] = "", *text = NULL;
  size_t got = 0;
  FILE *f = fopen(path, "wb");
  CHECK(f && fputs("a: 1\n", f) >= 0);
  if (f)
    fclose(f);
  CHECK(config_yaml_load(path, parse_probe, &got, &text, err, sizeof err) == 0);
  CHECK(got == 5 && text && strcmp(text, "a: 1\n") == 0);
  free(text);
  CHECK(config_yaml_load(path, parse_probe, &got, NULL, err, sizeof err) == 0);
  f = fopen(path, "wb");
  CHECK(f && fputs("bad\n", f) >= 0);
  if (f)
    fclose(f);
  text = (char *)1;
  CHECK(config_yaml_load(path, parse_probe, &got, &text, err, sizeof err) != 0);
  CHECK(text == NULL && got == 4 && strstr(err, ": bad"));
}

static void test_read_file(void) {
  char dir[] = "/tmp/test_config_yaml_XXXXXX", path[128], err[256] = "";
  bool made = mkdtemp(dir) != NULL;
  CHECK(made, "mkdtemp: %s", strerror(errno));
  if (!made)
    return;
  snprintf(path, sizeof path, "%s/c.yaml", dir);
  char *text = (char *)1;
  size_t len = 99;
  CHECK(config_yaml_read_file(path, &text, &len, err, sizeof err) != 0);
  CHECK(text == NULL && strstr(err, path) == err && strstr(err, ": cannot open: "));

  /* Sizes around the 4 KiB first buffer and just under / at the cap. */
  const size_t sizes[] = {0, 5, 4095, 4096, 4097, CONFIG_YAML_MAX_FILE - 1, CONFIG_YAML_MAX_FILE};
  char *data = malloc(CONFIG_YAML_MAX_FILE);
  CHECK(data != NULL);
  for (size_t i = 0; data && i < CONFIG_YAML_MAX_FILE; i++)
    data[i] = (char)('a' + i % 26);
  for (size_t s = 0; data && s < sizeof sizes / sizeof sizes[0]; s++) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, sizes[s], f) == sizes[s]);
    if (f)
      fclose(f);
    int rc = config_yaml_read_file(path, &text, &len, err, sizeof err);
    if (sizes[s] < CONFIG_YAML_MAX_FILE) {
      CHECK(rc == 0 && len == sizes[s] && text && text[len] == '\0');
      CHECK(text && memcmp(text, data, len) == 0);
      free(text);
    } else {
      char want[256];
      snprintf(want, sizeof want, "%s: configuration larger than 1 MiB", path);
      CHECK(rc != 0 && text == NULL && strcmp(err, want) == 0);
    }
  }
  free(data);
  test_load(path);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  test_walk();
  test_lookup();
  test_scalars();
  test_fail();
  test_read_file();
  return sb_test_status("test_config_yaml");
}
