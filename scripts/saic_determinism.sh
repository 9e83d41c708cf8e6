#!/bin/sh
# Decode-determinism evidence for the SAIC codec: the decoded symbols are identical across 1 and
# 2 network threads and across an -O0 and an optimised build; the reconstructed pixels are
# identical across thread counts, and the largest pixel difference across builds is reported.
#
# Usage (from the repository root):
#   scripts/saic_determinism.sh [RELEASE_BUILD_DIR]          (default: build)
# e.g.
#   scripts/saic_determinism.sh build
#   MODEL=train-out/x/codec.ckpt IMAGES=100 RATES=0,1,2,3 scripts/saic_determinism.sh build
#
# RELEASE_BUILD_DIR is an existing Release build (CMAKE_BUILD_TYPE=Release, which this project
# compiles with -O3); the script builds only the saic_determinism target in it. The -O0 build is
# configured in build-o0/ when missing (CMAKE_BUILD_TYPE=Debug with CMAKE_C_FLAGS_DEBUG="-O0 -g";
# O0_DIR overrides the folder) and, again, only saic_determinism is built there.
# Runs of tests/saic/saic_determinism.c, each over one Kodak image and the first IMAGES CIFAR-10
# test images at every rate of RATES:
#   opt-t1: optimised build, networks on 1 thread;  opt-t2: optimised, 2 threads;
#   o0-t1:  -O0 build, 1 thread.
# Comparisons: opt-t1 vs opt-t2 (streams, symbols and pixels must be identical) and opt-t1 vs
# o0-t1 (streams and symbols must be identical; the largest pixel difference is printed). Exit 0
# when all of that holds, 1 otherwise.
#
# Environment (defaults):
#   MODEL   codec checkpoint (a random model: n 64, m 96, levels 4, written once by the
#           optimised build so that every run uses the same file; ~110 MB of flat tables, deleted
#           at the end)
#   IMAGES  CIFAR-10 images (20)           CIFAR   CIFAR-10 root (../shared/datasets/cifar10)
#   RATES   rates (0,1,1.5,3)              KODAK   the Kodak image (../shared/datasets/kodak/kodim01.png)
#   OUT     folder for the dumps (a fresh /tmp/saic_determinism.XXXXXX; kept)
#   O0_DIR  the -O0 build folder (build-o0)
# OMP_WAIT_POLICY defaults to passive.
set -eu

rel=${1:-build}
o0=${O0_DIR:-build-o0}
images=${IMAGES:-20}
rates=${RATES:-0,1,1.5,3}
cifar=${CIFAR:-../shared/datasets/cifar10}
kodak=${KODAK:-../shared/datasets/kodak/kodim01.png}
out=${OUT:-$(mktemp -d /tmp/saic_determinism.XXXXXX)}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$out"

if [ ! -f "$rel/CMakeCache.txt" ]; then
  echo "saic_determinism.sh: $rel is not a configured build folder" >&2
  exit 2
fi
rel_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$rel/CMakeCache.txt")
case $rel_type in
Release | RelWithDebInfo | MinSizeRel) ;;
*) echo "saic_determinism.sh: warning: $rel is a '$rel_type' build, not an optimised one" >&2 ;;
esac

echo "== building saic_determinism in $rel ($rel_type) and $o0 (-O0)"
ninja -C "$rel" saic_determinism > "$out/build-opt.log" 2>&1 || {
  cat "$out/build-opt.log" >&2
  exit 2
}
if [ ! -f "$o0/CMakeCache.txt" ]; then
  cmake -S . -B "$o0" -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g" \
    > "$out/configure-o0.log" 2>&1 || {
    cat "$out/configure-o0.log" >&2
    exit 2
  }
fi
ninja -C "$o0" saic_determinism > "$out/build-o0.log" 2>&1 || {
  cat "$out/build-o0.log" >&2
  exit 2
}
opt_tool=$rel/tests/saic/saic_determinism
o0_tool=$o0/tests/saic/saic_determinism
grep -q -- "-O0" "$o0/build.ninja" || echo "saic_determinism.sh: warning: no -O0 in $o0" >&2

if [ -z "${MODEL:-}" ]; then
  MODEL=$out/random.ckpt
  trap 'rm -f "$out/random.ckpt" "$out/random.train.ckpt"' EXIT
  "$opt_tool" model "$MODEL"
  echo "== model: random (n 64, m 96, levels 4): $MODEL"
else
  echo "== model: $MODEL"
fi

set -- --model "$MODEL" --rates "$rates" --cifar "$cifar" --images "$images" "$kodak"
echo "== runs: $images CIFAR-10 images + $kodak, rates $rates"
"$opt_tool" run --threads 1 --out "$out/opt-t1" "$@"
"$opt_tool" run --threads 2 --out "$out/opt-t2" "$@"
"$o0_tool" run --threads 1 --out "$out/o0-t1" "$@"

status=0
echo
echo "== threads 1 vs 2 (optimised build): streams, symbols and pixels must be identical"
"$opt_tool" compare --exact-pixels "$out/opt-t1" "$out/opt-t2" || status=1
echo
echo "== optimised vs -O0 build (1 thread): streams and symbols must be identical"
"$opt_tool" compare "$out/opt-t1" "$out/o0-t1" || status=1
echo
echo "dumps in $out; result: $([ $status -eq 0 ] && echo OK || echo DIFFERENT)"
exit $status
