"""Shared by the perf drivers (bench_vs_torch.py, bench_saic_vs_torch.py): running one benchmark
process and reading its machine-readable lines, "LABEL NAME MEASURE VALUE" (lines starting with
'#' are for people)."""
import os
import shlex
import subprocess
import sys


def run_measures(cmd, env_extra, tool):
    """Runs cmd with env_extra added to the environment; returns {(label, name, measure): value}.
    Exits with a message naming `tool` and the command if the child cannot run or fails."""
    env = dict(os.environ, **env_extra)
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    except OSError as e:
        sys.exit(f"{tool}: cannot run {shlex.join(cmd)}: {e}")
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit(f"{tool}: child failed (exit {p.returncode}): {shlex.join(cmd)}")
    if p.stderr.strip():
        sys.stderr.write(p.stderr)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) == 4 and not line.startswith("#"):
            out[(f[0], f[1], f[2])] = float(f[3])
    return out


def env_text(env_extra):
    """The environment additions as shell assignments, for printing the exact commands."""
    return " ".join(f"{k}={v}" for k, v in env_extra.items())
