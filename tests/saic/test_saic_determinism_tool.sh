#!/bin/sh
# The run / compare cycle of saic_determinism on a tiny random model and synthetic images:
# threads 1 and 2 compare equal (exit 0, even with --exact-pixels); a dump with one changed
# symbol hash, or one changed pixel, is reported (exit 1 / the pixel difference); dumps of
# different models are refused (exit 2).
# Usage: test_saic_determinism_tool.sh PATH/TO/saic_determinism
set -u
tool=$1
dir=$(mktemp -d /tmp/saic_det_tool_XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
export OMP_WAIT_POLICY=passive
"$tool" model "$dir/m.ckpt" --n 8 --m 8 --levels 3 || fail "model"
"$tool" model "$dir/m2.ckpt" --n 8 --m 4 --levels 2 || fail "model 2"
for t in 1 2; do
  "$tool" run --model "$dir/m.ckpt" --threads $t --rates 0,1.3,2 --synthetic 4 \
    --out "$dir/t$t" || fail "run threads $t"
done
"$tool" compare --exact-pixels "$dir/t1" "$dir/t2" > "$dir/cmp.txt" || fail "threads 1 vs 2 differ"
cat "$dir/cmp.txt"
grep -q "symbols identical: *12 / 12" "$dir/cmp.txt" || fail "expected 12 identical entries"
grep -q "largest abs pixel difference: 0 " "$dir/cmp.txt" || fail "pixel difference"

# One symbol hash changed: exit 1.
zero=$(printf '%064d' 0)
awk -v z="$zero" '/^entry 2 / && !done { $10 = z; done = 1 } 1' "$dir/t2.txt" > "$dir/bad.txt" &&
  cp "$dir/t2.pix" "$dir/bad.pix" || fail "awk"
"$tool" compare "$dir/t1" "$dir/bad" > "$dir/cmp.txt"
rc=$?
[ $rc -eq 1 ] || fail "changed symbol hash: exit $rc"
grep -q "symbols identical: *11 / 12" "$dir/cmp.txt" || fail "changed symbol hash not counted"

# One pixel changed by 7: exit 0 (pixels may differ across builds), 1 with --exact-pixels.
cp "$dir/t2.txt" "$dir/px.txt" && cp "$dir/t2.pix" "$dir/px.pix" || fail "cp"
b=$(od -An -tu1 -j 100 -N 1 "$dir/px.pix" | tr -d ' ')
nb=$(((b + 7) % 256))
[ $nb -gt $b ] || nb=$((b - 7))
printf "$(printf '\\%03o' $nb)" | dd of="$dir/px.pix" bs=1 seek=100 conv=notrunc 2> /dev/null
"$tool" compare "$dir/t1" "$dir/px" > "$dir/cmp.txt" || fail "pixel change failed the compare"
grep -q "largest abs pixel difference: 7 (1 of" "$dir/cmp.txt" || fail "pixel change not found"
"$tool" compare --exact-pixels "$dir/t1" "$dir/px" > /dev/null
[ $? -eq 1 ] || fail "--exact-pixels accepted a changed pixel"

# Another model: exit 2.
"$tool" run --model "$dir/m2.ckpt" --rates 0,1.3,2 --synthetic 4 --out "$dir/o" > /dev/null ||
  fail "run model 2"
"$tool" compare "$dir/t1" "$dir/o" > /dev/null 2>&1
[ $? -eq 2 ] || fail "dumps of different models compared"
echo "test_saic_determinism_tool: OK"
