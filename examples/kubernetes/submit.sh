#!/bin/sh
# Runs a sharded saicbench run on Kubernetes: applies the Indexed Job of shard-job.yaml, waits
# until it is complete, then applies the merge Job of merge-job.yaml and waits for it.
#
#   examples/kubernetes/submit.sh -n 8 -s /app/suites/nightly.yaml
#
# The run name (default nightly-YYYY-MM-DD) is fixed here, once, and written into both Jobs, so
# every pod and the merge use the same folder /results/NAME/ whenever they start. With -o DIR
# the two manifests are only written into DIR (for `kubectl apply -f` by hand).
set -eu

usage() {
  cat >&2 <<USAGE
usage: $0 [options]

  -n N        shards: the Job's completions and parallelism (default 8)
  -r NAME     run name: lowercase letters, digits and '-' (default nightly-YYYY-MM-DD)
  -s FILE     suite file inside the image (default /app/suites/nightly.yaml)
  -t TIMEOUT  how long to wait for the shards, as kubectl wait takes it (default 6h)
  -o DIR      write the two manifests into DIR instead of applying them
USAGE
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
shards=8 name="" suite=/app/suites/nightly.yaml timeout=6h out=""
while getopts "n:r:s:t:o:h" opt; do
  case $opt in
  n) shards=$OPTARG ;;
  r) name=$OPTARG ;;
  s) suite=$OPTARG ;;
  t) timeout=$OPTARG ;;
  o) out=$OPTARG ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

die() {
  echo "submit.sh: $*" >&2
  exit 2
}
case $shards in '' | 0* | *[!0-9]*) die "-n: expected a positive number, got '$shards'" ;; esac
[ "$shards" -le 100000 ] || die "-n: at most 100000 shards"
[ -n "$name" ] || name="nightly-$(date +%F)" # the only place the date is read
# Job names are DNS labels: saicbench-NAME-merge must fit in 63 characters.
case $name in '' | -* | *- | *[!a-z0-9-]*) die "-r: use lowercase letters, digits and '-' ('$name')" ;; esac
[ ${#name} -le 40 ] || die "-r: at most 40 characters ('$name')"
case $suite in *"|"* | *"&"* | *\\*) die "-s: the path may not contain '|', '&' or a backslash" ;; esac

render() {
  sed -e "s|__RUN__|$name|g" -e "s|__SHARDS__|$shards|g" -e "s|__SUITE__|$suite|g" "$here/$1"
}

if [ -n "$out" ]; then
  mkdir -p "$out"
  render shard-job.yaml >"$out/shard-job.yaml"
  render merge-job.yaml >"$out/merge-job.yaml"
  echo "wrote $out/shard-job.yaml and $out/merge-job.yaml for run $name"
  exit 0
fi

render shard-job.yaml | kubectl apply -f -
echo "run $name: waiting for job/saicbench-$name ($shards shards, at most $timeout)"
if ! kubectl wait --for=condition=complete --timeout="$timeout" "job/saicbench-$name"; then
  echo "submit.sh: the shards did not complete; see kubectl describe job/saicbench-$name." >&2
  echo "Pods resume their shard when restarted; apply merge-job.yaml once all are done." >&2
  exit 1
fi
render merge-job.yaml | kubectl apply -f -
if ! kubectl wait --for=condition=complete --timeout=1h "job/saicbench-$name-merge"; then
  kubectl logs "job/saicbench-$name-merge" >&2 || true
  echo "submit.sh: the merge failed" >&2
  exit 1
fi
kubectl logs "job/saicbench-$name-merge"
echo "run $name merged into /results/$name/$name.db on the results volume"
