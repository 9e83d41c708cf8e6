"""End-to-end tests of the saicbench program: runs, resume after Ctrl-C and kill -9, thread-count
identity, plugins, reports and refusals of bad input.

Usage: python3 test_cli.py SAICBENCH PLUGIN_SO [SHARED_DATASETS]
Runs with Debian's python3 (numpy, PIL); writes only into a temporary folder.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np
from PIL import Image

SAICBENCH = PLUGIN = SHARED = None
# Columns that depend on the machine's speed; everything else must match exactly.
TIMING = {"encode_ms", "decode_ms", "mean_encode_ms", "mean_decode_ms"}


def run(args, env=None, check=True, timeout=600):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def make_dataset(root):
    """Two classes of small smooth images plus edge cases: grey, RGBA, corrupt, a larger one."""
    rng = np.random.default_rng(7)
    for ci, cls in enumerate(["cats", "dogs"]):
        os.makedirs(os.path.join(root, cls))
        for i in range(10):
            h, w = (32, 32) if i % 3 else (24, 40)
            y, x = np.mgrid[0:h, 0:w]
            img = np.stack([(x * 7 + ci * 60) % 256, (y * 5 + i * 20) % 256,
                            ((x + y) * 3) % 256], axis=2).astype(np.float64)
            img += rng.normal(0, 12, img.shape)
            img = np.clip(img, 0, 255).astype(np.uint8)
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(img).save(os.path.join(root, cls, "%02d.%s" % (i, ext)),
                                      quality=95)
    y, x = np.mgrid[0:180, 0:200]
    big = np.stack([x % 256, y % 256, (x * y // 50) % 256], axis=2).astype(np.uint8)
    Image.fromarray(big).save(os.path.join(root, "dogs", "big.png"))
    grey = (np.mgrid[0:32, 0:32][1] * 8).astype(np.uint8)
    Image.fromarray(grey, mode="L").save(os.path.join(root, "cats", "grey.png"))
    rgba = np.zeros((16, 16, 4), np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(os.path.join(root, "cats", "zz_alpha.png"))
    with open(os.path.join(root, "dogs", "zz_corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


SUITE = """\
name: cli-test
description: saicbench end-to-end test suite
max_encodes: 10
datasets:
  - name: pets
    path: pets
  - name: pets-odd
    path: pets
    offset: 1
    stride: 2
    limit: 5
codecs:
  - codec: jpeg
    knob: [20, 80]
    bpp: [1.5, 3]
  - codec: webp
    settings: {method: 2}
    knob: [30]
    bpp: [1, 2]
  - codec: jpeg2000
    bpp: [0.5, 2]
"""


def rows(db, table, order):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    out = []
    for r in con.execute("SELECT * FROM %s ORDER BY %s" % (table, order)):
        out.append({k: r[k] for k in r.keys() if k not in TIMING})
    con.close()
    return out


def results_view(db):
    """Results keyed by names (not ids), timing columns dropped."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    q = """SELECT d.name AS dataset, i.name AS image, c.label AS codec, p.kind, p.value,
                  r.knob, r.bytes, r.stream_bytes, r.bpp, r.stream_bpp, r.mse, r.psnr, r.ssim,
                  r.ms_ssim, r.n_encodes, r.target_unreachable, r.error
           FROM results r JOIN images i ON i.id = r.image_id JOIN datasets d ON d.id = i.dataset_id
           JOIN points p ON p.id = r.point_id JOIN codecs c ON c.id = p.codec_id
           WHERE c.run_id = (SELECT max(id) FROM runs)
           ORDER BY d.name, i.idx, c.label, p.kind, p.value"""
    out = [tuple(r) for r in con.execute(q)]
    q = """SELECT d.name, c.label, p.kind, p.value, a.n, a.n_errors, a.n_unreachable,
                  a.mean_knob, a.mean_bpp, a.mean_stream_bpp, a.mean_psnr, a.psnr_of_mean_mse,
                  a.mean_ssim, a.mean_ms_ssim
           FROM aggregates a JOIN datasets d ON d.id = a.dataset_id
           JOIN points p ON p.id = a.point_id JOIN codecs c ON c.id = p.codec_id
           WHERE c.run_id = (SELECT max(id) FROM runs)
           ORDER BY d.name, c.label, p.kind, p.value"""
    agg = [tuple(r) for r in con.execute(q)]
    status = con.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.close()
    return out, agg, status


def count_results(db):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        n = con.execute("SELECT count(*) FROM results").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_cli_")
        cls.data = os.path.join(cls.tmp, "data")
        make_dataset(os.path.join(cls.data, "pets"))
        cls.suite = os.path.join(cls.tmp, "suite.yaml")
        with open(cls.suite, "w") as f:
            f.write(SUITE)
        # The reference: an uninterrupted run on 2 threads.
        cls.ref_db = os.path.join(cls.tmp, "ref.db")
        run(["run", cls.suite, "--data", cls.data, "--db", cls.ref_db, "--threads", "2", "--quiet"])
        cls.ref = results_view(cls.ref_db)
        # 24 images in "pets" (2 unusable), 5 in "pets-odd"; 9 grid points.
        cls.n_units = (24 + 5) * 9

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def db(self, name):
        return os.path.join(self.tmp, name)

    def test_reference_run_contents(self):
        res, agg, status = self.ref
        self.assertEqual(status, "complete")
        self.assertEqual(len(res), self.n_units)
        by_image = {}
        for r in res:
            by_image.setdefault(r[1], []).append(r)
        # Unusable images are recorded as errors for every point, with a clear message.
        for r in by_image["cats/zz_alpha.png"]:
            self.assertIn("alpha", r[-1])
        for r in by_image["dogs/zz_corrupt.png"]:
            self.assertIn("zz_corrupt.png", r[-1])
        good = [r for r in res if r[-1] is None]
        self.assertEqual(len(good), len(res) - 2 * 9)
        con = sqlite3.connect(self.ref_db)
        sizes = {n: (w, h) for n, w, h in con.execute("SELECT name, width, height FROM images")}
        con.close()
        self.assertEqual(sizes["dogs/big.png"], (200, 180))
        self.assertEqual(sizes["cats/grey.png"], (32, 32))
        for (ds, image, codec, kind, value, knob, nbytes, sbytes, bpp, sbpp, mse, psnr, ssim,
             msssim, nenc, unreach, error) in good:
            w, h = sizes[image]
            # bpp is file bytes over pixels, the achieved value, never the target.
            self.assertAlmostEqual(bpp, 8.0 * nbytes / (w * h), places=9)
            self.assertAlmostEqual(sbpp, 8.0 * sbytes / (w * h), places=9)
            self.assertLessEqual(sbytes, nbytes)
            self.assertAlmostEqual(psnr, 100.0 if mse == 0 else min(100.0, 10 * np.log10(255.0 ** 2 / mse)), places=6)
            self.assertTrue(-1 <= ssim <= 1 + 1e-9, ssim)
            if min(w, h) < 161:
                self.assertIsNone(msssim)
            else:
                self.assertIsNotNone(msssim)
            if kind == "bpp":
                if unreach:
                    self.assertGreater(bpp, value)
                else:
                    self.assertLessEqual(bpp, value + 1e-12)
                self.assertGreaterEqual(nenc, 1)
                self.assertLessEqual(nenc, 10)
            else:
                self.assertEqual(knob, value)
        # Aggregates: n + errors = images; mean bpp recomputed here.
        for a in agg:
            ds, codec, kind, value, n, nerr = a[:6]
            self.assertEqual(n + nerr, 24 if ds == "pets" else 5)
            sel = [r[8] for r in good if r[0] == ds and r[2] == codec and r[3] == kind
                   and r[4] == value]
            self.assertEqual(len(sel), n)
            self.assertAlmostEqual(a[8], sum(sel) / len(sel), places=9)

    def test_thread_count_identity(self):
        db = self.db("t1.db")
        run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "1", "--quiet"])
        res, agg, status = results_view(db)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])

    def test_kill9_after_commit_then_resume(self):
        db = self.db("k.db")
        env = dict(os.environ, SAICBENCH_TEST_KILL_AFTER_UNITS="60")
        p = run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "2", "--quiet"],
                env=env, check=False)
        self.assertEqual(p.returncode, -signal.SIGKILL)
        n = count_results(db)
        self.assertGreaterEqual(n, 60)
        self.assertLess(n, self.n_units)
        p = run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "2", "--resume"])
        self.assertIn("resumed", p.stderr)
        res, agg, status = results_view(db)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT count(*) FROM runs").fetchone()[0], 1)
        con.close()

    def _interrupt_then_resume(self, sig, db, expect_rc):
        p = subprocess.Popen([SAICBENCH, "run", self.suite, "--data", self.data, "--db", db,
                              "--threads", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while count_results(db) < 20 and time.time() < deadline and p.poll() is None:
            time.sleep(0.005)
        if p.poll() is not None:
            self.skipTest("the run finished before it could be interrupted")
        p.send_signal(sig)
        out, errtext = p.communicate(timeout=60)
        self.assertEqual(p.returncode, expect_rc, errtext)
        n = count_results(db)
        self.assertGreater(n, 0)
        if sig == signal.SIGINT:
            self.assertIn("--resume", errtext)
            res, agg, status = results_view(db)
            self.assertEqual(status, "interrupted")
        run(["run", self.suite, "--data", self.data, "--db", db, "--resume", "--quiet"])
        res, agg, status = results_view(db)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])

    def test_ctrl_c_then_resume(self):
        self._interrupt_then_resume(signal.SIGINT, self.db("int.db"), 130)

    def test_external_kill9_then_resume(self):
        self._interrupt_then_resume(signal.SIGKILL, self.db("ext.db"), -signal.SIGKILL)

    def test_three_shards_merge_equals_single_run(self):
        shards = []
        for i in range(3):
            db = self.db("shard%d.db" % i)
            run(["run", self.suite, "--data", self.data, "--db", db, "--shard", "%d/3" % i,
                 "--quiet"])
            con = sqlite3.connect(db)
            n, shard = con.execute("SELECT (SELECT count(*) FROM results), shard FROM runs"
                                   ).fetchone()
            con.close()
            self.assertEqual(shard, "%d/3" % i)
            self.assertGreater(n, self.n_units // 3 - 2 * 9)
            self.assertLess(n, self.n_units)
            shards.append(db)
        out = self.db("merged.db")
        p = run(["merge", out] + shards)
        self.assertEqual(int(p.stdout.strip()), 1)
        res, agg, status = results_view(out)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])
        con = sqlite3.connect(out)
        sizes = con.execute("SELECT count(*), sum(width IS NOT NULL), sum(error IS NOT NULL) "
                            "FROM images").fetchone()
        con.close()
        self.assertEqual(sizes, (29, 27, 2))
        # Refusals: a missing shard, a shard given twice, a shard of another plan.
        p = run(["merge", self.db("m2.db"), shards[0], shards[2]], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("shards missing: 1/3", p.stderr)
        p = run(["merge", self.db("m3.db"), shards[0], shards[1], shards[1]], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("both shard 1/3", p.stderr)
        other = self.db("other_shard.db")
        run(["run", self.suite, "--data", self.data, "--db", other, "--shard", "1/3",
             "--limit", "3", "--quiet"])
        p = run(["merge", self.db("m4.db"), shards[0], other, shards[2]], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("another plan", p.stderr)
        p = run(["merge", self.db("m5.db"), self.ref_db], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a shard", p.stderr)

    def test_shard_from_scheduler_environment(self):
        env = dict(os.environ, SLURM_ARRAY_TASK_ID="5", SLURM_ARRAY_TASK_MIN="4",
                   SLURM_ARRAY_TASK_COUNT="2")
        db = self.db("slurm.db")
        p = run(["run", self.suite, "--data", self.data, "--db", db, "--limit", "2"], env=env)
        self.assertIn("shard 1/2 from Slurm", p.stderr)
        env = dict(os.environ, JOB_COMPLETION_INDEX="0")
        env.pop("SLURM_ARRAY_TASK_ID", None)
        p = run(["run", self.suite, "--data", self.data, "--db", self.db("k8s.db"), "--limit",
                 "2"], env=env, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("SAICBENCH_SHARD_COUNT", p.stderr)
        env["SAICBENCH_SHARD_COUNT"] = "2"
        p = run(["run", self.suite, "--data", self.data, "--db", self.db("k8s.db"), "--limit",
                 "2"], env=env)
        self.assertIn("shard 0/2 from Kubernetes", p.stderr)
        con = sqlite3.connect(self.db("k8s.db"))
        self.assertEqual(con.execute("SELECT shard FROM runs").fetchone()[0], "0/2")
        con.close()
        p = run(["run", self.suite, "--data", self.data, "--shard", "3/3"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--shard", p.stderr)

    def test_compare_and_history(self):
        # Identical runs: no change at any point.
        db = self.db("cmp_same.db")
        run(["run", self.suite, "--data", self.data, "--db", db, "--threads", "1", "--quiet"])
        p = run(["compare", self.ref_db, db, "--json", self.db("cmp.json")])
        self.assertIn("0 regressions (0 missing), 0 improvements", p.stdout)
        with open(self.db("cmp.json")) as f:
            j = json.load(f)
        self.assertEqual(j["regressions"], 0)
        self.assertEqual(len(j["points"]), 2 * 9)
        self.assertTrue(all(pt["verdict"] == "same" for pt in j["points"]))
        # Optimized Huffman tables -> fewer bytes at the same quality: an improvement; the
        # reverse is a regression (exit status 1). A dropped codec is missing: a regression.
        hist = self.db("hist.db")
        base = "name: h\ndatasets: [{path: pets, limit: 4}]\ncodecs:\n"
        for i, (opt, extra) in enumerate([("false", True), ("true", True), ("false", False)]):
            suite = self.db("h%d.yaml" % i)
            with open(suite, "w") as f:
                f.write(base + "  - {codec: jpeg, settings: {optimize: %s}, knob: [30, 70]}\n"
                        % opt)
                if extra:
                    f.write("  - {codec: webp, knob: [50]}\n")
            run(["run", suite, "--data", self.data, "--db", hist, "--quiet"])
        p = run(["compare", "--db", hist, "1", "2"])
        self.assertIn("0 regressions (0 missing), 2 improvements", p.stdout)
        p = run(["compare", hist + ":2", hist + ":3"], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("3 regressions (1 missing)", p.stdout)
        self.assertIn("REGRESSION", p.stdout)
        p = run(["history", "--db", hist, "--suite", "h"], check=False)
        self.assertEqual(p.returncode, 1)
        lines = p.stdout.strip().splitlines()
        self.assertEqual(len(lines), 4)
        self.assertIn("(first complete run)", lines[1])
        self.assertIn("0 regressions, 2 improvements", lines[2])
        self.assertIn("3 regressions", lines[3])
        p = run(["compare", "--db", hist, "1", "99"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("99", p.stderr)
        self._compare_opt_in_metrics()
        if SHARED:
            self._compare_task_metrics()

    def _compare_opt_in_metrics(self):
        # The opt-in metrics take part where both runs computed them: identical runs compare
        # equal (and the JSON carries them); a Butteraugli 1 % higher in the candidate is a
        # regression, a PSNR-Y 0.5 dB higher an improvement; --distance-tol widens the bound.
        db = self.db("cmp_extra.db")
        spec = ["--data", os.path.join(self.data, "pets"), "--codec", "jpeg:quality=30,70",
                "--metrics", "psnr,psnr_y,butteraugli", "--db", db, "--quiet", "--limit", "3"]
        run(["run"] + spec)
        run(["run"] + spec)
        out = self.db("cmp_extra.json")
        p = run(["compare", "--db", db, "1", "2", "--json", out])
        self.assertIn("0 regressions (0 missing), 0 improvements", p.stdout)
        with open(out) as f:
            j = json.load(f)
        for pt in j["points"]:
            self.assertGreater(pt["a"]["psnr_y"], 0)
            self.assertGreater(pt["b"]["butteraugli_max"], 0)
            self.assertNotIn("ciede2000", pt["a"])  # not computed: left out
        con = sqlite3.connect(db)
        point = ("(SELECT p.id FROM points p JOIN codecs c ON c.id = p.codec_id "
                 "WHERE c.run_id = 2 AND p.value = %d)")
        con.execute("UPDATE aggregates SET mean_butteraugli_max = mean_butteraugli_max * 1.01 "
                    "WHERE point_id = " + point % 30)
        con.execute("UPDATE aggregates SET mean_psnr_y = mean_psnr_y + 0.5 "
                    "WHERE point_id = " + point % 70)
        con.commit()
        con.close()
        p = run(["compare", "--db", db, "1", "2"], check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("1 regressions (0 missing), 1 improvements", p.stdout)
        p = run(["compare", "--db", db, "1", "2", "--distance-tol", "0.02"])
        self.assertIn("0 regressions (0 missing), 1 improvements", p.stdout)

    def _compare_task_metrics(self):
        # Task metrics: 30 real CIFAR-10 test images (3 per class) scored by the shipped
        # classifier. The codecs and the network are deterministic, so identical runs compare
        # exactly equal; changes are then made to the stored aggregates directly.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        ckpt = os.path.join(root, "tasks", "models", "classifier_resnet20.ckpt")
        mini = self.db("cifar_mini")
        src_root = os.path.join(SHARED, "cifar10", "test")
        for c in sorted(os.listdir(src_root)):
            os.makedirs(os.path.join(mini, c))
            for name in sorted(os.listdir(os.path.join(src_root, c)))[:3]:
                shutil.copy(os.path.join(src_root, c, name), os.path.join(mini, c, name))
        db = self.db("tasks_cmp.db")
        spec = ["--data", mini, "--codec", "jpeg:quality=10,50,90", "--db", db, "--quiet"]
        for _ in range(2):
            run(["run"] + spec + ["--task", "clf=" + ckpt])
        out = self.db("tasks_cmp.json")
        p = run(["compare", "--db", db, "1", "2", "--json", out])
        self.assertIn("3 task rows compared: 0 regressions (0 missing), 0 improvements", p.stdout)
        self.assertIn("verdict: no regression (exit status 0)", p.stdout)
        with open(out) as f:
            j = json.load(f)
        self.assertEqual((j["task_regressions"], j["regression"], j["exit_status"]), (0, False, 0))
        self.assertEqual(len(j["task_points"]), 3)
        for t in j["task_points"]:
            self.assertEqual((t["task"], t["codec"], t["verdict"]), ("clf", "jpeg", "same"))
            self.assertEqual(t["delta"], {"accuracy": 0, "agreement": 0, "si_norm": 0,
                                          "mean_kl": 0})
            self.assertEqual((t["a"]["n"], t["a"]["n_labelled"]), (30, 30))
            self.assertIsNotNone(t["b"]["mean_kl"])
            # Bound: 2 binomial SE of the difference, at least one image.
            pa = t["a"]["accuracy"]
            se = (2 * pa * (1 - pa) / 30) ** 0.5
            self.assertAlmostEqual(t["bound"]["accuracy"], max(2 * se, 1 / 30), places=12)
            self.assertEqual(t["bound"]["si_norm"], t["bound"]["agreement"])
            # Both runs in one database on the same images: the paired bootstrap interval of
            # identical per-image results is exactly [0, 0].
            self.assertEqual(t["ci95"], {"n": 30, "accuracy": [0, 0], "si_norm": [0, 0]})
        # In run 2: accuracy 0.4 lower at quality 90 (beyond 2 SE: a regression), one image
        # lower at quality 50 (the floor: not flagged), agreement 0.4 higher at quality 10 (an
        # improvement); SI_norm lower by 0.01 at 90 (within its bound).
        con = sqlite3.connect(db)
        point = ("(SELECT p.id FROM points p JOIN codecs c ON c.id = p.codec_id "
                 "WHERE c.run_id = 2 AND p.value = %d)")
        con.execute("UPDATE task_aggregates SET accuracy = accuracy - 0.4, "
                    "si_norm = si_norm - 0.01 WHERE point_id = " + point % 90)
        con.execute("UPDATE task_aggregates SET accuracy = accuracy - 1.0 / 30 "
                    "WHERE point_id = " + point % 50)
        con.execute("UPDATE task_aggregates SET agreement = agreement + 0.4 "
                    "WHERE point_id = " + point % 10)
        con.commit()
        con.close()
        p = run(["compare", "--db", db, "1", "2", "--json", out], check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("0 regressions (0 missing)", p.stdout)  # rate/PSNR points unchanged
        self.assertIn("3 task rows compared: 1 regressions (0 missing), 1 improvements", p.stdout)
        self.assertIn("REGRESSION (accuracy)", p.stdout)
        # The edit touched the aggregates only: the per-image rows, and so the paired
        # interval, say nothing changed.
        self.assertIn("paired 95% CI of the change: accuracy [+0.0000, +0.0000]", p.stdout)
        self.assertIn("improved (agreement)", p.stdout)
        self.assertIn("verdict: REGRESSION (exit status 1)", p.stdout)
        with open(out) as f:
            j = json.load(f)
        self.assertEqual((j["task_regressions"], j["task_improvements"], j["exit_status"]),
                         (1, 1, 1))
        by_q = {t["value"]: t for t in j["task_points"]}
        self.assertEqual((by_q[90]["verdict"], by_q[90]["regressed"]), ("REGRESSION", ["accuracy"]))
        self.assertAlmostEqual(by_q[90]["delta"]["accuracy"], -0.4, places=12)
        self.assertAlmostEqual(by_q[90]["delta"]["si_norm"], -0.01, places=12)
        self.assertEqual(by_q[50]["verdict"], "same")
        self.assertAlmostEqual(by_q[50]["delta"]["accuracy"], -1 / 30, places=12)
        self.assertEqual((by_q[10]["verdict"], by_q[10]["improved"]), ("improved", ["agreement"]))
        # A run without the task: its task rows are missing, a regression. --task-se widens the
        # bound (nothing flagged at 10 SE except the missing rows).
        run(["run"] + spec)
        p = run(["compare", "--db", db, "1", "3"], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("3 task rows compared: 3 regressions (3 missing)", p.stdout)
        p = run(["compare", "--db", db, "1", "2", "--task-se", "10"], check=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        p = run(["history", "--db", db, "--suite", "adhoc"], check=False)
        self.assertEqual(p.returncode, 1)
        lines = p.stdout.strip().splitlines()
        self.assertEqual(len(lines), 4)
        self.assertIn("0 regressions, 0 improvements, 1 task regressions, 1 task improvements",
                      lines[2])
        self.assertIn("3 task regressions", lines[3])

    def run_into_size_limit(self, name, sigxfsz):
        """Runs the suite under a file-size limit (RLIMIT_FSIZE: writes past it fail like a full
        disk, EFBIG) that lets the plan and some results in and stops the rest. The bytes a run
        writes before its first result grow with the schema (an empty database made from
        results/schema.sql) and depend on WAL framing, so the limit is searched upward from the
        schema's size in 8 KiB steps. Returns the failed run and its database path."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        con = sqlite3.connect(":memory:")
        with open(os.path.join(root, "results", "schema.sql")) as f:
            con.executescript(f.read())
        schema_bytes = (con.execute("PRAGMA page_count").fetchone()[0] *
                        con.execute("PRAGMA page_size").fetchone()[0])
        con.close()
        import resource
        for extra in range(8192, 40 * 8192, 8192):
            limit = schema_bytes + extra

            def limit_file_size():
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
                signal.signal(signal.SIGXFSZ, sigxfsz)

            db = self.db("%s-%d.db" % (name, extra))
            p = subprocess.run([SAICBENCH, "run", self.suite, "--data", self.data, "--db", db,
                                "--quiet"], capture_output=True, text=True,
                               preexec_fn=limit_file_size, timeout=300)
            self.assertNotEqual(p.returncode, 0, "the whole run fit under %d bytes" % limit)
            if p.returncode == 2 and os.path.exists(db) and count_results(db) > 0:
                return p, db
        self.fail("no file-size limit left some results stored: " + p.stderr)

    def test_full_disk_keeps_stored_results_then_resumes(self):
        p, db = self.run_into_size_limit("full", signal.SIG_IGN)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn(os.path.basename(db), p.stderr)
        self.assertIn("disk full", p.stderr)
        self.assertIn("--resume", p.stderr)
        run(["run", self.suite, "--data", self.data, "--db", db, "--resume", "--quiet"])
        res, agg, status = results_view(db)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])

    def test_file_size_limit_without_ignoring_sigxfsz(self):
        # `ulimit -f` as a shell sets it: SIGXFSZ left at its default (which kills). saicbench
        # ignores it itself, so the write fails with EFBIG and the full-disk message follows.
        p, db = self.run_into_size_limit("ulimit", signal.SIG_DFL)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn(os.path.basename(db), p.stderr)
        self.assertIn("file size limit", p.stderr)
        self.assertIn("--resume", p.stderr)
        run(["run", self.suite, "--data", self.data, "--db", db, "--resume", "--quiet"])
        res, agg, status = results_view(db)
        self.assertEqual(status, "complete")
        self.assertEqual(res, self.ref[0])
        self.assertEqual(agg, self.ref[1])

    def test_resume_of_complete_run_starts_new(self):
        db = self.db("again.db")
        run(["run", self.suite, "--data", self.data, "--db", db, "--quiet", "--limit", "2"])
        p = run(["run", self.suite, "--data", self.data, "--db", db, "--resume", "--limit", "2"])
        self.assertIn("nothing to resume", p.stderr)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT count(*) FROM runs").fetchone()[0], 2)
        con.close()

    def test_metrics_selection(self):
        """--metrics psnr: the same PSNR as a default run, SSIM and MS-SSIM stored as NULL, and
        the report leaves their plots out; an unknown metric is refused."""
        db = self.db("metrics.db")
        base = ["run", "--data", os.path.join(self.data, "pets"), "--db", db, "--quiet",
                "--codec", "jpeg:quality=30,70", "--limit", "6"]
        run(base)
        run(base + ["--metrics", "psnr"])
        con = sqlite3.connect(db)
        q = ("SELECT i.idx, p.value, x.bytes, x.psnr, x.ssim, x.ms_ssim FROM results x"
             " JOIN images i ON i.id = x.image_id JOIN points p ON p.id = x.point_id"
             " JOIN codecs c ON c.id = p.codec_id WHERE c.run_id = ? AND x.error IS NULL"
             " ORDER BY i.idx, p.value")
        full, psnr_only = con.execute(q, (1,)).fetchall(), con.execute(q, (2,)).fetchall()
        con.close()
        self.assertTrue(full and len(full) == len(psnr_only))
        self.assertTrue(all(r[4] is not None for r in full))
        self.assertEqual([r[:4] for r in full], [r[:4] for r in psnr_only])
        self.assertTrue(all(r[4] is None and r[5] is None for r in psnr_only))
        out = self.db("metrics_report")
        run(["report", "--db", db, "--run", "2", "--out", out])
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertNotIn("Rate\u2013SSIM", html)
        self.assertIn("No rate\u2013SSIM plot", html)
        p = run(base + ["--metrics", "psnr,vmaf"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown metric 'vmaf'", p.stderr)

    def test_adhoc_run_and_report(self):
        db = self.db("adhoc.db")
        out = self.db("adhoc_report")
        p = run(["run", "--data", os.path.join(self.data, "pets"), "--db", db, "--quiet",
                 "--codec", "jpeg:quality=10,50,90:subsampling=444",
                 "--codec", "webp:bpp=0.5,1", "--report", out])
        run_id = int(p.stdout.strip())
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT count(*) FROM results").fetchone()[0], 24 * 5)
        settings = con.execute("SELECT settings FROM codecs WHERE label='jpeg'").fetchone()[0]
        self.assertEqual(json.loads(settings), {"subsampling": "444"})
        self.assertEqual(con.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0],
                         "complete")
        con.close()
        self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            html = f.read()
        # The BD table: webp against the jpeg anchor (3 knob points: not comparable).
        self.assertIn("ntegaard deltas against jpeg", html)
        self.assertIn("not comparable: fewer than 4 points", html)
        self.assertTrue(any(f.endswith(".csv") for f in os.listdir(out)))
        self.assertTrue(any(f.endswith(".json") for f in os.listdir(out)))
        out2 = self.db("adhoc_report2")
        run(["report", "--db", db, "--latest", "--out", out2])
        self.assertTrue(os.path.exists(os.path.join(out2, "report.html")))

    def test_plugin_through_harness(self):
        p = run(["codecs", "--plugin", PLUGIN])
        names = [l.split()[0] for l in p.stdout.splitlines() if l and not l.startswith(" ")]
        plugin_names = [n for n in names
                        if n not in ("jpeg", "webp", "jpeg2000", "avif", "jxl", "saic")]
        self.assertEqual(len(plugin_names), 1, p.stdout)
        name = plugin_names[0]
        self.assertIn("plugin: ", p.stdout)
        db = self.db("plugin.db")
        kp = subprocess.run([SAICBENCH, "codecs", "--plugin", PLUGIN], capture_output=True,
                            text=True).stdout
        knob_line = [l for l in kp.splitlines() if l.strip().startswith("knob ")][-1]
        knob = knob_line.split()[1].rstrip(":")
        rng = knob_line.split(":")[1].split()[1]
        lo, hi = rng.split("..")
        run(["run", "--data", os.path.join(self.data, "pets"), "--db", db, "--quiet", "--plugin",
             PLUGIN, "--codec", "%s:%s=%s,%s" % (name, knob, lo, hi)])
        con = sqlite3.connect(db)
        got = con.execute("SELECT count(*), sum(error IS NULL), min(psnr), max(psnr) FROM results"
                          ).fetchone()
        path = con.execute("SELECT plugin_path FROM codecs").fetchone()[0]
        con.close()
        self.assertEqual(got[0], 24 * 2)
        self.assertEqual(got[1], 22 * 2)
        self.assertGreater(got[3], got[2])  # two knob values, two qualities
        self.assertEqual(path, PLUGIN)
        # A plugin listed in a suite is loaded relative to the suite file.
        shutil.copy(PLUGIN, os.path.join(self.tmp, "myplugin.so"))
        suite = os.path.join(self.tmp, "plugin_suite.yaml")
        with open(suite, "w") as f:
            f.write("name: p\nplugins: [myplugin.so]\ndatasets: [{path: pets}]\n"
                    "codecs: [{codec: %s, knob: [%s]}]\n" % (name, hi))
        run(["run", suite, "--data", self.data, "--db", self.db("plugin2.db"), "--quiet"])

    def test_bad_suite_names_file_line_column(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: bad\ndatasets: [{path: pets}]\ncodecs:\n  - codec: jpeg\n"
                    "    knob: [10, lots]\n")
        p = run(["run", bad, "--data", self.data, "--db", self.db("bad.db")], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.yaml:5:", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        with open(bad, "w") as f:
            f.write("name: bad\ndatasets: [{path: pets}]\ncodecs:\n  - codec: nosuch\n"
                    "    knob: [10]\n")
        p = run(["run", bad, "--data", self.data, "--db", self.db("bad.db")], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.yaml:4:5: unknown codec 'nosuch'", p.stderr)
        with open(bad, "w") as f:
            f.write("name: bad\ndatasets: [{path: pets}]\ncodecs:\n  - codec: jpeg\n"
                    "    knob: [0, 50]\n")
        p = run(["run", bad, "--data", self.data, "--db", self.db("bad.db")], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("outside", p.stderr)
        p = run(["run", bad + ".missing", "--data", self.data], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.yaml.missing", p.stderr)

    def test_missing_dataset_is_named(self):
        p = run(["run", self.suite, "--data", os.path.join(self.tmp, "nowhere"),
                 "--db", self.db("nodata.db")], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("nowhere", p.stderr)

    def test_db_that_is_not_a_database_is_left_alone(self):
        notes = self.db("notes.txt")
        with open(notes, "w") as f:
            f.write("precious notes\n")
        p = run(["run", self.suite, "--data", self.data, "--db", notes], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("notes.txt", p.stderr)
        with open(notes) as f:
            self.assertEqual(f.read(), "precious notes\n")

    def test_help_and_usage_errors(self):
        for sub in ["run", "report", "codecs", "merge", "compare", "history", "train"]:
            p = run([sub, "--help"])
            self.assertIn("usage: saicbench " + sub, p.stdout)
        p = run(["frobnicate"], check=False)
        self.assertEqual(p.returncode, 2)
        p = run(["run", "--threads", "zero"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--threads", p.stderr)
        p = run(["report", "--db", self.ref_db], check=False)
        self.assertEqual(p.returncode, 2)
        p = run(["report", "--db", self.ref_db, "--run", "999", "--out", self.db("r999")],
                check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("999", p.stderr)
        p = run(["codecs"])
        for name in ["jpeg", "webp", "jpeg2000"]:
            self.assertIn(name, p.stdout)

    def test_shipped_suites_on_real_data(self):
        if not SHARED:
            self.skipTest("no shared datasets folder given")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for name in ["quick.yaml", "nightly.yaml"]:
            db = self.db("real_%s.db" % name)
            run(["run", os.path.join(root, "suites", name), "--data", SHARED, "--db", db, "--limit",
                 "2", "--quiet"])
            res, agg, status = results_view(db)
            self.assertEqual(status, "complete")
            self.assertTrue(res)
            self.assertTrue(all(r[-1] is None for r in res), [r for r in res if r[-1]][:3])


if __name__ == "__main__":
    SAICBENCH, PLUGIN = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if len(sys.argv) > 3 and os.path.isdir(sys.argv[3]):
        SHARED = os.path.abspath(sys.argv[3])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[4:])
