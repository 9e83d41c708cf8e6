"""`cmake --install` into a temporary prefix, then use only the installation:

- the layout: programs, the plugin header, pkg-config file, CMake package, suites, checkpoints;
- the example plugin (installed under share/doc) built out of tree twice: with CMake
  (find_package(saicbench-codec) + saicbench::codec) and with cc + `pkg-config --cflags`;
- both builds listed by the installed `saicbench codecs --plugin` and used in an ad-hoc run on
  Kodak images (synthetic ones when the shared datasets are absent);
- every installed suite's relative paths (`!path` settings, task checkpoints) resolve from
  share/saicbench/suites, and the installed quick suite runs (on tiny images, one per dataset).

Usage: python3 test_install.py --build DIR --source DIR --cmake CMAKE --generator GEN --cc CC
                               [--shared SHARED_DATASETS]
Standard library only; writes only into a temporary folder.
"""
import argparse
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

ARGS = None
PLUGIN_CODEC = "quantize"  # the example plugin's codec name


def sh(cmd, env=None, cwd=None, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout,
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


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_install_")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        env = dict(os.environ)
        env.pop("DESTDIR", None)
        sh([ARGS.cmake, "--install", ARGS.build, "--prefix", cls.prefix], env=env)
        cls.bin = os.path.join(cls.prefix, "bin", "saicbench")
        cls.data = os.path.join(cls.prefix, "share", "saicbench")
        cls.example = os.path.join(cls.prefix, "share", "doc", "saicbench", "examples", "plugin")
        # The source tree must not be what makes the builds below work.
        cls.env = {k: v for k, v in os.environ.items()
                   if k not in ("CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH", "CPATH", "C_INCLUDE_PATH",
                                "DESTDIR", "SAICBENCH_DATA")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def test_layout(self):
        for rel in ["bin/saicbench", "bin/saicbench_train"]:
            self.assertTrue(os.access(self.path(rel), os.X_OK), rel)
        for rel in ["include/saicbench/saicbench_codec.h", "share/pkgconfig/saicbench-codec.pc",
                    "share/cmake/saicbench-codec/saicbench-codecConfig.cmake",
                    "share/cmake/saicbench-codec/saicbench-codecConfigVersion.cmake",
                    "share/cmake/saicbench-codec/saicbench-codecTargets.cmake",
                    "share/saicbench/codecs/saic/models/MANIFEST.md",
                    "share/saicbench/tasks/models/MANIFEST.md",
                    "share/doc/saicbench/examples/plugin/example_quantize.c",
                    "share/doc/saicbench/examples/plugin/CMakeLists.txt"]:
            self.assertTrue(os.path.isfile(self.path(rel)), rel)
        with open(os.path.join(ARGS.source, "codecs", "saicbench_codec.h"), "rb") as f, \
                open(self.path("include/saicbench/saicbench_codec.h"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        # Every shipped suite and checkpoint, nothing else.
        for sub, pattern in [("suites", r"\.yaml$"), ("codecs/saic/models", r"\.ckpt$"),
                             ("tasks/models", r"\.ckpt$")]:
            src = sorted(n for n in os.listdir(os.path.join(ARGS.source, sub))
                         if re.search(pattern, n))
            got = sorted(n for n in os.listdir(os.path.join(self.data, sub))
                         if re.search(pattern, n))
            self.assertTrue(src, sub)
            self.assertEqual(got, src, sub)
        for sub in ["suites", "codecs/saic/models", "tasks/models"]:
            for n in os.listdir(os.path.join(self.data, sub)):
                self.assertRegex(n, r"\.(yaml|ckpt)$|^(MANIFEST|README)\.md$", sub)
        p = sh([self.bin, "version"], env=self.env)
        self.assertTrue(p.stdout.strip())

    def test_pkg_config(self):
        if not shutil.which("pkg-config"):
            self.skipTest("no pkg-config")
        env = dict(self.env, PKG_CONFIG_PATH=self.path("share", "pkgconfig"))
        cflags = sh(["pkg-config", "--cflags", "saicbench-codec"], env=env).stdout.split()
        self.assertEqual(len(cflags), 1, cflags)
        self.assertTrue(cflags[0].startswith("-I"))
        self.assertEqual(os.path.realpath(cflags[0][2:]), os.path.realpath(
            self.path("include", "saicbench")))
        self.assertEqual(sh(["pkg-config", "--libs", "saicbench-codec"], env=env).stdout.strip(),
                         "")
        version = sh(["pkg-config", "--modversion", "saicbench-codec"], env=env).stdout.strip()
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        # Build the installed example with nothing but the pkg-config flags.
        so = os.path.join(self.tmp, "pc", "example_quantize.so")
        os.makedirs(os.path.dirname(so))
        sh([ARGS.cc] + cflags + ["-std=c11", "-O2", "-Wall", "-Werror", "-shared", "-fPIC",
                                 "-fvisibility=hidden", "-o", so,
                                 os.path.join(self.example, "example_quantize.c")], env=env)
        self.use_plugin(so, "pc")

    def test_cmake_package(self):
        build = os.path.join(self.tmp, "cmake-build")
        sh([ARGS.cmake, "-S", self.example, "-B", build, "-G", ARGS.generator,
            "-DCMAKE_PREFIX_PATH=" + self.prefix, "-DCMAKE_C_COMPILER=" + ARGS.cc,
            "-DCMAKE_BUILD_TYPE=Release"], env=self.env)
        sh([ARGS.cmake, "--build", build], env=self.env)
        so = os.path.join(build, "example_quantize.so")
        self.assertTrue(os.path.isfile(so))
        self.use_plugin(so, "cmake")
        # The package's version file: 0.x satisfies 0.1, refuses 1.0.
        proj = os.path.join(self.tmp, "cmake-version")
        os.makedirs(proj)
        with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.16)\nproject(v LANGUAGES NONE)\n"
                    "find_package(saicbench-codec 1.0 REQUIRED)\n")
        p = sh([ARGS.cmake, "-S", proj, "-B", os.path.join(proj, "b"), "-G", ARGS.generator,
                "-DCMAKE_PREFIX_PATH=" + self.prefix], env=self.env, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("saicbench-codec", p.stderr)

    def use_plugin(self, so, tag):
        """The installed saicbench lists the plugin and runs it on 2 Kodak images."""
        p = sh([self.bin, "codecs", "--plugin", so], env=self.env)
        names = [l.split()[0] for l in p.stdout.splitlines() if l and not l.startswith(" ")]
        self.assertIn(PLUGIN_CODEC, names, p.stdout)
        self.assertIn("plugin: ", p.stdout)
        kodak = os.path.join(ARGS.shared or "", "kodak")
        if not (ARGS.shared and os.path.isdir(kodak)):
            kodak = os.path.join(self.tmp, "synthetic-kodak")
            if not os.path.isdir(kodak):
                os.makedirs(kodak)
                for i in range(2):
                    write_png(os.path.join(kodak, "kodim%02d.png" % (i + 1)), 96, 64, i)
        db = os.path.join(self.tmp, "plugin-%s.db" % tag)
        sh([self.bin, "run", "--data", kodak, "--limit", "2", "--db", db, "--quiet", "--plugin",
            so, "--codec", "%s:bits=2,6" % PLUGIN_CODEC], env=self.env)
        con = sqlite3.connect(db)
        rows = con.execute(
            "SELECT c.codec, c.plugin_path, count(*), sum(r.error IS NULL), min(r.psnr), "
            "max(r.psnr) FROM results r JOIN points p ON p.id = r.point_id "
            "JOIN codecs c ON c.id = p.codec_id GROUP BY c.id").fetchall()
        status = con.execute("SELECT status FROM runs").fetchone()[0]
        con.close()
        self.assertEqual(status, "complete")
        self.assertEqual(len(rows), 1)
        codec, plugin_path, n, n_ok, lo, hi = rows[0]
        self.assertEqual(codec, PLUGIN_CODEC)
        self.assertEqual(plugin_path, so)
        self.assertEqual((n, n_ok), (4, 4))  # 2 images x 2 knob values
        self.assertGreater(hi, lo)

    def test_installed_suites_resolve(self):
        """Relative paths in the installed suites point at installed files."""
        suites = os.path.join(self.data, "suites")
        n_refs = 0
        for name in sorted(os.listdir(suites)):
            with open(os.path.join(suites, name), encoding="utf-8") as f:
                # Without comments (the suites' format notes mention `!path` too).
                text = re.sub(r"(?m)(^|\s)#.*$", "", f.read())
            refs = re.findall(r"!path\s+([^\s,}]+)", text)
            refs += re.findall(r"^\s*(?:-\s+)?checkpoint:\s*([^\s#]+)", text, re.M)
            refs += [p for line in re.findall(r"^plugins:\s*\[(.*)\]", text, re.M)
                     for p in line.split(",")]
            for ref in refs:
                ref = ref.strip().strip("'\"")
                full = os.path.normpath(os.path.join(suites, ref))
                self.assertTrue(full.startswith(self.prefix + os.sep), (name, ref))
                self.assertTrue(os.path.isfile(full), "%s: %s -> %s" % (name, ref, full))
                n_refs += 1
        self.assertGreater(n_refs, 0)

    def test_installed_quick_suite_runs(self):
        """The installed quick suite, run from another folder on one tiny image per dataset:
        every codec (the SAIC checkpoints via ../codecs/saic/models) and task loads."""
        data = os.path.join(self.tmp, "tiny")
        os.makedirs(os.path.join(data, "kodak"))
        write_png(os.path.join(data, "kodak", "kodim01.png"), 48, 32, 1)
        for ci, c in enumerate(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                "horse", "ship", "truck"]):
            os.makedirs(os.path.join(data, "cifar10", "test", c))
            write_png(os.path.join(data, "cifar10", "test", c, "0000.png"), 32, 32, ci)
        db = os.path.join(self.tmp, "quick.db")
        sh([self.bin, "run", os.path.join(self.data, "suites", "quick.yaml"), "--data", data,
            "--limit", "1", "--db", db, "--quiet"], env=self.env, cwd=self.tmp)
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT status FROM runs").fetchone()[0], "complete")
        codecs = [r[0] for r in con.execute("SELECT codec FROM codecs")]
        self.assertIn("saic", codecs)
        errors = con.execute("SELECT count(*) FROM results WHERE error IS NOT NULL").fetchone()[0]
        self.assertEqual(errors, 0)
        for (ckpt,) in con.execute("SELECT checkpoint FROM tasks"):
            self.assertTrue(os.path.isfile(ckpt if os.path.isabs(ckpt) else
                                           os.path.join(self.data, "suites", ckpt)), ckpt)
        self.assertGreater(con.execute("SELECT count(*) FROM task_results").fetchone()[0], 0)
        con.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for a in ["--build", "--source", "--cmake", "--generator", "--cc"]:
        ap.add_argument(a, required=True)
    ap.add_argument("--shared")
    ARGS, rest = ap.parse_known_args()
    ARGS.build, ARGS.source = os.path.abspath(ARGS.build), os.path.abspath(ARGS.source)
    if ARGS.shared:
        ARGS.shared = os.path.abspath(ARGS.shared)
    unittest.main(argv=[sys.argv[0], "-v"] + rest)


if __name__ == "__main__":
    main()
