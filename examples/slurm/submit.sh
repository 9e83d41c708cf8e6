#!/bin/bash
# Submits a sharded saicbench run to Slurm: an array job with one task per shard, and a merge
# job that Slurm starts only once every array task has succeeded (--dependency=afterok).
#
#   examples/slurm/submit.sh -n 8 -d /shared/datasets suites/nightly.yaml
#
# The run name (by default the suite's name and today's date) is fixed here, once, and handed to
# every task and to the merge job as an argument: tasks that start after midnight still write
# into the same run folder, RESULTS/NAME/, which is created here. Shard I of N writes
# RESULTS/NAME/shard-I.db with I zero-padded to the width of N-1 (shard-00.db ... shard-10.db
# for 11 shards); the merge job checks that exactly those N files are there, then writes
# RESULTS/NAME/NAME.db. Further sbatch options (partition, account, QoS) come from sbatch's
# own environment variables, e.g. SBATCH_PARTITION=cpu SBATCH_ACCOUNT=lab ./submit.sh ...
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 [options] SUITE_FILE

  -n N      shards: array tasks (default 8)
  -r NAME   run name (default: SUITE-YYYY-MM-DD, the suite file's name and today's date)
  -o DIR    results folder; the run goes into DIR/NAME/ (default: results)
  -d DIR    data folder, passed as --data (default: \$SAICBENCH_DATA, else saicbench's default)
  -b PATH   the saicbench program (default: build/saicbench)
  -c N      CPUs (worker threads) per shard (default 16)
  -t TIME   time limit per shard, as sbatch --time takes it (default 02:00:00)
USAGE
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shards=8 name="" results=results data=${SAICBENCH_DATA:-} saicbench=build/saicbench
cpus=16 time_limit=02:00:00
while getopts "n:r:o:d:b:c:t:h" opt; do
  case $opt in
  n) shards=$OPTARG ;;
  r) name=$OPTARG ;;
  o) results=$OPTARG ;;
  d) data=$OPTARG ;;
  b) saicbench=$OPTARG ;;
  c) cpus=$OPTARG ;;
  t) time_limit=$OPTARG ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
suite=$1

die() {
  echo "submit.sh: $*" >&2
  exit 2
}
# Absolute paths: the jobs may start in another working directory.
absolute() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac }

if ! [[ $shards =~ ^[1-9][0-9]{0,5}$ ]] || [ "$shards" -gt 100000 ]; then
  die "-n: expected 1..100000, got '$shards'"
fi
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "-c: expected a positive number, got '$cpus'"
[ -f "$suite" ] || die "no suite file $suite"
[ -x "$saicbench" ] || die "$saicbench is not an executable program (build it, or give -b PATH)"
if [ -z "$name" ]; then
  stem=$(basename "$suite")
  name="${stem%.*}-$(date +%F)" # the only place the date is read
fi
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "-r: use letters, digits, '.', '_', '-' ('$name')"
suite=$(absolute "$suite")
saicbench=$(absolute "$saicbench")
[ -z "$data" ] || data=$(absolute "$data")
run_dir=$(absolute "$results")/$name

# A run folder is used once: shard databases of an earlier submission would be merged with, or
# resumed into, this one. Give another -r NAME, or remove the folder.
if [ -d "$run_dir" ] && [ -n "$(ls -A "$run_dir")" ]; then
  die "$run_dir already holds files of an earlier submission; give another -r NAME or remove it"
fi
mkdir -p "$run_dir"

# --parsable prints "JOBID" or "JOBID;CLUSTER".
array_job=$(sbatch --parsable --job-name="saicbench-$name" --array="0-$((shards - 1))" \
  --cpus-per-task="$cpus" --time="$time_limit" --output="$run_dir/shard-%a.log" \
  "$here/shard.sbatch" "$saicbench" "$suite" "$data" "$run_dir" "$shards")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --job-name="saicbench-$name-merge" \
  --dependency="afterok:$array_job" --kill-on-invalid-dep=yes --output="$run_dir/merge.log" \
  "$here/merge.sbatch" "$saicbench" "$run_dir" "$name" "$shards")
merge_job=${merge_job%%;*}

cat <<DONE
run $name: $shards shards in array job $array_job, merge job $merge_job (starts when all succeed)
results: $run_dir/$name.db (shards: $run_dir/shard-*.db, logs: $run_dir/*.log)
If a shard fails, the merge job is cancelled. Rerun that shard K (it resumes), then merge:
  sbatch --array=K --cpus-per-task=$cpus --time=$time_limit --output=$run_dir/shard-%a.log \\
    $here/shard.sbatch $saicbench $suite '$data' $run_dir $shards
  sbatch --dependency=afterok:JOBID $here/merge.sbatch $saicbench $run_dir $name $shards
DONE
