"""End-to-end tests of `saicbench gate`: a pass case (candidate = baseline settings), fail cases
(a degraded candidate: the example quantize plugin at the same bpp targets; JPEG with its quality
capped; a codec whose encode or decode is not deterministic) and error cases (bad suites, unknown
codec, bad baseline run), each checking the exit status and the verdict files.

Usage: python3 test_gate.py SAICBENCH QUANTIZE_PLUGIN FLAKY_PLUGIN CHECKPOINT SHARED_DATASETS
Runs with Debian's python3; writes only into a temporary folder. 30 real CIFAR-10 test images
(3 per class), so each gate takes about a second. Exit 77 (skipped) without the datasets.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SAICBENCH = QUANTIZE = FLAKY = CKPT = SHARED = None
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
PER_CLASS = 3

# The grid: JPEG quality values for the knob (the default baseline is JPEG) and file-bpp targets
# that JPEG reaches on 32x32 images (its smallest file is about 5.1 bpp).
SUITE = """\
name: gate-test
datasets:
  - name: mini
    path: mini
tasks:
  - name: resnet20
    checkpoint: %s
codecs:
  - {codec: jpeg, knob: [50]}
gate:
  baseline: jpeg:subsampling=444
  knob: [5, 10, 20, 40, 70, 95]
  bpp: [5.5, 6.5, 8]
  min_bpp: 6
  max_bpp: 9
  tolerance_se: 2
  accuracy_floor: 0.01
  si_norm_tol: 0.02
  min_bd_accuracy: -1
  max_bd_rate: 5
  not_comparable: warn
  determinism_images: 3
"""


def run(args, check=None):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, timeout=300)
    if check is not None and p.returncode != check:
        raise AssertionError("saicbench %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p


def checks(verdict, name, status=None):
    return [c for c in verdict["checks"]
            if c["check"] == name and (status is None or c["status"] == status)]


class GateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_gate_")
        cls.data = os.path.join(cls.tmp, "data")
        for c in CLASSES:
            dst = os.path.join(cls.data, "mini", c)
            os.makedirs(dst)
            src = os.path.join(SHARED, "cifar10", "test", c)
            for name in sorted(os.listdir(src))[:PER_CLASS]:
                shutil.copy(os.path.join(src, name), os.path.join(dst, name))
        cls.suite = cls.path("suite.yaml")
        with open(cls.suite, "w") as f:
            f.write(SUITE % CKPT)
        # The pass case, shared: its database is the baseline run of another test.
        cls.pass_out = cls.path("pass")
        cls.pass_run = cls.gate(["--candidate", "jpeg:subsampling=444"], cls.pass_out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def gate(cls, args, out, suite=None):
        return run(["gate", "--suite", suite or cls.suite, "--data", cls.data, "--out", out,
                    "--threads", "2", "--quiet"] + args)

    def verdict(self, out):
        with open(os.path.join(out, "verdict.json")) as f:
            return json.load(f)

    def test_pass_same_settings(self):
        p = self.pass_run
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("verdict: PASS", p.stdout)
        v = self.verdict(self.pass_out)
        self.assertEqual((v["verdict"], v["exit_status"]), ("pass", 0))
        self.assertEqual(v["summary"]["fail"], 0)
        self.assertEqual(v["candidate"]["spec"], "jpeg:subsampling=444")
        self.assertEqual(v["baseline"]["spec"], "jpeg:subsampling=444")
        self.assertEqual(v["candidate"]["run"], v["baseline"]["run"])
        self.assertEqual(v["thresholds"]["tolerance_se"], 2)
        for name in ["rate range", "failed images", "encode determinism", "decode determinism"]:
            self.assertEqual([c["status"] for c in checks(v, name)], ["pass"], name)
        # Same codec, same settings, same images: every per-point difference is exactly 0, at
        # all 6 knob values and 3 targets, and BD-accuracy is exactly 0.
        for name in ["accuracy", "si_norm"]:
            rows = checks(v, name)
            self.assertEqual(len(rows), 9, name)
            self.assertTrue(all(c["status"] == "pass" and c["value"] == 0 for c in rows), rows)
            self.assertTrue(all(c["limit"] < 0 for c in rows))
            # The paired bootstrap interval of identical per-image results is exactly [0, 0].
            self.assertTrue(all(c["ci95_lo"] == 0 and c["ci95_hi"] == 0 for c in rows), rows)
        self.assertEqual([(c["status"], c["value"]) for c in checks(v, "BD-accuracy")],
                         [("pass", 0)])
        # BD-rate at equal accuracy needs accuracy strictly increasing with rate; on 30 images
        # the curve can be flat between two knob values (then: not comparable, a warning).
        bd_rate = [(c["status"], c["value"]) for c in checks(v, "BD-rate")]
        self.assertIn(bd_rate, ([("pass", 0)], [("warn", None)]))
        with open(os.path.join(self.pass_out, "verdict.md")) as f:
            md = f.read()
        self.assertIn("# Gate verdict: PASS", md)
        self.assertIn("| BD-rate | mini | resnet20 |", md)
        # The decoded files of the two processes are there to inspect.
        det = os.path.join(self.pass_out, "determinism")
        self.assertTrue(os.listdir(os.path.join(det, "decoded-1")))
        self.assertEqual(sorted(os.listdir(os.path.join(det, "decoded-1"))),
                         sorted(os.listdir(os.path.join(det, "decoded-2"))))

    def test_baseline_from_an_earlier_run(self):
        db = os.path.join(self.pass_out, "gate.db")
        out = self.path("by_run")
        p = self.gate(["--candidate", "jpeg:subsampling=444", "--baseline", "1",
                       "--baseline-label", "baseline", "--db", db], out)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        v = self.verdict(out)
        self.assertEqual((v["baseline"]["run"], v["baseline"]["label"]), (1, "baseline"))
        self.assertIsNone(v["baseline"]["spec"])
        self.assertEqual(v["candidate"]["run"], 2)
        self.assertEqual([c["value"] for c in checks(v, "BD-accuracy")], [0])
        # That run holds two codecs: which one must be said. A run that is not there is an error.
        p = self.gate(["--candidate", "jpeg", "--baseline", "1", "--db", db], self.path("x1"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--baseline-label", p.stderr)
        self.assertIn("baseline, candidate", p.stderr)
        p = self.gate(["--candidate", "jpeg", "--baseline", "99", "--db", db], self.path("x2"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("99", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.path("x2"), "verdict.json")))

    def test_fail_degraded_codec_at_equal_rate(self):
        # The example plugin quantizes every sample to `bits` bits: at the same file bpp it keeps
        # far less of what the classifier needs than JPEG. Its own knob grid is given in the spec;
        # the gate's bpp targets apply to it as to the baseline.
        out = self.path("quantize")
        p = self.gate(["--candidate", "quantize:bits=1,2,3,4,5", "--plugin", QUANTIZE], out)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("verdict: FAIL", p.stdout)
        v = self.verdict(out)
        self.assertEqual((v["verdict"], v["exit_status"]), ("fail", 1))
        self.assertEqual(v["candidate"]["codec"], "quantize")
        # Range and determinism are fine: the failure is accuracy.
        for name in ["rate range", "encode determinism", "decode determinism"]:
            self.assertEqual([c["status"] for c in checks(v, name)], ["pass"], name)
        # Knob values of different codecs are not compared; bpp targets are.
        self.assertEqual([c["point"] for c in checks(v, "accuracy")],
                         ["bpp 5.5", "bpp 6.5", "bpp 8"])
        self.assertTrue(checks(v, "points", "skip"))
        failed = checks(v, "accuracy", "fail")
        self.assertIn("bpp 8", [c["point"] for c in failed])
        for c in failed:
            self.assertLess(c["value"], c["limit"])
            # Paired interval of candidate - baseline on the same images: contains the
            # difference, and a codec that much worse lies entirely below 0.
            self.assertLessEqual(c["ci95_lo"], c["value"])
            self.assertLessEqual(c["value"], c["ci95_hi"])
            self.assertLess(c["ci95_hi"], 0)
            self.assertIn("paired 95% CI", c["detail"])
        bd = checks(v, "BD-accuracy")
        self.assertEqual(len(bd), 1)
        self.assertEqual(bd[0]["status"], "fail")
        self.assertLess(bd[0]["value"], -1)

    def test_fail_capped_quality_misses_rate_range(self):
        # JPEG with its quality capped at 5: a grid that never reaches max_bpp.
        out = self.path("capped")
        p = self.gate(["--candidate", "jpeg:subsampling=444:quality=1,2,3,4,5:bpp=5.5"], out)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        v = self.verdict(out)
        rng = checks(v, "rate range")
        self.assertEqual(rng[0]["status"], "fail")
        self.assertLess(rng[0]["value"], 6.0)  # lowest mean bpp is fine...
        self.assertIn("..", rng[0]["value_text"])  # ...the highest is below 9
        # The one knob value both grids share (5) is compared and equal.
        self.assertEqual([(c["point"], c["value"]) for c in checks(v, "accuracy")],
                         [("knob 5", 0), ("bpp 5.5", 0)])

    def test_fail_nondeterministic_codec(self):
        for defect, name in [("decode", "decode determinism"), ("encode", "encode determinism")]:
            out = self.path("flaky_" + defect)
            p = self.gate(["--candidate", "flaky:level=1,2,4,8:defect=" + defect, "--plugin",
                           FLAKY], out)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            v = self.verdict(out)
            self.assertEqual([c["status"] for c in checks(v, name)], ["fail"], defect)
            self.assertNotEqual(checks(v, name)[0]["value"], 0)
        # Without the defect the same codec is deterministic.
        out = self.path("flaky_none")
        self.gate(["--candidate", "flaky:level=1,2,4,8", "--plugin", FLAKY], out)
        v = self.verdict(out)
        self.assertEqual([c["status"] for c in checks(v, "decode determinism")], ["pass"])
        self.assertEqual([c["status"] for c in checks(v, "encode determinism")], ["pass"])

    def test_errors(self):
        def bad_suite(name, text):
            path = self.path(name)
            with open(path, "w") as f:
                f.write(text)
            return path

        base = SUITE % CKPT
        cases = [
            (bad_suite("bad_number.yaml", base.replace("min_bpp: 6", "min_bpp: six")),
             "bad_number.yaml:14:12: gate.min_bpp"),
            (bad_suite("bad_key.yaml", base.replace("min_bpp: 6", "min_bps: 6")),
             "gate: unknown key 'min_bps'"),
            (bad_suite("bad_range.yaml", base.replace("max_bpp: 9", "max_bpp: 1")),
             "min_bpp 6 is above max_bpp 1"),
            (bad_suite("no_gate.yaml", base[:base.index("gate:")]), "no 'gate:' mapping"),
            (bad_suite("gate_list.yaml", base[:base.index("gate:")] + "gate: [1, 2]\n"),
             "gate: expected a mapping"),
            (self.path("missing.yaml"), "missing.yaml"),
        ]
        for suite, message in cases:
            out = self.path("err_" + os.path.basename(suite))
            p = self.gate(["--candidate", "jpeg"], out, suite=suite)
            self.assertEqual(p.returncode, 2, (suite, p.stdout, p.stderr))
            self.assertIn(message, p.stderr)
            self.assertFalse(os.path.exists(os.path.join(out, "verdict.json")))
        # A .ckpt path is shorthand for the learned codec (here refused before the missing model
        # is opened: this suite's knob grid is JPEG's).
        p = self.gate(["--candidate", "codecs/saic/models/x.ckpt"], self.path("err_saic"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("candidate 'codecs/saic/models/x.ckpt'", p.stderr)
        self.assertIn("saic:rate=", p.stderr)
        # A knob grid that does not fit the candidate's codec is named.
        p = self.gate(["--candidate", "quantize", "--plugin", QUANTIZE], self.path("err_knob"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("bits=10 outside 1..8", p.stderr)
        p = run(["gate"], check=2)
        self.assertIn("--candidate", p.stderr)
        p = run(["gate", "--help"], check=0)
        self.assertIn("usage: saicbench gate", p.stdout)

    def test_plain_run_ignores_the_gate_mapping(self):
        db = self.path("plain.db")
        run(["run", self.suite, "--data", self.data, "--db", db, "--quiet", "--limit", "2"],
            check=0)


if __name__ == "__main__":
    SAICBENCH, QUANTIZE, FLAKY, CKPT = (os.path.abspath(a) for a in sys.argv[1:5])
    SHARED = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
    if not SHARED or not os.path.isdir(os.path.join(SHARED, "cifar10", "test")):
        print("skipped: no CIFAR-10 test folder under %s" % SHARED)
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v"])
