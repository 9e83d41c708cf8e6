"""`saicbench run`: error messages (scheduler shard variables, command-line codec specs, the
data-folder hint) and --timing-repeats (medians of repeated timings; every other result
bit-identical; every repeat kept in timing_repeats, through merges and into older files).

Usage: python3 test_cli_messages.py SAICBENCH [SHARED_DATASETS]
"""
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

SAICBENCH = SHARED = None
TIMING = {"encode_ms", "decode_ms", "mean_encode_ms", "mean_decode_ms"}


def write_png(path, w, h, seed):
    """A small RGB PNG (noisy gradients), written with zlib only."""
    rnd = random.Random(seed)
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += bytes(((x * 7 + seed * 13 + rnd.randint(0, 40)) % 256,
                          (y * 5 + rnd.randint(0, 40)) % 256, ((x + y) * 3 + seed) % 256))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SAICBENCH_", "JOB_COMPLETION"))}
    env.update(extra)
    return env


def rows(db, table, order):
    """All rows of a table of the newest run's database, timing columns left out."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    out = [{k: r[k] for k in r.keys() if k not in TIMING}
           for r in con.execute("SELECT * FROM %s ORDER BY %s" % (table, order))]
    con.close()
    return out


def median(v):
    """The runner's median: the middle value, or the mean of the two middle ones."""
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def has_table(db, name):
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?",
                    (name,)).fetchone()[0]
    con.close()
    return n == 1


class CliMessagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_cli_messages_")
        cls.data = os.path.join(cls.tmp, "data")
        os.makedirs(os.path.join(cls.data, "gen"))
        for i in range(5):
            write_png(os.path.join(cls.data, "gen", "im%d.png" % i), 48 - 8 * (i % 2), 32, i)
        cls.gen = os.path.join(cls.data, "gen")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_sb(self, args, env=None, check=False):
        p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True,
                           env=env if env is not None else clean_env(), timeout=600)
        if check and p.returncode:
            raise AssertionError("saicbench %s: %d\n%s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def path(self, name):
        return os.path.join(self.tmp, name)

    # ---------------------------------------------------------------- shard variables

    def test_malformed_shard_variables_are_errors(self):
        db = self.path("shardvars.db")
        base = ["run", "--codec", "jpeg:quality=50", "--data", self.gen, "--db", db, "--quiet"]
        cases = [
            ({"SLURM_ARRAY_TASK_ID": "abc", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID='abc'"),
            ({"SLURM_ARRAY_TASK_ID": "-1", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID='-1'"),
            ({"SLURM_ARRAY_TASK_ID": "2x", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID='2x'"),
            ({"SLURM_ARRAY_TASK_ID": "", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID=''"),
            ({"SLURM_ARRAY_TASK_ID": " 1", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID=' 1'"),
            ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"},
             "SLURM_ARRAY_TASK_ID=4"),
            ({"SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_COUNT": "11"},
             "SLURM_ARRAY_TASK_ID=11"),
            ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "5",
              "SLURM_ARRAY_TASK_COUNT": "4"}, "SLURM_ARRAY_TASK_ID=3"),
            ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "zero"},
             "SLURM_ARRAY_TASK_COUNT='zero'"),
            ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "0"},
             "SLURM_ARRAY_TASK_COUNT='0'"),
            ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "x",
              "SLURM_ARRAY_TASK_COUNT": "4"}, "SLURM_ARRAY_TASK_MIN='x'"),
            ({"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT is not"),
            ({"JOB_COMPLETION_INDEX": "abc", "SAICBENCH_SHARD_COUNT": "4"},
             "JOB_COMPLETION_INDEX='abc'"),
            ({"JOB_COMPLETION_INDEX": "4", "SAICBENCH_SHARD_COUNT": "4"},
             "JOB_COMPLETION_INDEX=4"),
            ({"JOB_COMPLETION_INDEX": "1", "SAICBENCH_SHARD_COUNT": "four"},
             "SAICBENCH_SHARD_COUNT='four'"),
        ]
        for env, expect in cases:
            p = self.run_sb(base, env=clean_env(**env))
            self.assertEqual(p.returncode, 2, (env, p.stderr))
            self.assertIn(expect, p.stderr, env)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertFalse(os.path.exists(db), env)  # refused before anything was written
        # Well-formed values are taken: task 12 of an array 10..13 is shard 2 of 4.
        p = self.run_sb(base[:-1], env=clean_env(SLURM_ARRAY_TASK_ID="12",
                                                 SLURM_ARRAY_TASK_MIN="10",
                                                 SLURM_ARRAY_TASK_COUNT="4"), check=True)
        self.assertIn("shard 2/4 from Slurm", p.stderr)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT shard FROM runs").fetchone()[0], "2/4")
        con.close()
        # --shard wins over the environment, whatever it holds.
        p = self.run_sb(base + ["--db", self.path("shardvars2.db"), "--shard", "0/1"],
                        env=clean_env(SLURM_ARRAY_TASK_ID="abc", SLURM_ARRAY_TASK_COUNT="4"),
                        check=True)

    # ---------------------------------------------------------------- codec specs

    def test_codec_spec_messages(self):
        db = self.path("spec.db")
        p = self.run_sb(["run", "--codec", "jpeg:qualty=50", "--data", self.gen, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--codec jpeg:qualty=50: unknown setting 'qualty' (known: quality, bpp, "
                      "label, subsampling, optimize, progressive, jfif)", p.stderr)
        self.assertNotIn("no grid", p.stderr)
        p = self.run_sb(["run", "--codec", "webp:bpp=1:metod=6", "--data", self.gen, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown setting 'metod' (known: quality, bpp, label, method, sharp_yuv)",
                      p.stderr)
        # Known keys without a grid: that is what the message says then.
        p = self.run_sb(["run", "--codec", "jpeg:subsampling=444", "--data", self.gen, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn("no grid", p.stderr)
        # Messages about command-line specs carry no "command line:0:0:" position.
        for spec, expect in [("jpeg:quality=0,50", "codec 'jpeg': knob quality=0 outside 1..100"),
                             ("jpeg:quality=50:subsampling=411",
                              "codec 'jpeg': setting 'subsampling'")]:
            p = self.run_sb(["run", "--codec", spec, "--data", self.gen, "--db", db])
            self.assertEqual(p.returncode, 2)
            self.assertIn(expect, p.stderr)
            self.assertNotIn("command line", p.stderr)
            self.assertNotIn(":0:0:", p.stderr)
        self.assertFalse(os.path.exists(db))
        # Suite files keep FILE:LINE:COL.
        suite = self.path("bad_setting.yaml")
        with open(suite, "w") as f:
            f.write("name: bad\ndatasets: [{path: gen}]\ncodecs:\n  - codec: jpeg\n"
                    "    settings: {qualty: 50}\n    knob: [50]\n")
        p = self.run_sb(["run", suite, "--data", self.data, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad_setting.yaml:4:5: codec 'jpeg': ", p.stderr)
        self.assertIn("'qualty'", p.stderr)

    # ---------------------------------------------------------------- data hint

    def test_data_hint_only_without_data(self):
        db = self.path("hint.db")
        nowhere = self.path("nowhere")
        p = self.run_sb(["run", "--codec", "jpeg:quality=50", "--data", nowhere, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn("nowhere", p.stderr)
        self.assertNotIn("--data", p.stderr)
        suite = self.path("hint.yaml")
        with open(suite, "w") as f:
            f.write("name: hint\ndatasets: [{path: gen}]\ncodecs: [{codec: jpeg, knob: [50]}]\n")
        p = self.run_sb(["run", suite, "--data", nowhere, "--db", db])
        self.assertEqual(p.returncode, 2)
        self.assertIn(os.path.join(nowhere, "gen"), p.stderr)
        self.assertNotIn("--data", p.stderr)
        # Without --data the default folder was used: say so, and how to give another.
        home = self.path("home")
        os.makedirs(home, exist_ok=True)
        p = self.run_sb(["run", suite, "--db", db], env=clean_env(HOME=home))
        self.assertEqual(p.returncode, 2)
        self.assertIn("default data folder %s/.local/share/saicbench/datasets" % home, p.stderr)
        self.assertIn("give --data DIR or set SAICBENCH_DATA", p.stderr)
        p = self.run_sb(["run", suite, "--db", db], env=clean_env(SAICBENCH_DATA=nowhere))
        self.assertEqual(p.returncode, 2)
        self.assertIn("give --data DIR", p.stderr)
        self.assertFalse(os.path.exists(db))

    # ---------------------------------------------------------------- timing repeats

    def test_timing_repeats_change_only_timings(self):
        suite = self.path("timing.yaml")
        extra = ""
        if SHARED and os.path.isdir(os.path.join(SHARED, "kodak")):
            extra = "  - {name: kodak, path: %s, limit: 2}\n" % os.path.join(SHARED, "kodak")
        with open(suite, "w") as f:
            f.write("name: timing\nmax_encodes: 8\ndatasets:\n  - {name: gen, path: gen}\n" + extra +
                    "codecs:\n  - {codec: jpeg, knob: [20, 80], bpp: [1.5]}\n"
                    "  - {codec: webp, settings: {method: 2}, knob: [50]}\n"
                    "  - {codec: jpeg2000, bpp: [1]}\n")
        dbs = []
        for repeats in ("1", "3"):
            db = self.path("timing%s.db" % repeats)
            self.run_sb(["run", suite, "--data", self.data, "--db", db, "--threads", "2",
                         "--timing-repeats", repeats, "--quiet"], check=True)
            dbs.append(db)
        for table, order in [("results", "image_id, point_id"), ("images", "id"),
                             ("points", "id"), ("codecs", "id"), ("datasets", "id"),
                             ("aggregates", "point_id, dataset_id")]:
            a, b = rows(dbs[0], table, order), rows(dbs[1], table, order)
            self.assertTrue(a, table)
            self.assertEqual(a, b, table)
        con = sqlite3.connect(dbs[1])
        n, bad = con.execute("SELECT count(*), sum(encode_ms IS NULL OR encode_ms < 0 OR "
                             "decode_ms IS NULL OR decode_ms < 0) FROM results").fetchone()
        self.assertGreater(n, 0)
        self.assertEqual(bad, 0)
        # The repeat count is kept with the run (in its command line).
        cmd = con.execute("SELECT command FROM runs").fetchone()[0]
        self.assertIn("--timing-repeats 3", cmd)
        con.close()
        # Every repeat is kept, in timing_repeats: one row per error-free result, three values
        # each, whose median is the stored time exactly; none with one timing.
        self.check_repeats(dbs[1], 3)
        self.check_repeats(dbs[0], 1)
        for bad_value in ("0", "x", "1001"):
            p = self.run_sb(["run", suite, "--data", self.data, "--db", self.path("t0.db"),
                             "--timing-repeats", bad_value])
            self.assertEqual(p.returncode, 2)
            self.assertIn("--timing-repeats", p.stderr)
        p = self.run_sb(["run", "--help"], check=True)
        self.assertIn("--timing-repeats N", p.stdout)

    def check_repeats(self, db, repeats):
        """timing_repeats holds `repeats` timings per error-free results row (none for 1)."""
        con = sqlite3.connect(db)
        rows_ = con.execute(
            "SELECT r.image_id, r.point_id, r.error, r.encode_ms, r.decode_ms, t.encode_ms, "
            "t.decode_ms FROM results r LEFT JOIN timing_repeats t ON t.image_id = r.image_id "
            "AND t.point_id = r.point_id").fetchall()
        n_rows = con.execute("SELECT count(*) FROM timing_repeats").fetchone()[0]
        con.close()
        self.assertTrue(rows_)
        good = 0
        for image_id, point_id, error, enc_ms, dec_ms, enc_all, dec_all in rows_:
            key = (db, image_id, point_id)
            if error is not None or repeats == 1:
                self.assertIsNone(enc_all, key)
                continue
            good += 1
            self.assertIsNotNone(enc_all, key)
            enc, dec = json.loads(enc_all), json.loads(dec_all)
            self.assertEqual(len(enc), repeats, key)
            self.assertEqual(len(dec), repeats, key)
            self.assertTrue(all(isinstance(x, float) or isinstance(x, int) for x in enc + dec))
            self.assertTrue(all(x >= 0 for x in enc + dec), key)
            self.assertEqual(median(enc), enc_ms, key)  # exactly: the numbers read back exactly
            self.assertEqual(median(dec), dec_ms, key)
        self.assertEqual(n_rows, good)
        if repeats > 1:
            self.assertGreater(good, 0)

    def test_timing_repeats_survive_merge(self):
        dbs = []
        for i in range(2):
            db = self.path("rep_shard%d.db" % i)
            self.run_sb(["run", "--codec", "jpeg:quality=50", "--codec", "webp:bpp=1",
                         "--data", self.gen, "--db", db, "--shard", "%d/2" % i,
                         "--timing-repeats", "3", "--quiet"], check=True)
            dbs.append(db)
        merged = self.path("rep_merged.db")
        self.run_sb(["merge", merged] + dbs, check=True)
        self.check_repeats(merged, 3)
        q = ("SELECT i.name, c.label, p.kind, p.value, t.encode_ms, t.decode_ms "
             "FROM timing_repeats t JOIN images i ON i.id = t.image_id "
             "JOIN points p ON p.id = t.point_id JOIN codecs c ON c.id = p.codec_id")
        shard_rows = []
        for db in dbs:
            con = sqlite3.connect(db)
            shard_rows += con.execute(q).fetchall()
            con.close()
        con = sqlite3.connect(merged)
        merged_rows = con.execute(q).fetchall()
        n_results = con.execute("SELECT count(*) FROM results").fetchone()[0]
        con.close()
        self.assertEqual(len(merged_rows), n_results)
        self.assertEqual(sorted(merged_rows), sorted(shard_rows))

    def test_older_version2_file_gains_timing_repeats(self):
        """A file written before timing_repeats (added after version 2 without a version
        change; here a current-version file without it): read-only commands leave it as it is;
        the next run into it adds the table (no version change) and fills it."""
        db = self.path("rep_old.db")
        adhoc = ["--codec", "jpeg:quality=50", "--data", self.gen, "--db", db, "--quiet"]
        self.run_sb(["run"] + adhoc, check=True)
        con = sqlite3.connect(db)
        con.execute("DROP TABLE timing_repeats")
        con.commit()
        con.execute("PRAGMA journal_mode = DELETE")  # one file, so its bytes cover everything
        con.close()
        with open(db, "rb") as f:
            before = f.read()
        self.run_sb(["history", "--db", db, "--suite", "adhoc"])
        with open(db, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(has_table(db, "timing_repeats"))
        self.run_sb(["run", "--timing-repeats", "3"] + adhoc, check=True)
        self.assertTrue(has_table(db, "timing_repeats"))
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
        per_run = dict(con.execute(
            "SELECT c.run_id, count(t.image_id) FROM results r JOIN points p ON p.id = r.point_id "
            "JOIN codecs c ON c.id = p.codec_id LEFT JOIN timing_repeats t ON "
            "t.image_id = r.image_id AND t.point_id = r.point_id GROUP BY c.run_id").fetchall())
        con.close()
        self.assertEqual(per_run, {1: 0, 2: 5})


if __name__ == "__main__":
    SAICBENCH = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        SHARED = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
