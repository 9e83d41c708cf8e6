/* Paired differences in the report (paired_<dataset>.csv, results_paired.c): a run with two
 * codecs at two bpp targets, one image failing in one codec, a knob point that must not be
 * paired, and a third codec without task rows. Expected values come from the rules that built
 * the database (accuracy and PSNR differences by counting; SI_norm from task_metrics, an
 * independent module); the interval must contain the estimate and come out the same twice. */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_test_util.h"
#include "report_text.h"
#include "sb_test.h"
#include "metrics.h"

enum { N = 60, K = 5, FAILED = 17 };

static int label(int i) { return i % K; }
static int orig_top1(int i) { return i % 9 == 0 ? (label(i) + 1) % K : label(i); }
/* Codec A (reference) keeps fewer predictions than codec B; target 1 is better for both. */
static int top1(int codec, int target, int i) {
  int keep = codec == 0 ? (i * 7 + target * 3) % 10 < 4 + target * 2
                        : (i * 7 + target * 3) % 10 < 6 + target * 2;
  return keep ? orig_top1(i) : (orig_top1(i) + 1 + i % 3) % K;
}
static double psnr(int codec, int target, int i) {
  return 20.0 + target * 3 + 0.01 * i + (codec ? 0.4 - 0.002 * (i % 5) : 0);
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *s = calloc(1, 1 << 20);
  size_t n = s ? fread(s, 1, (1 << 20) - 1, f) : 0;
  (void)n;
  fclose(f);
  return s;
}

static char g_db_dir[] = "/tmp/sb_paired_db_XXXXXX";

static sqlite3 *build_db(const char *schema_path) {
  char *schema = read_all(schema_path);
  sqlite3 *db = NULL;
  /* A file, not :memory:: the report opens it again as a store (results.h). */
  char file[64];
  if (!mkdtemp(g_db_dir)) {
    fprintf(stderr, "cannot create a temporary folder\n");
    exit(2);
  }
  snprintf(file, sizeof file, "%s/paired.db", g_db_dir);
  if (!schema || sqlite3_open(file, &db) != SQLITE_OK ||
      sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "cannot create the database from %s\n", schema_path);
    exit(2);
  }
  free(schema);
  sb_buf b = {0};
  sb_buf_puts(&b, "PRAGMA user_version = 3;"
                  "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
                  " (3, 's', 'h', '2026-01-01T00:00:00Z', 'complete');"
                  "INSERT INTO datasets (id, run_id, name, path, kind, content_hash,"
                  " n_images, n_classes) VALUES (5, 3, 'cifar', '/nowhere', 'class-folders',"
                  " 'c', 60, 5);"
                  "INSERT INTO codecs (id, run_id, label, codec, settings, knob_name) VALUES"
                  " (10, 3, 'mse', 'saic', '{}', 'rate'), (11, 3, 'saic', 'saic', '{}',"
                  " 'rate'), (12, 3, 'webp', 'webp', '{}', 'quality');"
                  "INSERT INTO points (id, codec_id, kind, value) VALUES"
                  " (100, 10, 'bpp', 0.125), (101, 10, 'bpp', 0.5), (102, 10, 'knob', 1),"
                  " (110, 11, 'bpp', 0.125), (111, 11, 'bpp', 0.5), (112, 11, 'knob', 1),"
                  " (120, 12, 'bpp', 0.125);"
                  "INSERT INTO tasks (id, run_id, name, kind, checkpoint, checkpoint_sha256,"
                  " arch, num_classes, input_width, input_height) VALUES"
                  " (1, 3, 'T', 'classifier', 't', 'x', 'a', 5, 32, 32);");
  sb_buf_puts(&b, "INSERT INTO images (id, dataset_id, idx, name, label, width, height)"
                  " VALUES ");
  for (int i = 0; i < N; i++)
    sb_buf_printf(&b, "%s(%d, 5, %d, 'i%d', %d, 32, 32)", i ? ", " : "", 1000 + i, i, i, label(i));
  sb_buf_puts(&b, "; INSERT INTO task_refs (task_id, image_id, top1, correct, probs) VALUES ");
  for (int i = 0; i < N; i++)
    sb_buf_printf(&b, "%s(1, %d, %d, %d, X'00')", i ? ", " : "", 1000 + i, orig_top1(i),
                  orig_top1(i) == label(i));
  static const int pts[2][3] = {{100, 101, 102}, {110, 111, 112}};
  for (int c = 0; c < 2; c++)
    for (int t = 0; t < 3; t++)
      for (int i = 0; i < N; i++) {
        const int pt = pts[c][t], err = c == 1 && i == FAILED;
        const int p = top1(c, t, i);
        sb_buf_printf(&b,
                      "; INSERT INTO results (image_id, point_id, bytes, psnr, error) "
                      "VALUES (%d, %d, 10, %.17g, %s)",
                      1000 + i, pt, psnr(c, t, i), err ? "'decode failed'" : "NULL");
        if (!err)
          sb_buf_printf(&b,
                        "; INSERT INTO task_results (task_id, image_id, point_id, top1, "
                        "correct, agree, kl) VALUES (1, %d, %d, %d, %d, %d, 0)",
                        1000 + i, pt, p, p == label(i), p == orig_top1(i));
      }
  /* Aggregates and task aggregates only need to exist for the points to be listed. */
  static const int all[] = {100, 101, 102, 110, 111, 112};
  for (int k = 0; k < 6; k++)
    sb_buf_printf(&b,
                  "; INSERT INTO aggregates (point_id, dataset_id, n, n_errors, "
                  "n_unreachable, mean_bpp, mean_psnr) VALUES (%d, 5, 60, 0, 0, 0.1, 20);"
                  "INSERT INTO task_aggregates (task_id, point_id, dataset_id, n, accuracy) "
                  "VALUES (1, %d, 5, 60, 0.5)",
                  all[k], all[k]);
  sb_buf_puts(&b, ";");
  char *msg = NULL;
  if (sb_buf_failed(&b) || sqlite3_exec(db, b.data, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "cannot fill the database: %s\n", msg ? msg : "out of memory");
    exit(2);
  }
  sb_buf_free(&b);
  return db;
}

/* Field j of the CSV line that starts with `prefix`. */
static double field(const char *csv, const char *prefix, int j) {
  const char *l = strstr(csv, prefix);
  if (!l)
    return NAN;
  for (int k = 0; k < j; k++) {
    l = strchr(l, ',');
    if (!l)
      return NAN;
    l++;
  }
  return *l == ',' || *l == '\r' ? NAN : strtod(l, NULL);
}

static void check_target(const char *csv, int t) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "T,mse,saic,%s,", t ? "0.5" : "0.125");
  int lab[N], orig[N], pa[N], pb[N], n = 0, dc = 0;
  double dpsnr = 0;
  for (int i = 0; i < N; i++) {
    if (i == FAILED)
      continue;
    lab[n] = label(i);
    orig[n] = orig_top1(i);
    pa[n] = top1(0, t, i);
    pb[n] = top1(1, t, i);
    dc += (pb[n] == lab[n]) - (pa[n] == lab[n]);
    dpsnr += psnr(1, t, i) - psnr(0, t, i);
    n++;
  }
  metrics_task_stats sa, sb;
  CHECK(metrics_task_stats_compute(lab, orig, pa, NULL, (size_t)n, K, &sa) == 0);
  CHECK(metrics_task_stats_compute(lab, orig, pb, NULL, (size_t)n, K, &sb) == 0);
  CHECK(field(csv, prefix, 4) == n, "%s n %g, want %d", prefix, field(csv, prefix, 4), n);
  const double want[3] = {(double)dc / n, sb.si_norm - sa.si_norm, dpsnr / n};
  const char *names[3] = {"accuracy", "si_norm", "psnr"};
  for (int k = 0; k < 3; k++) {
    double d = field(csv, prefix, 5 + 3 * k), lo = field(csv, prefix, 6 + 3 * k),
           hi = field(csv, prefix, 7 + 3 * k);
    CHECK(fabs(d - want[k]) < 1e-9, "%s %s: %g, want %g", prefix, names[k], d, want[k]);
    CHECK(lo <= d && d <= hi && lo < hi, "%s %s: %g outside [%g, %g]", prefix, names[k], d, lo, hi);
  }
  CHECK(field(csv, prefix, 14) == 0.95 && field(csv, prefix, 15) == 500);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_report_paired results/schema.sql\n");
    return 2;
  }
  sqlite3 *db = build_db(argv[1]);
  char dir[] = "/tmp/saicbench_paired_XXXXXX", path[256], err[512] = "";
  CHECK(mkdtemp(dir) != NULL);
  report_options opt = {.reference = "mse", .no_images = 1, .bootstrap_rounds = 500};
  CHECK(report_write_opts_db(db, 3, dir, &opt, err, sizeof err) == 0, "%s", err);
  snprintf(path, sizeof path, "%s/paired_cifar.csv", dir);
  char *csv = read_all(path);
  CHECK(csv != NULL);
  if (csv) {
    check_target(csv, 0);
    check_target(csv, 1);
    /* Knob points are not paired; webp has no task rows; the reference is not paired with
     * itself: a header and exactly two rows. */
    int lines = 0;
    for (const char *s = csv; *s; s++)
      lines += *s == '\n';
    CHECK(lines == 3, "%d lines:\n%s", lines, csv);
  }
  /* Deterministic: a second report gives the same bytes. */
  char dir2[] = "/tmp/saicbench_paired_XXXXXX", path2[256];
  CHECK(mkdtemp(dir2) != NULL);
  CHECK(report_write_opts_db(db, 3, dir2, &opt, err, sizeof err) == 0);
  snprintf(path2, sizeof path2, "%s/paired_cifar.csv", dir2);
  char *csv2 = read_all(path2);
  CHECK(csv && csv2 && strcmp(csv, csv2) == 0);
  snprintf(path, sizeof path, "%s/report.html", dir);
  char *html = read_all(path);
  CHECK(html && strstr(html, "Paired differences against mse") && strstr(html, "class=\"sig\""));
  /* An unknown reference is an error naming it; rounds < 0 writes no paired file. */
  report_options bad = {.reference = "nope", .no_images = 1};
  CHECK(report_write_opts_db(db, 3, dir2, &bad, err, sizeof err) != 0 &&
        strstr(err, "reference 'nope': no codec with this label"));
  char dir3[] = "/tmp/saicbench_paired_XXXXXX", path3[256];
  CHECK(mkdtemp(dir3) != NULL);
  report_options off = {.reference = "mse", .no_images = 1, .bootstrap_rounds = -1};
  CHECK(report_write_opts_db(db, 3, dir3, &off, err, sizeof err) == 0);
  snprintf(path3, sizeof path3, "%s/paired_cifar.csv", dir3);
  CHECK(access(path3, F_OK) != 0);
  free(csv);
  free(csv2);
  free(html);
  sqlite3_close(db);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf %s %s %s %s", dir, dir2, dir3, g_db_dir);
  CHECK(system(cmd) == 0);
  return sb_test_status("report_paired");
}
