"""report.html in a real browser: builds a small run with the saicbench binary, writes its report,
opens it in headless Chromium and checks what the browser made of it:

- the live DOM (--dump-dom on a copy of the page with a small checking script added; the report
  itself has no scripts): every plot is an <svg> with a non-zero size and drawn series, every
  example image decoded (naturalWidth > 0) and shown, and no element came out of the hostile
  codec label, dataset name or class name that the test writes into the database; clicking a
  codec's switch (a label for a checkbox, CSS only) hides that codec's series in the plots and
  fades its legend entry;
- a screenshot (1280 px wide): not blank, many colours, the codecs' plot colours present. It is
  kept as OUT_DIR/report_screenshot.png (with the report in OUT_DIR/report/) to look at.

Data: a synthetic plain folder (always) and, when the shared CIFAR-10 copy and the task
checkpoint exist, 20 CIFAR-10 test images in class folders scored by the task.

Usage: python3 test_report_browser.py SAICBENCH CHECKPOINT SHARED_DATASETS OUT_DIR
Exit status 77 (skipped) when /usr/bin/chromium is missing. Needs Debian's python3 with numpy
and PIL.
"""
import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
SAICBENCH = CKPT = SHARED = OUT = None
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
# Hostile strings written into the database after the run: the page must show them as text.
EVIL_CODEC = '<b id="pwn1">jp</b>&"\''
EVIL_DATASET = '<i id="pwn2">synthetic</i><script>document.title="pwned"</script>'
EVIL_CLASS = '<u id="pwn3">cat</u>'
# Tableau 10 colours of the first three codecs (reports/svg_plot.c svg_palette).
PALETTE = [(0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0xE1, 0x57, 0x59)]
# The start of a plot; the other <svg> elements are small marker icons (class "mk").
PLOT_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="plot"'


CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var r = {svgs: [], imgs: [], pwn: document.querySelectorAll('#pwn1,#pwn2,#pwn3').length,
           title: document.title};
  document.querySelectorAll('svg.plot').forEach(function (s) {
    var b = s.getBoundingClientRect();
    r.svgs.push([b.width, b.height, s.querySelectorAll('polyline').length,
                 s.querySelectorAll('circle,rect,path,polygon').length]);
  });
  document.querySelectorAll('img').forEach(function (i) {
    var b = i.getBoundingClientRect();
    r.imgs.push([i.naturalWidth, i.naturalHeight, b.width, b.height]);
  });
  // Codec switch: click the label of the first dataset's first codec; count that codec's
  // visible series groups in the dataset's first plot before and after, and read the opacity
  // of its legend entry.
  var box = document.querySelector('.ds input[type=checkbox]');
  if (box) {
    var cls = 'c' + box.className.substring(1);
    var plot = box.parentNode.querySelector('svg.plot');
    var shown = function () {
      return Array.prototype.filter.call(plot.querySelectorAll('g.' + cls), function (g) {
        return !g.classList.contains('legend') && getComputedStyle(g).display !== 'none';
      }).length;
    };
    var before = shown();
    document.querySelector('label[for="' + box.id + '"]').click();
    var legend = plot.querySelector('g.' + cls + '.legend');
    r.toggle = [before, shown(), box.checked, parseFloat(getComputedStyle(legend).opacity),
                document.querySelectorAll('.ds input[type=checkbox]').length];
  }
  var pre = document.createElement('pre');
  pre.id = 'sbcheck';
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
});
</script>
"""


def esc(s):
    """As the report escapes text: & < > " ' (the apostrophe as &#39;)."""
    return html.escape(s, quote=True).replace("&#x27;", "&#39;")


def run(args, timeout=600):
    p = subprocess.run([SAICBENCH] + args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("saicbench %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p


def chromium(args, timeout=180):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--mute-audio"] + args
    env = dict(os.environ)
    env.setdefault("HOME", tempfile.gettempdir())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def make_synthetic(root, n=4, w=96, h=64):
    os.makedirs(root)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        img = np.stack([xx * 255 // w, yy * 255 // h, (xx * 3 + yy * 5 + 40 * i) % 256], axis=2)
        img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(root, "img%02d.png" % i))


def make_cifar_mini(root, per_class=2):
    for c in CLASSES:
        os.makedirs(os.path.join(root, c))
        src = os.path.join(SHARED, "cifar10", "test", c)
        for name in sorted(os.listdir(src))[:per_class]:
            shutil.copy(os.path.join(src, name), os.path.join(root, c, name))


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_browser_")
        data = os.path.join(cls.tmp, "data")
        make_synthetic(os.path.join(data, "synthetic"))
        cls.with_task = bool(CKPT and os.path.isfile(CKPT) and SHARED and
                             os.path.isdir(os.path.join(SHARED, "cifar10", "test")))
        suite = ["name: browser-test", "datasets:", "  - {name: synthetic, path: synthetic}"]
        if cls.with_task:
            make_cifar_mini(os.path.join(data, "cifar-mini"))
            suite.append("  - {name: cifar-mini, path: cifar-mini}")
        suite += ["codecs:",
                  "  - {codec: jpeg, knob: [10, 30, 50, 70, 90]}",
                  "  - {codec: webp, knob: [0, 25, 50, 75, 100]}",
                  "  - {codec: jpeg2000, knob: [6, 12, 24, 48, 96]}"]
        if cls.with_task:
            suite += ["tasks:", "  - {name: resnet20, checkpoint: %s}" % CKPT]
        path = os.path.join(cls.tmp, "suite.yaml")
        with open(path, "w") as f:
            f.write("\n".join(suite) + "\n")
        db = os.path.join(cls.tmp, "run.db")
        run(["run", path, "--data", data, "--db", db, "--quiet", "--threads", "2"])
        con = sqlite3.connect(db)
        con.execute("UPDATE codecs SET label = ? WHERE label = 'jpeg'", (EVIL_CODEC,))
        con.execute("UPDATE datasets SET name = ? WHERE name = 'synthetic'", (EVIL_DATASET,))
        names = json.dumps([EVIL_CLASS if c == "cat" else c for c in CLASSES])
        con.execute("UPDATE datasets SET class_names = ? WHERE name = 'cifar-mini'", (names,))
        con.commit()
        con.close()
        cls.report = os.path.join(OUT, "report")
        shutil.rmtree(cls.report, ignore_errors=True)
        # The anchor is given explicitly: the jpeg label is hostile now.
        run(["report", "--db", db, "--out", cls.report, "--anchor", "webp"])
        with open(os.path.join(cls.report, "report.html"), encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_source(self):
        # Escaped in the file (never raw); BD tables and strips present.
        def has(text):
            return text in self.html

        for evil in [EVIL_CODEC, EVIL_DATASET, EVIL_CLASS]:
            self.assertFalse(has(evil), "unescaped in report.html: %r" % evil)
        self.assertTrue(has(esc(EVIL_CODEC)) and has(esc(EVIL_DATASET)))
        self.assertTrue(has("ntegaard deltas against webp"))
        self.assertTrue(has("Example images") and not has("Example images left out"))
        # Per dataset 2 images: the original and 3 codecs x 5 knob points each.
        n_pictures = 2 * (1 + 15) * (1 + self.with_task)
        self.assertEqual(self.html.count('src="data:image/png;base64,'), n_pictures)
        if self.with_task:
            self.assertTrue(has("BD-accuracy [pp] (resnet20)"))
            self.assertTrue(has(esc(EVIL_CLASS)))

    def test_live_dom(self):
        page = os.path.join(self.tmp, "checked.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(self.html.replace("</body>", CHECK_SCRIPT + "</body>"))
        p = chromium(["--virtual-time-budget=10000", "--window-size=1280,4000", "--dump-dom",
                      "file://" + page])
        m = re.search(r'<pre id="sbcheck">(.*?)</pre>', p.stdout, re.S)
        self.assertIsNotNone(m, "no check output from chromium:\n" + p.stderr[-2000:])
        r = json.loads(html.unescape(m.group(1)))
        n_svg = self.html.count(PLOT_SVG)
        self.assertGreaterEqual(n_svg, 2 + 4 * self.with_task)  # PSNR, SSIM (+ acc., SI_norm)
        self.assertEqual(len(r["svgs"]), n_svg)
        for w, h, lines, marks in r["svgs"]:
            self.assertGreater(w, 300)
            self.assertGreater(h, 200)
            self.assertGreaterEqual(lines, 3)  # a series per codec at least
            self.assertGreater(marks, 10)
        self.assertEqual(len(r["imgs"]), self.html.count('src="data:image/png;base64,'))
        for nw, nh, w, h in r["imgs"]:
            self.assertTrue(nw > 0 and nh > 0 and w > 0 and h > 0, (nw, nh, w, h))
        self.assertEqual(r["pwn"], 0)
        self.assertNotEqual(r["title"], "pwned")
        before, after, checked, opacity, n_boxes = r["toggle"]
        self.assertEqual(n_boxes, 3 * (1 + self.with_task))  # per dataset, one per codec
        self.assertGreaterEqual(before, 1)
        self.assertEqual(after, 0)
        self.assertFalse(checked)
        self.assertLess(opacity, 0.5)

    def test_screenshot(self):
        shot = os.path.join(OUT, "report_screenshot.png")
        if os.path.exists(shot):
            os.remove(shot)
        p = chromium(["--window-size=1280,4000", "--screenshot=" + shot,
                      "file://" + os.path.join(self.report, "report.html")])
        self.assertTrue(os.path.exists(shot), "no screenshot:\n" + p.stderr[-2000:])
        img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
        self.assertEqual(img.shape[1], 1280)
        flat = img.reshape(-1, 3)
        non_white = (flat < 245).any(axis=1).mean()
        self.assertGreater(non_white, 0.03, "the page looks blank")
        colours = len(np.unique(flat[:: 7] @ np.array([65536, 256, 1])))
        self.assertGreater(colours, 200, "too few colours for plots and pictures")
        for rgb in PALETTE:  # the plot lines and markers of the three codecs
            near = (np.abs(flat - np.array(rgb)).max(axis=1) <= 24).sum()
            self.assertGreater(near, 300, "plot colour %s hardly present" % (rgb,))


def main():
    global SAICBENCH, CKPT, SHARED, OUT
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    SAICBENCH, CKPT, SHARED, OUT = [os.path.abspath(a) for a in sys.argv[1:5]]
    if not os.access(CHROMIUM, os.X_OK):
        print("skipped: %s not installed (apt-get install chromium)" % CHROMIUM)
        return 77
    os.makedirs(OUT, exist_ok=True)
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
