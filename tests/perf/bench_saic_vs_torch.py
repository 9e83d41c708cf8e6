#!/usr/bin/python3
"""Driver: the SAIC codec in C (bench_saic) against the same model in PyTorch
(bench_saic_torch.py), same thread count, batch, steps and durations.

PyTorch runs three ways: torch = NCHW (contiguous), torch-cl = channels_last
(bench_saic_torch.py --channels-last: model and inputs converted) and torch-jit = NCHW on traced,
frozen graphs (--jit; inference measures only). Each round runs, per thread count (--threads,
repeatable; default 1 and 2), the C benchmark, then torch, torch-cl and torch-jit, each as a
separate process (interleaved c, torch, torch-cl, torch-jit, c, ... so slow drifts of the machine hit
every side alike), every one of them with OMP_NUM_THREADS=threads and the same --threads, and
OPENBLAS_NUM_THREADS=1 for torch (OMP_WAIT_POLICY is passed on from the environment; set it to
passive on a shared machine). Without --model a random model is made once (bench_saic
--save-model, in a temporary folder removed at the end) and every C run uses it; torch always
uses random weights (speed does not depend on them). The torch model gets the C model's n, m
and levels and must have the same parameter count in both layouts.

It prints one table per thread count: per measure the C codec median (label c:
saic_codec_encode/decode, WITH range coding; the training step is saic_train_step + Adam), the
C networks-only median (c-net: g_a + gain + rounding, inverse gain + g_s: what torch times), the
torch, torch-cl and torch-jit medians, each [min, max] over the rounds; then the ratios C/torch,
C/torch-cl, C/torch-jit, C/best and C-net/best as throughputs (images/s; for the ms measures torch ms / C
ms), so > 1 means C is faster, with [min, max] of the per-round ratios. "best" is the faster
torch variant: C/best = C median / the fastest of the torch variants' medians, its [min, max]
over the per-round ratios against the faster layout of that round. Then the exact commands.
Exits non-zero if a child fails or the parameter counts differ.

Equal threads: the C codec (label c) runs 32x32 images on one thread whatever --threads says
(SAIC_CODEC_MIN_PIXELS_MT in codecs/saic/saic.h: below 65,536 pixels the fork/join costs more
than it gains), while c-net and torch use all the threads; so the 1-thread table is the
like-for-like one at 32x32 (at 768x512 and in the training step all sides use --threads).

usage: /usr/bin/python3 bench_saic_vs_torch.py BUILD/tests/perf/bench_saic [--rounds 3]
           [--threads 1 --threads 2] [--seconds 1] [--big-reps 3] [--batch 32] [--steps 10]
           [--warmup 2] [--model CODEC.ckpt] [--task CKPT] [--image PNG] [--no-train]
           [--python /usr/bin/python3]
Not a test: run it on a quiet machine (a round is three processes per thread count, about
25-40 s per thread count at the defaults).
"""
import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KODIM01 = os.path.normpath(os.path.join(ROOT, "../shared/datasets/kodak/kodim01.png"))
# (item, text, unit); items ending in -ms are times (lower is better).
MEASURES = [("encode-32x32", "encode 32x32", "img/s"),
            ("decode-32x32", "decode 32x32", "img/s"),
            ("encode-768x512-ms", "encode 768x512", "ms"),
            ("decode-768x512-ms", "decode 768x512", "ms")]


def run(cmd, env_extra):
    """Runs one benchmark process; returns {(label, item): value} of its "saic" lines."""
    return {(label, item): v
            for (label, name, item), v in benchlib.run_measures(cmd, env_extra,
                                                                "bench_saic_vs_torch").items()
            if name == "saic"}


def cell(v):
    if not v:
        return "-"
    prec = 2 if statistics.median(v) < 100 else 1
    return f"{statistics.median(v):.{prec}f} [{min(v):.{prec}f}, {max(v):.{prec}f}]"


def ratio_cell(cv, tvs, is_time):
    """Throughput ratio C / torch of the medians and [min, max] of the per-round ratios, against
    the faster of the torch series in tvs (one series: C/torch; several: C/best), taken on the
    medians for the ratio and per round for [min, max]."""
    tvs = [tv for tv in tvs if tv]  # torch-jit has no training step
    if not cv or not tvs:
        return "-"
    best = min if is_time else max  # ms: lower is faster
    tmed = best(statistics.median(tv) for tv in tvs)
    tround = [best(ts) for ts in zip(*tvs)]
    if is_time:
        med = tmed / statistics.median(cv)
        per = [t / c for c, t in zip(cv, tround)]
    else:
        med = statistics.median(cv) / tmed
        per = [c / t for c, t in zip(cv, tround)]
    return f"{med:.2f}x [{min(per):.2f}, {max(per):.2f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench_saic", help="path to the bench_saic binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, action="append",
                    help="thread count of every side (repeatable, one table each; default 1 and 2)")
    ap.add_argument("--seconds", type=float, default=1.0, help="per 32x32 measure")
    ap.add_argument("--big-reps", type=int, default=3, help="768x512: best of this many")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--model", help="codec checkpoint for the C side (default: a random model)")
    ap.add_argument("--n", type=int, default=64, help="random model: transform width")
    ap.add_argument("--m", type=int, default=96, help="random model: latent channels")
    ap.add_argument("--levels", type=int, default=4, help="random model: gain levels")
    ap.add_argument("--task", default=os.path.join(ROOT, "tasks/models/classifier_resnet32.ckpt"),
                    help="frozen classifier checkpoint for the C training step")
    ap.add_argument("--image", default=KODIM01,
                    help="768x512 picture for the C codec (its tiles are the 32x32 images)")
    ap.add_argument("--no-train", action="store_true", help="skip the training step")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the torch side (default Debian's, with python3-torch)")
    a = ap.parse_args()
    threads = list(dict.fromkeys(a.threads or [1, 2]))  # in order, without repeats
    if (a.rounds < 1 or min(threads) < 1 or a.big_reps < 1 or a.batch < 1 or a.steps < 1
            or a.warmup < 0 or not a.seconds > 0):
        ap.error("rounds, threads, big-reps, batch, steps must be >= 1, warmup >= 0, seconds > 0")

    common = ["--seconds", str(a.seconds), "--big-reps", str(a.big_reps), "--batch",
              str(a.batch), "--steps", str(a.steps), "--warmup",
              str(a.warmup)] + (["--no-train"] if a.no_train else [])
    wait = {}
    if os.environ.get("OMP_WAIT_POLICY"):  # passed on anyway; named so the commands show it
        wait["OMP_WAIT_POLICY"] = os.environ["OMP_WAIT_POLICY"]
    c_env = {t: dict({"OMP_NUM_THREADS": str(t)}, **wait) for t in threads}
    t_env = {t: dict({"OMP_NUM_THREADS": str(t), "OPENBLAS_NUM_THREADS": "1"}, **wait)
             for t in threads}
    torch_script = os.path.join(HERE, "bench_saic_torch.py")
    train_item = f"train-b{a.batch}"
    measures = MEASURES + ([] if a.no_train else
                           [(train_item, f"train step b{a.batch}", "img/s")])
    sides = ("c", "c-net", "torch", "torch-cl", "torch-jit")
    layouts = ("torch", "torch-cl", "torch-jit")

    tmp = None
    model = a.model
    try:
        if model is None:
            tmp = tempfile.mkdtemp(prefix="bench_saic_vs_torch_")
            cmd = [a.bench_saic, "--save-model", tmp, "--n", str(a.n), "--m", str(a.m),
                   "--levels", str(a.levels)]
            print(f"making a random model: {shlex.join(cmd)} ...", file=sys.stderr, flush=True)
            p = subprocess.run(cmd, env=dict(os.environ, **c_env[max(threads)]),
                               stdout=subprocess.PIPE, text=True)
            if p.returncode != 0 or not p.stdout.strip():
                sys.exit(f"bench_saic_vs_torch: cannot make the random model: {shlex.join(cmd)}")
            model = p.stdout.strip().splitlines()[-1]

        def c_cmd(t):
            return ([a.bench_saic, "--model", model, "--task", a.task, "--image", a.image,
                     "--threads", str(t)] + common)

        def t_cmd(t, lab):
            return ([a.python, torch_script, "--n", cfg[0], "--m", cfg[1], "--levels", cfg[2],
                     "--expect-params", str(params["c"]), "--threads", str(t)] + common +
                    (["--channels-last"] if lab == "torch-cl" else []) +
                    (["--jit"] if lab == "torch-jit" else []))

        results = {(t, s, item): [] for t in threads for s in sides for item, _, _ in measures}
        params, shown, cfg = {}, {}, None
        for r in range(a.rounds):
            for t in threads:
                cmd = c_cmd(t)
                print(f"round {r + 1}/{a.rounds}, threads {t}: c ...", file=sys.stderr,
                      flush=True)
                out = run(cmd, c_env[t])
                shown[(t, "c")] = f"{benchlib.env_text(c_env[t])} {shlex.join(cmd)}"
                if (("c", "params") not in out
                        or any(("c", k) not in out for k in ("n", "m", "levels"))):
                    sys.exit(f"bench_saic_vs_torch: no parameter count / configuration from "
                             f"{shlex.join(cmd)}")
                params["c"] = int(out[("c", "params")])
                cfg = [str(int(out[("c", k)])) for k in ("n", "m", "levels")]
                for lab in layouts:
                    cmd = t_cmd(t, lab)
                    print(f"round {r + 1}/{a.rounds}, threads {t}: {lab} ...", file=sys.stderr,
                          flush=True)
                    tout = run(cmd, t_env[t])
                    shown[(t, lab)] = f"{benchlib.env_text(t_env[t])} {shlex.join(cmd)}"
                    params[lab] = int(tout.get((lab, "params"), -1))
                    if params[lab] != params["c"]:
                        sys.exit(f"bench_saic_vs_torch: parameter counts differ: c "
                                 f"{params['c']}, {lab} {params[lab]}")
                    out.update(tout)
                for item, _, _ in measures:
                    for s in sides:
                        if (s, item) in out:
                            results[(t, s, item)].append(out[(s, item)])
                    for s in ("c",) + layouts:
                        if (s, item) not in out and not (s == "torch-jit" and item == train_item):
                            sys.exit(f"bench_saic_vs_torch: no '{s} {item}' result")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nSAIC codec, C (nn/ on oneDNN) vs PyTorch: n {cfg[0]} m {cfg[1]} levels {cfg[2]} "
          f"({params['c']} parameters), threads {', '.join(map(str, threads))} (one table each, "
          f"every side at that count), {a.rounds} rounds (processes interleaved); median "
          f"[min, max] over the rounds; ratio = C / torch throughput (> 1: C faster) of the "
          f"medians [min, max of the per-round ratios]")
    print("c = the codec (saic_codec_encode/decode, including range coding; train: "
          "saic_train_step + Adam); c-net = networks only (g_a + gain + rint; inverse gain + "
          "g_s), as torch")
    print("torch = NCHW, torch-cl = channels_last, torch-jit = NCHW traced and frozen graphs "
          "(inference only); best = the fastest torch variant (of the "
          "medians; per round for [min, max])")
    print("the C codec (c) runs 32x32 images on one thread whatever the thread count "
          "(SAIC_CODEC_MIN_PIXELS_MT): at 32x32 the 1-thread table is the like-for-like one")
    print(f"32x32: one image per call, {a.seconds:g} s per measure; 768x512: best of "
          f"{a.big_reps}; train: batch {a.batch}, {a.steps} steps after {a.warmup}, full SAIC "
          f"loss (alpha 0.5, gamma 0.03, GSW on x_hat) + Adam")
    for t in threads:
        print(f"\nthreads {t}:")
        print(f"  {'measure':<16} {'unit':<6} {'C codec':>26} {'C nets':>26} {'torch':>26} "
              f"{'torch-cl':>26} {'torch-jit':>26} {'C/torch':>20} {'C/torch-cl':>20} "
              f"{'C/torch-jit':>20} {'C/best':>20} "
              f"{'C-net/best':>20}")
        for item, text, unit in measures:
            cv, nv = results[(t, "c", item)], results[(t, "c-net", item)]
            tvs = [results[(t, lab, item)] for lab in layouts]
            is_time = item.endswith("-ms")
            print(f"  {text:<16} {unit:<6} {cell(cv):>26} {cell(nv):>26} {cell(tvs[0]):>26} "
                  f"{cell(tvs[1]):>26} {cell(tvs[2]):>26} "
                  f"{ratio_cell(cv, tvs[:1], is_time):>20} "
                  f"{ratio_cell(cv, tvs[1:2], is_time):>20} "
                  f"{ratio_cell(cv, tvs[2:], is_time):>20} {ratio_cell(cv, tvs, is_time):>20} "
                  f"{ratio_cell(nv, tvs, is_time):>20}")
    print("\ncommands (one process each, per round):")
    for t in threads:
        for s in ("c",) + layouts:
            print(f"  {shown[(t, s)]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
