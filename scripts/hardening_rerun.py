#!/usr/bin/env python3
"""Re-runs the findings of the hostile-input review (issue 13) against a saicbench binary and
prints each row's outcome as a markdown table: exit status, wall time, peak memory of the
process (RSS) and the first line of its message.

Usage: python3 scripts/hardening_rerun.py [--saicbench build/saicbench] [--data ../shared/datasets]
Run from the repository root (the shipped SAIC models are read from codecs/saic/models).
Rows that need a crafted binary file (checkpoints with a valid checksum) name the unit test
that re-runs them instead. Standard-library python3 only; writes into a temporary folder.
"""
import argparse
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROWS = []


def rss_of(args, env=None, cwd=None, limit_fsize=None, timeout=300):
    """Runs args in a child, returns (status, seconds, peak RSS MB, first stderr line)."""
    r, w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        if cwd:
            os.chdir(cwd)
        if limit_fsize is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))
        try:
            os.execve(args[0], args, env if env is not None else os.environ)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    deadline = t0 + timeout
    import select
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, 9)
            break
        ready, _, _ = select.select([r], [], [], left)
        if ready:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    text = b"".join(chunks).decode(errors="replace").strip().splitlines()
    return code, wall, ru.ru_maxrss / 1024.0, text[0] if text else ""


def row(severity, what, before, outcome):
    ROWS.append((severity, what, before, outcome))


def fmt(code, wall, rss, msg):
    msg = msg.replace("|", "\\|")
    if len(msg) > 160:
        msg = msg[:157] + "..."
    return "exit %d, %.2f s, %.0f MB: %s" % (code, wall, rss, msg or "(no message)")


def write_png(path, w, h, rows=None):
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    raw = rows if rows is not None else b"".join(b"\0" + bytes(3 * w) for _ in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def zero_png(path, side):
    """A side x side all-black RGB PNG, compressed in pieces (the raw image would be huge)."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    z = zlib.compressobj(9)
    line = b"\0" + bytes(3 * side)
    body = bytearray()
    for _ in range(side):
        body += z.compress(line)
    body += z.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2,
                                                                  0, 0, 0))
                + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b""))


def leb128(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--saicbench", default="build/saicbench")
    ap.add_argument("--data", default="../shared/datasets")
    a = ap.parse_args()
    sb = os.path.abspath(a.saicbench)
    models = os.path.abspath("codecs/saic/models")
    full, mse = os.path.join(models, "saic_full.ckpt"), os.path.join(models, "saic_mse.ckpt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SAICBENCH_"))}
    tmp = tempfile.mkdtemp(prefix="sb_rerun_")
    try:
        # An image and its stream at rate 3 (the review's repro).
        img = os.path.join(a.data, "cifar10", "test", "airplane", "0000.jpg")
        stream = os.path.join(tmp, "s.saic")
        subprocess.run([sb, "encode", img, stream, "--model", full, "--rate", "3"], check=True,
                       capture_output=True)
        data = open(stream, "rb").read()

        # high: a tiny stream declaring 65535 x 65535 pixels. Byte 1 (the check byte) is tried
        # with every value, so that one of them passes the CRC and the size rule is reached.
        worst = None
        for check in range(256):
            big = bytes([0x80 | 3, check]) + leb128(65534) + leb128(65534) + b"\x80"
            p = os.path.join(tmp, "big.saic")
            open(p, "wb").write(big)
            r = rss_of([sb, "decode", p, os.path.join(tmp, "o.png"), "--model", full], env=env)
            if worst is None or r[2] > worst[2] or "pixels" in r[3]:
                worst = r
            if "pixels" in r[3]:
                break
        row("high", "a 9-byte SAIC stream declaring 65535x65535 pixels (every check byte tried)",
            "10.9 GB RSS after 120 s, still running", fmt(*worst))

        # medium: truncation, every cut length.
        accepted = 0
        for cut in range(1, len(data) - 2):
            p = os.path.join(tmp, "cut.saic")
            open(p, "wb").write(data[:len(data) - cut])
            r = subprocess.run([sb, "decode", p, os.path.join(tmp, "o.png"), "--model", full],
                               capture_output=True)
            accepted += r.returncode == 0
        row("medium", "truncations of a %d-byte rate-3 stream, every cut of 1..%d bytes"
            % (len(data), len(data) - 3), "7 of 130 cut lengths decoded (exit 0)",
            "%d of %d decoded; the rest refused" % (accepted, len(data) - 3))

        # medium: YAML nesting.
        for depth in (100000, 1000000):
            suite = os.path.join(tmp, "deep.yaml")
            open(suite, "w").write("name: d\ngate: " + "[" * depth + "]" * depth + "\n")
            r = rss_of([sb, "run", suite, "--data", tmp, "--db", os.path.join(tmp, "d.db")],
                       env=env)
            row("medium", "a gate: value nested %d levels" % depth,
                "40 s" if depth == 100000 else "> 120 s", fmt(*r))

        # medium: a foreign SQLite file (user_version 1) is not taken over.
        foreign = os.path.join(tmp, "foreign.db")
        con = sqlite3.connect(foreign)
        con.execute("PRAGMA user_version = 1")
        con.execute("CREATE TABLE foo(x)")
        con.commit()
        con.close()
        before = open(foreign, "rb").read()
        r = rss_of([sb, "run", "--data", os.path.dirname(img), "--codec", "jpeg:quality=50",
                    "--db", foreign, "--quiet"], env=env)
        row("medium", "a foreign SQLite file with user_version=1 given as --db",
            "exit 0, 11 tables added, WAL switched on",
            fmt(*r) + ("; file unchanged" if open(foreign, "rb").read() == before
                       else "; FILE CHANGED"))

        # low-med: an image that declares 16384 x 16384 pixels in a dataset.
        ds = os.path.join(tmp, "bigimg")
        os.makedirs(ds)
        zero_png(os.path.join(ds, "zero.png"), 16384)
        r = rss_of([sb, "run", "--data", ds, "--codec", "jpeg:quality=50", "--db",
                    os.path.join(tmp, "z.db"), "--quiet", "--threads", "1"], env=env)
        con = sqlite3.connect(os.path.join(tmp, "z.db"))
        err = con.execute("SELECT error FROM images").fetchone()
        con.close()
        row("low-med", "a %d KB all-zero 16384x16384 PNG in a dataset"
            % (os.path.getsize(os.path.join(ds, "zero.png")) // 1024),
            "798 MB per worker thread, then refused",
            fmt(*r) + "; stored error: %s" % (err[0] if err else "none"))

        # low: ulimit -f.
        small = os.path.join(tmp, "small")
        os.makedirs(small)
        for i in range(30):
            shutil.copy(os.path.join(a.data, "cifar10", "test", "cat", "%04d.jpg" % i), small)
        r = rss_of([sb, "run", "--data", small, "--codec", "jpeg:quality=10,50,90", "--db",
                    os.path.join(tmp, "f.db"), "--quiet"], env=env, limit_fsize=200 * 1024)
        row("low", "ulimit -f 200 (200 KiB file size limit) during a run",
            "killed by SIGXFSZ (exit 153), no message", fmt(*r))

        # low: SLURM_ARRAY_TASK_ID=abc.
        e2 = dict(env, SLURM_ARRAY_TASK_ID="abc", SLURM_ARRAY_TASK_COUNT="4")
        r = rss_of([sb, "run", "--data", small, "--codec", "jpeg:quality=50", "--db",
                    os.path.join(tmp, "s.db"), "--quiet"], env=e2)
        row("low", "SLURM_ARRAY_TASK_ID=abc", "read as shard 0, exit 0", fmt(*r))

        # low: another model's stream, and byte 1 flipped.
        r = rss_of([sb, "decode", stream, os.path.join(tmp, "o.png"), "--model", mse], env=env)
        row("low", "a stream of saic_full decoded with saic_mse", "exit 0, garbage", fmt(*r))
        flipped = bytearray(data)
        flipped[1] ^= 0x01
        p = os.path.join(tmp, "flip.saic")
        open(p, "wb").write(bytes(flipped))
        r = rss_of([sb, "decode", p, os.path.join(tmp, "o.png"), "--model", full], env=env)
        row("low", "byte 1 (the check byte) flipped", "exit 0, garbage", fmt(*r))

        # low: a command-line label with a spreadsheet formula.
        r = rss_of([sb, "run", "--data", small, "--codec", 'jpeg:quality=50:label==HYPERLINK("x")',
                    "--db", os.path.join(tmp, "l.db"), "--quiet"], env=env)
        row("low", "--codec jpeg:...:label==HYPERLINK(\"x\")", "the formula lands in points_*.csv",
            fmt(*r))

        # low: suite leniency.
        base = "datasets: [{path: small}]\ncodecs: [{codec: jpeg, knob: [50]}]\n"
        for what, text in [("a repeated name: key", "name: a\nname: b\n" + base),
                           ("a second YAML document", "name: a\n" + base + "---\nname: b\n"),
                           ("knob 0x32", "name: a\ndatasets: [{path: small}]\n"
                                         "codecs: [{codec: jpeg, knob: [0x32]}]\n")]:
            suite = os.path.join(tmp, "lenient.yaml")
            open(suite, "w").write(text)
            r = rss_of([sb, "run", suite, "--data", tmp, "--db", os.path.join(tmp, "x.db"),
                        "--quiet"], env=env)
            row("low", "suite with " + what, "accepted silently", fmt(*r))

        # low: damaged databases are checked (quick_check) by report and merge.
        good = os.path.join(tmp, "good.db")
        subprocess.run([sb, "run", "--data", small, "--codec", "jpeg:quality=50", "--db", good,
                        "--quiet"], check=True, env=env, capture_output=True)
        con = sqlite3.connect(good)
        con.execute("PRAGMA journal_mode=DELETE")
        page = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='aggregates'").fetchone()[0]
        con.close()
        bad = os.path.join(tmp, "bad.db")
        blob = bytearray(open(good, "rb").read())
        blob[(root - 1) * page:(root - 1) * page + 64] = bytes(random.Random(1).randrange(256)
                                                             for _ in range(64))
        open(bad, "wb").write(bytes(blob))
        r = rss_of([sb, "report", "--db", bad, "--out", os.path.join(tmp, "rep")], env=env)
        row("low", "report of a database with a damaged page",
            "29 of 35 damaged databases reported with exit 0", fmt(*r))

        # cosmetic: an unknown image format names more than one byte.
        junk = os.path.join(tmp, "junkimg")
        os.makedirs(junk)
        open(os.path.join(junk, "x.png"), "wb").write(b"GIF89a" + bytes(40))
        subprocess.run([sb, "run", "--data", junk, "--codec", "jpeg:quality=50", "--db",
                        os.path.join(tmp, "j.db"), "--quiet"], env=env, capture_output=True)
        con = sqlite3.connect(os.path.join(tmp, "j.db"))
        err = con.execute("SELECT error FROM images").fetchone()
        con.close()
        row("cosmetic", "an image file that is a GIF", "the message showed one byte",
            "stored error: %s" % (err[0] if err else "none"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    covered = [
        ("medium", "checkpoint with 80,000 one-element tensors (valid checksum)",
         "23 s before refusal", "tests/nn/test_nn_ckpt.c (duplicate names found in linear time)"),
        ("low-med", "222-byte codec checkpoint declaring n = m = 1024",
         "863 MB, 8 s, then \"tensor missing\"",
         "tests/saic/test_saic_codec.c (tensors and shapes checked before any network is built)"),
        ("low", "WAL database on a read-only mount", "\"No such file or directory\"",
         "tests/harness/test_hardening.py test_wal_database_in_read_only_folder"),
        ("low", "plugin results breaking the contract", "stored as given",
         "tests/harness/test_hardening.py test_plugin_that_breaks_the_result_contract"),
        ("low", "classifier with NaN weights or norm_std=1e-45", "accuracy 0 stored, exit 0",
         "tests/tasks/test_tasks_ckpt_sanity.c"),
        ("low", "merge of damaged shards", "4 of 8 accepted",
         "tests/harness/test_hardening.py test_merge_refuses_a_damaged_shard (damaged pages; "
         "rows changed after completion: the run checksum)"),
    ]
    print("| severity | finding | before | now (exit, wall, peak RSS, message) |")
    print("|---|---|---|---|")
    for s, w, b, o in ROWS:
        print("| %s | %s | %s | %s |" % (s, w, b, o))
    for s, w, b, t in covered:
        print("| %s | %s | %s | re-run by %s |" % (s, w, b, t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
