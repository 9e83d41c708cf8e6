"""End-to-end test of `saicbench export`, `encode`, `decode` and of the codec in `run`.

usage: test_saic_cli.py SAICBENCH TEST_SAIC_CODEC [SHARED_DATASETS]
(TEST_SAIC_CODEC --write-train-ckpt PATH writes a small random training checkpoint.)
Checks: --help exits 0; export writes a codec checkpoint and prints its SHA-256; encode/decode
round trip (deterministic bytes, 2-byte format-2 header at 32x32 and 4 bytes at 45x29, byte 0 =
size flag and rate index, byte 1 = CRC-8/SMBUS over the model hash, the version and the other
bytes, recomputed here independently); errors exit 2 with one line naming the problem (missing
options, a training checkpoint given to decode, a stream that fails the check byte, a truncated
stream, a bad rate); decode --max-pixels and the payload bound (a 9-byte stream declaring 2^25
pixels); `run --codec saic:model=X:rate=0,1,2` stores results and `codecs` lists saic."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

SAICBENCH = HELPER = SHARED = None


def crc8_smbus(data):
    """CRC-8/SMBUS: polynomial 0x07, init 0, MSB first, no final xor (bit by bit)."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def run(args, code=0):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True)
    if p.returncode != code:
        raise AssertionError("saicbench %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, code, p.stdout, p.stderr))
    if code == 2:
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert len(lines) == 1, p.stderr
    return p


def write_png(path, w, h):
    """A small RGB PNG without third-party modules."""
    import struct
    import zlib
    raw = b"".join(b"\x00" + bytes(((x * 7 + y * 3 + c * 50) % 256) for x in range(w)
                                    for c in range(3)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class SaicCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_saic_cli_")
        cls.train = os.path.join(cls.tmp, "train.ckpt")
        subprocess.run([HELPER, "--write-train-ckpt", cls.train], check=True)
        cls.codec = os.path.join(cls.tmp, "codec.ckpt")
        p = run(["export", "--model", cls.train, "--out", cls.codec])
        cls.sha = p.stdout.strip()
        cls.img = os.path.join(cls.tmp, "img.png")
        write_png(cls.img, 32, 32)
        cls.img2 = os.path.join(cls.tmp, "img2.png")
        write_png(cls.img2, 45, 29)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_help(self):
        for sub in ["export", "encode", "decode"]:
            p = run([sub, "--help"])
            self.assertIn("usage: saicbench " + sub, p.stdout)
        self.assertIn("export", run(["--help"]).stdout)

    def test_export(self):
        self.assertEqual(len(self.sha), 64)
        int(self.sha, 16)
        p = run(["export", "--model", self.codec, "--out", self.path("x.ckpt")], 2)
        self.assertIn("already a codec checkpoint", p.stderr)
        p = run(["export", "--model", self.path("missing.ckpt"), "--out", self.path("x.ckpt")], 2)
        self.assertIn("missing.ckpt", p.stderr)
        p = run(["export", "--model", self.train], 2)
        self.assertIn("--out", p.stderr)
        p = run(["export", "--model", self.train, "--out", self.path("y.ckpt"), "--tail-mass",
                 "abc"], 2)
        self.assertIn("--tail-mass", p.stderr)
        # Exporting again gives the same model hash (the tables are a function of the model).
        p = run(["export", "--model", self.train, "--out", self.path("again.ckpt")])
        self.assertEqual(p.stdout.strip(), self.sha)

    def test_round_trip(self):
        self.assertEqual(crc8_smbus(b"123456789"), 0xF4)  # the published check value
        for img, w, h, header in [(self.img, 32, 32, 2), (self.img2, 45, 29, 4)]:
            a, b, out = self.path("a.saic"), self.path("b.saic"), self.path("out.png")
            p = run(["encode", img, a, "--model", self.codec, "--rate", "1.3"])
            self.assertIn("header %d" % header, p.stdout)
            run(["encode", img, b, "--model", self.codec, "--rate", "1.3", "--threads", "2"])
            data = open(a, "rb").read()
            self.assertEqual(data, open(b, "rb").read())
            # Byte 0: size flag (bit 7) and rate index round(1.3 / (8/3) * 77) = 38 (3 levels).
            self.assertEqual(data[0], (0 if (w, h) == (32, 32) else 0x80) | 38)
            # Byte 1: CRC-8 over the model hash, the format version 2, byte 0 and the rest.
            self.assertEqual(data[1], crc8_smbus(bytes.fromhex(self.sha) + b"\x02" + data[:1] +
                                                 data[2:]))
            run(["decode", a, out, "--model", self.codec])
            png = open(out, "rb").read()
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(int.from_bytes(png[16:20], "big"), w)
            self.assertEqual(int.from_bytes(png[20:24], "big"), h)
            out2 = self.path("out2.png")
            run(["decode", b, out2, "--model", self.codec, "--threads", "2"])
            self.assertEqual(png, open(out2, "rb").read())
        # Higher rate, more bytes.
        sizes = []
        for r in ["0", "1", "2"]:
            run(["encode", self.img, self.path("r.saic"), "--model", self.codec, "--rate", r])
            sizes.append(os.path.getsize(self.path("r.saic")))
        self.assertLessEqual(sizes[0], sizes[1])
        self.assertLessEqual(sizes[1], sizes[2])

    def test_errors(self):
        a = self.path("e.saic")
        run(["encode", self.img, a, "--model", self.codec, "--rate", "2"])
        p = run(["decode", a, self.path("e.png"), "--model", self.train], 2)
        self.assertIn("export", p.stderr)
        data = open(a, "rb").read()
        t = self.path("t.saic")
        open(t, "wb").write(data[:-3])
        p = run(["decode", t, self.path("e.png"), "--model", self.codec], 2)
        self.assertIn("truncated", p.stderr)
        self.assertIn("t.saic", p.stderr)
        open(t, "wb").write(data[:1] + bytes([data[1] ^ 0xff]) + data[2:])
        p = run(["decode", t, self.path("e.png"), "--model", self.codec], 2)
        self.assertIn("check failed", p.stderr)
        self.assertIn("another model", p.stderr)
        self.assertIn(self.sha[:8], p.stderr)
        open(t, "wb").write(data[:1])
        p = run(["decode", t, self.path("e.png"), "--model", self.codec], 2)
        self.assertIn("header", p.stderr)
        p = run(["encode", self.img, a, "--model", self.codec, "--rate", "16"], 2)
        self.assertIn("--rate", p.stderr)
        p = run(["encode", self.img, a, "--model", self.codec], 2)
        self.assertIn("usage", p.stderr)
        p = run(["encode", self.path("none.png"), a, "--model", self.codec, "--rate", "1"], 2)
        self.assertIn("none.png", p.stderr)
        p = run(["decode", a, self.path("e.png"), "--model", self.codec, "--rate", "1"], 2)
        self.assertIn("--rate", p.stderr)
        p = run(["decode", self.path("none.saic"), self.path("e.png"), "--model", self.codec], 2)
        self.assertIn("none.saic", p.stderr)

    def stream(self, w, h, q, payload):
        """A format-2 stream of this model with an explicit size and a correct check byte."""
        def leb(v):
            out = b""
            while True:
                b, v = v & 0x7F, v >> 7
                out += bytes([b | (0x80 if v else 0)])
                if not v:
                    return out
        rest = leb(w - 1) + leb(h - 1) + payload
        b0 = bytes([0x80 | q])
        return b0 + bytes([crc8_smbus(bytes.fromhex(self.sha) + b"\x02" + b0 + rest)]) + rest

    def test_max_pixels(self):
        # decode --max-pixels (default 2^24), then the payload bound: a 9-byte stream declaring
        # 5792 x 5792 (2^25 pixels) is refused before anything is allocated.
        self.assertIn("--max-pixels", run(["decode", "--help"]).stdout)
        big = self.path("big.saic")
        data = self.stream(5792, 5792, 0, b"\x12\x34\x56")
        self.assertEqual(len(data), 9)
        open(big, "wb").write(data)
        out = self.path("big.png")
        p = run(["decode", big, out, "--model", self.codec], 2)
        self.assertIn("exceeds the 16777216-pixel limit", p.stderr)
        self.assertIn("big.saic", p.stderr)
        p = run(["decode", big, out, "--model", self.codec, "--max-pixels", "33554432"], 2)
        self.assertIn("payload of 3 bytes cannot hold a 5792x5792 image at rate index 0", p.stderr)
        self.assertFalse(os.path.exists(out))
        p = run(["decode", big, out, "--model", self.codec, "--max-pixels", "1000"], 2)
        self.assertIn("1000-pixel limit", p.stderr)
        for bad in ["0", "33554433", "x"]:
            p = run(["decode", big, out, "--model", self.codec, "--max-pixels", bad], 2)
            self.assertIn("--max-pixels", p.stderr)
        # A real stream decodes under a limit it fits, and is refused under one it does not.
        a = self.path("mp.saic")
        run(["encode", self.img2, a, "--model", self.codec, "--rate", "1"])
        run(["decode", a, out, "--model", self.codec, "--max-pixels", str(45 * 29)])
        p = run(["decode", a, out, "--model", self.codec, "--max-pixels", str(45 * 29 - 1)], 2)
        self.assertIn("45x29 exceeds the 1304-pixel limit", p.stderr)
        p = run(["encode", self.img, a, "--model", self.codec, "--rate", "1", "--max-pixels",
                 "5"], 2)
        self.assertIn("unknown option", p.stderr)

    def test_run_and_codecs(self):
        self.assertIn("saic", [l.split()[0] for l in run(["codecs"]).stdout.splitlines()
                               if l and not l.startswith(" ")])
        data = self.path("data")
        os.makedirs(data, exist_ok=True)
        shutil.copy(self.img, os.path.join(data, "a.png"))
        shutil.copy(self.img2, os.path.join(data, "b.png"))
        db = self.path("run.db")
        run(["run", "--data", data, "--db", db, "--quiet", "--threads", "2", "--codec",
             "saic:model=%s:rate=0,1,2" % self.codec])
        con = sqlite3.connect(db)
        rows = con.execute("SELECT count(*), sum(error IS NULL), min(bytes - stream_bytes), "
                           "max(bytes - stream_bytes) FROM results").fetchone()
        con.close()
        self.assertEqual(rows[0], 6)
        self.assertEqual(rows[1], 6)
        self.assertEqual((rows[2], rows[3]), (2, 4))  # header bytes: 32x32 and 45x29
        p = run(["run", "--data", data, "--db", self.path("bad.db"), "--quiet", "--codec",
                 "saic:rate=1"], 2)
        self.assertIn("model", p.stderr)

    def test_analysis_reuse(self):
        """The harness's analysis reuse (one analysis per image, coded at every grid point and
        rate-search probe) stores exactly what whole encodes store, with fewer analyses."""
        data = self.path("reuse")
        os.makedirs(data, exist_ok=True)
        shutil.copy(self.img, os.path.join(data, "a.png"))
        shutil.copy(self.img2, os.path.join(data, "b.png"))
        spec = "saic:model=%s:rate=0,1,2:bpp=0.5,1,2" % self.codec
        rows, calls = {}, {}
        for mode, extra in (("reuse", []), ("whole", ["--no-analysis-reuse"])):
            db = self.path("reuse-%s.db" % mode)
            p = run(["run", "--data", data, "--db", db, "--threads", "2", "--codec", spec] + extra)
            line = [l for l in p.stderr.splitlines() if "encoder calls" in l]
            self.assertEqual(len(line), 1, p.stderr)
            # the thread-time breakdown names the codec with its encode and decode shares
            self.assertRegex(p.stderr, r"thread time, all workers: [0-9.]+ s")
            self.assertRegex(p.stderr, r"codec saic +[0-9.]+ s \( *[0-9.]+%\): encode [0-9.]+ s, "
                                       r"decode and metrics [0-9.]+ s")
            calls[mode] = [int(x) for x in re.findall(r"(\d+) (?:whole|analyses|knob)", line[0])]
            con = sqlite3.connect(db)
            rows[mode] = con.execute(
                "SELECT i.name, p.kind, p.value, r.knob, r.bytes, r.stream_bytes, r.mse, "
                "r.ssim, r.ms_ssim, r.n_encodes, r.target_unreachable, r.error FROM results r "
                "JOIN images i ON i.id = r.image_id JOIN points p ON p.id = r.point_id "
                "ORDER BY 1, 2, 3").fetchall()
            con.close()
        self.assertEqual(len(rows["reuse"]), 12)
        self.assertEqual(rows["reuse"], rows["whole"])
        # reuse: warm-up encodes only, one analysis per image, its codings; whole: no analyses
        whole, analyses, coded = calls["reuse"]
        self.assertEqual(analyses, 2)
        self.assertGreaterEqual(coded, 6)
        self.assertLessEqual(whole, 2)  # one warm-up per worker and image size
        self.assertEqual(len(calls["whole"]), 1)
        self.assertEqual(calls["whole"][0], coded + whole)


if __name__ == "__main__":
    SAICBENCH, HELPER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if len(sys.argv) > 3 and os.path.isdir(sys.argv[3]):
        SHARED = os.path.abspath(sys.argv[3])
    unittest.main(argv=[sys.argv[0], "-v"])
