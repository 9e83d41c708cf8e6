"""`saicbench run`: error messages (scheduler shard variables, command-line codec specs, the
data-folder hint) and --timing-repeats (medians of repeated timings; every other result
bit-identical).

Usage: python3 test_cli_messages.py SAICBENCH [SHARED_DATASETS]
"""
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
        for bad_value in ("0", "x", "1001"):
            p = self.run_sb(["run", suite, "--data", self.data, "--db", self.path("t0.db"),
                             "--timing-repeats", bad_value])
            self.assertEqual(p.returncode, 2)
            self.assertIn("--timing-repeats", p.stderr)
        p = self.run_sb(["run", "--help"], check=True)
        self.assertIn("--timing-repeats N", p.stdout)


if __name__ == "__main__":
    SAICBENCH = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        SHARED = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
