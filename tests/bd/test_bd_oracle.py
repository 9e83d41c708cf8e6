#!/usr/bin/python3
"""Oracle test for metrics/bd.c: compare bd_cli against SciPy.

usage: /usr/bin/python3 test_bd_oracle.py PATH/TO/bd_cli

The expected values are computed independently here: each curve sorted by rate, x = log10(rate),
the interpolant scipy.interpolate.PchipInterpolator (log-rate over the metric for BD-rate, the
metric over log-rate for BD-metric), integrated exactly with PPoly.integrate over the overlap
and cross-checked with scipy.integrate.quad. The "not comparable" decisions are made here too,
by the rules of metrics/metrics.h, and must match the CLI's status text.

Cases: 400 random monotone curve pairs (4-12 points, PSNR/SSIM/accuracy-like scales, random
overlaps, shuffled point order), non-monotone and flat curves (BD-metric only), duplicate rates,
too few points, invalid values, touching ranges; real curves: Kodak JPEG / WebP / JPEG 2000 from
this project and four-point HEVC-style curves. Numbers must agree within
max(REL_TOL * |value|, ABS_TOL); the largest disagreement is printed.

Deliberately no try/except around the imports: if numpy or scipy is missing the test must
fail, not skip.
"""
import math
import subprocess
import sys

import numpy as np
import scipy
from scipy.integrate import quad
from scipy.interpolate import PchipInterpolator

REL_TOL = 1e-9
ABS_TOL = 1e-9  # percent for BD-rate, metric units for BD-metric

# Must match bd_status_text() in metrics/bd.c.
TEXT = {
    "few": "not comparable: fewer than 4 points",
    "nooverlap": "not comparable: the curves do not overlap",
    "nonmono": "not comparable: duplicate rates or metric not increasing with rate",
    "invalid": "invalid input: NULL, too many points, non-finite value or rate <= 0",
}

# Kodak (24 images), mean per-image PSNR, from this project's runs: (bpp, dB).
KODAK_JPEG = [(0.327, 26.67), (0.508, 29.14), (0.660, 30.49), (0.786, 31.42), (0.906, 32.17),
              (1.037, 32.91), (1.239, 33.92), (1.570, 35.37), (2.346, 38.03), (3.392, 40.56)]
KODAK_WEBP = [(0.109, 25.85), (0.296, 29.15), (0.407, 30.41), (0.513, 31.44), (0.621, 32.42),
              (0.722, 33.24), (0.824, 33.97), (0.934, 34.69), (1.216, 36.37), (2.010, 39.56),
              (2.928, 41.76)]
KODAK_J2K = [(0.124, 27.01), (0.249, 29.25), (0.499, 32.18), (0.999, 36.00), (1.997, 40.80),
             (3.997, 47.06)]
# Four-point curves of the HEVC common-test-conditions kind (kbps, dB), as circulated with
# open-source BD-rate scripts; the expected values come from SciPy here, not from those scripts.
HEVC_A1 = [(686.76, 40.28), (309.58, 37.18), (157.11, 34.24), (85.95, 31.42)]
HEVC_T1 = [(893.34, 40.39), (407.8, 37.21), (204.93, 34.17), (112.75, 31.24)]
HEVC_A2 = [(9487.76, 40.037), (4593.60, 38.615), (2486.44, 36.845), (1358.24, 34.851)]
HEVC_T2 = [(9787.80, 40.121), (4469.00, 38.651), (2451.52, 36.970), (1356.24, 34.987)]
# CIFAR-10-like JPEG 2000 curve whose lowest settings decode to the same image (flat metric).
CIFAR_J2K_FLAT = [(1.02, 17.91), (1.05, 17.91), (1.31, 19.40), (1.77, 21.95), (2.60, 25.10)]
CIFAR_JPEG = [(0.95, 18.20), (1.21, 20.10), (1.64, 22.40), (2.35, 25.30), (3.40, 28.60)]

branches = {"interior_zero": 0, "edge_zero": 0, "edge_3m0": 0, "interior": 0, "edge_3pt": 0}


def count_branches(x, y):
    """Which PCHIP slope rules this curve uses (to show the random set covers all of them)."""
    h = np.diff(x)
    m = np.diff(y) / h
    for k in range(1, len(x) - 1):
        if np.sign(m[k - 1]) != np.sign(m[k]) or m[k - 1] == 0 or m[k] == 0:
            branches["interior_zero"] += 1
        else:
            branches["interior"] += 1
    for h0, h1, m0, m1 in ((h[0], h[1], m[0], m[1]), (h[-1], h[-2], m[-1], m[-2])):
        d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        if np.sign(d) != np.sign(m0):
            branches["edge_zero"] += 1
        elif np.sign(m0) != np.sign(m1) and abs(d) > 3 * abs(m0):
            branches["edge_3m0"] += 1
        else:
            branches["edge_3pt"] += 1


def oracle_integral(x, y, lo, hi):
    """Exact integral of SciPy's PCHIP over [lo, hi], checked against adaptive quadrature."""
    p = PchipInterpolator(x, y, extrapolate=False)
    exact = float(p.integrate(lo, hi))
    inner = [v for v in x if lo < v < hi]
    q, _ = quad(lambda t: float(p(t)), lo, hi, points=inner or None, limit=200,
                epsabs=1e-12, epsrel=1e-11)
    if abs(q - exact) > 1e-10 * (1.0 + abs(exact)):
        raise AssertionError(f"oracle self-check: quad {q!r} vs integrate {exact!r}")
    return exact


def expected(anchor, test, kind):
    """('ok', value) or (status key, None) by the rules of metrics/metrics.h."""
    if len(anchor) < 4 or len(test) < 4:
        return "few", None
    for c in (anchor, test):
        for r, m in c:
            if not (math.isfinite(r) and math.isfinite(m) and r > 0):
                return "invalid", None
    curves = []
    for c in (anchor, test):
        pts = sorted(c, key=lambda p: p[0])
        r = np.array([p[0] for p in pts])
        m = np.array([p[1] for p in pts])
        if np.any(np.diff(r) <= 0):
            return "nonmono", None
        if kind == "rate" and np.any(np.diff(m) <= 0):
            return "nonmono", None
        lr = np.log10(r)
        x, y = (m, lr) if kind == "rate" else (lr, m)
        if np.any(np.diff(x) <= 0):
            return "nonmono", None
        curves.append((x, y))
    lo = max(curves[0][0][0], curves[1][0][0])
    hi = min(curves[0][0][-1], curves[1][0][-1])
    if not hi > lo:
        return "nooverlap", None
    for x, y in curves:
        count_branches(x, y)
    ia = oracle_integral(*curves[0], lo, hi)
    it = oracle_integral(*curves[1], lo, hi)
    avg = (it - ia) / (hi - lo)
    val = (10.0 ** avg - 1.0) * 100.0 if kind == "rate" else avg
    if not math.isfinite(val):
        return "invalid", None
    return "ok", val


# ---------------------------------------------------------------- random curves

SCALES = [  # (metric base range, metric gain per decade of rate): PSNR, SSIM, accuracy %
    ((24.0, 34.0), (6.0, 14.0)),
    ((0.70, 0.90), (0.05, 0.20)),
    ((20.0, 60.0), (10.0, 40.0)),
]


def random_lr(rng, n, lo, span):
    while True:
        lr = np.sort(rng.uniform(lo, lo + span, n))
        if np.min(np.diff(lr)) > 0.02 * span / n:
            return lr


def random_pair(rng, mode):
    """Anchor and test curves sampling one rate/quality law, the test shifted in log-rate and
    metric, with its own sample points and range. mode: mono, nonmono or flat."""
    (b_lo, b_hi), (g_lo, g_hi) = SCALES[rng.integers(len(SCALES))]
    base = rng.uniform(b_lo, b_hi)
    gain = rng.uniform(g_lo, g_hi)
    span = rng.uniform(0.4, 2.0)
    start = rng.uniform(-1.5, 0.5)
    curves = []
    for role in ("anchor", "test"):
        n = int(rng.integers(4, 13))
        lo = start if role == "anchor" else start + rng.uniform(-1.1, 1.1) * span
        sp = span * rng.uniform(0.5, 1.5)
        lr = random_lr(rng, n, lo, sp)
        shift = 0.0 if role == "anchor" else rng.uniform(-0.3, 0.3) * gain
        # Increments: the law's slope (concave: it decays along the curve) times a random factor,
        # wide enough to hit PCHIP's edge rules.
        slope = gain * np.exp(-0.6 * (lr[1:] - lr[0])) * rng.uniform(0.2, 3.0, n - 1)
        inc = slope * np.diff(lr)
        if mode == "nonmono":
            flip = rng.random(n - 1) < 0.35
            inc[flip] *= -rng.uniform(0.1, 1.5, flip.sum())
        elif mode == "flat":
            inc[rng.integers(n - 1)] = 0.0
        metric = base + shift + gain * (lr[0] - start) + np.concatenate(([0.0], np.cumsum(inc)))
        pts = [(float(10.0 ** a), float(b)) for a, b in zip(lr, metric)]
        rng.shuffle(pts)
        curves.append(pts)
    return curves[0], curves[1]


def build_cases():
    rng = np.random.default_rng(20240611)
    cases = []
    for i in range(400):
        a, t = random_pair(rng, "mono")
        cases.append((f"random-mono-{i}", a, t))
    for i in range(80):
        a, t = random_pair(rng, "nonmono")
        cases.append((f"random-nonmono-{i}", a, t))
    for i in range(20):
        a, t = random_pair(rng, "flat")
        cases.append((f"random-flat-{i}", a, t))
    for i in range(10):  # a duplicated rate, on one side
        a, t = random_pair(rng, "mono")
        c = a if i % 2 else t
        j = int(rng.integers(len(c)))
        c.append((c[j][0], c[j][1] + 0.5))
        cases.append((f"dup-rate-{i}", a, t))
    for i in range(10):  # too few points
        a, t = random_pair(rng, "mono")
        k = int(rng.integers(0, 4))
        cases.append((f"few-{i}", a[:k] if i % 2 else a, t if i % 2 else t[:k]))
    bad_values = [(0.0, 30.0), (-0.5, 30.0), (float("nan"), 30.0), (float("inf"), 30.0),
                  (0.5, float("nan")), (0.5, float("inf")), (0.5, float("-inf"))]
    for i, bad in enumerate(bad_values):
        a, t = random_pair(rng, "mono")
        (a if i % 2 else t).append(bad)
        cases.append((f"invalid-{i}", a, t))
    # Touching ranges (exactly representable ends): no overlap on either axis.
    cases.append(("touching", [(0.25, 20.0), (0.5, 21.0), (1.0, 22.0), (2.0, 23.0)],
                  [(2.0, 23.0), (4.0, 24.0), (8.0, 25.0), (16.0, 26.0)]))
    # Real curves, every codec as anchor and as test.
    kodak = {"jpeg": KODAK_JPEG, "webp": KODAK_WEBP, "j2k": KODAK_J2K}
    for an, ac in kodak.items():
        for tn, tc in kodak.items():
            cases.append((f"kodak-{tn}-vs-{an}", ac, tc))
    cases += [("hevc-1", HEVC_A1, HEVC_T1), ("hevc-1-swapped", HEVC_T1, HEVC_A1),
              ("hevc-2", HEVC_A2, HEVC_T2), ("hevc-2-swapped", HEVC_T2, HEVC_A2),
              ("cifar-j2k-flat", CIFAR_JPEG, CIFAR_J2K_FLAT)]
    return cases


def fmt_curve(c):
    return " ".join(f"{r!r} {m!r}" for r, m in c)


def parse_field(s):
    try:
        return "ok", float(s)
    except ValueError:
        return s, None


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cli = sys.argv[1]
    cases = build_cases()
    stdin = "".join(f"{fmt_curve(a)} | {fmt_curve(t)}\n" for _, a, t in cases)
    proc = subprocess.run([cli], input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"FAIL: bd_cli exited {proc.returncode}: {proc.stderr}")
        return 1
    lines = proc.stdout.splitlines()
    if len(lines) != len(cases):
        print(f"FAIL: {len(lines)} output lines for {len(cases)} cases")
        return 1

    failures = 0
    numbers = 0
    statuses = {}
    worst_abs = {"rate": (0.0, ""), "metric": (0.0, "")}  # (difference, case)
    worst_rel = {"rate": (0.0, ""), "metric": (0.0, "")}  # over |value| >= 1e-3
    random_mono = {"rate": 0, "metric": 0}  # numeric values from random monotone pairs
    results = {}
    for (name, a, t), line in zip(cases, lines):
        fields = line.split("\t")
        if len(fields) != 2:
            print(f"FAIL {name}: malformed output line {line!r}")
            failures += 1
            continue
        for kind, field in zip(("rate", "metric"), fields):
            got_key, got = parse_field(field)
            want_key, want = expected(a, t, kind)
            results[(name, kind)] = (got, want)
            statuses[want_key] = statuses.get(want_key, 0) + 1
            if want_key != "ok":
                if got_key != TEXT[want_key]:
                    print(f"FAIL {name} BD-{kind}: got {field!r}, want {TEXT[want_key]!r}")
                    failures += 1
                continue
            if got_key != "ok":
                print(f"FAIL {name} BD-{kind}: got {field!r}, want {want!r}")
                failures += 1
                continue
            numbers += 1
            if name.startswith("random-mono-"):
                random_mono[kind] += 1
            err = abs(got - want)
            if err > worst_abs[kind][0]:
                worst_abs[kind] = (err, name)
            if abs(want) >= 1e-3 and err / abs(want) > worst_rel[kind][0]:
                worst_rel[kind] = (err / abs(want), name)
            if not err <= max(REL_TOL * abs(want), ABS_TOL):
                print(f"FAIL {name} BD-{kind}: bd_cli {got!r}, SciPy {want!r} (diff {err:.3g})")
                failures += 1

    # Identical curves must give exactly 0.
    for k in ("jpeg", "webp", "j2k"):
        for kind in ("rate", "metric"):
            got, _ = results[(f"kodak-{k}-vs-{k}", kind)]
            if got != 0.0:
                print(f"FAIL kodak-{k}-vs-{k} BD-{kind}: {got!r}, want exactly 0")
                failures += 1

    # The argv form gives the same line as the batch form.
    one = subprocess.run([cli, fmt_curve(KODAK_JPEG), fmt_curve(KODAK_WEBP)], capture_output=True,
                         text=True, check=False)
    idx = [n for n, _, _ in cases].index("kodak-webp-vs-jpeg")
    if one.returncode != 0 or one.stdout.strip() != lines[idx]:
        print(f"FAIL argv mode: {one.stdout!r} (rc {one.returncode}) vs {lines[idx]!r}")
        failures += 1

    # The random set must exercise every PCHIP slope rule and every status.
    for key, count in branches.items():
        if count == 0:
            print(f"FAIL: no case exercises the PCHIP slope rule {key}")
            failures += 1
    for kind, count in random_mono.items():
        if count < 200:
            print(f"FAIL: only {count} numeric BD-{kind} values from random monotone pairs")
            failures += 1
    for key in ("ok", "few", "nooverlap", "nonmono", "invalid"):
        if statuses.get(key, 0) == 0:
            print(f"FAIL: no case with status {key}")
            failures += 1

    print(f"{len(cases)} curve pairs, {numbers} numeric values compared with SciPy "
          f"{scipy.__version__} (numpy {np.__version__}); of them from random monotone pairs: "
          f"{random_mono}; expected statuses: {statuses}")
    print(f"PCHIP slope rules exercised: {branches}")
    for kind in ("rate", "metric"):
        print(f"max disagreement BD-{kind}: abs {worst_abs[kind][0]:.3g} ({worst_abs[kind][1]}), "
              f"rel {worst_rel[kind][0]:.3g} ({worst_rel[kind][1]}; over |value| >= 1e-3)")
    print("Kodak, anchor JPEG (bd_cli | SciPy):")
    for label, key in (("WebP", "webp"), ("JPEG 2000", "j2k")):
        r, rw = results[(f"kodak-{key}-vs-jpeg", "rate")]
        m, mw = results[(f"kodak-{key}-vs-jpeg", "metric")]
        print(f"  {label:<9}  BD-rate {r:+.4f} % | {rw:+.4f} %   BD-PSNR {m:+.4f} dB | {mw:+.4f} dB")
    for name in ("hevc-1", "hevc-2"):
        r, _ = results[(name, "rate")]
        m, _ = results[(name, "metric")]
        print(f"  {name}: BD-rate {r:+.4f} %, BD-PSNR {m:+.4f} dB")
    if failures:
        print(f"{failures} failure(s)")
        return 1
    print("bd oracle: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
