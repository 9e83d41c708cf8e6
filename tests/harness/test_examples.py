"""Runs the distributed-run examples in examples/ on this machine, with stand-ins for the
schedulers: fake `sbatch` and `srun` run a Slurm array job's tasks here one after another (with
the SLURM_ARRAY_* variables Slurm sets) and start a dependent job only once the jobs it depends
on succeeded; a fake `kubectl` checks the Jobs' manifests and runs the container command of every
index of an Indexed Job here (JOB_COMPLETION_INDEX set, volumes mapped to folders). A fake
`date` answers another day at each call, so a script that reads the date twice is caught.

The merged database must hold every image exactly once and the same results as one unsharded
run of the same suite (timings aside). 11 shards: file names must work past 10 shards.

Usage: python3 test_examples.py SAICBENCH [SHARED_DATASETS]
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

try:
    import yaml
except ImportError:  # Debian: python3-yaml
    yaml = None

SAICBENCH = SHARED = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLURM = os.path.join(ROOT, "examples", "slurm")
K8S = os.path.join(ROOT, "examples", "kubernetes")

FAKE_SBATCH = r'''#!/usr/bin/python3
"""sbatch stand-in: runs the job (every array task, one after another) at submission."""
import json, os, re, subprocess, sys

KNOWN = {"parsable", "job-name", "array", "cpus-per-task", "time", "output", "dependency",
         "kill-on-invalid-dep", "export"}
state_dir = os.environ["FAKE_SLURM_STATE"]
state_file = os.path.join(state_dir, "jobs.json")


def die(msg):
    sys.stderr.write("sbatch: error: %s\n" % msg)
    sys.exit(1)


args = sys.argv[1:]
opts = {}
while args and args[0].startswith("-"):
    a = args.pop(0)
    key, eq, value = a[2:].partition("=")
    if not a.startswith("--") or key not in KNOWN:
        die("unsupported option %s" % a)
    if key != "parsable" and not eq:
        die("%s needs =VALUE" % a)
    opts[key] = value
if not args:
    die("no batch script")
script, script_args = args[0], args[1:]
with open(script) as f:
    lines = f.read().splitlines()
if not lines or not lines[0].startswith("#!"):
    die("%s: not a script (no #! line)" % script)
for line in lines[1:]:  # #SBATCH lines up to the first command; the command line wins
    if not line.startswith("#"):
        break
    m = re.match(r"#SBATCH --([a-z-]+)(?:=(\S+))?$", line)
    if line.startswith("#SBATCH"):
        if not m or m.group(1) not in KNOWN:
            die("%s: bad directive %r" % (script, line))
        opts.setdefault(m.group(1), m.group(2) or "")

state = {"next": 1000, "jobs": {}}
if os.path.exists(state_file):
    with open(state_file) as f:
        state = json.load(f)
job_id = state["next"]
state["next"] += 100
log = open(os.path.join(state_dir, "log"), "a")


def finish(ok, note):
    state["jobs"][str(job_id)] = {"ok": ok, "script": os.path.basename(script), "note": note}
    with open(state_file, "w") as f:
        json.dump(state, f)
    log.write("job %d %s %s\n" % (job_id, os.path.basename(script), note))
    print("%d;fakecluster" % job_id if "parsable" in opts else "Submitted batch job %d" % job_id)
    sys.exit(0)


dep = opts.get("dependency")
if dep:
    kind, _, ids = dep.partition(":")
    if kind != "afterok" or not ids:
        die("unsupported dependency %s" % dep)
    for d in ids.split(":"):
        if d not in state["jobs"]:
            die("dependency on unknown job %s" % d)
        if not state["jobs"][d]["ok"]:
            if "kill-on-invalid-dep" not in opts:
                die("the test expects --kill-on-invalid-dep=yes")
            finish(False, "cancelled: dependency %s failed" % d)

indices = [None]
if "array" in opts:
    indices = []
    for part in opts["array"].split(","):
        a, _, b = part.partition("-")
        if not a.isdigit() or (b and not b.isdigit()):
            die("bad --array=%s" % opts["array"])
        indices += range(int(a), int(b or a) + 1)
kill = os.environ.get("FAKE_SLURM_KILL_TASK")  # a task lost to a node failure
ok = True
for idx in indices:
    env = dict(os.environ, SLURM_JOB_ID=str(job_id + (idx or 0)),
               SLURM_JOB_NAME=opts.get("job-name", os.path.basename(script)),
               SLURM_CPUS_PER_TASK=opts.get("cpus-per-task", "1"))
    if idx is not None:
        env.update(SLURM_ARRAY_JOB_ID=str(job_id), SLURM_ARRAY_TASK_ID=str(idx),
                   SLURM_ARRAY_TASK_MIN=str(min(indices)), SLURM_ARRAY_TASK_MAX=str(max(indices)),
                   SLURM_ARRAY_TASK_COUNT=str(len(indices)))
    if idx is not None and kill is not None and int(kill) == idx:
        ok = False
        log.write("job %d task %s killed\n" % (job_id, idx))
        continue
    out = opts.get("output", "slurm-%j.out").replace("%A", str(job_id)).replace(
        "%a", str(idx)).replace("%j", env["SLURM_JOB_ID"])
    with open(out, "a") as f:
        rc = subprocess.run(["/bin/bash", script] + script_args, stdout=f,
                            stderr=subprocess.STDOUT, env=env).returncode
    log.write("job %d task %s rc %d\n" % (job_id, idx, rc))
    ok = ok and rc == 0
finish(ok, "ran %d task(s)" % len(indices))
'''

FAKE_SRUN = r'''#!/bin/sh
# srun stand-in: only inside a job; drops srun's own options and runs the program.
[ -n "${SLURM_JOB_ID:-}" ] || { echo "srun: not inside a job" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
  --*=*) shift ;;
  -*) echo "srun: unsupported option $1" >&2; exit 1 ;;
  *) break ;;
  esac
done
exec "$@"
'''

FAKE_DATE = r'''#!/bin/sh
# date stand-in: each `date +%F` is one day later than the one before.
if [ "$*" = "+%F" ]; then
  n=$(cat "$FAKE_DATE_COUNTER" 2>/dev/null || echo 0)
  n=$((n + 1))
  echo "$n" >"$FAKE_DATE_COUNTER"
  printf '2031-01-%02d\n' "$n"
else
  exec /bin/date "$@"
fi
'''

FAKE_KUBECTL = r'''#!/usr/bin/python3
"""kubectl stand-in: apply -f - (checks Jobs, runs them here), wait, logs."""
import json, os, re, subprocess, sys
import yaml

state_dir = os.environ["FAKE_K8S_STATE"]
state_file = os.path.join(state_dir, "jobs.json")
pvcs = json.loads(os.environ["FAKE_K8S_PVCS"])  # claim name -> local folder
DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def die(msg):
    sys.stderr.write("kubectl: error: %s\n" % msg)
    sys.exit(1)


def load():
    if os.path.exists(state_file):
        with open(state_file) as f:
            return json.load(f)
    return {}


def check_job(job):
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        die("not a batch/v1 Job")
    if re.search(r"__[A-Z]+__", json.dumps(job)):
        die("a placeholder was left in the manifest")
    name = job["metadata"]["name"]
    if not DNS.match(name) or len(name) > 63:
        die("bad Job name %r" % name)
    for labels in (job["metadata"].get("labels", {}),
                   job["spec"]["template"]["metadata"].get("labels", {})):
        for k, v in labels.items():
            if not isinstance(v, str) or len(v) > 63 or not LABEL.match(v):
                die("label %s: bad value %r" % (k, v))
    spec = job["spec"]
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") not in ("OnFailure", "Never"):
        die("a Job needs restartPolicy OnFailure or Never")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        if v.get("persistentVolumeClaim", {}).get("claimName") not in pvcs:
            die("volume %s: unknown claim" % v["name"])
    if len(pod["containers"]) != 1:
        die("the test expects one container")
    c = pod["containers"][0]
    for key in ("name", "image"):
        if not isinstance(c.get(key), str):
            die("container without %s" % key)
    if not all(isinstance(a, str) for a in c["command"] + c.get("args", [])):
        die("command and args must be strings")
    env = {}
    for e in c.get("env", []):
        if set(e) != {"name", "value"} or not isinstance(e["value"], str):
            die("env %r: needs a name and a string value" % e)
        env[e["name"]] = e["value"]
    for m in c.get("volumeMounts", []):
        if m["name"] not in volumes:
            die("volumeMount %s has no volume" % m["name"])
    indexed = spec.get("completionMode") == "Indexed"
    if indexed:
        n = spec.get("completions")
        if not isinstance(n, int) or n < 1 or not isinstance(spec.get("parallelism"), int):
            die("an Indexed Job needs integer completions and parallelism")
        if env.get("SAICBENCH_SHARD_COUNT") != str(n):
            die("SAICBENCH_SHARD_COUNT must equal completions (%s)" % n)
    return name, pod, c, env, volumes, indexed


def run_job(job):
    name, pod, c, env, volumes, indexed = check_job(job)
    # "Mounts": the volume's folder replaces its mountPath in the command.
    argv = []
    for a in c["command"] + c.get("args", []):
        for m in c.get("volumeMounts", []):
            claim = volumes[m["name"]]["persistentVolumeClaim"]["claimName"]
            a = a.replace(m["mountPath"], pvcs[claim])
        argv.append(a)
    log = os.path.join(state_dir, name + ".log")
    ok = True
    for idx in range(job["spec"]["completions"]) if indexed else [None]:
        penv = dict(env, PATH=os.environ["FAKE_K8S_IMAGE_PATH"], HOME=state_dir)
        if idx is not None:
            penv["JOB_COMPLETION_INDEX"] = str(idx)
        with open(log, "a") as f:
            rc = subprocess.run(argv, env=penv, stdout=f, stderr=subprocess.STDOUT).returncode
        ok = ok and rc == 0
    state = load()
    state[name] = {"complete": ok, "log": log}
    with open(state_file, "w") as f:
        json.dump(state, f)
    print("job.batch/%s created" % name)


args = sys.argv[1:]
if args[:2] == ["apply", "-f"] and len(args) == 3:
    text = sys.stdin.read() if args[2] == "-" else open(args[2]).read()
    for doc in yaml.safe_load_all(text):
        if doc:
            run_job(doc)
elif args and args[0] == "wait":
    job = [a for a in args[1:] if a.startswith("job/")]
    if "--for=condition=complete" not in args or len(job) != 1 or not any(
            a.startswith("--timeout=") for a in args):
        die("unsupported wait %s" % args)
    st = load().get(job[0][4:])
    if not st:
        die("job %s not found" % job[0])
    if not st["complete"]:
        die("timed out waiting for the condition on jobs/%s" % job[0][4:])
    print("job.batch/%s condition met" % job[0][4:])
elif args and args[0] == "logs" and len(args) == 2 and args[1].startswith("job/"):
    with open(load()[args[1][4:]]["log"]) as f:
        sys.stdout.write(f.read())
else:
    die("unsupported command %s" % args)
'''

SUITE = """\
name: examples-test
max_encodes: 8
datasets:
  - {name: gen, path: gen}
%s
codecs:
  - codec: jpeg
    knob: [30, 70]
    bpp: [1.5]
"""

N_GEN = 13
SHARDS = 11


def write_png(path, w, h, seed):
    """A small RGB PNG (noisy gradients), written with zlib only."""
    import random
    import struct
    import zlib
    rnd = random.Random(seed)
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += bytes(((x * 7 + seed * 13 + rnd.randint(0, 40)) % 256,
                          (y * 5 + rnd.randint(0, 40)) % 256, ((x + y) * 3 + seed) % 256))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def results_by_name(db):
    """The newest run's rows keyed by names (not ids), timings left out."""
    con = sqlite3.connect(db)
    run = con.execute("SELECT max(id) FROM runs").fetchone()[0]
    res = con.execute(
        """SELECT d.name, i.idx, i.name, i.width, i.height, i.hash, c.label, p.kind, p.value,
                  r.knob, r.bytes, r.stream_bytes, r.bpp, r.stream_bpp, r.mse, r.psnr, r.ssim,
                  r.ms_ssim, r.n_encodes, r.target_unreachable, r.error
           FROM results r JOIN images i ON i.id = r.image_id JOIN datasets d ON d.id = i.dataset_id
           JOIN points p ON p.id = r.point_id JOIN codecs c ON c.id = p.codec_id
           WHERE c.run_id = ?1 ORDER BY d.name, i.idx, c.label, p.kind, p.value""",
        (run,)).fetchall()
    agg = con.execute(
        """SELECT d.name, c.label, p.kind, p.value, a.n, a.n_errors, a.n_unreachable, a.mean_knob,
                  a.mean_bpp, a.mean_stream_bpp, a.mean_psnr, a.psnr_of_mean_mse, a.mean_ssim,
                  a.mean_ms_ssim
           FROM aggregates a JOIN datasets d ON d.id = a.dataset_id JOIN points p
           ON p.id = a.point_id JOIN codecs c ON c.id = p.codec_id
           WHERE c.run_id = ?1 ORDER BY d.name, c.label, p.kind, p.value""", (run,)).fetchall()
    images = con.execute(
        """SELECT d.name, i.idx, count(*) FROM images i JOIN datasets d ON d.id = i.dataset_id
           WHERE d.run_id = ?1 GROUP BY d.name, i.idx ORDER BY d.name, i.idx""",
        (run,)).fetchall()
    status, shard = con.execute("SELECT status, shard FROM runs WHERE id = ?1", (run,)).fetchone()
    con.close()
    return res, agg, images, status, shard


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="saicbench_examples_")
        cls.data = os.path.join(cls.tmp, "data")
        os.makedirs(os.path.join(cls.data, "gen"))
        for i in range(N_GEN):
            write_png(os.path.join(cls.data, "gen", "im%02d.png" % i), 40 + 8 * (i % 2), 32, i)
        extra = ""
        if SHARED and os.path.isdir(os.path.join(SHARED, "kodak")):
            os.symlink(os.path.join(SHARED, "kodak"), os.path.join(cls.data, "kodak"))
            extra = "  - {name: kodak, path: kodak, limit: 3}"
        cls.n_images = N_GEN + (3 if extra else 0)
        cls.suite = os.path.join(cls.tmp, "examples.yaml")
        with open(cls.suite, "w") as f:
            f.write(SUITE % extra)
        # The reference: one unsharded run.
        cls.ref_db = os.path.join(cls.tmp, "ref.db")
        subprocess.run([SAICBENCH, "run", cls.suite, "--data", cls.data, "--db", cls.ref_db,
                        "--threads", "1", "--quiet"], check=True, capture_output=True)
        cls.ref = results_by_name(cls.ref_db)
        # Stand-ins first on PATH.
        cls.bin = os.path.join(cls.tmp, "bin")
        os.makedirs(cls.bin)
        for name, text in [("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN), ("date", FAKE_DATE),
                           ("kubectl", FAKE_KUBECTL)]:
            path = os.path.join(cls.bin, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        # The "image" of the Kubernetes example: saicbench on PATH.
        cls.image_bin = os.path.join(cls.tmp, "image-bin")
        os.makedirs(cls.image_bin)
        os.symlink(SAICBENCH, os.path.join(cls.image_bin, "saicbench"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def env(self, work):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLURM_", "SBATCH_", "SAICBENCH_", "JOB_COMPLETION"))}
        state = os.path.join(work, "state")
        os.makedirs(state, exist_ok=True)
        env.update(PATH=self.bin + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
                   FAKE_SLURM_STATE=state, FAKE_K8S_STATE=state,
                   FAKE_DATE_COUNTER=os.path.join(state, "date"),
                   FAKE_K8S_IMAGE_PATH=self.image_bin + ":/usr/bin:/bin")
        return env

    def date_calls(self, env):
        with open(env["FAKE_DATE_COUNTER"]) as f:
            return int(f.read())

    def assert_same_as_unsharded(self, db):
        res, agg, images, status, shard = results_by_name(db)
        ref_res, ref_agg, ref_images, _, _ = self.ref
        self.assertEqual(status, "complete")
        self.assertIsNone(shard)
        # Every image exactly once, the plan's images all there.
        self.assertEqual(len(images), self.n_images)
        self.assertTrue(all(n == 1 for _, _, n in images), images)
        self.assertEqual(images, ref_images)
        self.assertEqual(len(res), self.n_images * 3)
        self.assertTrue(all(r[-1] is None for r in res), [r for r in res if r[-1]][:3])
        self.assertEqual(res, ref_res)
        self.assertEqual(agg, ref_agg)

    def submit_slurm(self, work, env, *args):
        return subprocess.run([os.path.join(SLURM, "submit.sh"), "-o", "results", "-d",
                               self.data, "-b", SAICBENCH, "-c", "1"] + list(args) + [self.suite],
                              cwd=work, env=env, capture_output=True, text=True, timeout=600)

    def test_slurm_array_then_dependent_merge(self):
        work = os.path.join(self.tmp, "slurm")
        os.makedirs(work)
        env = self.env(work)
        p = self.submit_slurm(work, env, "-n", str(SHARDS))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.date_calls(env), 1)  # the date is read once, by submit.sh
        run_dir = os.path.join(work, "results", "examples-2031-01-01")
        names = sorted(f for f in os.listdir(run_dir) if f.endswith(".db"))
        self.assertEqual(names, ["examples-2031-01-01.db"] +
                         ["shard-%02d.db" % i for i in range(SHARDS)])
        with open(os.path.join(env["FAKE_SLURM_STATE"], "log")) as f:
            log = f.read()
        self.assertIn("merge.sbatch ran 1 task(s)", log)
        self.assertEqual(log.count(" rc 0\n"), SHARDS + 1, log)
        for i in (0, 10):  # each task ran its own shard
            con = sqlite3.connect(os.path.join(run_dir, "shard-%02d.db" % i))
            self.assertEqual(con.execute("SELECT shard FROM runs").fetchone()[0],
                             "%d/%d" % (i, SHARDS))
            con.close()
        self.assert_same_as_unsharded(os.path.join(run_dir, "examples-2031-01-01.db"))

        # The merge job insists on exactly N shard files.
        merge = os.path.join(SLURM, "merge.sbatch")
        moved = os.path.join(work, "shard-07.db")
        os.rename(os.path.join(run_dir, "shard-07.db"), moved)
        p = subprocess.run(["bash", merge, SAICBENCH, run_dir, "again", str(SHARDS)], env=env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("expected exactly 11 shard databases", p.stderr)
        self.assertIn("shard-07.db", p.stderr)
        os.rename(moved, os.path.join(run_dir, "shard-07.db"))
        shutil.copy(os.path.join(run_dir, "shard-03.db"), os.path.join(run_dir, "shard-11.db"))
        p = subprocess.run(["bash", merge, SAICBENCH, run_dir, "again", str(SHARDS)], env=env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("found 12", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(run_dir, "again.db")))

        # A run folder is used once.
        p = self.submit_slurm(work, env, "-n", "2", "-r", "examples-2031-01-01")
        self.assertEqual(p.returncode, 2)
        self.assertIn("earlier submission", p.stderr)

    def test_slurm_failed_shard_cancels_merge_then_rerun(self):
        work = os.path.join(self.tmp, "slurm-fail")
        os.makedirs(work)
        env = self.env(work)
        env["FAKE_SLURM_KILL_TASK"] = "1"
        p = self.submit_slurm(work, env, "-n", "3", "-r", "night")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(env["FAKE_DATE_COUNTER"]))  # -r given: no date read
        run_dir = os.path.join(work, "results", "night")
        with open(os.path.join(env["FAKE_SLURM_STATE"], "log")) as f:
            self.assertIn("cancelled: dependency", f.read())
        self.assertFalse(os.path.exists(os.path.join(run_dir, "night.db")))
        self.assertEqual(sorted(f for f in os.listdir(run_dir) if f.endswith(".db")),
                         ["shard-0.db", "shard-2.db"])
        # As submit.sh says: shard 1 alone (--array=1 still runs shard 1 of 3), then the merge.
        del env["FAKE_SLURM_KILL_TASK"]
        p = subprocess.run(["sbatch", "--parsable", "--array=1", "--cpus-per-task=1",
                            "--output=" + os.path.join(run_dir, "shard-%a.log"),
                            os.path.join(SLURM, "shard.sbatch"), SAICBENCH, self.suite,
                            self.data, run_dir, "3"], env=env, cwd=work, capture_output=True,
                           text=True, check=True)
        job = p.stdout.strip().split(";")[0]
        subprocess.run(["sbatch", "--dependency=afterok:" + job, "--kill-on-invalid-dep=yes",
                        os.path.join(SLURM, "merge.sbatch"), SAICBENCH, run_dir, "night", "3"],
                       env=env, cwd=work, capture_output=True, check=True)
        self.assert_same_as_unsharded(os.path.join(run_dir, "night.db"))

    def test_kubernetes_indexed_job_then_merge(self):
        rendered = os.path.join(self.tmp, "k8s-rendered")
        env = self.env(os.path.join(self.tmp, "k8s-render"))
        p = subprocess.run([os.path.join(K8S, "submit.sh"), "-n", str(SHARDS), "-r", "t1", "-o",
                            rendered], env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("shard-job.yaml", "merge-job.yaml"):
            with open(os.path.join(rendered, name)) as f:
                text = f.read()
            self.assertNotRegex(text, r"__[A-Z]+__")
            if yaml is None:  # a structural check only
                for key in ("apiVersion: batch/v1", "kind: Job", "restartPolicy:", "command:"):
                    self.assertIn(key, text)
                continue
            job = yaml.safe_load(text)
            self.assertEqual((job["apiVersion"], job["kind"]), ("batch/v1", "Job"))
            env_vars = {e["name"]: e["value"]
                        for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
            self.assertEqual(env_vars["SAICBENCH_SHARD_COUNT"], str(SHARDS))
            self.assertEqual(env_vars["RUN"], "t1")
            if name == "shard-job.yaml":
                self.assertEqual(job["spec"]["completionMode"], "Indexed")
                self.assertEqual(job["spec"]["completions"], SHARDS)
        if yaml is None:
            self.skipTest("no python3-yaml: the Jobs are not run")

        # The whole flow with the fake kubectl: shard Job, wait, merge Job, wait, logs.
        work = os.path.join(self.tmp, "k8s")
        results = os.path.join(work, "pvc-results")
        os.makedirs(results)
        env = self.env(work)
        env["FAKE_K8S_PVCS"] = json.dumps({"saicbench-datasets": self.data,
                                           "saicbench-results": results})
        p = subprocess.run([os.path.join(K8S, "submit.sh"), "-n", str(SHARDS), "-s", self.suite],
                           env=env, cwd=work, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.date_calls(env), 1)
        run_dir = os.path.join(results, "nightly-2031-01-01")
        self.assertEqual(sorted(os.listdir(run_dir)),
                         ["nightly-2031-01-01.db"] + ["shard-%02d.db" % i for i in range(SHARDS)])
        self.assertIn("merged 11 shards", p.stdout)
        self.assert_same_as_unsharded(os.path.join(run_dir, "nightly-2031-01-01.db"))

        # The merge Job insists on exactly N shard files.
        os.remove(os.path.join(run_dir, "shard-04.db"))
        p = subprocess.run([os.path.join(K8S, "submit.sh"), "-n", str(SHARDS), "-r", "t2", "-o",
                            rendered], env=env, capture_output=True, text=True, check=True)
        os.rename(run_dir, os.path.join(results, "t2"))
        with open(os.path.join(rendered, "merge-job.yaml")) as f:
            p = subprocess.run(["kubectl", "apply", "-f", "-"], stdin=f, env=env,
                               capture_output=True, text=True, check=True)
        p = subprocess.run(["kubectl", "wait", "--for=condition=complete", "--timeout=1s",
                            "job/saicbench-t2-merge"], env=env, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        p = subprocess.run(["kubectl", "logs", "job/saicbench-t2-merge"], env=env,
                           capture_output=True, text=True, check=True)
        self.assertIn("shard-04.db is missing", p.stdout)

    def test_bad_arguments(self):
        env = self.env(os.path.join(self.tmp, "bad"))
        for args in (["-n", "0"], ["-n", "x"], ["-r", "a/b"]):
            p = subprocess.run([os.path.join(SLURM, "submit.sh"), "-b", SAICBENCH] + args +
                               [self.suite], env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(args[0] + ":", p.stderr)
        for args in (["-n", "0"], ["-r", "Upper"], ["-r", "x" * 41]):
            p = subprocess.run([os.path.join(K8S, "submit.sh")] + args, env=env,
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(args[0] + ":", p.stderr)


if __name__ == "__main__":
    SAICBENCH = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        SHARED = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
