"""The flat SQL views (result_rows, task_result_rows, point_summary, task_point_summary): every
view row is checked against the tables it is built from, every ready query of docs/schema.md
(its ```sql blocks, so the doc and this test cannot drift) is run and its answer recomputed from
the tables, and the views reach older files: a version-2 file written before the views gains
them on its next write, read-only commands leave it unchanged, a version-1 file gets them with
its upgrade, and a file that is not a saicbench store never gets them.

Usage: python3 test_views.py SAICBENCH SCHEMA_MD CHECKPOINT [SHARED_DATASETS]
Standard library only; writes only into a temporary folder. Without the shared datasets the
images are synthetic (same names and sizes as far as the queries care).
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

SAICBENCH = SCHEMA_MD = CKPT = SHARED = None
VIEWS = ["result_rows", "task_result_rows", "point_summary", "task_point_summary"]
# The metric columns schema version 3 added (results; aggregates with "mean_" before them).
V3_COLUMNS = ["psnr_y", "psnr_cb", "psnr_cr", "psnr_ycbcr", "ciede2000", "butteraugli_max",
              "butteraugli_3norm"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
PER_CLASS = 2
# Named like the shipped quick suite, whose names the ready queries use.
SUITE = """\
name: quick
max_encodes: 8
datasets:
  - name: kodak
    path: kodak
  - name: cifar10-test
    path: cifar
codecs:
  - codec: jpeg
    knob: [30, 90]
    bpp: [0.5, 1]
  - codec: webp
    knob: [30, 90]
    bpp: [0.5, 1]
tasks:
  - name: resnet32
    checkpoint: %s
"""


def run(args, check=True):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def write_png(path, w, h, seed):
    """A smooth RGB8 image with some texture (no PIL: zlib and struct)."""
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            n = (x * 7919 + y * 104729 + seed * 1299709) % 61
            row += bytes([(x * 5 + seed * 23 + n) % 256, (y * 3 + seed * 41) % 256,
                          ((x + y) * 2 + n * 2) % 256])
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def make_data(root):
    """kodak: 2 images; cifar: PER_CLASS per class plus a corrupt file (rows with an error)."""
    os.makedirs(os.path.join(root, "kodak"))
    src = os.path.join(SHARED, "kodak") if SHARED else None
    for i in range(2):
        name = "kodim%02d.png" % (i + 1)
        if src and os.path.exists(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), os.path.join(root, "kodak", name))
        else:
            write_png(os.path.join(root, "kodak", name), 192, 128, i)
    for ci, c in enumerate(CLASSES):
        os.makedirs(os.path.join(root, "cifar", c))
        src = os.path.join(SHARED, "cifar10", "test", c) if SHARED else None
        if src and os.path.isdir(src):
            for name in sorted(os.listdir(src))[:PER_CLASS]:
                shutil.copy(os.path.join(src, name), os.path.join(root, "cifar", c, name))
        else:
            for i in range(PER_CLASS):
                write_png(os.path.join(root, "cifar", c, "%04d.png" % i), 32, 32, ci * 10 + i)
    with open(os.path.join(root, "cifar", "dog", "zz_corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def ready_queries():
    """The ```sql blocks of docs/schema.md, by the name on their `-- ready:` line."""
    with open(SCHEMA_MD, encoding="utf-8") as f:
        doc = f.read()
    out = {}
    for block in re.findall(r"^```sql\n(.*?)^```", doc, re.S | re.M):
        m = re.match(r"-- ready: ([\w-]+)\n", block)
        assert m, "a ```sql block of %s has no '-- ready: NAME' line:\n%s" % (SCHEMA_MD, block)
        assert m.group(1) not in out, "ready query %s appears twice" % m.group(1)
        out[m.group(1)] = block
    return out


def table(con, name):
    cur = con.execute("SELECT * FROM %s" % name)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def views_of(db):
    con = sqlite3.connect(db)
    names = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='view'"))
    con.close()
    return names


def copy_db(src, dst):
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    a.close()
    b.close()


class Tables:
    """The stored tables as Python data, joined by hand (no SQL joins)."""

    def __init__(self, con):
        self.runs = {r["id"]: r for r in table(con, "runs")}
        self.datasets = {r["id"]: r for r in table(con, "datasets")}
        self.images = {r["id"]: r for r in table(con, "images")}
        self.codecs = {r["id"]: r for r in table(con, "codecs")}
        self.points = {r["id"]: r for r in table(con, "points")}
        self.tasks = {r["id"]: r for r in table(con, "tasks")}
        self.results = table(con, "results")
        self.result_at = {(r["image_id"], r["point_id"]): r for r in self.results}
        self.aggregates = table(con, "aggregates")
        self.agg_at = {(a["point_id"], a["dataset_id"]): a for a in self.aggregates}
        self.task_refs = {(r["task_id"], r["image_id"]): r for r in table(con, "task_refs")}
        self.task_results = table(con, "task_results")
        self.task_aggregates = table(con, "task_aggregates")
        self.latest = max(self.runs)

    def class_name(self, image):
        names = self.datasets[image["dataset_id"]]["class_names"]
        if image["label"] is None or names is None:
            return None
        return json.loads(names)[image["label"]]

    def run_cols(self, run_id):
        r = self.runs[run_id]
        return {"run_id": run_id, "started_at": r["started_at"], "suite_name": r["suite_name"],
                "run_status": r["status"]}

    def result_row(self, r):
        img = self.images[r["image_id"]]
        ds = self.datasets[img["dataset_id"]]
        pt = self.points[r["point_id"]]
        cd = self.codecs[pt["codec_id"]]
        row = self.run_cols(ds["run_id"])
        row.update({"dataset": ds["name"], "image_idx": img["idx"], "image_name": img["name"],
                    "label": img["label"], "class_name": self.class_name(img),
                    "width": img["width"], "height": img["height"], "codec": cd["label"],
                    "codec_name": cd["codec"], "knob_name": cd["knob_name"],
                    "point_kind": pt["kind"], "point_value": pt["value"],
                    "dataset_id": ds["id"], "codec_id": cd["id"]})
        row.update(r)
        return row

    def task_result_row(self, tr):
        img = self.images[tr["image_id"]]
        ds = self.datasets[img["dataset_id"]]
        pt = self.points[tr["point_id"]]
        cd = self.codecs[pt["codec_id"]]
        tk = self.tasks[tr["task_id"]]
        res = self.result_at.get((tr["image_id"], tr["point_id"]))
        ref = self.task_refs.get((tr["task_id"], tr["image_id"]))
        row = self.run_cols(tk["run_id"])
        row.update({"dataset": ds["name"], "image_idx": img["idx"], "image_name": img["name"],
                    "label": img["label"], "class_name": self.class_name(img),
                    "task": tk["name"], "task_arch": tk["arch"], "codec": cd["label"],
                    "codec_name": cd["codec"], "point_kind": pt["kind"],
                    "point_value": pt["value"], "bpp": res["bpp"] if res else None,
                    "psnr": res["psnr"] if res else None,
                    "ref_top1": ref["top1"] if ref else None,
                    "ref_correct": ref["correct"] if ref else None,
                    "dataset_id": ds["id"], "codec_id": cd["id"]})
        row.update(tr)
        return row

    def point_row(self, a):
        pt = self.points[a["point_id"]]
        cd = self.codecs[pt["codec_id"]]
        ds = self.datasets[a["dataset_id"]]
        row = self.run_cols(ds["run_id"])
        row.update({"dataset": ds["name"], "codec": cd["label"], "codec_name": cd["codec"],
                    "knob_name": cd["knob_name"], "point_kind": pt["kind"],
                    "point_value": pt["value"], "codec_id": cd["id"]})
        row.update(a)
        return row

    def task_point_row(self, ta):
        pt = self.points[ta["point_id"]]
        cd = self.codecs[pt["codec_id"]]
        ds = self.datasets[ta["dataset_id"]]
        tk = self.tasks[ta["task_id"]]
        agg = self.agg_at.get((ta["point_id"], ta["dataset_id"]))
        row = self.run_cols(tk["run_id"])
        row.update({"dataset": ds["name"], "task": tk["name"], "task_arch": tk["arch"],
                    "codec": cd["label"], "codec_name": cd["codec"], "point_kind": pt["kind"],
                    "point_value": pt["value"], "mean_bpp": agg["mean_bpp"] if agg else None,
                    "mean_psnr": agg["mean_psnr"] if agg else None, "codec_id": cd["id"]})
        row.update(ta)
        return row

    def run_of_result(self, r):
        return self.datasets[self.images[r["image_id"]]["dataset_id"]]["run_id"]


def close(got, want, digits):
    """A value rounded by SQL round(x, digits) against the exact one."""
    if want is None or got is None:
        return got is None and want is None
    return abs(got - want) <= 0.5 * 10 ** -digits + 1e-9 * max(1.0, abs(want))


class ViewsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_views_")
        cls.data = os.path.join(cls.tmp, "data")
        make_data(cls.data)
        cls.suite = os.path.join(cls.tmp, "quick.yaml")
        with open(cls.suite, "w") as f:
            f.write(SUITE % CKPT)
        cls.db = os.path.join(cls.tmp, "quick.db")
        # Two runs of the suite: the history query needs more than one.
        for _ in range(2):
            run(["run", cls.suite, "--data", cls.data, "--db", cls.db, "--threads", "2",
                 "--quiet"])
        cls.con = sqlite3.connect(cls.db)
        cls.t = Tables(cls.con)

    @classmethod
    def tearDownClass(cls):
        cls.con.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def query(self, sql):
        cur = self.con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def assert_rows(self, got, want, rounded=None):
        """Same rows in the same order; `rounded` maps a column to its round() digits."""
        rounded = rounded or {}
        self.assertEqual(len(got), len(want), (got[:3], want[:3]))
        for i, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(sorted(g), sorted(w), "row %d columns" % i)
            for k in g:
                if k in rounded:
                    self.assertTrue(close(g[k], w[k], rounded[k]),
                                    "row %d %s: %r vs %r" % (i, k, g[k], w[k]))
                else:
                    self.assertEqual(g[k], w[k], "row %d %s" % (i, k))

    # The views against the tables, row by row and column by column.

    def check_view(self, view, rows, make, key):
        got = {tuple(r[k] for k in key): r for r in self.query("SELECT * FROM %s" % view)}
        self.assertEqual(len(got), len(rows), view)
        self.assertTrue(rows, view)
        for r in rows:
            want = make(r)
            g = got[tuple(want[k] for k in key)]
            self.assertEqual(g, want, view)

    def test_result_rows(self):
        self.check_view("result_rows", self.t.results, self.t.result_row, ("image_id", "point_id"))

    def test_task_result_rows(self):
        self.check_view("task_result_rows", self.t.task_results, self.t.task_result_row,
                        ("task_id", "image_id", "point_id"))

    def test_point_summary(self):
        self.check_view("point_summary", self.t.aggregates, self.t.point_row,
                        ("point_id", "dataset_id"))

    def test_task_point_summary(self):
        self.check_view("task_point_summary", self.t.task_aggregates, self.t.task_point_row,
                        ("task_id", "point_id", "dataset_id"))

    def test_data_covers_the_queries(self):
        t = self.t
        self.assertEqual(len(t.runs), 2)
        self.assertTrue(any(r["error"] for r in t.results))  # the corrupt image
        self.assertTrue(any(r["target_unreachable"] for r in t.results))  # 32x32 JPEG at 0.5 bpp
        self.assertTrue(t.task_results)

    # The ready queries of docs/schema.md, each recomputed from the tables.

    def test_results_table(self):
        """scripts/results_table.py against the stored rows themselves (not the views)."""
        script = os.path.join(os.path.dirname(SCHEMA_MD), os.pardir, "scripts", "results_table.py")
        run_id = self.con.execute("SELECT max(id) FROM runs").fetchone()[0]
        for dataset, extra in (("cifar10-test", ["--tasks", "resnet32"]), ("kodak", ["--ms-ssim"])):
            p = subprocess.run([sys.executable, script, "--db", self.db, "--dataset", dataset,
                                "--name", "webp=WebP"] + extra, capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            lines = p.stdout.splitlines()
            self.assertTrue(lines[1].startswith("|---|"))
            got = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
            want = []
            for pid, value, label in self.con.execute(
                    "SELECT p.id, p.value, c.label FROM points p JOIN codecs c ON c.id = p.codec_id"
                    " WHERE c.run_id = ? AND p.kind = 'bpp' ORDER BY p.value, c.id", (run_id,)):
                rows = self.con.execute(
                    "SELECT r.bpp, r.psnr, r.ssim, r.ms_ssim, r.target_unreachable, r.image_id"
                    " FROM results r JOIN images i ON i.id = r.image_id"
                    " JOIN datasets d ON d.id = i.dataset_id"
                    " WHERE r.point_id = ? AND d.name = ? AND d.run_id = ? AND r.error IS NULL",
                    (pid, dataset, run_id)).fetchall()
                mean = lambda k: sum(r[k] for r in rows) / len(rows)
                cells = ["%g" % value, "WebP" if label == "webp" else label, "%.4f" % mean(0),
                         "%d/%d" % (sum(r[4] for r in rows), len(rows)), "%.2f" % mean(1),
                         "%.4f" % mean(2)]
                if dataset == "kodak":
                    cells.append("%.4f" % mean(3))
                else:
                    ok = self.con.execute(
                        "SELECT avg(tr.correct) FROM task_results tr JOIN tasks t ON t.id = tr.task_id"
                        " JOIN images i ON i.id = tr.image_id JOIN datasets d ON d.id = i.dataset_id"
                        " WHERE tr.point_id = ? AND t.name = 'resnet32' AND d.name = ?"
                        " AND t.run_id = ?", (pid, dataset, run_id)).fetchone()[0]
                    cells.append("%.2f" % (100 * ok))
                want.append(cells)
            self.assertGreater(len(want), 0)
            self.assertEqual(got, want)
        p = subprocess.run([sys.executable, script, "--db", self.db, "--dataset", "nope"],
                           capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no bpp targets for dataset 'nope'", p.stderr)

    def test_every_ready_query_is_checked(self):
        self.assertEqual(sorted(ready_queries()), sorted(CHECKS))

    def test_ready_queries(self):
        for name, sql in sorted(ready_queries().items()):
            with self.subTest(query=name):
                got = self.query(sql)
                CHECKS[name](self, got)


def check_accuracy_vs_bpp(self, got):
    t = self.t
    want = []
    for r in (t.task_point_row(ta) for ta in t.task_aggregates):
        if r["run_id"] == t.latest and r["point_kind"] == "bpp":
            want.append({"dataset": r["dataset"], "task": r["task"], "codec": r["codec"],
                         "target_bpp": r["point_value"], "bpp": r["mean_bpp"],
                         "acc": None if r["accuracy"] is None else 100 * r["accuracy"],
                         "ref_acc": None if r["ref_accuracy"] is None else 100 * r["ref_accuracy"],
                         "n": r["n"]})
    want.sort(key=lambda w: (w["dataset"], w["task"], w["codec"], w["target_bpp"]))
    self.assertTrue(want)
    self.assert_rows(got, want, {"bpp": 3, "acc": 2, "ref_acc": 2})


def check_worst_images(self, got):
    t = self.t
    rows = [t.result_row(r) for r in t.results]
    rows = [r for r in rows if r["run_id"] == t.latest and r["codec"] == "jpeg" and
            r["error"] is None]
    rows.sort(key=lambda r: (r["psnr"], r["dataset"], r["image_idx"], r["point_kind"],
                             r["point_value"]))
    want = [{"dataset": r["dataset"], "image_name": r["image_name"],
             "point_kind": r["point_kind"], "point_value": r["point_value"], "bpp": r["bpp"],
             "psnr": r["psnr"]} for r in rows[:10]]
    self.assertEqual(len(want), 10)
    self.assert_rows(got, want, {"bpp": 3, "psnr": 2})


def check_per_class_accuracy(self, got):
    t = self.t
    groups = {}
    for r in (t.task_result_row(tr) for tr in t.task_results):
        if r["run_id"] != t.latest or r["label"] is None:
            continue
        k = (r["task"], r["codec"], r["point_kind"], r["point_value"], r["label"])
        g = groups.setdefault(k, {"class_name": r["class_name"], "c": [], "rc": []})
        g["c"].append(r["correct"])
        g["rc"].append(r["ref_correct"])
    want = []
    for k in sorted(groups):
        g = groups[k]
        want.append({"task": k[0], "codec": k[1], "point_kind": k[2], "point_value": k[3],
                     "label": k[4], "class_name": g["class_name"], "n": len(g["c"]),
                     "acc": 100.0 * sum(g["c"]) / len(g["c"]),
                     "ref_acc": 100.0 * sum(g["rc"]) / len(g["rc"])})
    self.assertTrue(want)
    self.assertEqual({w["class_name"] for w in want}, set(CLASSES))
    self.assert_rows(got, want, {"acc": 1, "ref_acc": 1})


def check_suite_history(self, got):
    t = self.t
    want = []
    for r in (t.point_row(a) for a in t.aggregates):
        if (r["suite_name"] == "quick" and r["dataset"] == "kodak" and r["point_kind"] == "bpp"
                and r["point_value"] == 1):
            want.append({"run_id": r["run_id"], "started_at": r["started_at"],
                         "run_status": r["run_status"], "codec": r["codec"], "n": r["n"],
                         "bpp": r["mean_bpp"], "psnr": r["mean_psnr"]})
    want.sort(key=lambda w: (w["codec"], w["started_at"], w["run_id"]))
    self.assertEqual(len(want), 4)  # 2 runs x 2 codecs
    self.assert_rows(got, want, {"bpp": 3, "psnr": 2})


def check_unreachable_targets(self, got):
    t = self.t
    want = []
    for r in (t.point_row(a) for a in t.aggregates):
        if r["run_id"] == t.latest and r["point_kind"] == "bpp" and r["n_unreachable"] > 0:
            want.append({"dataset": r["dataset"], "codec": r["codec"],
                         "target_bpp": r["point_value"], "n": r["n"],
                         "n_unreachable": r["n_unreachable"]})
    want.sort(key=lambda w: (w["dataset"], w["codec"], w["target_bpp"]))
    # Cross-check n_unreachable against the result rows themselves.
    for w in want:
        n = sum(1 for r in map(t.result_row, t.results)
                if r["run_id"] == t.latest and r["dataset"] == w["dataset"] and
                r["codec"] == w["codec"] and r["point_kind"] == "bpp" and
                r["point_value"] == w["target_bpp"] and r["target_unreachable"] and
                r["error"] is None)
        self.assertEqual(n, w["n_unreachable"])
    self.assertTrue(want)
    self.assert_rows(got, want)


def check_paired_codecs(self, got):
    t = self.t
    by = {}
    for r in (t.result_row(r) for r in t.results):
        if (r["run_id"] == t.latest and r["point_kind"] == "bpp" and r["error"] is None and
                not r["target_unreachable"]):
            by[(r["codec"], r["image_id"], r["point_value"])] = r
    want = []
    for (codec, image_id, value), a in by.items():
        b = by.get(("webp", image_id, value))
        if codec != "jpeg" or b is None:
            continue
        want.append({"dataset": a["dataset"], "image_name": a["image_name"], "target_bpp": value,
                     "jpeg_bpp": a["bpp"], "webp_bpp": b["bpp"],
                     "webp_minus_jpeg_db": b["psnr"] - a["psnr"], "_idx": a["image_idx"]})
    want.sort(key=lambda w: (w["dataset"], w["_idx"], w["target_bpp"]))
    for w in want:
        del w["_idx"]
    if SHARED and os.path.isdir(os.path.join(SHARED, "kodak")):
        self.assertTrue(want)  # real Kodak images reach 0.5 and 1 bpp with both codecs
    self.assert_rows(got, want, {"jpeg_bpp": 3, "webp_bpp": 3, "webp_minus_jpeg_db": 2})


CHECKS = {
    "accuracy-vs-bpp": check_accuracy_vs_bpp,
    "worst-images": check_worst_images,
    "per-class-accuracy": check_per_class_accuracy,
    "suite-history": check_suite_history,
    "unreachable-targets": check_unreachable_targets,
    "paired-codecs": check_paired_codecs,
}


class OlderFilesTest(unittest.TestCase):
    """The views reach files written before them, and only saicbench's own."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_views_old_")
        cls.data = os.path.join(cls.tmp, "data")
        make_data(cls.data)
        cls.db = os.path.join(cls.tmp, "base.db")
        cls.adhoc = ["--data", os.path.join(cls.data, "kodak"), "--quiet", "--codec",
                     "jpeg:quality=50"]
        run(["run", "--db", cls.db] + cls.adhoc)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_new_file_has_the_views(self):
        self.assertEqual(views_of(self.db), sorted(VIEWS))

    def old_copy(self, name, version):
        """A copy of base.db as an older saicbench left it: no views (version 1: no tasks;
        versions 1 and 2: no metric columns of version 3)."""
        path = os.path.join(self.tmp, name)
        copy_db(self.db, path)
        con = sqlite3.connect(path)
        for v in VIEWS:
            con.execute("DROP VIEW %s" % v)
        if version < 3:
            for table, prefix in [("results", ""), ("aggregates", "mean_")]:
                for c in V3_COLUMNS:
                    con.execute("ALTER TABLE %s DROP COLUMN %s%s" % (table, prefix, c))
        if version == 1:
            for t in ["task_aggregates", "task_results", "task_refs", "tasks"]:
                con.execute("DROP TABLE %s" % t)
        con.execute("PRAGMA user_version = %d" % version)
        con.commit()
        con.execute("PRAGMA journal_mode = DELETE")  # one file, so its hash covers everything
        con.close()
        self.assertEqual(views_of(path), [])
        return path

    def test_version2_file_gains_views_on_write_only(self):
        path = self.old_copy("old2.db", 2)
        before = sha256(path)
        # Read-only commands leave the file as it is.
        run(["history", "--db", path, "--suite", "adhoc"], check=False)
        run(["report", "--db", path, "--latest", "--out", os.path.join(self.tmp, "rep2")])
        self.assertEqual(sha256(path), before)
        self.assertEqual(views_of(path), [])
        # The next write adds them and upgrades the file to version 3, keeping every row.
        run(["run", "--db", path] + self.adhoc)
        self.assertEqual(views_of(path), sorted(VIEWS))
        con = sqlite3.connect(path)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
        # The views have version 3's columns, NULL for runs without those metrics.
        self.assertEqual(con.execute("SELECT count(*) FROM result_rows WHERE psnr_y IS NOT NULL "
                                     "OR butteraugli_3norm IS NOT NULL").fetchone()[0], 0)
        self.assertEqual(con.execute("SELECT count(*) FROM point_summary WHERE mean_psnr_ycbcr "
                                     "IS NOT NULL").fetchone()[0], 0)
        self.assertEqual(con.execute("SELECT count(*) FROM runs").fetchone()[0], 2)
        n_results = con.execute("SELECT count(*) FROM results").fetchone()[0]
        self.assertEqual(con.execute("SELECT count(*) FROM result_rows").fetchone()[0], n_results)
        self.assertEqual(
            con.execute("SELECT count(DISTINCT run_id) FROM result_rows").fetchone()[0], 2)
        con.close()

    def test_version1_file_gets_views_with_its_upgrade(self):
        path = self.old_copy("old1.db", 1)
        run(["run", "--db", path] + self.adhoc)
        self.assertEqual(views_of(path), sorted(VIEWS))
        con = sqlite3.connect(path)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
        self.assertEqual(con.execute("SELECT count(*) FROM task_result_rows").fetchone()[0], 0)
        self.assertGreater(con.execute("SELECT count(*) FROM point_summary").fetchone()[0], 0)
        con.close()

    def test_foreign_file_is_left_alone(self):
        path = os.path.join(self.tmp, "notes.db")
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE notes (t TEXT)")
        con.execute("INSERT INTO notes VALUES ('mine')")
        con.commit()
        con.close()
        before = sha256(path)
        p = run(["run", "--db", path] + self.adhoc, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a saicbench database", p.stderr)
        self.assertEqual(sha256(path), before)
        self.assertEqual(views_of(path), [])


if __name__ == "__main__":
    SAICBENCH, SCHEMA_MD, CKPT = (os.path.abspath(a) for a in sys.argv[1:4])
    if len(sys.argv) > 4 and os.path.isdir(sys.argv[4]):
        SHARED = os.path.abspath(sys.argv[4])
    unittest.main(argv=[sys.argv[0], "-v"])
