"""The opt-in image metrics end to end (docs/metrics.md; suite key `metrics:`): computed by
`saicbench run`, stored, aggregated, merged and reported, and old stores upgraded.

- values: a run of the example plugin's `quantize` codec (its decode is known exactly:
  q = (v * m + 127) // 255, v' = (q * 255 + m // 2) // m, m = 2^bits - 1) on PNG images stores
  PSNR-Y/Cb/Cr/YCbCr equal to NumPy's, CIEDE2000 equal to scikit-image's (both to 1e-9) and
  Butteraugli equal to metrics_color_cli's (libjxl's API on the same pixels, exactly), NULL
  below 8 px; aggregates are the means of the stored rows;
- selection: a default run stores NULL in every new column and reports exactly the old
  columns; `--metrics psnr_y` stores only PSNR-Y; unknown names are refused;
- merge: the shards' new columns are copied, and the merged aggregates equal those of one
  unsharded run; a shard of a version-2 file (no such columns) merges too;
- old stores: a version-2 database written by saicbench before version 3 (data/store_v2.sql,
  a `.dump`) is reported read-only without a change, upgraded by the next run with every row
  and its run checksum intact (recomputed in Python from docs/schema.md, test_hardening), and
  reported identically afterwards; with the shared datasets, the same run made again today
  stores the same values and the same plan hash (when the data sits at the same path).

usage: python3 test_metrics_store.py SAICBENCH QUANTIZE_PLUGIN METRICS_COLOR_CLI STORE_V2_SQL
                                     [SHARED_DATASETS]
Debian's python3 with numpy, scikit-image and PIL; writes only into a temporary folder.
"""
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_hardening import run_checksum  # noqa: E402  (the documented checksum, in Python)

SAICBENCH = PLUGIN = CLI = V2_SQL = SHARED = None
ALL = "psnr,ssim,ms_ssim,psnr_y,psnr_ycbcr,ciede2000,butteraugli"
EXTRA = ["psnr_y", "psnr_cb", "psnr_cr", "psnr_ycbcr", "ciede2000", "butteraugli_max",
         "butteraugli_3norm"]
TOL = 1e-9


def run(args, check=True):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def quantize(img, bits):
    m = (1 << bits) - 1
    q = (img.astype(np.int64) * m + 127) // 255
    return ((q * 255 + m // 2) // m).astype(np.uint8)


def psnr(mse):
    return 100.0 if mse == 0 else min(10 * math.log10(255.0 ** 2 / mse), 100.0)


def oracle(a, b):
    """The documented definitions in NumPy / scikit-image."""
    def planes(x):
        x = x.astype(np.float64)
        y = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
        return y, 128 + (x[..., 2] - y) / 1.772, 128 + (x[..., 0] - y) / 1.402
    ps = [psnr(float(np.mean((p - q) ** 2))) for p, q in zip(planes(a), planes(b))]
    return {"psnr_y": ps[0], "psnr_cb": ps[1], "psnr_cr": ps[2],
            "psnr_ycbcr": (6 * ps[0] + ps[1] + ps[2]) / 8,
            "ciede2000": float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean()),
            "psnr": psnr(float(np.mean((a.astype(np.float64) - b) ** 2)))}


def butteraugli_cli(a, b, tmp):
    pa, pb = os.path.join(tmp, "a.rgb"), os.path.join(tmp, "b.rgb")
    a.tofile(pa)
    b.tofile(pb)
    out = subprocess.run([CLI, "rgb", str(a.shape[1]), str(a.shape[0]), pa, pb], check=True,
                         capture_output=True, text=True).stdout
    v = dict(line.split() for line in out.splitlines())
    return float(v["butteraugli_max"]), float(v["butteraugli_3norm"])


def rows(path, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    con.row_factory = sqlite3.Row
    out = [dict(r) for r in con.execute(sql, args)]
    con.close()
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_images(folder):
    """Natural pictures when the shared Kodak set is there (a crop keeps the test fast), else
    smooth synthetic ones; plus a 7x6 image (Butteraugli undefined below 8 px)."""
    os.makedirs(folder)
    rng = np.random.default_rng(5)
    kodak = os.path.join(SHARED or "", "kodak", "kodim23.png")
    if SHARED and os.path.exists(kodak):
        big = np.array(Image.open(kodak).convert("RGB"))[100:292, 200:456]
    else:
        yy, xx = np.mgrid[0:192, 0:256]
        big = np.stack([128 + 100 * np.sin(xx / 17.0), 128 + 90 * np.cos(yy / 13.0),
                        (xx + yy) % 256], axis=2).clip(0, 255).astype(np.uint8)
    small = np.array(Image.fromarray(big).resize((32, 32), Image.BILINEAR))
    tiny = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    images = {"a_big.png": big, "b_small.png": small, "c_tiny.png": tiny}
    for name, img in images.items():
        Image.fromarray(img).save(os.path.join(folder, name))
    return images


class MetricsStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_metrics_store_")
        cls.data = os.path.join(cls.tmp, "data")
        cls.images = make_images(cls.data)
        cls.adhoc = ["--data", cls.data, "--plugin", PLUGIN, "--codec", "quantize:bits=3,6",
                     "--quiet", "--threads", "2"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def db(self, name):
        return os.path.join(self.tmp, name)

    def test_values_and_aggregates(self):
        path = self.db("values.db")
        run(["run", "--db", path, "--metrics", ALL] + self.adhoc)
        got = rows(path, "SELECT * FROM result_rows ORDER BY image_name, point_value")
        self.assertEqual(len(got), 6)
        for r in got:
            a = self.images[r["image_name"]]
            b = quantize(a, int(r["point_value"]))
            want = oracle(a, b)
            what = "%s bits=%g" % (r["image_name"], r["point_value"])
            for k, v in want.items():
                self.assertLessEqual(abs(r[k] - v), TOL,
                                     "%s: %s %r, oracle %r" % (what, k, r[k], v))
            if min(a.shape[:2]) < 8:
                self.assertIsNone(r["butteraugli_max"], what)
                self.assertIsNone(r["butteraugli_3norm"], what)
            else:
                mx, p3 = butteraugli_cli(a, b, self.tmp)
                self.assertEqual((r["butteraugli_max"], r["butteraugli_3norm"]), (mx, p3), what)
                self.assertGreater(mx, 0)
        # Aggregates: the mean over the rows that have a value, NULL when none has.
        for p in rows(path, "SELECT * FROM point_summary"):
            mine = [r for r in got if r["point_value"] == p["point_value"]]
            for k in EXTRA:
                vals = [r[k] for r in mine if r[k] is not None]
                self.assertAlmostEqual(p["mean_" + k], sum(vals) / len(vals), delta=1e-12)
        # The library that computed Butteraugli is named with the run.
        libs = rows(path, "SELECT library_versions FROM runs")[0]["library_versions"]
        self.assertIn('"butteraugli":"libjxl ', libs)
        # Reports: CSV columns, CompressAI keys, plots and the table of the page.
        out = self.db("rep_values")
        run(["report", "--db", path, "--latest", "--out", out])
        csv = read(os.path.join(out, "points_data.csv")).decode().splitlines()
        self.assertTrue(csv[0].endswith(",decode_ms," + ",".join(EXTRA)), csv[0])
        json_text = read(os.path.join(out, "compressai_quantize_data.json")).decode()
        for key in ["psnr-y", "psnr-cb", "psnr-cr", "psnr-ycbcr", "ciede2000"]:
            self.assertIn('"%s"' % key, json_text)
        # Butteraugli is NULL for the tiny image, so its mean is over the others: present.
        self.assertIn('"butteraugli-3norm"', json_text)
        html = read(os.path.join(out, "report.html")).decode()
        for title in ["Rate\u2013PSNR-Y:", "Rate\u2013PSNR-YCbCr:", "Rate\u2013CIEDE2000:",
                      "Rate\u2013Butteraugli:", "Rate\u2013Butteraugli 3-norm:"]:
            self.assertIn(title, html)
        self.assertIn("butteraugli_<wbr/>3norm</th>", html)

    def test_selection(self):
        path = self.db("default.db")
        run(["run", "--db", path] + self.adhoc)
        self.assertEqual(rows(path, "SELECT count(*) AS n FROM results WHERE coalesce(%s) IS NOT "
                                    "NULL" % ", ".join(EXTRA))[0]["n"], 0)
        self.assertEqual(rows(path, "SELECT count(*) AS n FROM aggregates WHERE coalesce(%s) IS "
                                    "NOT NULL" % ", ".join("mean_" + k for k in EXTRA))[0]["n"], 0)
        self.assertNotIn("butteraugli", rows(path, "SELECT library_versions FROM runs")[0][
            "library_versions"])
        out = self.db("rep_default")
        run(["report", "--db", path, "--latest", "--out", out])
        header = read(os.path.join(out, "points_data.csv")).decode().splitlines()[0]
        self.assertEqual(header, "codec,codec_name,point_kind,point_value,n,n_errors,"
                                 "n_unreachable,mean_knob,bpp,stream_bpp,psnr,psnr_of_mean_mse,"
                                 "ssim,ms_ssim,encode_ms,decode_ms")
        html = read(os.path.join(out, "report.html")).decode()
        self.assertNotIn("PSNR-Y", html)
        self.assertNotIn("Butteraugli", html)

        path = self.db("psnr_y.db")
        run(["run", "--db", path, "--metrics", "psnr,psnr_y"] + self.adhoc)
        r = rows(path, "SELECT count(psnr_y) AS y, count(psnr_cb) AS cb, count(psnr_ycbcr) AS c, "
                       "count(ciede2000) AS de, count(butteraugli_max) AS ba, count(ssim) AS s "
                       "FROM results")[0]
        self.assertEqual(r, {"y": 6, "cb": 0, "c": 0, "de": 0, "ba": 0, "s": 0})
        # A suite's `metrics:` key, and its plan differs from the default selection's.
        suite = self.db("suite.yaml")
        with open(suite, "w") as f:
            f.write("name: m\ndatasets: [{name: data, path: data}]\n"
                    "codecs: [{codec: quantize, knob: [4]}]\nplugins: [%s]\n"
                    "metrics: [psnr, ciede2000, butteraugli]\n" % PLUGIN)
        path = self.db("suite.db")
        run(["run", suite, "--db", path, "--data", self.tmp, "--quiet"])
        r = rows(path, "SELECT count(ciede2000) AS de, count(butteraugli_3norm) AS ba, "
                       "count(psnr_y) AS y FROM results")[0]
        self.assertEqual(r, {"de": 3, "ba": 2, "y": 0})
        p = run(["run", "--db", self.db("bad.db"), "--metrics", "psnr,ciede"] + self.adhoc,
                check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--metrics: unknown metric 'ciede' (known: psnr, ssim, ms_ssim, psnr_y, "
                      "psnr_ycbcr, ciede2000, butteraugli)", p.stderr)

    def test_merge(self):
        whole, shards = self.db("whole.db"), [self.db("s0.db"), self.db("s1.db")]
        run(["run", "--db", whole, "--metrics", ALL] + self.adhoc)
        for i, s in enumerate(shards):
            run(["run", "--db", s, "--metrics", ALL, "--shard", "%d/2" % i] + self.adhoc)
        merged = self.db("merged.db")
        run(["merge", merged] + shards)
        key = "image_name, point_kind, point_value"
        cols = ", ".join(EXTRA)
        want = [r for s in shards for r in rows(s, "SELECT %s, %s FROM result_rows" % (key, cols))]
        got = rows(merged, "SELECT %s, %s FROM result_rows ORDER BY %s" % (key, cols, key))
        want.sort(key=lambda r: (r["image_name"], r["point_kind"], r["point_value"]))
        self.assertEqual(got, want)
        self.assertTrue(all(r["psnr_ycbcr"] is not None for r in got))
        agg = "SELECT point_value, %s FROM point_summary ORDER BY point_value" % ", ".join(
            "mean_" + k for k in EXTRA)
        self.assertEqual(rows(merged, agg), rows(whole, agg))  # bit-identical means

        # Shards of a default-metrics plan, one of them in a version-2 file (no such columns:
        # dropped, NULL as they were, so its stored checksum still holds).
        plain = [self.db("p0.db"), self.db("p1.db")]
        for i, s in enumerate(plain):
            run(["run", "--db", s, "--shard", "%d/2" % i] + self.adhoc)
        con = sqlite3.connect(plain[1])
        con.execute("DROP VIEW result_rows")
        con.execute("DROP VIEW point_summary")
        for k in EXTRA:
            con.execute("ALTER TABLE results DROP COLUMN %s" % k)
            con.execute("ALTER TABLE aggregates DROP COLUMN mean_%s" % k)
        con.execute("PRAGMA user_version = 2")
        con.commit()
        con.close()
        merged = self.db("merged_plain.db")
        run(["merge", merged] + plain)
        self.assertEqual(rows(merged, "SELECT count(*) AS n, count(psnr_y) AS y FROM results")[0],
                         {"n": 6, "y": 0})

    def test_old_store(self):
        path = self.db("v2.db")
        with open(V2_SQL) as f:
            sql = f.read()
        con = sqlite3.connect(path)
        con.executescript(sql)
        con.commit()
        con.close()
        self.assertEqual(rows(path, "PRAGMA user_version")[0]["user_version"], 2)
        old = rows(path, "SELECT run_id, sha256, n_rows FROM run_checksums")[0]
        self.assertEqual(run_checksum(path, old["run_id"]), (old["sha256"], old["n_rows"]))
        # Reported read-only, the file untouched.
        before = read(path)
        rep1 = self.db("rep_v2_before")
        run(["report", "--db", path, "--run", str(old["run_id"]), "--out", rep1])
        self.assertEqual(read(path), before)
        # The next run upgrades it.
        columns_v2 = "image_id, point_id, knob, bytes, stream_bytes, bpp, stream_bpp, mse, psnr, " \
                     "ssim, ms_ssim, encode_ms, decode_ms, n_encodes, target_unreachable, error"
        rows_before = rows(path, "SELECT %s FROM results ORDER BY image_id, point_id" % columns_v2)
        run(["run", "--db", path, "--metrics", "psnr,psnr_ycbcr,ciede2000"] + self.adhoc)
        self.assertEqual(rows(path, "PRAGMA user_version")[0]["user_version"], 3)
        self.assertEqual(rows(path, "SELECT %s FROM results WHERE point_id IN (SELECT p.id FROM "
                                    "points p JOIN codecs c ON c.id = p.codec_id WHERE "
                                    "c.run_id = ?) ORDER BY image_id, point_id" % columns_v2,
                              (old["run_id"],)), rows_before)
        self.assertEqual(run_checksum(path, old["run_id"]), (old["sha256"], old["n_rows"]))
        new_run = rows(path, "SELECT max(id) AS id FROM runs")[0]["id"]
        self.assertEqual(rows(path, "SELECT count(psnr_ycbcr) AS n FROM result_rows WHERE "
                                    "run_id = ?", (new_run,))[0]["n"], 6)
        # The old run reports as before; the new one with the new columns.
        rep2 = self.db("rep_v2_after")
        run(["report", "--db", path, "--run", str(old["run_id"]), "--out", rep2])
        names = sorted(os.listdir(rep1))
        self.assertEqual(sorted(os.listdir(rep2)), names)
        for name in names:
            self.assertEqual(read(os.path.join(rep1, name)), read(os.path.join(rep2, name)), name)
        rep3 = self.db("rep_v2_new")
        run(["report", "--db", path, "--run", str(new_run), "--out", rep3])
        self.assertIn(",psnr_y,psnr_cb,psnr_cr,psnr_ycbcr,ciede2000\r\n",
                      read(os.path.join(rep3, "points_data.csv")).decode())

    def test_same_run_again(self):
        """The run of the version-2 fixture, made again by this saicbench: same stored values
        (timings aside), same plan hash when the data is at the fixture's path."""
        cifar = os.path.join(SHARED or "", "cifar10")
        ckpt = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tasks",
                            "models", "classifier_resnet20.ckpt")
        if not SHARED or not os.path.isdir(cifar):
            self.skipTest("no shared CIFAR-10 at %s" % cifar)
        old = self.db("fixture.db")
        con = sqlite3.connect(old)
        with open(V2_SQL) as f:
            con.executescript(f.read())
        con.commit()
        con.close()
        fixture = rows(old, "SELECT suite_hash, command FROM runs")[0]
        path = self.db("again.db")
        run(["run", "--db", path, "--data", os.path.realpath(cifar), "--split", "test", "--limit",
             "3", "--codec", "jpeg:quality=30,70", "--codec", "webp:bpp=1.0", "--task",
             os.path.realpath(ckpt), "--timing-repeats", "2", "--strip-images", "1", "--threads",
             "1", "--quiet"])
        q = ("SELECT codec, point_kind, point_value, image_name, knob, bytes, stream_bytes, bpp, "
             "stream_bpp, mse, psnr, ssim, ms_ssim, n_encodes, target_unreachable, error "
             "FROM result_rows ORDER BY codec, point_kind, point_value, image_idx")
        self.assertEqual(rows(path, q), rows(old, q))
        qa = ("SELECT codec, point_kind, point_value, n, mean_bpp, mean_psnr, psnr_of_mean_mse, "
              "mean_ssim FROM point_summary ORDER BY codec, point_kind, point_value")
        self.assertEqual(rows(path, qa), rows(old, qa))
        same_place = ("--data %s " % os.path.realpath(cifar)) in fixture["command"] and \
            ("--task %s " % os.path.realpath(ckpt)) in fixture["command"]
        if same_place:
            self.assertEqual(rows(path, "SELECT suite_hash FROM runs")[0]["suite_hash"],
                             fixture["suite_hash"])
        else:
            print("note: the data or checkpoint is not where the fixture was made; plan hash "
                  "not compared", file=sys.stderr)


if __name__ == "__main__":
    SAICBENCH, PLUGIN, CLI, V2_SQL = (os.path.abspath(a) for a in sys.argv[1:5])
    SHARED = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
    unittest.main(argv=[sys.argv[0], "-v"])
