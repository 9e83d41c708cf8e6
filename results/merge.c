#include "results_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "results.h"

typedef struct shard_run {
  int64_t run_id;
  char *suite_name, *suite_path, *suite_hash, *suite_text, *git_revision, *host, *libraries,
      *version, *status, *shard;
  int threads;
  unsigned index, count;
} shard_run;

static void shard_run_free(shard_run *r) {
  free(r->suite_name);
  free(r->suite_path);
  free(r->suite_hash);
  free(r->suite_text);
  free(r->git_revision);
  free(r->host);
  free(r->libraries);
  free(r->version);
  free(r->status);
  free(r->shard);
}

static char *col_text(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? strdup(t) : NULL;
}

/* Reads the newest run of a shard database and checks that it is a finished shard. */
static int read_shard(const char *path, shard_run *r, char *err, size_t err_len) {
  store *s;
  if (store_open_readonly(path, &s, err, err_len))
    return -1;
  sqlite3_stmt *st;
  int rc = -1;
  if (sqlite3_prepare_v2(store_db(s),
                         "SELECT id, suite_name, suite_path, suite_hash, suite_text, git_revision, "
                         "host, library_versions, saicbench_version, status, shard, threads "
                         "FROM runs ORDER BY id DESC LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(store_db(s)));
    store_close(s);
    return -1;
  }
  if (sqlite3_step(st) != SQLITE_ROW) {
    snprintf(err, err_len, "%s: no run in this database", path);
    goto done;
  }
  r->run_id = sqlite3_column_int64(st, 0);
  r->suite_name = col_text(st, 1);
  r->suite_path = col_text(st, 2);
  r->suite_hash = col_text(st, 3);
  r->suite_text = col_text(st, 4);
  r->git_revision = col_text(st, 5);
  r->host = col_text(st, 6);
  r->libraries = col_text(st, 7);
  r->version = col_text(st, 8);
  r->status = col_text(st, 9);
  r->shard = col_text(st, 10);
  r->threads = sqlite3_column_int(st, 11);
  unsigned i, n;
  char tail;
  if (!r->shard || sscanf(r->shard, "%u/%u%c", &i, &n, &tail) != 2 || i >= n) {
    snprintf(err, err_len, "%s: run %lld is not a shard (run it with --shard I/N)", path,
             (long long)r->run_id);
    goto done;
  }
  r->index = i;
  r->count = n;
  if (!r->status || strcmp(r->status, "complete")) {
    snprintf(err, err_len, "%s: shard %s is %s; finish it first (saicbench run ... --resume)", path,
             r->shard, r->status ? r->status : "unknown");
    goto done;
  }
  /* The shard's rows as they were when it completed (a shard from before checksums has none). */
  int verified = 0;
  char why[768];
  if (results_verify_run(s, r->run_id, &verified, why, sizeof why)) {
    snprintf(err, err_len, "%s: %s", path, why);
    goto done;
  }
  rc = 0;
done:
  sqlite3_finalize(st);
  store_close(s);
  return rc;
}

/* The statements that copy one attached shard ("src", run ?2) into the merged run ?1. Rows are
 * matched by natural keys (names, index, kind and value), never by the shards' own ids. */
static const char *const copy_sql[] = {
    "INSERT OR IGNORE INTO main.datasets (run_id, name, path, kind, content_hash, n_images, "
    "n_classes, class_names, selection) SELECT ?1, name, path, kind, content_hash, n_images, "
    "n_classes, class_names, selection FROM src.datasets WHERE run_id = ?2",

    "INSERT OR IGNORE INTO main.images (dataset_id, idx, name, label) "
    "SELECT md.id, si.idx, si.name, si.label FROM src.images si "
    "JOIN src.datasets sd ON sd.id = si.dataset_id "
    "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name WHERE sd.run_id = ?2",

    /* Only the shard that read an image knows its size and hash (or why it failed). */
    "UPDATE main.images AS mi SET width = x.width, height = x.height, hash = x.hash, "
    "error = x.error FROM (SELECT md.id AS dataset_id, si.idx, si.width, si.height, si.hash, "
    "si.error FROM src.images si JOIN src.datasets sd ON sd.id = si.dataset_id "
    "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name "
    "WHERE sd.run_id = ?2 AND (si.width IS NOT NULL OR si.error IS NOT NULL)) AS x "
    "WHERE mi.dataset_id = x.dataset_id AND mi.idx = x.idx",

    "INSERT OR IGNORE INTO main.codecs (run_id, label, codec, library_version, settings, "
    "knob_name, plugin_path) SELECT ?1, label, codec, library_version, settings, knob_name, "
    "plugin_path FROM src.codecs WHERE run_id = ?2",

    "INSERT OR IGNORE INTO main.points (codec_id, kind, value) "
    "SELECT mc.id, sp.kind, sp.value FROM src.points sp JOIN src.codecs sc ON sc.id = sp.codec_id "
    "JOIN main.codecs mc ON mc.run_id = ?1 AND mc.label = sc.label WHERE sc.run_id = ?2",
};

/* Task rows (schema version 2), copied only from shards that have the tables. */
static const char *const copy_task_sql[] = {
    "INSERT OR IGNORE INTO main.tasks (run_id, name, kind, checkpoint, checkpoint_sha256, arch, "
    "num_classes, input_width, input_height) SELECT ?1, name, kind, checkpoint, "
    "checkpoint_sha256, arch, num_classes, input_width, input_height FROM src.tasks "
    "WHERE run_id = ?2",
    "INSERT INTO main.task_refs (task_id, image_id, top1, correct, probs) "
    "SELECT mt.id, mi.id, r.top1, r.correct, r.probs FROM src.task_refs r "
    "JOIN src.tasks st ON st.id = r.task_id JOIN src.images si ON si.id = r.image_id "
    "JOIN src.datasets sd ON sd.id = si.dataset_id "
    "JOIN main.tasks mt ON mt.run_id = ?1 AND mt.name = st.name "
    "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name "
    "JOIN main.images mi ON mi.dataset_id = md.id AND mi.idx = si.idx WHERE st.run_id = ?2",
    "INSERT INTO main.task_results (task_id, image_id, point_id, top1, correct, agree, kl) "
    "SELECT mt.id, mi.id, mp.id, r.top1, r.correct, r.agree, r.kl FROM src.task_results r "
    "JOIN src.tasks st ON st.id = r.task_id JOIN src.images si ON si.id = r.image_id "
    "JOIN src.datasets sd ON sd.id = si.dataset_id JOIN src.points sp ON sp.id = r.point_id "
    "JOIN src.codecs sc ON sc.id = sp.codec_id "
    "JOIN main.tasks mt ON mt.run_id = ?1 AND mt.name = st.name "
    "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name "
    "JOIN main.images mi ON mi.dataset_id = md.id AND mi.idx = si.idx "
    "JOIN main.codecs mc ON mc.run_id = ?1 AND mc.label = sc.label "
    "JOIN main.points mp ON mp.codec_id = mc.id AND mp.kind = sp.kind AND mp.value = sp.value "
    "WHERE st.run_id = ?2",
    /* The same task must be the same network in every shard. */
    "SELECT count(*) FROM src.tasks st JOIN main.tasks mt ON mt.run_id = ?1 AND "
    "mt.name = st.name WHERE st.run_id = ?2 AND mt.checkpoint_sha256 <> st.checkpoint_sha256",
};

/* A shard row `t` keyed by (image_id, point_id), joined to the merged run's image (mi) and
 * point (mp): images matched by dataset name and index, points by codec label, kind, value. */
#define UNIT_JOINS                                                                                 \
  "JOIN src.images si ON si.id = t.image_id "                                                      \
  "JOIN src.datasets sd ON sd.id = si.dataset_id JOIN src.points sp ON sp.id = t.point_id "        \
  "JOIN src.codecs sc ON sc.id = sp.codec_id "                                                     \
  "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name "                                 \
  "JOIN main.images mi ON mi.dataset_id = md.id AND mi.idx = si.idx "                              \
  "JOIN main.codecs mc ON mc.run_id = ?1 AND mc.label = sc.label "                                 \
  "JOIN main.points mp ON mp.codec_id = mc.id AND mp.kind = sp.kind AND mp.value = sp.value "      \
  "WHERE sc.run_id = ?2"

/* The result rows; a unit stored by two shards violates the primary key: the merge fails as a
 * whole. The version-3 metric columns come from shards that have them (a shard written before
 * version 3 has none: they stay NULL). */
#define RESULT_COLUMNS(t)                                                                          \
  t "knob, " t "bytes, " t "stream_bytes, " t "bpp, " t "stream_bpp, " t "mse, " t "psnr, " t      \
    "ssim, " t "ms_ssim, " t "encode_ms, " t "decode_ms, " t "n_encodes, " t                       \
    "target_unreachable, " t "error"
#define RESULT_V3_COLUMNS(t)                                                                       \
  ", " t "psnr_y, " t "psnr_cb, " t "psnr_cr, " t "psnr_ycbcr, " t "ciede2000, " t                 \
  "butteraugli_max, " t "butteraugli_3norm"
static const char *const copy_results_sql =
    "INSERT INTO main.results (image_id, point_id, " RESULT_COLUMNS(
        "") ") "
            "SELECT mi.id, mp.id, " RESULT_COLUMNS("t.") " FROM src.results t " UNIT_JOINS;
static const char *const copy_results_v3_sql =
    "INSERT INTO main.results (image_id, point_id, " RESULT_COLUMNS("")
        RESULT_V3_COLUMNS("") ") "
                              "SELECT mi.id, mp.id, " RESULT_COLUMNS("t.")
                                  RESULT_V3_COLUMNS("t.") " FROM src.results t " UNIT_JOINS;

/* Timing repeats (--timing-repeats N > 1), copied only from shards that have the table. */
static const char *const copy_repeats_sql =
    "INSERT INTO main.timing_repeats (image_id, point_id, encode_ms, decode_ms) "
    "SELECT mi.id, mp.id, t.encode_ms, t.decode_ms FROM src.timing_repeats t " UNIT_JOINS;

/* Thumbnails of the originals (point 0) and of decoded images, copied from shards that have
 * the table: images matched by dataset name and index, points by codec label, kind, value. */
static const char *const copy_thumbs_sql[] = {
    "INSERT OR REPLACE INTO main.thumbnails (image_id, point_id, width, height, png) "
    "SELECT mi.id, 0, t.width, t.height, t.png FROM src.thumbnails t "
    "JOIN src.images si ON si.id = t.image_id JOIN src.datasets sd ON sd.id = si.dataset_id "
    "JOIN main.datasets md ON md.run_id = ?1 AND md.name = sd.name "
    "JOIN main.images mi ON mi.dataset_id = md.id AND mi.idx = si.idx "
    "WHERE sd.run_id = ?2 AND t.point_id = 0",

    "INSERT OR REPLACE INTO main.thumbnails (image_id, point_id, width, height, png) "
    "SELECT mi.id, mp.id, t.width, t.height, t.png FROM src.thumbnails t " UNIT_JOINS,
};

/* Datasets and codecs must agree across shards (same content, same settings). */
static const char *const check_sql =
    "SELECT (SELECT count(*) FROM src.datasets sd JOIN main.datasets md ON md.run_id = ?1 AND "
    "md.name = sd.name WHERE sd.run_id = ?2 AND md.content_hash <> sd.content_hash) + "
    "(SELECT count(*) FROM src.codecs sc JOIN main.codecs mc ON mc.run_id = ?1 AND "
    "mc.label = sc.label WHERE sc.run_id = ?2 AND (mc.settings <> sc.settings OR "
    "mc.library_version IS NOT sc.library_version))";

static int exec_bound(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t *out, char *err,
                      size_t err_len, const char *path) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
    return -1;
  }
  sqlite3_bind_int64(st, 1, a);
  if (sqlite3_bind_parameter_count(st) >= 2)
    sqlite3_bind_int64(st, 2, b);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && out)
    *out = sqlite3_column_int64(st, 0);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
      snprintf(err, err_len, "%s: a unit is stored by two shards (%s)", path, sqlite3_errmsg(db));
    else
      snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

static int copy_shard(store *out, int64_t run_id, const char *path, int64_t src_run, char *err,
                      size_t err_len) {
  sqlite3 *db = store_db(out);
  sqlite3_stmt *att;
  if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS src", -1, &att, NULL) != SQLITE_OK) {
    snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
    return -1;
  }
  sqlite3_bind_text(att, 1, path, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(att);
  sqlite3_finalize(att);
  if (rc != SQLITE_DONE) {
    snprintf(err, err_len, "%s: cannot attach: %s", path, sqlite3_errmsg(db));
    return -1;
  }
  rc = store_begin(out, err, err_len);
  for (size_t i = 0; !rc && i < sizeof copy_sql / sizeof *copy_sql; i++) {
    rc = exec_bound(db, copy_sql[i], run_id, src_run, NULL, err, err_len, path);
    if (!rc && i == 0) {
      int64_t mismatches = 0;
      rc = exec_bound(db, check_sql, run_id, src_run, &mismatches, err, err_len, path);
      if (!rc && mismatches) {
        snprintf(err, err_len,
                 "%s: its datasets or codecs differ from the other shards' (content hash, "
                 "settings or library version)",
                 path);
        rc = -1;
      }
    }
  }
  if (!rc) {
    const int v3 = store_has_column(db, "src", "results", store_extra_metric_columns[0]);
    if (v3 < 0) {
      snprintf(err, err_len, "%s: cannot read its schema: %s", path, sqlite3_errmsg(db));
      rc = -1;
    } else {
      rc = exec_bound(db, v3 ? copy_results_v3_sql : copy_results_sql, run_id, src_run, NULL, err,
                      err_len, path);
    }
  }
  int64_t has_tasks = 0;
  if (!rc)
    rc = exec_bound(db,
                    "SELECT count(*) FROM src.sqlite_master WHERE type = 'table' AND "
                    "name = 'task_results' AND ?1 > 0",
                    run_id, src_run, &has_tasks, err, err_len, path);
  for (size_t i = 0; !rc && has_tasks && i < sizeof copy_task_sql / sizeof *copy_task_sql; i++) {
    int64_t mismatches = 0;
    rc = exec_bound(db, copy_task_sql[i], run_id, src_run, &mismatches, err, err_len, path);
    if (!rc && i + 1 == sizeof copy_task_sql / sizeof *copy_task_sql && mismatches) {
      snprintf(err, err_len, "%s: its task networks differ from the other shards' (checkpoint)",
               path);
      rc = -1;
    }
  }
  int64_t has_repeats = 0;
  if (!rc)
    rc = exec_bound(db,
                    "SELECT count(*) FROM src.sqlite_master WHERE type = 'table' AND "
                    "name = 'timing_repeats' AND ?1 > 0",
                    run_id, src_run, &has_repeats, err, err_len, path);
  if (!rc && has_repeats)
    rc = exec_bound(db, copy_repeats_sql, run_id, src_run, NULL, err, err_len, path);
  int64_t has_thumbs = 0;
  if (!rc)
    rc = exec_bound(db,
                    "SELECT count(*) FROM src.sqlite_master WHERE type = 'table' AND "
                    "name = 'thumbnails' AND ?1 > 0",
                    run_id, src_run, &has_thumbs, err, err_len, path);
  for (size_t i = 0; !rc && has_thumbs && i < sizeof copy_thumbs_sql / sizeof *copy_thumbs_sql; i++)
    rc = exec_bound(db, copy_thumbs_sql[i], run_id, src_run, NULL, err, err_len, path);
  if (!rc)
    rc = store_commit(out, err, err_len);
  if (rc)
    store_rollback(out);
  sqlite3_exec(db, "DETACH DATABASE src", NULL, NULL, NULL);
  return rc;
}

/* Reads every shard (read_shard) and checks that together they are shards 0..N-1 of one plan,
 * each once, none of them the output. */
static int read_shards(const char *out_db, const char *const *shard_dbs, size_t n_shards,
                       shard_run *runs, char *err, size_t err_len) {
  char out_real[PATH_MAX] = "";
  if (!realpath(out_db, out_real))
    out_real[0] = '\0';
  for (size_t i = 0; i < n_shards; i++) {
    char real[PATH_MAX];
    if (out_real[0] && realpath(shard_dbs[i], real) && !strcmp(real, out_real)) {
      snprintf(err, err_len, "merge: the output %s is also given as a shard", out_db);
      return -1;
    }
    if (read_shard(shard_dbs[i], &runs[i], err, err_len))
      return -1;
  }
  unsigned count = runs[0].count;
  for (size_t i = 0; i < n_shards; i++) {
    if (strcmp(runs[i].suite_hash, runs[0].suite_hash)) {
      snprintf(err, err_len, "merge: %s ran another plan than %s (suite, data or codecs differ)",
               shard_dbs[i], shard_dbs[0]);
      return -1;
    }
    if (runs[i].count != count) {
      snprintf(err, err_len, "merge: %s is shard %s but %s is shard %s", shard_dbs[i],
               runs[i].shard, shard_dbs[0], runs[0].shard);
      return -1;
    }
    for (size_t j = 0; j < i; j++)
      if (runs[j].index == runs[i].index) {
        snprintf(err, err_len, "merge: %s and %s are both shard %s", shard_dbs[j], shard_dbs[i],
                 runs[i].shard);
        return -1;
      }
  }
  if (n_shards != count) {
    sb_buf missing = {0};
    for (unsigned k = 0; k < count; k++) {
      int found = 0;
      for (size_t i = 0; i < n_shards; i++)
        found |= runs[i].index == k;
      if (!found)
        sb_buf_printf(&missing, "%s%u/%u", missing.len ? ", " : "", k, count);
    }
    char *m = sb_buf_take(&missing);
    snprintf(err, err_len, "merge: shards missing: %s", m ? m : "?");
    free(m);
    return -1;
  }
  return 0;
}

int merge_shards(const char *out_db, const char *const *shard_dbs, size_t n_shards,
                 const char *command, int64_t *run_id, size_t *n_results, char *err,
                 size_t err_len) {
  if (!n_shards) {
    snprintf(err, err_len, "merge: no shard databases given");
    return -1;
  }
  shard_run *runs = calloc(n_shards, sizeof *runs);
  store *out = NULL;
  int rc = -1;
  if (!runs) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  if (read_shards(out_db, shard_dbs, n_shards, runs, err, err_len))
    goto done;
  if (store_open(out_db, &out, err, err_len))
    goto done;
  int threads = 0;
  char cerr[256]; /* errors while recording a failure do not replace the first error */
  sb_buf hosts = {0};
  for (size_t i = 0; i < n_shards; i++) {
    threads += runs[i].threads;
    if (!hosts.len || !strstr(hosts.data, runs[i].host ? runs[i].host : "?"))
      sb_buf_printf(&hosts, "%s%s", hosts.len ? "," : "", runs[i].host ? runs[i].host : "?");
  }
  char *host = sb_buf_take(&hosts);
  store_run_info info = {runs[0].suite_name,
                         runs[0].suite_path,
                         runs[0].suite_hash,
                         runs[0].suite_text,
                         command,
                         runs[0].git_revision,
                         host,
                         threads,
                         runs[0].libraries,
                         runs[0].version,
                         NULL};
  int crc = store_create_run(out, &info, run_id, err, err_len);
  free(host);
  if (crc)
    goto done;
  for (size_t i = 0; i < n_shards; i++)
    if (copy_shard(out, *run_id, shard_dbs[i], runs[i].run_id, err, err_len)) {
      store_set_run_status(out, *run_id, "failed", cerr, sizeof cerr);
      goto done;
    }
  /* Every image x point of the plan must now be present. */
  int64_t expected = 0, have = 0;
  if (exec_bound(store_db(out),
                 "SELECT (SELECT count(*) FROM images i JOIN datasets d ON d.id = i.dataset_id "
                 "WHERE d.run_id = ?1) * (SELECT count(*) FROM points p JOIN codecs c ON "
                 "c.id = p.codec_id WHERE c.run_id = ?1)",
                 *run_id, 0, &expected, err, err_len, out_db) ||
      exec_bound(store_db(out),
                 "SELECT count(*) FROM results r JOIN points p ON p.id = r.point_id "
                 "JOIN codecs c ON c.id = p.codec_id WHERE c.run_id = ?1",
                 *run_id, 0, &have, err, err_len, out_db))
    goto done;
  *n_results = (size_t)have;
  if (store_compute_aggregates(out, *run_id, err, err_len))
    goto done;
  if (have != expected) {
    snprintf(err, err_len,
             "merge: %lld of %lld units present after merging; the run is stored "
             "as interrupted",
             (long long)have, (long long)expected);
    store_set_run_status(out, *run_id, "interrupted", cerr, sizeof cerr);
    goto done;
  }
  rc = store_set_run_status(out, *run_id, "complete", err, err_len);
done:
  for (size_t i = 0; i < n_shards; i++)
    shard_run_free(&runs[i]);
  free(runs);
  store_close(out);
  return rc;
}
