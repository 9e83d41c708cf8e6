"""BD-rate of WebP and JPEG 2000 against JPEG in a saicbench database (newest run): saicbench's
own bd (through tests/bd/bd_cli) next to an independent SciPy computation (PchipInterpolator +
quad), on the knob points sorted by rate. With --operational, each curve is first reduced to its
operational points (those whose metric beats every cheaper point) -- a repair saicbench's
reports never make.

usage: /usr/bin/python3 scripts/bd_check.py DB build/tests/bd/bd_cli [--operational]"""
import sqlite3, subprocess, sys
import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.integrate import quad

db, bd_cli = sys.argv[1], sys.argv[2]
operational = '--operational' in sys.argv[3:]
con = sqlite3.connect(db)
run = con.execute("SELECT max(id) FROM runs").fetchone()[0]

def curve(ds, codec, metric, task=None):
    if task is None:
        q = f"""SELECT a.mean_bpp, a.{metric} FROM aggregates a JOIN points p ON p.id=a.point_id
               JOIN codecs c ON c.id=p.codec_id JOIN datasets d ON d.id=a.dataset_id
               WHERE c.run_id=? AND d.name=? AND c.label=? AND p.kind='knob' ORDER BY a.mean_bpp"""
        rows = con.execute(q, (run, ds, codec)).fetchall()
    else:
        q = """SELECT a.mean_bpp, 100*ta.accuracy FROM task_aggregates ta JOIN tasks t ON t.id=ta.task_id
               JOIN aggregates a ON a.point_id=ta.point_id AND a.dataset_id=ta.dataset_id
               JOIN points p ON p.id=ta.point_id JOIN codecs c ON c.id=p.codec_id
               JOIN datasets d ON d.id=ta.dataset_id
               WHERE c.run_id=? AND d.name=? AND c.label=? AND p.kind='knob' AND t.name=?
               ORDER BY a.mean_bpp"""
        rows = con.execute(q, (run, ds, codec, task)).fetchall()
    if operational:
        kept = []
        for r, m in rows:
            if kept and r == kept[-1][0]:
                kept[-1] = (r, max(m, kept[-1][1]))
            elif not kept or m > kept[-1][1]:
                kept.append((r, m))
        rows = kept
    return np.array(rows, dtype=float)

def scipy_bd_rate(a, t):
    # log-rate as a function of the metric, integrated over the overlap of the metric ranges
    if len(a) < 4 or len(t) < 4: return "fewer than 4 points"
    for c in (a, t):
        if np.any(np.diff(c[:, 1]) <= 0): return "not monotone"
    lo, hi = max(a[:, 1].min(), t[:, 1].min()), min(a[:, 1].max(), t[:, 1].max())
    if hi <= lo: return "no overlap"
    fa = PchipInterpolator(a[:, 1], np.log10(a[:, 0])); ft = PchipInterpolator(t[:, 1], np.log10(t[:, 0]))
    ia = quad(fa, lo, hi, limit=200)[0]; it = quad(ft, lo, hi, limit=200)[0]
    return (10 ** ((it - ia) / (hi - lo)) - 1) * 100

def scipy_bd_metric(a, t):
    if len(a) < 4 or len(t) < 4: return "fewer than 4 points"
    la, lt = np.log10(a[:, 0]), np.log10(t[:, 0])
    lo, hi = max(la.min(), lt.min()), min(la.max(), lt.max())
    if hi <= lo: return "no overlap"
    fa = PchipInterpolator(la, a[:, 1]); ft = PchipInterpolator(lt, t[:, 1])
    return (quad(ft, lo, hi, limit=200)[0] - quad(fa, lo, hi, limit=200)[0]) / (hi - lo)

def ours(a, t):
    s = lambda c: " ".join("%.17g %.17g" % (r, m) for r, m in c)
    out = subprocess.run([bd_cli, s(a), s(t)], capture_output=True, text=True).stdout.strip()
    return out

def fmt(v): return "%.4f" % v if isinstance(v, float) else v

for ds, metric, task, label in [("kodak", "mean_psnr", None, "PSNR"),
                                ("cifar10-test", "mean_psnr", None, "PSNR"),
                                ("cifar10-test", None, "resnet32", "accuracy (resnet32)"),
                                ("cifar10-test", None, "vgg-s-heldout", "accuracy (vgg-s)")]:
    anchor = curve(ds, "jpeg", metric, task)
    for codec in ["webp", "jpeg2000"]:
        t = curve(ds, codec, metric, task)
        print(f"{ds:13s} {label:20s} {codec:9s} saicbench: {ours(anchor, t):40s} scipy: BD-rate {fmt(scipy_bd_rate(anchor, t))}  BD-metric {fmt(scipy_bd_metric(anchor, t))}")
