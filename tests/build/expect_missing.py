#!/usr/bin/env python3
"""Proves the install-deps guard can fail: runs check_install_deps.py with --without PKG and passes
only if it exits 1 AND names PKG as a missing package. (WILL_FAIL alone would also count a crash
or a usage error as a pass.) Usage: expect_missing.py PKG check_install_deps.py ARGS...
Exit 77 (skip) is passed through. Standard library only."""
import re
import subprocess
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
pkg, script, args = sys.argv[1], sys.argv[2], sys.argv[3:]
p = subprocess.run([sys.executable, script, *args, "--without", pkg],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print(p.stdout, end="")
if p.returncode == 77:
    sys.exit(77)
# The guard lists each missing package as "  PKG: e.g. FILE (used by: ...)".
named = re.search(rf"^  {re.escape(pkg)}: e\.g\. ", p.stdout, re.M) is not None
if p.returncode == 1 and named:
    print(f"expect_missing: OK: the guard fails without {pkg} and names it")
    sys.exit(0)
print(f"expect_missing: FAIL: wanted exit 1 naming {pkg}; got exit {p.returncode}"
      f"{'' if named else f', {pkg} not named'}")
sys.exit(1)
