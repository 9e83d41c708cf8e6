"""The suite's `report:` key end to end: `saicbench run SUITE --report DIR` writes the report with
the suite's BD anchor and paired-difference reference; `saicbench report` on that run takes them
from the stored suite text (runs.suite_text) unless --anchor/--reference are given; an ad-hoc run
(no suite file) keeps the report's defaults; a label that is not a codec of the suite stops the
run before it starts, with file:line:col.

Data: four small synthetic PNGs (32x32, no labels); two codecs at knob and bpp grids; when the
task checkpoint exists, a task, so that the paired differences (which need task rows at bpp
targets) are written.

Usage: python3 test_report_suite.py SAICBENCH CHECKPOINT
Needs Debian's python3 with numpy and PIL. A few seconds on one core.
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

SAICBENCH = CKPT = None


def run(args, check=True):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def paired_references(report_dir):
    """The reference column of paired_synth.csv (empty set when the file is missing)."""
    path = os.path.join(report_dir, "paired_synth.csv")
    if not os.path.exists(path):
        return set()
    with open(path, newline="", encoding="utf-8") as f:
        return {row["reference"] for row in csv.DictReader(f)}


class SuiteReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_suite_report_")
        cls.data = os.path.join(cls.tmp, "data")
        synth = os.path.join(cls.data, "synth")
        os.makedirs(synth)
        rng = np.random.default_rng(3)
        yy, xx = np.mgrid[0:32, 0:32]
        for i in range(4):
            img = np.stack([xx * 8, yy * 8, (xx * 5 + yy * 3 + 60 * i) % 256], axis=2)
            img = np.clip(img + rng.normal(0, 10, img.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(os.path.join(synth, "img%d.png" % i))
        cls.with_task = bool(CKPT and os.path.isfile(CKPT))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def suite(self, name, report_lines):
        lines = ["name: %s" % name, "datasets:", "  - {name: synth, path: synth}", "codecs:",
                 "  - {codec: jpeg, knob: [20, 40, 60, 80], bpp: [3, 5]}",
                 "  - {codec: webp, knob: [20, 40, 60, 80], bpp: [3, 5]}"]
        if self.with_task:
            lines += ["tasks:", "  - {name: net, checkpoint: %s}" % CKPT]
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write("\n".join(lines + report_lines) + "\n")
        return path

    def test_run_report_uses_the_suite(self):
        # Both labels differ from the defaults (anchor jpeg; reference = the anchor).
        suite = self.suite("anchored", ["report:", "  anchor: webp", "  reference: jpeg"])
        db = os.path.join(self.tmp, "anchored.db")
        r1 = os.path.join(self.tmp, "r1")
        run(["run", suite, "--data", self.data, "--db", db, "--report", r1, "--quiet",
             "--threads", "1"])
        html = read(os.path.join(r1, "report.html"))
        self.assertIn("ntegaard deltas against webp (knob grids)", html)
        if self.with_task:
            self.assertIn("Paired differences against jpeg", html)
            self.assertEqual(paired_references(r1), {"jpeg"})
        # `saicbench report` on the stored run: the same labels, from runs.suite_text.
        r2 = os.path.join(self.tmp, "r2")
        run(["report", "--db", db, "--out", r2, "--no-images"])
        html = read(os.path.join(r2, "report.html"))
        self.assertIn("ntegaard deltas against webp (knob grids)", html)
        if self.with_task:
            self.assertEqual(paired_references(r2), {"jpeg"})
        # The command line overrides the suite, each label on its own.
        r3 = os.path.join(self.tmp, "r3")
        run(["report", "--db", db, "--out", r3, "--no-images", "--anchor", "jpeg"])
        html = read(os.path.join(r3, "report.html"))
        self.assertIn("ntegaard deltas against jpeg (knob grids)", html)
        if self.with_task:
            self.assertEqual(paired_references(r3), {"jpeg"})  # still the suite's reference
            r4 = os.path.join(self.tmp, "r4")
            run(["report", "--db", db, "--out", r4, "--no-images", "--reference", "webp"])
            self.assertIn("ntegaard deltas against webp", read(os.path.join(r4, "report.html")))
            self.assertEqual(paired_references(r4), {"webp"})

    def test_defaults_without_the_key(self):
        suite = self.suite("plain", [])
        db = os.path.join(self.tmp, "plain.db")
        r = os.path.join(self.tmp, "plain-report")
        run(["run", suite, "--data", self.data, "--db", db, "--report", r, "--quiet",
             "--threads", "1", "--limit", "2"])
        self.assertIn("ntegaard deltas against jpeg (knob grids)",
                      read(os.path.join(r, "report.html")))
        # An ad-hoc run: its stored text is no suite file; the defaults apply.
        adhoc_db = os.path.join(self.tmp, "adhoc.db")
        ra = os.path.join(self.tmp, "adhoc-report")
        run(["run", "--data", os.path.join(self.data, "synth"), "--codec",
             "webp:quality=20,40,60,80", "--codec", "jpeg:quality=20,40,60,80", "--db", adhoc_db,
             "--report", ra, "--quiet", "--threads", "1", "--limit", "2"])
        self.assertIn("ntegaard deltas against jpeg (knob grids)",
                      read(os.path.join(ra, "report.html")))

    def test_unknown_label_stops_the_run(self):
        suite = self.suite("bad", ["report:", "  anchor: jpg"])
        db = os.path.join(self.tmp, "bad.db")
        p = run(["run", suite, "--data", self.data, "--db", db, "--report",
                 os.path.join(self.tmp, "bad-report"), "--quiet"], check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        line = 8 + 2 * self.with_task
        self.assertIn("bad.yaml:%d:11: report.anchor: 'jpg' is not the label of a codec of this "
                      "suite (labels: jpeg, webp)" % line, p.stderr)
        self.assertFalse(os.path.exists(db))


def main():
    global SAICBENCH, CKPT
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    SAICBENCH, CKPT = [os.path.abspath(a) for a in sys.argv[1:3]]
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
