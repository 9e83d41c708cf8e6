#!/usr/bin/env python3
"""Markdown tables of a stored run at its bpp targets, as in docs/results.md.

One row per (target, codec) of one dataset: mean file bpp, unreachable images, mean PSNR, mean
SSIM, then either the accuracy of each task network (--tasks) or mean MS-SSIM (--ms-ssim).
Codecs appear in the suite's order. Reads only the database (views point_summary and
task_point_summary, docs/schema.md), so the table is exactly what the run stored.

  python3 scripts/results_table.py --db nightly.db --dataset cifar10-test \\
      --tasks resnet32,vgg-s-heldout --name 'saic=**saic** (SAIC)'
"""
import argparse
import sqlite3
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="result database (saicbench run --db)")
    ap.add_argument("--run", type=int, help="run id (default: the latest)")
    ap.add_argument("--dataset", required=True, help="dataset name in the suite")
    ap.add_argument("--tasks", default="", help="comma-separated task names: accuracy columns")
    ap.add_argument("--ms-ssim", action="store_true", help="add a mean MS-SSIM column")
    ap.add_argument("--name", action="append", default=[],
                    help="LABEL=TEXT: show codec LABEL as TEXT (repeatable)")
    a = ap.parse_args()
    names = {}
    for n in a.name:
        if "=" not in n:
            sys.exit(f"results_table: --name wants LABEL=TEXT, got {n!r}")
        k, v = n.split("=", 1)
        names[k] = v
    tasks = [t for t in a.tasks.split(",") if t]

    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    run = a.run
    if run is None:
        row = db.execute("SELECT max(id) FROM runs").fetchone()
        if not row or row[0] is None:
            sys.exit(f"results_table: {a.db}: no runs stored")
        run = row[0]
    rows = db.execute(
        "SELECT point_value, codec, mean_bpp, n_unreachable, n, mean_psnr, mean_ssim, "
        "mean_ms_ssim, point_id, codec_id FROM point_summary WHERE run_id = ? AND dataset = ? "
        "AND point_kind = 'bpp' ORDER BY point_value, codec_id", (run, a.dataset)).fetchall()
    if not rows:
        sys.exit(f"results_table: {a.db}: run {run} has no bpp targets for dataset {a.dataset!r}")
    acc = {}
    for t in tasks:
        got = db.execute(
            "SELECT point_id, accuracy FROM task_point_summary WHERE run_id = ? AND dataset = ? "
            "AND task = ?", (run, a.dataset, t)).fetchall()
        if not got:
            sys.exit(f"results_table: {a.db}: run {run} has no results of task {t!r} on {a.dataset!r}")
        acc[t] = dict(got)

    head = ["target", "codec", "bpp (file)", "unreachable", "PSNR", "SSIM"]
    head += ["MS-SSIM"] if a.ms_ssim else []
    head += [f"acc. {t}" for t in tasks]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for target, codec, bpp, unr, n, psnr, ssim, msssim, pid, _ in rows:
        cells = [f"{target:g}", names.get(codec, codec), f"{bpp:.4f}", f"{unr}/{n}",
                 f"{psnr:.2f}", f"{ssim:.4f}"]
        if a.ms_ssim:
            cells.append(f"{msssim:.4f}")
        for t in tasks:
            v = acc[t].get(pid)
            cells.append("—" if v is None else f"{100 * v:.2f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
