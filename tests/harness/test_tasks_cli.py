"""End-to-end tests of task metrics in runs: a classifier scores every decoded image; the stored
per-row outputs and the per-point aggregates (accuracy, agreement, SI, SI_norm, dI, KL) are
checked against an independent numpy computation, and must not depend on thread count,
kill -9 + resume or sharding. Also: a schema-1 database is upgraded in place, keeping its rows.

Usage: python3 test_tasks_cli.py SAICBENCH CHECKPOINT SHARED_DATASETS
Runs with Debian's python3 (numpy, PIL); writes only into a temporary folder.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

SAICBENCH = CKPT = SHARED = None
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
PER_CLASS = 3
N_POINTS = 8  # grid points per image in SUITE


def run(args, env=None, check=True):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, env=env, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


SUITE = """\
name: task-test
datasets:
  - name: mini
    path: mini
codecs:
  - codec: jpeg
    knob: [5, 50]
    bpp: [0.5, 6]
  - codec: webp
    knob: [0, 90]
    bpp: [0.5, 1.5]
tasks:
  - name: main
    checkpoint: %s
  - %s
"""


def make_dataset(root):
    """PER_CLASS real CIFAR-10 test images per class, plus images the task must skip."""
    for c in CLASSES:
        os.makedirs(os.path.join(root, c))
        src = os.path.join(SHARED, "cifar10", "test", c)
        for name in sorted(os.listdir(src))[:PER_CLASS]:
            shutil.copy(os.path.join(src, name), os.path.join(root, c, name))
    # Another size: encoded and scored by PSNR, not by the 32x32 classifier.
    Image.fromarray(np.full((24, 40, 3), 90, np.uint8)).save(os.path.join(root, "cat", "wide.png"))
    with open(os.path.join(root, "dog", "zz_corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def entropy(x):
    _, counts = np.unique(x, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def mutual_information(x, y):
    # I(X;Y) = H(X) + H(Y) - H(X,Y), an independent route from the C code's joint-table sum.
    return entropy(x) + entropy(y) - entropy(np.asarray(x) * 4096 + np.asarray(y))


def task_view(db):
    """Task rows keyed by names (not ids): refs, per-row results, aggregates."""
    con = sqlite3.connect(db)
    last = "(SELECT max(id) FROM runs)"
    refs = con.execute(
        "SELECT t.name, i.name, r.top1, r.correct, r.probs FROM task_refs r JOIN tasks t ON "
        "t.id = r.task_id JOIN images i ON i.id = r.image_id WHERE t.run_id = %s "
        "ORDER BY t.name, i.idx" % last).fetchall()
    res = con.execute(
        "SELECT t.name, i.name, c.label, p.kind, p.value, r.top1, r.correct, r.agree, r.kl "
        "FROM task_results r JOIN tasks t ON t.id = r.task_id JOIN images i ON i.id = r.image_id "
        "JOIN points p ON p.id = r.point_id JOIN codecs c ON c.id = p.codec_id "
        "WHERE t.run_id = %s ORDER BY t.name, i.idx, c.label, p.kind, p.value" % last).fetchall()
    agg = con.execute(
        "SELECT t.name, c.label, p.kind, p.value, a.n, a.accuracy, a.ref_accuracy, a.agreement, "
        "a.h_a, a.si, a.si_norm, a.i_y_a, a.i_y_b, a.delta_i, a.mean_kl FROM task_aggregates a "
        "JOIN tasks t ON t.id = a.task_id JOIN points p ON p.id = a.point_id "
        "JOIN codecs c ON c.id = p.codec_id WHERE t.run_id = %s "
        "ORDER BY t.name, c.label, p.kind, p.value" % last).fetchall()
    con.close()
    return refs, res, agg


class TaskRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_tasks_")
        cls.data = os.path.join(cls.tmp, "data")
        make_dataset(os.path.join(cls.data, "mini"))
        cls.suite = os.path.join(cls.tmp, "suite.yaml")
        with open(cls.suite, "w") as f:
            f.write(SUITE % (CKPT, CKPT))
        cls.ref_db = os.path.join(cls.tmp, "ref.db")
        run(["run", cls.suite, "--data", cls.data, "--db", cls.ref_db, "--threads", "2",
             "--quiet"])
        cls.ref = task_view(cls.ref_db)
        cls.stem = os.path.splitext(os.path.basename(CKPT))[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def db(self, name):
        return os.path.join(self.tmp, name)

    def test_rows_cover_exactly_the_images_the_task_fits(self):
        refs, res, agg = self.ref
        n_img = len(CLASSES) * PER_CLASS
        for task in ["main", self.stem]:
            self.assertEqual(sum(r[0] == task for r in refs), n_img)
            self.assertEqual(sum(r[0] == task for r in res), n_img * N_POINTS)
        self.assertFalse([r for r in refs + res if r[1] in ("cat/wide.png", "dog/zz_corrupt.png")])
        # The wide image still has its PSNR rows.
        con = sqlite3.connect(self.ref_db)
        n = con.execute("SELECT count(*) FROM results r JOIN images i ON i.id = r.image_id "
                        "WHERE i.name = 'cat/wide.png' AND r.error IS NULL").fetchone()[0]
        con.close()
        self.assertEqual(n, N_POINTS)
        # Two tasks with the same network give the same rows.
        main = [r[1:] for r in res if r[0] == "main"]
        other = [r[1:] for r in res if r[0] == self.stem]
        self.assertEqual(main, other)

    def test_per_row_fields_are_consistent(self):
        con = sqlite3.connect(self.ref_db)
        rows = con.execute(
            "SELECT r.top1, r.correct, r.agree, r.kl, i.label, f.top1, f.correct, f.probs "
            "FROM task_results r JOIN images i ON i.id = r.image_id JOIN task_refs f ON "
            "f.task_id = r.task_id AND f.image_id = r.image_id").fetchall()
        con.close()
        self.assertTrue(rows)
        for top1, correct, agree, kl, label, ref_top1, ref_correct, probs in rows:
            p = np.frombuffer(probs, dtype="<f4")
            self.assertEqual(len(p), 10)
            self.assertAlmostEqual(float(p.sum()), 1.0, places=5)
            self.assertEqual(int(np.argmax(p)), ref_top1)
            self.assertEqual(correct, int(top1 == label))
            self.assertEqual(ref_correct, int(ref_top1 == label))
            self.assertEqual(agree, int(top1 == ref_top1))
            self.assertGreaterEqual(kl, 0.0)

    def test_aggregates_match_numpy(self):
        con = sqlite3.connect(self.ref_db)
        rows = con.execute(
            "SELECT t.name, c.label, p.kind, p.value, i.label, f.top1, f.correct, r.top1, r.kl "
            "FROM task_results r JOIN tasks t ON t.id = r.task_id JOIN images i ON "
            "i.id = r.image_id JOIN task_refs f ON f.task_id = r.task_id AND "
            "f.image_id = r.image_id JOIN points p ON p.id = r.point_id JOIN codecs c ON "
            "c.id = p.codec_id ORDER BY i.idx").fetchall()
        con.close()
        groups = {}
        for r in rows:
            groups.setdefault(r[:4], []).append(r[4:])
        _, _, agg = self.ref
        self.assertEqual(len(agg), len(groups))
        for a in agg:
            g = np.array(groups[a[:4]], dtype=np.float64)
            y, ra, rc, b, kl = g[:, 0], g[:, 1], g[:, 2], g[:, 3], g[:, 4]
            h_a = entropy(ra)
            si = mutual_information(ra, b)
            i_y_a, i_y_b = mutual_information(y, ra), mutual_information(y, b)
            want = [len(g), np.mean(b == y), np.mean(rc), np.mean(b == ra), h_a, si, si / h_a,
                    i_y_a, i_y_b, i_y_a - i_y_b, np.mean(kl)]
            for got, w in zip(a[4:], want):
                self.assertAlmostEqual(got, w, delta=1e-9 * max(1.0, abs(w)), msg=str(a))

    def test_task_metrics_follow_the_rate(self):
        _, _, agg = self.ref
        by = {(a[0], a[1], a[2], a[3]): a for a in agg}
        lo, hi = by[("main", "webp", "knob", 0.0)], by[("main", "webp", "knob", 90.0)]
        self.assertGreater(hi[7], lo[7])    # agreement
        self.assertLess(hi[14], lo[14])     # mean KL
        self.assertGreaterEqual(hi[7], 0.8)
        self.assertGreaterEqual(hi[6], 0.6)  # the shipped network on real CIFAR-10 images

    def test_thread_count_identity(self):
        db = self.db("t1.db")
        run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "1", "--quiet"])
        self.assertEqual(task_view(db), self.ref)

    def test_kill9_then_resume(self):
        db = self.db("k.db")
        env = dict(os.environ, SAICBENCH_TEST_KILL_AFTER_UNITS="60")
        p = run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "2", "--quiet"],
                env=env, check=False)
        self.assertEqual(p.returncode, -signal.SIGKILL)
        # Every stored task row has its result row and its reference.
        con = sqlite3.connect(db)
        orphans = con.execute(
            "SELECT count(*) FROM task_results r LEFT JOIN results x ON x.image_id = r.image_id "
            "AND x.point_id = r.point_id LEFT JOIN task_refs f ON f.task_id = r.task_id AND "
            "f.image_id = r.image_id WHERE x.image_id IS NULL OR f.image_id IS NULL").fetchone()
        con.close()
        self.assertEqual(orphans[0], 0)
        run(["run", self.suite, "--data", self.data, "--db", db, "--resume", "--quiet"])
        self.assertEqual(task_view(db), self.ref)

    def test_two_shards_merge(self):
        shards = []
        for i in range(2):
            db = self.db("s%d.db" % i)
            run(["run", self.suite, "--data", self.data, "--db", db, "--shard", "%d/2" % i,
                 "--quiet"])
            shards.append(db)
        out = self.db("merged.db")
        run(["merge", out] + shards)
        self.assertEqual(task_view(out), self.ref)

    def test_report_has_task_outputs(self):
        out = self.db("report")
        run(["report", "--db", self.ref_db, "--out", out])
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertIn("accuracy", html.lower())

    def test_bad_checkpoint_is_named(self):
        bad = self.db("bad.ckpt")
        with open(CKPT, "rb") as f:
            blob = f.read()
        with open(bad, "wb") as f:
            f.write(blob[: len(blob) // 2])
        p = run(["run", "--data", os.path.join(self.data, "mini"), "--codec", "jpeg:quality=50",
                 "--task", "x=" + bad, "--db", self.db("bad.db"), "--quiet"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.ckpt", p.stderr)
        p = run(["run", "--data", os.path.join(self.data, "mini"), "--codec", "jpeg:quality=50",
                 "--task", self.db("missing.ckpt"), "--db", self.db("bad.db"), "--quiet"],
                check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing.ckpt", p.stderr)

    def test_schema_1_database_is_upgraded_in_place(self):
        db = self.db("v1.db")
        run(["run", "--data", os.path.join(self.data, "mini"), "--codec", "jpeg:quality=50",
             "--db", db, "--quiet"])
        con = sqlite3.connect(db)
        # As version 1 had it: no task tables, no views, no version-3 metric columns.
        for v in ["result_rows", "task_result_rows", "point_summary", "task_point_summary"]:
            con.execute("DROP VIEW %s" % v)
        for t in ["task_aggregates", "task_results", "task_refs", "tasks"]:
            con.execute("DROP TABLE %s" % t)
        for c in V3_COLUMNS:
            con.execute("ALTER TABLE results DROP COLUMN %s" % c)
            con.execute("ALTER TABLE aggregates DROP COLUMN mean_%s" % c)
        con.execute("PRAGMA user_version = 1")
        con.commit()
        before = con.execute("SELECT * FROM results ORDER BY image_id, point_id").fetchall()
        con.close()
        run(["report", "--db", db, "--out", self.db("v1report")])  # read-only: stays version 1
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 1)
        con.close()
        run(["run", "--data", os.path.join(self.data, "mini"), "--codec", "webp:quality=50",
             "--task", CKPT, "--db", db, "--quiet"])
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
        after = con.execute("SELECT * FROM results WHERE point_id IN (SELECT p.id FROM "
                            "points p JOIN codecs c ON c.id = p.codec_id WHERE "
                            "c.run_id = 1) ORDER BY image_id, point_id").fetchall()
        # Every row kept; the version-3 columns appended, NULL.
        self.assertEqual([r[:-len(V3_COLUMNS)] for r in after], before)
        self.assertTrue(all(v is None for r in after for v in r[-len(V3_COLUMNS):]))
        self.assertEqual(con.execute("SELECT count(*) FROM task_refs").fetchone()[0],
                         len(CLASSES) * PER_CLASS)
        con.close()


# The metric columns schema version 3 appended to results (aggregates: "mean_" before them).
V3_COLUMNS = ["psnr_y", "psnr_cb", "psnr_cr", "psnr_ycbcr", "ciede2000", "butteraugli_max",
              "butteraugli_3norm"]

if __name__ == "__main__":
    SAICBENCH, CKPT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    SHARED = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else ""
    if not os.path.isdir(os.path.join(SHARED, "cifar10", "test")):
        print("skipped: no CIFAR-10 test images under %s" % SHARED)
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    unittest.main(argv=[sys.argv[0], "-v"])
