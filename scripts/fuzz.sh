#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address) in build-fuzz/ and fuzzes one
# of them for a given time, starting from its committed corpus.
#   scripts/fuzz.sh TARGET SECONDS [NEW_CORPUS_DIR]
# TARGET: fuzz_saic_decode | fuzz_saic_coder | fuzz_suite | fuzz_image | fuzz_checkpoint |
# fuzz_cifar | fuzz_merge | fuzz_codec_decode. New interesting inputs go
# to NEW_CORPUS_DIR (default: a temporary folder, removed afterwards); the committed corpus
# (tests/fuzz/corpus/<name>) is only read. To grow the committed corpus after a long run:
#   build-fuzz/tests/fuzz/TARGET -merge=1 tests/fuzz/corpus/<name> NEW_CORPUS_DIR
# Exit status: 0 when the time ran out without findings; libFuzzer's status (and a crash-* file
# in the current folder) otherwise. CI runs every target for 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [NEW_CORPUS_DIR]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [NEW_CORPUS_DIR]}
case "$target" in
  fuzz_saic_decode) corpus=saic_decode ;;
  fuzz_saic_coder) corpus=saic_coder ;;
  fuzz_suite) corpus=suite ;;
  fuzz_image) corpus=image ;;
  fuzz_checkpoint) corpus=checkpoint ;;
  fuzz_cifar) corpus=cifar ;;
  fuzz_merge) corpus=merge ;;
  fuzz_codec_decode) corpus=codec_decode ;;
  *) echo "fuzz.sh: unknown target '$target'" >&2; exit 2 ;;
esac
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang cmake -S . -B build-fuzz -G Ninja -DSAICBENCH_FUZZ=ON > /dev/null
fi
cmake --build build-fuzz --target "$target" > /dev/null
new=${3:-}
cleanup=""
if [ -z "$new" ]; then
  new=$(mktemp -d)
  cleanup=$new
fi
mkdir -p "$new"
log=$(mktemp)
status=0
"build-fuzz/tests/fuzz/$target" "$new" "tests/fuzz/corpus/$corpus" -max_total_time="$seconds" \
  -print_final_stats=1 > "$log" 2>&1 || status=$?
grep -E "DONE|^stat::number_of_executed_units|^stat::new_units_added|ERROR:|SUMMARY|crash-" "$log" || true
[ "$status" -eq 0 ] || tail -n 40 "$log" >&2
rm -f "$log"
[ -n "$cleanup" ] && rm -rf "$cleanup"
exit "$status"
