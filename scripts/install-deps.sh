#!/usr/bin/env bash
# Installs the Debian packages saicbench needs to build, run and test (Debian 12).
# Skips apt entirely when everything is already installed. `--list` prints the packages, one a line.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git clang
  libjpeg-dev libwebp-dev libopenjp2-7-dev libavif-dev libjxl-dev libpng-dev libsqlite3-dev sqlite3
  libyaml-dev libjansson-dev libxxhash-dev libssl-dev libdnnl-dev ocl-icd-opencl-dev libopenblas-dev
  # ocl-icd-opencl-dev: libdnnl-dev's CMake package runs find_package(OpenCL REQUIRED)
  python3 python3-numpy python3-scipy python3-skimage python3-pil python3-torch python3-yaml
  libjxl-devtools  # butteraugli_main: the Butteraugli oracle of tests/metrics
  chromium  # tests/reports/test_report_browser.py: report.html in headless Chromium
)

case "${1:-}" in
  --list)
    # One package a line, nothing installed: tests/build/check_install_deps.py reads this list.
    printf '%s\n' "${packages[@]}"
    exit 0 ;;
  -h|--help)
    echo "usage: $0 [--list | --help]"
    echo "  (no option)  apt-get install those of its packages that are missing (sudo when not root)"
    echo "  --list       print the package names, one per line, and exit without installing"
    exit 0 ;;
  "") ;;
  *)
    echo "install-deps: unknown option '$1' (try --help)" >&2
    exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
