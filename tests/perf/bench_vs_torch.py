#!/usr/bin/python3
"""Driver: the nn/ core (bench_classifier) against PyTorch (bench_classifier_torch.py) on the
registry classifier architectures, same thread count, batch and steps.

PyTorch runs three ways: torch = NCHW (contiguous), torch-cl = channels_last
(bench_classifier_torch.py --channels-last: network and input converted) and torch-jit = the
network traced and frozen, NCHW (--jit: BN folded and weights pre-packed once; inference only);
--nchw-only runs torch alone (--channels-last is accepted and does nothing). For each round and
architecture it runs the C benchmark, then torch, torch-cl and torch-jit, each as a separate
process (interleaved, so slow drifts of the machine hit every side alike), with
OMP_NUM_THREADS=threads for all and OPENBLAS_NUM_THREADS=1 for torch. It checks that all
networks have the same parameter count, then prints per architecture and measure (train step,
inference, input gradient; images/s) the C median, and per torch variant its median and the
ratio C/variant of the medians with [min, max] of the per-round ratios, each side with its [min,
max] over the rounds; then C/best, the ratio against the fastest variant that has the measure:
C median / the largest torch median, with [min, max] of the per-round ratios C / the fastest
variant of that round (absent with --nchw-only); then the
exact commands. Ratios > 1: C is faster. Exits non-zero if a child fails or the parameter
counts differ.

usage: /usr/bin/python3 bench_vs_torch.py BUILD/tests/perf/bench_classifier
           [--arch resnet32-w16 --arch vgg-s] [--rounds 5] [--threads 2] [--batch 128]
           [--steps 20] [--warmup 3] [--nchw-only] [--python /usr/bin/python3]
Not a test: run it on a quiet machine (it takes a few minutes at the defaults).
"""
import argparse
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MEASURES = ("train", "infer", "igrad")
MEASURE_TEXT = {"train": "train step", "infer": "inference", "igrad": "input gradient"}


def run(cmd, env_extra):
    """Runs one benchmark process; returns {(label, arch, item): value}."""
    return benchlib.run_measures(cmd, env_extra, "bench_vs_torch")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench_classifier", help="path to the bench_classifier binary")
    ap.add_argument("--arch", action="append",
                    help="architecture (repeatable; default resnet32-w16, the task network, and vgg-s)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--nchw-only", action="store_true",
                    help="run torch in NCHW only (no torch-cl column, no C/best)")
    ap.add_argument("--channels-last", action="store_true",
                    help="no-op, kept for old command lines: torch-cl runs by default")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the torch side (default Debian's, with python3-torch)")
    a = ap.parse_args()
    archs = a.arch or ["resnet32-w16", "vgg-s"]
    if a.rounds < 1 or a.threads < 1 or a.batch < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("rounds, threads, batch, steps must be >= 1 and warmup >= 0")

    common = ["--threads", str(a.threads), "--batch", str(a.batch), "--steps", str(a.steps),
              "--warmup", str(a.warmup)]
    c_env = {"OMP_NUM_THREADS": str(a.threads)}
    t_env = {"OMP_NUM_THREADS": str(a.threads), "OPENBLAS_NUM_THREADS": "1"}
    torch_script = os.path.join(HERE, "bench_classifier_torch.py")
    labels = ["torch"] + ([] if a.nchw_only else ["torch-cl", "torch-jit"])

    def command(side, arch):
        """(env, argv) of one process; torch must match the C network's parameter count."""
        if side == "c":
            return c_env, [a.bench_classifier, "--arch", arch] + common
        cmd = [a.python, torch_script, "--arch", arch] + common
        if side == "torch-cl":
            cmd.append("--channels-last")
        if side == "torch-jit":
            cmd.append("--jit")
        return t_env, cmd + ["--expect-params", str(params[("c", arch)])]

    sides = ["c"] + labels
    results = {(s, arch, m): [] for s in sides for arch in archs for m in MEASURES}
    params = {}
    shown = {}
    for r in range(a.rounds):
        for arch in archs:
            for side in sides:
                env, cmd = command(side, arch)
                print(f"round {r + 1}/{a.rounds}: {side} {arch} ...", file=sys.stderr, flush=True)
                out = run(cmd, env)
                shown[(side, arch)] = f"{benchlib.env_text(env)} {shlex.join(cmd)}"
                np_ = out.get((side, arch, "params"))
                if np_ is None:
                    sys.exit(f"bench_vs_torch: no parameter count from {shlex.join(cmd)}")
                params[(side, arch)] = int(np_)
                for m in MEASURES:
                    if (side, arch, m) in out:
                        results[(side, arch, m)].append(out[(side, arch, m)])
                    elif side != "torch-jit" or m == "infer":  # the frozen graph only infers
                        sys.exit(f"bench_vs_torch: no '{m}' result from {shlex.join(cmd)}")
            mism = [s for s in sides if params[(s, arch)] != params[("c", arch)]]
            if mism:
                sys.exit(f"bench_vs_torch: {arch}: parameter counts differ: " +
                         ", ".join(f"{s} {params[(s, arch)]}" for s in sides))

    print(f"\nnn/ (C, oneDNN) vs PyTorch: threads {a.threads}, batch {a.batch}, "
          f"{a.steps} timed steps after {a.warmup} warm-up per process, {a.rounds} rounds "
          f"(processes interleaved); images/s, median [min, max]; ratio = C median / torch "
          f"median [min, max of the per-round ratios]")
    print("torch = NCHW, torch-cl = channels_last, torch-jit = NCHW traced and frozen "
          "(inference only)" +
          ("" if len(labels) == 1 else "; C/best = C median / the fastest torch variant's median "
           "[min, max of C / the fastest variant of each round]"))
    for arch in archs:
        print(f"\n{arch}: parameters " + ", ".join(f"{s} {params[(s, arch)]}" for s in sides))
        head = f"  {'measure':<15} {'C':>24}"
        for lab in labels:
            head += f" {lab:>24} {'C/' + lab:>21}"
        if len(labels) > 1:
            head += f" {'C/best':>21}"
        print(head)
        for m in MEASURES:
            cv = results[("c", arch, m)]
            line = f"  {MEASURE_TEXT[m]:<15} {cell(cv):>24}"
            for lab in labels:
                tv = results[(lab, arch, m)]
                if not tv:
                    line += f" {'-':>24} {'-':>21}"
                    continue
                ratio = statistics.median(cv) / statistics.median(tv)
                per_round = [c / t for c, t in zip(cv, tv)]
                line += (f" {cell(tv):>24} {ratio:>6.2f}x [{min(per_round):.2f}, "
                         f"{max(per_round):.2f}]")
            if len(labels) > 1:
                tvs = [results[(lab, arch, m)] for lab in labels if results[(lab, arch, m)]]
                ratio = statistics.median(cv) / max(statistics.median(tv) for tv in tvs)
                per_round = [c / max(ts) for c, ts in zip(cv, zip(*tvs))]
                line += f" {ratio:>6.2f}x [{min(per_round):.2f}, {max(per_round):.2f}]"
            print(line)
    print("\ncommands (one process each, per round):")
    for arch in archs:
        for s in sides:
            print(f"  {shown[(s, arch)]}")
    return 0


def cell(v):
    return f"{statistics.median(v):.1f} [{min(v):.1f}, {max(v):.1f}]"


if __name__ == "__main__":
    sys.exit(main())
