#!/usr/bin/env bash
# Downloads the public datasets saicbench's suites use and checks their published checksums:
#   DEST/cifar10/  CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin, batches.meta.txt)
#   DEST/kodak/    the 24 Kodak PNGs (kodim01..24.png)
# usage: scripts/get-datasets.sh [DEST]   (default: ~/.local/share/saicbench/datasets)
# Then: saicbench run suites/quick.yaml --data DEST   (or export SAICBENCH_DATA=DEST)
set -euo pipefail
dest=${1:-${SAICBENCH_DATA:-$HOME/.local/share/saicbench/datasets}}
here=$(cd "$(dirname "$0")" && pwd)
cifar_url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
cifar_md5=c32a1d4ab5d03f1284b67883e8d87530 # published on the CIFAR-10 page
kodak_base=https://r0k.us/graphics/kodak/kodak

fetch() { # URL OUT
  if ! curl -fL --retry 2 --connect-timeout 20 -o "$2.part" "$1"; then
    rm -f "$2.part"
    echo "get-datasets: cannot download $1 (offline or the site moved)." >&2
    echo "get-datasets: copy the files by hand into $dest (layout above) and rerun to verify." >&2
    exit 1
  fi
  mv "$2.part" "$2"
}

command -v curl >/dev/null || { echo "get-datasets: needs curl (apt-get install curl)" >&2; exit 1; }
mkdir -p "$dest/cifar10" "$dest/kodak"

if [ ! -f "$dest/cifar10/test_batch.bin" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  fetch "$cifar_url" "$tmp/cifar.tar.gz"
  echo "$cifar_md5  $tmp/cifar.tar.gz" | md5sum -c --quiet - ||
    { echo "get-datasets: CIFAR-10 archive checksum mismatch" >&2; exit 1; }
  tar -xzf "$tmp/cifar.tar.gz" -C "$tmp"
  mv "$tmp"/cifar-10-batches-bin/*.bin "$tmp"/cifar-10-batches-bin/batches.meta.txt "$dest/cifar10/"
fi

for i in $(seq -w 1 24); do
  f="$dest/kodak/kodim$i.png"
  [ -f "$f" ] || fetch "$kodak_base/kodim$i.png" "$f"
done
(cd "$dest/kodak" && sha256sum -c --quiet "$here/kodak.sha256") ||
  { echo "get-datasets: Kodak checksum mismatch in $dest/kodak" >&2; exit 1; }
echo "get-datasets: datasets ready in $dest"
