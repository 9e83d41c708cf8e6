#!/usr/bin/env bash
# Regenerates reports/examples/report.png: runs reports/examples/example.yaml (8 Kodak images and
# 500 CIFAR-10 test images with the task classifier; about 15 s on 2 cores), writes its report,
# takes a full-page screenshot in headless Chromium and shrinks it to 900 px wide, 64 colours.
# Usage, from the repository root after building: bash reports/examples/make-example.sh [DATA]
# DATA: the datasets folder (default ../shared/datasets). Writes its work files to a temporary
# folder and only reports/examples/report.png in the tree.
set -euo pipefail
data=${1:-../shared/datasets}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/saicbench run reports/examples/example.yaml --data "$data" --db "$work/example.db" --quiet
build/saicbench report --db "$work/example.db" --out "$work/report"
ls -l "$work/report/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,12000 \
  --screenshot="$work/full.png" "file://$work/report/report.html" 2>/dev/null
/usr/bin/python3 - "$work/full.png" reports/examples/report.png <<'PY'
import sys
import numpy as np
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
rows = np.where((np.asarray(im.convert("L")) < 250).any(axis=1))[0]
im = im.crop((0, 0, im.width, min(im.height, int(rows.max()) + 24)))  # drop the blank tail
im = im.resize((900, round(im.height * 900 / im.width)), Image.LANCZOS)
im = im.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
im.save(sys.argv[2], optimize=True)
print("%s: %dx%d" % (sys.argv[2], im.width, im.height))
PY
ls -l reports/examples/report.png
