"""Soak test: several concurrent runs on one database, killed with SIGKILL at random moments and
resumed, must end exactly as the same runs made without interruption.

Four ad-hoc runs (JPEG, WebP and JPEG 2000 knob grids, and JPEG at bpp targets, which uses rate
control) write into one database at the same time. A killer sends SIGKILL to a random running
one every 20-150 ms (--kills times in all, default 20) and restarts it with --resume. When the
kills are spent, every run is resumed until it completes. Then:
- each command has exactly one run in the database, complete;
- no unit is stored twice, and every unit of the plan is there;
- every stored value (bytes, knob, bpp, PSNR, SSIM, MS-SSIM, errors) is identical, unit by
  unit, to the same run made uninterrupted in a database of its own;
- PRAGMA integrity_check is ok.

Usage: python3 test_soak.py SAICBENCH [--kills N] [--seed S] [--keep DIR]
Standard-library python3 only; writes only into a temporary folder.
"""
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from test_hardening import write_png  # the same folder: a small PNG writer

CODECS = [
    ["jpeg:quality=5,15,30,50,70,85,95"],
    ["webp:quality=5,25,50,75,95"],
    ["jpeg2000:ratio=4,8,16,32,64"],
    ["jpeg:bpp=0.5,1,2"],
]


def env():
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("SLURM_", "SAICBENCH_", "JOB_COMPLETION"))}
    e["OMP_WAIT_POLICY"] = "passive"
    return e


def command(exe, data, db, codec, resume):
    args = [exe, "run", "--data", data, "--db", db, "--threads", "1", "--quiet"]
    for c in codec:
        args += ["--codec", c]
    return args + (["--resume"] if resume else [])


def units(db):
    """Every stored unit as {(codec spec label, point kind, point value, image name): values}."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute(
        "SELECT r.id, c.label, p.kind, p.value, i.name, x.bytes, x.stream_bytes, x.knob, x.bpp,"
        " x.psnr, x.ssim, x.ms_ssim, x.error, x.target_unreachable"
        " FROM results x JOIN points p ON p.id = x.point_id JOIN codecs c ON c.id = p.codec_id"
        " JOIN runs r ON r.id = c.run_id JOIN images i ON i.id = x.image_id").fetchall()
    runs = con.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    out, dup = {}, 0
    for r in rows:
        key = (r[1], r[2], r[3], r[4])
        dup += key in out
        out[key] = r[5:]
    return out, runs, integrity, dup


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("saicbench")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="work in this folder (emptied first) and keep it")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    work = a.keep or tempfile.mkdtemp(prefix="sb_soak_")
    if a.keep:  # start from nothing
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    failures = []
    try:
        data = os.path.join(work, "images")
        os.makedirs(data, exist_ok=True)
        for i in range(40):
            write_png(os.path.join(data, "img%02d.png" % i), 192 + 8 * (i % 3), 128, i)

        # The reference: each run alone and uninterrupted.
        ref = os.path.join(work, "ref.db")
        for codec in CODECS:
            subprocess.run(command(a.saicbench, data, ref, codec, False), env=env(), check=True,
                           capture_output=True, timeout=600)
        want, ref_runs, _, _ = units(ref)

        # The soak: all four at once, killed and resumed.
        db = os.path.join(work, "soak.db")
        procs = [subprocess.Popen(command(a.saicbench, data, db, c, False), env=env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for c in CODECS]
        # The first start of each must create its run before a kill, or a resume would have
        # nothing to continue: wait until the database has all four runs.
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
                n = con.execute("SELECT count(*) FROM runs").fetchone()[0]
                con.close()
                if n == len(CODECS):
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.02)
        kills = 0
        while kills < a.kills:
            time.sleep(rnd.uniform(0.02, 0.15))
            live = [i for i, p in enumerate(procs) if p.poll() is None]
            if not live:
                break
            i = rnd.choice(live)
            procs[i].kill()
            procs[i].wait()
            kills += 1
            procs[i] = subprocess.Popen(command(a.saicbench, data, db, CODECS[i], True),
                                        env=env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        for i, p in enumerate(procs):
            out, err = p.communicate(timeout=600)
            if p.returncode != 0:
                failures.append("run %d exited %d: %s" % (i, p.returncode, err.decode()[-500:]))
        print("soak: %d kills" % kills)
        if kills < a.kills:
            failures.append("only %d kills before every run completed (workload too small)"
                            % kills)

        got, runs, integrity, dup = units(db)
        if integrity != "ok":
            failures.append("integrity_check: %s" % integrity)
        if len(runs) != len(CODECS) or any(s != "complete" for _, s in runs):
            failures.append("runs: %r (want %d complete runs, one per command)"
                            % (runs, len(CODECS)))
        if dup:
            failures.append("%d units stored twice" % dup)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        if missing or extra:
            failures.append("%d units missing, %d extra (e.g. %r)"
                            % (len(missing), len(extra), (missing or extra)[:3]))
        differ = [k for k in want if k in got and got[k] != want[k]]
        if differ:
            failures.append("%d units differ from the uninterrupted run, e.g. %r: %r vs %r"
                            % (len(differ), differ[0], got[differ[0]], want[differ[0]]))
        print("soak: %d runs, %d units compared with the uninterrupted runs (%d reference runs)"
              % (len(runs), len(want), len(ref_runs)))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    print("soak: %s" % ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
