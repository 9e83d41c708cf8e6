#!/usr/bin/python3
"""Paired bootstrap (metrics/metrics.h) against an independent NumPy implementation.

usage: /usr/bin/python3 test_pboot_numpy.py PATH/TO/pboot_cli

The NumPy side shares only the definition of the index stream (SplitMix64, Lemire's
multiply-shift), vectorised here; the statistics are computed its own way: accuracy from boolean
arrays, SI_norm from np.histogram2d counts via entropies with np.log2, percentiles with
np.percentile (default linear method). Checked on generated data where B is better than A, on a
B identical to A (interval [0, 0]), and on a tiny sample. No try/except around imports: a missing
numpy fails the test.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def indices(seed, rounds, n):
    """All rounds x n indices of the C stream: state_k = seed + k * golden (mod 2^64)."""
    with np.errstate(over="ignore"):
        k = np.arange(1, rounds * n + 1, dtype=np.uint64)
        z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        nn = np.uint64(n)
        hi = (z >> np.uint64(32)) * nn
        lo = ((z & np.uint64(0xFFFFFFFF)) * nn) >> np.uint64(32)
        return ((hi + lo) >> np.uint64(32)).astype(np.int64).reshape(rounds, n)


def entropy_bits(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def si_norm(orig, dec, k):
    joint, _, _ = np.histogram2d(orig, dec, bins=k, range=[[0, k], [0, k]])
    h_o = entropy_bits(joint.sum(axis=1))
    h_d = entropy_bits(joint.sum(axis=0))
    h_od = entropy_bits(joint.ravel())
    return max(h_o + h_d - h_od, 0.0) / h_o


def reference(lab, orig, pa, pb, qa, qb, k, rounds, seed, level):
    def stats(ix):
        acc = np.mean(pb[ix] == lab[ix]) - np.mean(pa[ix] == lab[ix])
        si = si_norm(orig[ix], pb[ix], k) - si_norm(orig[ix], pa[ix], k)
        ps = np.mean(qb[ix]) - np.mean(qa[ix])
        return acc, si, ps

    full = stats(np.arange(len(lab)))
    boot = np.array([stats(ix) for ix in indices(seed, rounds, len(lab))])
    q = [100 * (1 - level) / 2, 100 * (1 - (1 - level) / 2)]
    out = {}
    for j, name in enumerate(["accuracy", "si_norm", "psnr"]):
        lo, hi = np.percentile(boot[:, j], q)
        out[name] = (full[j], lo, hi)
    return out


def run_cli(cli, lab, orig, pa, pb, qa, qb, k, rounds, seed, level):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "in.txt"
        with open(path, "w") as f:
            f.write(f"{len(lab)} {k} {rounds} {seed} {level}\n")
            for row in zip(lab, orig, pa, pb, qa, qb):
                f.write("%d %d %d %d %.17g %.17g\n" % row)
        out = subprocess.run([cli, str(path)], capture_output=True, text=True, check=True).stdout
    return {ln.split()[0]: tuple(float(v) for v in ln.split()[1:]) for ln in out.splitlines()}


def case(cli, name, rng, n, k, rounds, seed, level, identical=False):
    lab = rng.integers(0, k, n)
    # The originals are mostly right; B keeps more of them than A.
    orig = np.where(rng.random(n) < 0.85, lab, rng.integers(0, k, n))
    pa = np.where(rng.random(n) < 0.45, orig, rng.integers(0, k, n))
    pb = pa.copy() if identical else np.where(rng.random(n) < 0.60, orig, rng.integers(0, k, n))
    qa = 18 + 3 * rng.random(n)
    qb = qa.copy() if identical else qa + rng.normal(-0.2, 0.5, n)
    got = run_cli(cli, lab, orig, pa, pb, qa, qb, k, rounds, seed, level)
    want = reference(lab, orig, pa, pb, qa, qb, k, rounds, seed, level)
    bad = 0
    for stat in ("accuracy", "si_norm", "psnr"):
        g, w = np.array(got[stat]), np.array(want[stat])
        err = float(np.max(np.abs(g - w)))
        ok = err <= 1e-9
        print(f"{name}: {stat}: C {g.round(6).tolist()} numpy {w.round(6).tolist()} "
              f"max |diff| {err:.2e} {'ok' if ok else 'MISMATCH'}")
        bad += not ok
        if identical and not np.all(g == 0):
            print(f"{name}: {stat}: identical codecs must give exactly 0: {g.tolist()}")
            bad += 1
        if not identical and not (g[1] <= g[0] <= g[2]):
            print(f"{name}: {stat}: the estimate {g[0]} is outside its interval")
            bad += 1
    return bad


def main():
    cli = sys.argv[1]
    rng = np.random.default_rng(7)
    bad = 0
    bad += case(cli, "n=3000 k=10", rng, 3000, 10, 400, 20261206, 0.95)
    bad += case(cli, "n=500 k=10 level 0.9", rng, 500, 10, 300, 1, 0.9)
    bad += case(cli, "identical", rng, 400, 10, 100, 5, 0.95, identical=True)
    bad += case(cli, "n=40 k=4", rng, 40, 4, 200, 99, 0.95)
    print(f"{4 * 3 - bad} passed, {bad} failed" if bad else "all paired-bootstrap checks passed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
