"""Hardening of `saicbench` against hostile or damaged input, end to end:

- databases: a foreign SQLite file is never taken over (application id and schema checked
  before any write, the WAL switch included), a database written before the application id is
  used and gets it, a damaged file (PRAGMA quick_check) is refused by report, compare, history
  and merge (as a shard), and a WAL database in a read-only folder is read (immutable=1) or
  refused with what to do;
- plugins: a codec that breaks the result contract of saicbench_codec.h gets the image's result
  recorded as an error, not stored;
- suites: deep nesting is refused fast, with file:line:col; command-line labels follow the
  suite's rules.

Usage: python3 test_hardening.py SAICBENCH CONTRACT_PLUGIN_SO
Runs with Debian's python3 (standard library only); writes only into a temporary folder.
"""
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

SAICBENCH = PLUGIN = None
APPLICATION_ID = 0x53424442  # "SBDB", results/results.h


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


def clean_env():
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SLURM_", "SAICBENCH_", "JOB_COMPLETION"))}


def run(args, check=True, timeout=300, prefix=(), **kw):
    p = subprocess.run(list(prefix) + [SAICBENCH] + args, capture_output=True, text=True,
                       env=clean_env(), timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def pragma(path, name):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    v = con.execute("PRAGMA %s" % name).fetchone()[0]
    con.close()
    return v


CHECKSUM_PARTS = [  # results/checksum.c, written again from its documented definition
    ("datasets", "run_id = ?1", "id"),
    ("images", "dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)", "id"),
    ("codecs", "run_id = ?1", "id"),
    ("points", "codec_id IN (SELECT id FROM codecs WHERE run_id = ?1)", "id"),
]
_RUN_POINTS = ("(SELECT p.id FROM points p JOIN codecs c ON c.id = p.codec_id "
               "WHERE c.run_id = ?1)")
_RUN_TASKS = "(SELECT id FROM tasks WHERE run_id = ?1)"
CHECKSUM_PARTS += [
    ("results", "point_id IN " + _RUN_POINTS, "image_id, point_id"),
    ("timing_repeats", "point_id IN " + _RUN_POINTS, "image_id, point_id"),
    ("thumbnails", "image_id IN (SELECT i.id FROM images i JOIN datasets d ON "
     "d.id = i.dataset_id WHERE d.run_id = ?1)", "image_id, point_id"),
    ("aggregates", "point_id IN " + _RUN_POINTS, "point_id, dataset_id"),
    ("tasks", "run_id = ?1", "id"),
    ("task_refs", "task_id IN " + _RUN_TASKS, "task_id, image_id"),
    ("task_results", "task_id IN " + _RUN_TASKS, "task_id, image_id, point_id"),
    ("task_aggregates", "task_id IN " + _RUN_TASKS, "task_id, point_id, dataset_id"),
]


# Schema version 3's columns: written only when not NULL, tagged with their name.
CHECKSUM_EXTENSION = {
    "results": ["psnr_y", "psnr_cb", "psnr_cr", "psnr_ycbcr", "ciede2000", "butteraugli_max",
                "butteraugli_3norm"],
    "aggregates": ["mean_psnr_y", "mean_psnr_cb", "mean_psnr_cr", "mean_psnr_ycbcr",
                   "mean_ciede2000", "mean_butteraugli_max", "mean_butteraugli_3norm"],
}


def run_checksum(path, run_id):
    """(SHA-256 hex, rows) of a run's content as docs/schema.md (run_checksums) defines it."""
    import hashlib
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    con.text_factory = lambda b: ("t", b)  # text as ("t", bytes); blobs stay bytes
    h, rows = hashlib.sha256(), 0
    tables = {r[0][1].decode()
              for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, where, order in CHECKSUM_PARTS:
        if table not in tables:
            continue
        h.update(b"T" + table.encode() + b"\0")
        cur = con.execute("SELECT * FROM %s WHERE %s ORDER BY %s" % (table, where, order),
                          (run_id,))
        names = [c[0] for c in cur.description]
        extension = CHECKSUM_EXTENSION.get(table, [])
        for row in cur:
            for name, v in zip(names, row):
                if name in extension:
                    if v is None:
                        continue
                    h.update(b"c" + name.encode() + b"\0")
                if v is None:
                    h.update(b"n")
                elif isinstance(v, int):
                    h.update(b"i" + struct.pack("<Q", v & 0xffffffffffffffff))
                elif isinstance(v, float):
                    h.update(b"f" + struct.pack("<d", v))
                elif isinstance(v, tuple):
                    h.update(b"t" + struct.pack("<I", len(v[1])) + v[1])
                else:
                    h.update(b"b" + struct.pack("<I", len(v)) + bytes(v))
            h.update(b"r")
            rows += 1
    con.close()
    return h.hexdigest(), rows


def corrupt_table_root(src, dst, table):
    """A copy of src with the root page of `table` overwritten (src in rollback-journal mode)."""
    con = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    con.close()
    data = bytearray(read_bytes(src))
    data[(root - 1) * page:root * page] = b"\x5a" * page
    with open(dst, "wb") as f:
        f.write(data)


def to_delete_mode(path):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


class HardeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_hardening_")
        cls.data = os.path.join(cls.tmp, "data")
        os.makedirs(cls.data)
        for i in range(4):
            write_png(os.path.join(cls.data, "im%d.png" % i), 24, 20, i)
        cls.adhoc = ["--data", cls.data, "--codec", "jpeg:quality=30,70", "--quiet"]
        cls.good = cls.db("good.db")
        run(["run", "--db", cls.good] + cls.adhoc)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["chmod", "-R", "u+w", cls.tmp])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def db(cls, name):
        return os.path.join(cls.tmp, name)

    # ---------------------------------------------------------------- databases

    def test_foreign_sqlite_file_is_not_taken_over(self):
        for version in (1, 2, -1, 0, 7):
            path = self.db("foreign_%d.db" % version)
            con = sqlite3.connect(path)
            con.execute("PRAGMA user_version=%d" % version)
            con.execute("CREATE TABLE foo(x)")
            con.commit()
            con.close()
            before = read_bytes(path)
            for args in (["run", "--db", path] + self.adhoc,
                         ["report", "--db", path, "--latest", "--out", self.db("rep_foreign")],
                         ["compare", "--db", path, "1", "2"],
                         ["history", "--db", path, "--suite", "adhoc"]):
                p = run(args, check=False)
                self.assertEqual(p.returncode, 2, (version, args[0], p.stderr))
                self.assertIn("not a saicbench database: " + path, p.stderr, args[0])
            self.assertEqual(read_bytes(path), before, version)
            self.assertFalse(os.path.exists(path + "-wal"), version)
            self.assertEqual(pragma(path, "journal_mode"), "delete", version)
            con = sqlite3.connect(path)
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
            con.close()
            self.assertEqual(tables, ["foo"], version)

    def test_new_database_carries_the_application_id(self):
        self.assertEqual(pragma(self.good, "application_id"), APPLICATION_ID)
        self.assertEqual(pragma(self.good, "user_version"), 3)

    def test_database_from_before_the_application_id(self):
        path = self.db("legacy.db")
        shutil.copy(self.good, path)
        con = sqlite3.connect(path)
        con.execute("PRAGMA application_id=0")
        con.commit()
        con.close()
        to_delete_mode(path)
        before = read_bytes(path)
        run(["report", "--db", path, "--latest", "--out", self.db("rep_legacy")])
        run(["history", "--db", path, "--suite", "adhoc"], check=False)
        self.assertEqual(read_bytes(path), before)  # read-only commands write nothing
        run(["run", "--db", path] + self.adhoc)
        self.assertEqual(pragma(path, "application_id"), APPLICATION_ID)
        con = sqlite3.connect(path)
        self.assertEqual(con.execute("SELECT count(*) FROM runs").fetchone()[0], 2)
        con.close()

    def test_checksum_covers_the_opt_in_metrics(self):
        # The documented checksum with the version-3 metric columns set (written tagged with
        # their names) and NULL (left out): the stored one is the Python recomputation, and a
        # changed or removed metric value is a different checksum.
        path = self.db("extra.db")
        run(["run", "--db", path, "--metrics", "psnr,psnr_ycbcr,ciede2000,butteraugli"] +
            self.adhoc)
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        run_id, want, want_rows = con.execute(
            "SELECT run_id, sha256, n_rows FROM run_checksums").fetchone()
        n_set = con.execute("SELECT count(*) FROM results WHERE psnr_cb IS NOT NULL AND "
                            "ciede2000 IS NOT NULL AND butteraugli_3norm IS NOT NULL").fetchone()[0]
        con.close()
        self.assertEqual(n_set, 8)
        self.assertEqual(run_checksum(path, run_id), (want, want_rows))
        to_delete_mode(path)
        for sql in ["UPDATE results SET ciede2000 = NULL WHERE image_id = "
                    "(SELECT min(image_id) FROM results)",
                    "UPDATE aggregates SET mean_psnr_cb = mean_psnr_cb + 1e-9"]:
            edited = self.db("extra_edited.db")
            shutil.copy(path, edited)
            con = sqlite3.connect(edited)
            con.execute(sql)
            con.commit()
            con.close()
            self.assertNotEqual(run_checksum(edited, run_id)[0], want, sql)
            os.unlink(edited)

    def test_damaged_database_is_refused(self):
        src = self.db("to_damage.db")
        shutil.copy(self.good, src)
        to_delete_mode(src)
        bad = self.db("damaged.db")
        corrupt_table_root(src, bad, "aggregates")
        before = read_bytes(bad)
        for args in (["report", "--db", bad, "--latest", "--out", self.db("rep_bad")],
                     ["compare", "--db", bad, "1", "1"],
                     ["history", "--db", bad, "--suite", "adhoc"],
                     ["run", "--db", bad] + self.adhoc):
            p = run(args, check=False)
            self.assertEqual(p.returncode, 2, (args[0], p.stderr))
            self.assertIn(bad, p.stderr)
            self.assertIn("damaged", p.stderr)
        self.assertEqual(read_bytes(bad), before)

    def test_merge_refuses_a_damaged_shard(self):
        shards = []
        for i in range(2):
            path = self.db("shard%d.db" % i)
            run(["run", "--db", path, "--shard", "%d/2" % i] + self.adhoc)
            to_delete_mode(path)
            shards.append(path)
        bad = self.db("shard1_damaged.db")
        corrupt_table_root(shards[1], bad, "aggregates")  # merge itself never reads it
        p = run(["merge", self.db("merged_bad.db"), shards[0], bad], check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(bad, p.stderr)
        self.assertIn("damaged", p.stderr)
        # Each shard's content checksum, stored when it completed, is the documented one.
        for path in shards:
            con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            run_id, want, want_rows = con.execute(
                "SELECT run_id, sha256, n_rows FROM run_checksums").fetchone()
            con.close()
            self.assertEqual(run_checksum(path, run_id), (want, want_rows))
        # A shard edited after it completed (sound file, changed content) is refused.
        for what, sql in [("a value", "UPDATE results SET psnr = psnr + 0.5 WHERE image_id = "
                                      "(SELECT min(image_id) FROM results)"),
                          ("a row", "DELETE FROM results WHERE image_id = "
                                    "(SELECT max(image_id) FROM results)")]:
            edited = self.db("shard1_edited.db")
            shutil.copy(shards[1], edited)
            con = sqlite3.connect(edited)
            con.execute(sql)
            con.commit()
            con.close()
            p = run(["merge", self.db("merged_edited.db"), shards[0], edited], check=False)
            self.assertEqual(p.returncode, 2, (what, p.stderr))
            self.assertIn(edited, p.stderr)
            self.assertIn("does not match the checksum stored when it completed", p.stderr)
            os.unlink(edited)
        run(["merge", self.db("merged.db")] + shards)

    def as_other_user(self):
        """A command prefix under which a folder with mode 555 is not writable, or None."""
        if os.geteuid() != 0:
            return ()
        if shutil.which("setpriv") is None:
            return None
        return ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")

    def test_wal_database_in_read_only_folder(self):
        prefix = self.as_other_user()
        if prefix is None:
            self.skipTest("running as root without setpriv: no read-only folder to test with")
        os.chmod(self.tmp, 0o755)  # reachable by the other user
        out = self.db("ro_out")
        os.makedirs(out)
        os.chmod(out, 0o777)
        ro = self.db("ro")
        os.makedirs(ro)
        db = os.path.join(ro, "wal.db")
        shutil.copy(self.good, db)
        self.assertEqual(read_bytes(db)[18:20], b"\x02\x02")  # WAL mode
        self.assertFalse(os.path.exists(db + "-wal") or os.path.exists(db + "-shm"))
        os.chmod(db, 0o444)
        os.chmod(ro, 0o555)
        try:
            # No -wal file: the main file is complete, read with immutable=1.
            p = run(["report", "--db", db, "--latest", "--out", out], check=False, prefix=prefix)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
            p = run(["history", "--db", db, "--suite", "adhoc"], check=False, prefix=prefix)
            self.assertIn(p.returncode, (0, 1), p.stderr)
            self.assertFalse(os.path.exists(db + "-shm"))
            # A -wal file with changes but no -shm: refused, saying what to do.
            os.chmod(ro, 0o755)
            os.chmod(db, 0o644)
            writer = ("import sqlite3, os\n"
                      "c = sqlite3.connect(%r)\n"
                      "c.execute('PRAGMA wal_autocheckpoint=0')\n"
                      "c.execute(\"UPDATE runs SET host='changed'\")\n"
                      "c.commit()\n"
                      "os._exit(0)\n" % db)  # no close: the -wal file keeps the change
            subprocess.run([sys.executable, "-c", writer], check=True)
            self.assertGreater(os.path.getsize(db + "-wal"), 32)
            os.unlink(db + "-shm")
            os.chmod(ro, 0o555)
            p = run(["report", "--db", db, "--latest", "--out", out], check=False, prefix=prefix)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(db, p.stderr)
            self.assertIn("WAL mode", p.stderr)
            self.assertIn("PRAGMA journal_mode=DELETE", p.stderr)
            self.assertNotIn("No such file or directory", p.stderr)
        finally:
            os.chmod(ro, 0o755)

    # ---------------------------------------------------------------- plugins

    def test_plugin_that_breaks_the_result_contract(self):
        expect = {
            "stream_big": "stream_bytes %d > file size %d" % (24 * 20 * 3 + 13, 24 * 20 * 3 + 12),
            "stream_zero": "stream_bytes 0",
            "empty": "encode returned an empty file",
            "decoded_size": "decoded size 23x20 differs from the original 24x20",
        }
        for lie, text in expect.items():
            path = self.db("liar_%s.db" % lie)
            run(["run", "--db", path, "--data", self.data, "--plugin", PLUGIN, "--quiet",
                 "--codec", "liar:level=4,8:lie=%s" % lie])
            con = sqlite3.connect(path)
            got = con.execute("SELECT count(*), count(error), count(bytes), count(stream_bytes), "
                              "min(error), max(error) FROM results").fetchone()
            con.close()
            self.assertEqual(got[:4], (8, 8, 0, 0), lie)
            self.assertEqual(got[4], got[5], lie)
            self.assertIn("codec liar broke its contract: " + text, got[4], lie)
        path = self.db("liar_none.db")
        run(["run", "--db", path, "--data", self.data, "--plugin", PLUGIN, "--quiet",
             "--codec", "liar:level=4,8:lie=none"])
        con = sqlite3.connect(path)
        got = con.execute("SELECT count(*), count(error), min(stream_bytes), max(bytes) "
                          "FROM results").fetchone()
        con.close()
        self.assertEqual(got, (8, 0, 24 * 20 * 3, 24 * 20 * 3 + 12))

    # ---------------------------------------------------------------- suites

    def suite_file(self, name, text):
        path = self.db(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_deeply_nested_suite_is_refused_fast(self):
        head = "name: deep\ndatasets: [{path: data}]\ncodecs: [{codec: jpeg, knob: [50]}]\n"
        cases = {
            "flow_seq_100k.yaml": head + "gate: " + "[" * 100000 + "]" * 100000 + "\n",
            "flow_map_800k.yaml": head + "gate: " + "{a: " * 800000 + "1" + "}" * 800000 + "\n",
            "flow_seq_1m.yaml": head + "gate: " + "[" * 1000000 + "]" * 1000000 + "\n",
            "block_200.yaml": head + "gate:\n" + "".join(" " * (i + 1) + "- \n"
                                                       for i in range(200)),
        }
        for name, text in cases.items():
            path = self.suite_file(name, text)
            t0 = time.monotonic()
            p = run(["run", path, "--data", self.tmp, "--db", self.db("deep.db")], check=False)
            elapsed = time.monotonic() - t0
            self.assertEqual(p.returncode, 2, (name, p.stderr))
            self.assertIn("%s:%s" % (path, "" if name.startswith("block") else "4:"), p.stderr,
                          name)
            self.assertIn("nested more than 64 levels deep", p.stderr, name)
            self.assertLess(elapsed, 1.0, name)
        # 64 levels are fine (the gate: mapping is then checked by `saicbench gate` only).
        ok = self.suite_file("deep_ok.yaml", head + "gate: {x: " + "[" * 62 + "]" * 62 + "}\n")
        run(["run", ok, "--data", self.tmp, "--db", self.db("deep_ok.db"), "--limit", "1",
             "--quiet"])

    def test_command_line_label_follows_the_suite_rules(self):
        out = self.db("rep_label")
        for label in ['=HYPERLINK("x")', "a b", "x" * 65, "<b>"]:
            p = run(["run", "--db", self.db("label.db"), "--data", self.data, "--quiet",
                     "--codec", "jpeg:quality=50:label=" + label, "--report", out], check=False)
            self.assertEqual(p.returncode, 2, (label, p.stderr))
            self.assertIn("label '%s'" % label, p.stderr)
        self.assertFalse(os.path.exists(out))
        p = run(["run", "--db", self.db("label.db"), "--data", self.data, "--quiet",
                 "--codec", "jpeg:quality=50:label=jpeg-q50.v1"])
        p = run(["run", "--db", self.db("label.db"), "--data", self.data, "--quiet",
                 "--codec", "jpeg:quality=50:label=a:label=b"], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("'label' given twice", p.stderr)


if __name__ == "__main__":
    SAICBENCH, PLUGIN = (os.path.abspath(a) for a in sys.argv[1:3])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
