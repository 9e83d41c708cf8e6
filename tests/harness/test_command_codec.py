"""End-to-end tests of command-line codecs (suite key `command_codecs:`) through `saicbench run`:
the toy codec (toy_codec.py) on CIFAR-10 and Kodak images with a knob grid and a bpp target,
its stored results recomputed here from toy_codec's own functions, its version and script hash
in the database and in the run's identity; misbehaving programs (faulty_codec.py) recorded as
clean per-image errors while the other codecs' results stay intact; suite mistakes refused
before anything runs; `saicbench codecs --suite`.

Usage: python3 test_command_codec.py SAICBENCH SHARED_DATASETS
Runs with Debian's python3 (numpy, PIL); writes only into a temporary folder.
"""
import hashlib
import json
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faulty_codec  # noqa: E402
import toy_codec  # noqa: E402

SAICBENCH = SHARED = None
PY = sys.executable


def run(args, check=True, env=None, timeout=600):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def toy_entry(name="toy", tool="tools/toy_codec.py", extra=""):
    return """\
  - name: {name}
    description: toy program codec
    encode: [{py}, !path {tool}, encode, "{{input}}", "{{output}}", "{{knob}}"]
    decode: [{py}, !path {tool}, decode, "{{input}}", "{{output}}"]
    version: [{py}, !path {tool}, --version]
    knob: {{name: q, min: 1, max: 256, integer: true, rate_increases: true}}
{extra}""".format(name=name, py=PY, tool=tool, extra=extra)


def faulty_entry(name, encode, decode, timeout=60):
    """A command codec whose encode or decode is faulty_codec.py in some mode (the other toy)."""
    def argv(spec, role):
        if spec is None:
            args = ["!path tools/toy_codec.py", role, '"{input}"', '"{output}"']
            return "[%s, %s%s]" % (PY, ", ".join(args), ', "{knob}"' if role == "encode" else "")
        return "[%s, !path tools/faulty_codec.py, %s]" % (PY, spec)
    return """\
  - name: {name}
    encode: {enc}
    decode: {dec}
    knob: {{name: q, min: 1, max: 256, integer: true, rate_increases: true}}
    timeout: {timeout}
""".format(name=name, enc=argv(encode, "encode"), dec=argv(decode, "decode"), timeout=timeout)


def alive(pid):
    """Whether a process exists and is not a zombie (killed, not yet reaped by init)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 100.0 if mse == 0 else min(100.0, 10 * math.log10(255.0 ** 2 / mse))


def results(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(
        """SELECT d.name AS dataset, i.name AS image, c.label, p.kind,
                  p.value, r.knob, r.bytes, r.stream_bytes, r.bpp, r.psnr, r.error
           FROM results r JOIN images i ON i.id = r.image_id
           JOIN datasets d ON d.id = i.dataset_id JOIN points p ON p.id = r.point_id
           JOIN codecs c ON c.id = p.codec_id
           WHERE c.run_id = (SELECT max(id) FROM runs)
           ORDER BY d.name, i.idx, c.label, p.kind, p.value""")]
    con.close()
    return rows


class CommandCodecTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_cmd_")
        tools = os.path.join(cls.tmp, "suite", "tools")
        os.makedirs(tools)
        for f in ("toy_codec.py", "faulty_codec.py"):
            shutil.copy(os.path.join(HERE, f), tools)
        cls.toy = os.path.join(tools, "toy_codec.py")
        # The codecs' temporary folders go here, to see that none is left behind.
        cls.codec_tmp = os.path.join(cls.tmp, "codec-tmp")
        os.makedirs(cls.codec_tmp)
        cls.env = dict(os.environ, TMPDIR=cls.codec_tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not SHARED:
            self.skipTest("no shared datasets folder")

    def write_suite(self, name, body):
        path = os.path.join(self.tmp, "suite", name)
        with open(path, "w") as f:
            f.write(body)
        return path

    def run_suite(self, suite, db, check=True, extra=()):
        # From another folder: !path arguments must not depend on the current folder.
        return run(["run", suite, "--data", SHARED, "--db", db, "--threads", "2", "--quiet"]
                   + list(extra), check=check, env=self.env)

    def assert_no_leftovers(self):
        self.assertEqual(os.listdir(self.codec_tmp), [], "temporary folders left behind")

    def test_toy_run(self):
        suite = self.write_suite("toy.yaml", """\
name: toy-run
datasets:
  - {name: cifar, path: cifar10, split: test, stride: 2500, limit: 4}
  - {name: kodak, path: kodak, offset: 22, limit: 1}
command_codecs:
%scodecs:
  - {codec: toy, knob: [4, 16, 64], bpp: [3]}
  - {codec: jpeg, knob: [50]}
""" % toy_entry())
        db = os.path.join(self.tmp, "toy.db")
        run_out = self.run_suite(suite, db)
        self.assertEqual(run_out.stdout.strip(), "1")
        rows = results(db)
        toy_rows = [r for r in rows if r["label"] == "toy"]
        self.assertEqual(len(toy_rows), 5 * 4)
        self.assertEqual(len([r for r in rows if r["label"] == "jpeg"]), 5)
        kodak = [r for r in toy_rows if r["dataset"] == "kodak"]
        self.assertEqual({r["image"] for r in kodak}, {"kodim23.png"})
        folders = {"cifar": os.path.join(SHARED, "cifar10", "test"),
                   "kodak": os.path.join(SHARED, "kodak")}
        for r in toy_rows:
            self.assertIsNone(r["error"], r)
            path = os.path.join(folders[r["dataset"]], r["image"])
            img = load_rgb(path)
            h, w = img.shape[:2]
            q = int(r["knob"])
            if r["kind"] == "knob":
                self.assertEqual(q, r["value"])
            else:  # the largest bpp not above the target (the toy's rate grows with q)
                self.assertLessEqual(r["bpp"], 3.0)
                above = toy_codec.encode_bytes(w, h, img.tobytes(), q + 1)
                self.assertGreater(len(above) * 8 / (w * h), 3.0, r)
            stream = toy_codec.encode_bytes(w, h, img.tobytes(), q)
            # stream_bytes is the whole file written by the program.
            self.assertEqual(r["bytes"], len(stream), r)
            self.assertEqual(r["stream_bytes"], len(stream), r)
            self.assertAlmostEqual(r["bpp"], len(stream) * 8 / (w * h), places=9)
            dw, dh, rgb = toy_codec.decode_bytes(stream)
            decoded = np.frombuffer(rgb, np.uint8).reshape(dh, dw, 3)
            self.assertAlmostEqual(r["psnr"], psnr(img, decoded), places=6, msg=r)
        # The version: the program's line and the script's hash; no plugin path.
        with open(self.toy, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()[:16]
        version = "toy_codec 1.0; toy_codec.py sha256:" + sha
        con = sqlite3.connect(db)
        lib, knob_name, plugin = con.execute(
            "SELECT library_version, knob_name, plugin_path FROM codecs WHERE label='toy'"
        ).fetchone()
        libs = json.loads(con.execute("SELECT library_versions FROM runs").fetchone()[0])
        con.close()
        self.assertEqual(lib, version)
        self.assertEqual(libs.get("toy"), version)
        self.assertEqual((knob_name, plugin), ("q", None))
        self.assert_no_leftovers()

        # `saicbench codecs --suite` lists it with its programs resolved.
        listing = run(["codecs", "--suite", suite], env=self.env).stdout
        self.assertIn("toy  (%s)\n  toy program codec\n" % version, listing)
        self.assertIn("  knob q: integer 1..256, more rate as it grows", listing)
        self.assertIn("  encode: %s %s encode {input} {output} {knob}\n" % (
            os.path.realpath(PY), os.path.realpath(self.toy)), listing)
        self.assertIn("jpeg  (", listing)

    def test_example(self):
        """examples/command_codec/toy.yaml runs as shipped (one image per dataset here)."""
        root = os.path.dirname(os.path.dirname(HERE))
        suite = os.path.join(root, "examples", "command_codec", "toy.yaml")
        db = os.path.join(self.tmp, "example.db")
        self.run_suite(suite, db, extra=["--limit", "1"])
        rows = results(db)
        self.assertEqual(len(rows), 2 * (7 + 7))
        self.assertEqual([r for r in rows if r["error"]], [])
        self.assert_no_leftovers()

    def test_identity(self):
        """The script's contents are part of the run's identity (runs.suite_hash, the plan)."""
        suite = self.write_suite("identity.yaml", """\
name: identity
datasets: [{name: cifar, path: cifar10, split: test, limit: 1}]
command_codecs:
%scodecs: [{codec: toy, knob: [8]}]
""" % toy_entry())
        db = os.path.join(self.tmp, "identity.db")

        def plan():
            self.run_suite(suite, db)
            con = sqlite3.connect(db)
            h = con.execute("SELECT suite_hash FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
            con.close()
            return h
        first, same = plan(), plan()
        self.assertEqual(first, same)
        with open(self.toy) as f:
            saved = f.read()
        try:
            with open(self.toy, "a") as f:
                f.write("# edited\n")
            self.assertNotEqual(plan(), first, "an edited script must change the plan")
        finally:
            with open(self.toy, "w") as f:
                f.write(saved)

    def test_faulty_programs(self):
        pidfile = os.path.join(self.tmp, "sleeper.pid")
        entries = "".join([
            faulty_entry("exit3", 'fail, "{input}", "{output}", "{knob}"', None),
            faulty_entry("segv", 'signal, "{input}", "{output}", "{knob}"', None),
            faulty_entry("sleeper", 'sleep, %s, "{input}", "{output}", "{knob}"' % pidfile, None,
                         timeout=1),
            faulty_entry("nothing", 'nooutput, "{input}", "{output}", "{knob}"', None),
            faulty_entry("empty", 'empty, "{output}", "{input}", "{knob}"', None),
            faulty_entry("wrongsize", None, 'wrongsize, "{output}", "{input}"'),
            faulty_entry("hugepng", None, 'hugepng, "{output}", "{input}"').replace(
                "timeout: 60", "timeout: 60\n    image_format: png"),
            faulty_entry("garbage", None, 'garbage, "{output}", "{input}"'),
            faulty_entry("literal", 'literal, "%s", "{input}", "{output}", "{knob}"' %
                         faulty_codec.LITERAL.replace("\\", "\\\\").replace('"', '\\"'), None),
        ])
        codecs = "".join("  - {codec: %s, knob: [8]%s}\n" % (n, ", bpp: [2]" if n == "exit3" else "")
                         for n in ("exit3", "segv", "sleeper", "nothing", "empty", "wrongsize",
                                   "hugepng", "garbage", "literal"))
        suite = self.write_suite("faulty.yaml", """\
name: faulty
datasets:
  - {name: cifar, path: cifar10, split: test, stride: 5000, limit: 2}
command_codecs:
%scodecs:
%s  - {codec: jpeg, knob: [50], bpp: [2]}
""" % (entries, codecs))
        db = os.path.join(self.tmp, "faulty.db")
        p = self.run_suite(suite, db)
        self.assertEqual(p.returncode, 0, p.stderr)
        want = {
            "exit3": "command codec exit3: encode: python3 faulty_codec.py exited with status 3; "
                     "stderr: faulty_codec: first line faulty_codec: deliberate failure for the "
                     "test",
            "segv": "command codec segv: encode: python3 faulty_codec.py was killed by signal 11 "
                    "(SIGSEGV)",
            "sleeper": "command codec sleeper: encode: python3 faulty_codec.py timed out after 1 s "
                       "(killed)",
            "nothing": "command codec nothing: encode: python3 faulty_codec.py exited with status "
                       "0 but wrote no stream.bin",
            "empty": "command codec empty: encode: python3 faulty_codec.py wrote an empty "
                     "stream.bin (0 bytes)",
            "wrongsize": "codec wrongsize broke its contract: decoded size 7x5 differs from the "
                         "original 32x32",
            "hugepng": "command codec hugepng: decode: python3 faulty_codec.py wrote an "
                       "unreadable image: output.png: PNG image too large (100000x100000",
            "garbage": "command codec garbage: decode: python3 faulty_codec.py wrote an "
                       "unreadable image: output.ppm: not a binary PPM or PGM",
        }
        rows = results(db)
        self.assertEqual(len(rows), 2 * (9 + 1 + 2))
        for r in rows:
            if r["label"] in want:
                self.assertIsNotNone(r["error"], r)
                self.assertIn(want[r["label"]], r["error"])
                self.assertNotIn("\n", r["error"])
                self.assertIsNone(r["psnr"])
            else:  # jpeg, and the literal argument that arrived unchanged
                self.assertIsNone(r["error"], r)
                self.assertGreater(r["psnr"], 15)
        # The sleeper's child was killed with it.
        with open(pidfile) as f:
            child = int(f.read())
        self.assertFalse(alive(child), "the timed-out program's child still runs")
        self.assert_no_leftovers()

    def test_suite_errors(self):
        ok_codecs = "codecs: [{codec: toy, knob: [8]}]\n"
        head = "name: bad\ndatasets: [{path: cifar10, split: test, limit: 1}]\n"
        cases = [
            ("placeholder", "command_codecs:\n" + toy_entry().replace('"{output}", "{knob}"',
                                                                    '"{outptu}", "{knob}"'),
             ":6:", "unknown placeholder {outptu}"),
            ("no-decode", "command_codecs:\n" + "\n".join(
                line for line in toy_entry().splitlines() if "decode" not in line) + "\n",
             ":4:5:", "entry without 'decode'"),
            ("knob-range", "command_codecs:\n" + toy_entry().replace("min: 1, max: 256",
                                                                     "min: 256, max: 1"),
             ":9:", "range 256..1 is empty"),
            ("builtin-name", "command_codecs:\n" + toy_entry(name="jpeg"), ":4:5:",
             "command codec jpeg: a codec of that name is already registered (built in)"),
            ("no-program", "command_codecs:\n" + toy_entry().replace(
                "encode: [%s," % PY, "encode: [no-such-encoder-program,"), ":4:5:",
             "command codec toy: encode: program 'no-such-encoder-program' not found on PATH"),
            ("no-script", "command_codecs:\n" + toy_entry(tool="tools/missing.py"), ":4:5:",
             "command codec toy: encode: file '"),
        ]
        for name, body, where, what in cases:
            suite = self.write_suite("bad-%s.yaml" % name, head + body + ok_codecs)
            db = os.path.join(self.tmp, "bad-%s.db" % name)
            p = self.run_suite(suite, db, check=False)
            self.assertEqual(p.returncode, 2, (name, p.stderr))
            self.assertIn(suite + where, p.stderr, name)
            self.assertIn(what, p.stderr, name)
            self.assertFalse(os.path.exists(db), "%s: a database was made" % name)
        # A codecs[] entry naming no command codec.
        suite = self.write_suite("bad-unknown.yaml", head + "codecs: [{codec: toy, knob: [8]}]\n")
        p = self.run_suite(suite, os.path.join(self.tmp, "bad-unknown.db"), check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown codec 'toy'", p.stderr)


if __name__ == "__main__":
    SAICBENCH = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        SHARED = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
