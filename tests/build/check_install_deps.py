#!/usr/bin/env python3
"""Fail when the build uses a Debian package that scripts/install-deps.sh does not install.

Why: on CI (and on developers' machines) packages installed by hand hide omissions from the install
script; the README's first command then fails on a fresh Debian 12 machine (that is how the missing
ocl-icd-opencl-dev, needed by libdnnl-dev's CMake package, was found). Checking "is it installed"
proves nothing there, so this test asks instead: is every system file the build actually used owned
by a package that the install script's list pulls in (its packages plus their Depends/Pre-Depends,
recursively; not Recommends, as the script installs with --no-install-recommends)?

Files the build used, from a configured and built CMake build folder:
  - headers: the compiler's dependency info (`ninja -t deps`, or the *.d depfiles for Makefiles);
  - CMakeCache.txt: every value (or list item) that is an absolute path to an existing file;
  - CMake files read while configuring (find_package config files, Find modules): the inputs of the
    build.ninja regeneration step (or CMAKE_MAKEFILE_DEPENDS), plus *-config.cmake/*Config.cmake
    (and their version files) in each <Pkg>_DIR of the cache;
  - pkg-config .pc files of the modules that pkg_check_modules found;
  - libraries on the link command lines (`ninja -t commands` or link.txt): absolute .so/.a paths
    and -lfoo, resolved like the linker would (-L folders, then `cc -print-file-name`).
Files inside the source tree or the build folder are ignored.

Exit status: 0 all covered, 1 something missing (or owned by no package outside /usr/local),
77 dpkg is not available (not a Debian machine: CTest reports the test as skipped), 2 usage error.
Standard library only.
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

SKIP = 77


def run(cmd, check=True):
    """Run a command, return stdout (text). stderr is kept for the error message only."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        sys.exit(f"check_install_deps: `{' '.join(cmd[:4])} ...` failed ({p.returncode}): "
                 f"{p.stderr.strip()[:500]}")
    return p.stdout


# ---------------------------------------------------------------------------------------------
# What the build used. `used` maps an absolute path -> a short description of the first part of
# the build seen using it (for the failure message).

class Used:
    def __init__(self, ignore_roots):
        self.files = {}
        self.ignore_roots = [os.path.realpath(r) + os.sep for r in ignore_roots]

    def add(self, path, why):
        if not path or not os.path.isabs(path):
            return
        path = os.path.normpath(path)
        real = os.path.realpath(path)
        # Source tree and build folder are the project's own files, not a package's.
        if any((p + os.sep).startswith(r) for r in self.ignore_roots for p in (path, real)):
            return
        # Directories (include dirs, prefixes) say nothing about one package; missing files
        # (stale dependency info) were not used by this build.
        if not os.path.isfile(path):
            return
        self.files.setdefault(path, why)


def read_cache(build):
    """CMakeCache.txt as (name, type, value) triples."""
    entries = []
    with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith(("#", "//")):
                continue
            m = re.match(r"^([^:=]+):([A-Z]+)=(.*)$", line)
            if m:
                entries.append(m.groups())
    return entries


def from_cache(entries, used):
    for name, _type, value in entries:
        for item in value.split(";"):
            item = item.strip()
            if item.startswith("/"):
                used.add(item, f"CMakeCache.txt {name}")
        # <Pkg>_DIR points at the folder that find_package(<Pkg> CONFIG) loaded its config from.
        if name.endswith("_DIR") and value.startswith("/") and os.path.isdir(value):
            for pat in ("*-config.cmake", "*Config.cmake", "*-config-version.cmake",
                        "*ConfigVersion.cmake"):
                for f in glob.glob(os.path.join(value, pat)):
                    used.add(f, f"find_package config ({name})")


def from_pkg_config(entries, used):
    """The .pc files of the modules pkg_check_modules found (pkg-config needs them at configure)."""
    cache = {n: v for n, _t, v in entries}
    exe = cache.get("PKG_CONFIG_EXECUTABLE") or shutil.which("pkg-config")
    mods = {}
    for n, v in cache.items():
        if n.endswith("_MODULE_NAME") and cache.get(n[:-len("_MODULE_NAME")] + "_FOUND") == "1":
            mods[v] = n[:-len("_MODULE_NAME")]
    if not exe or not mods:
        return
    for mod, prefix in mods.items():
        for line in run([exe, "--path", mod], check=False).splitlines():
            used.add(line.strip(), f"pkg_check_modules({prefix} {mod})")


def ninja_exe(entries):
    cache = {n: v for n, _t, v in entries}
    mp = cache.get("CMAKE_MAKE_PROGRAM", "")
    if os.path.basename(mp).startswith("ninja") and os.access(mp, os.X_OK):
        return mp
    return shutil.which("ninja") or shutil.which("ninja-build")


def from_ninja(build, ninja, used):
    # Headers: `ninja -t deps` prints "target: #deps N, ..." then one indented path per line.
    target = None
    for line in run([ninja, "-C", build, "-t", "deps"]).splitlines():
        if not line.startswith(" ") and line.strip():
            target = line.split(":", 1)[0]
        elif line.strip():
            used.add(line.strip(), f"compiling {target}")
    # CMake files read while configuring: the inputs of the build.ninja regeneration edge.
    for line in run([ninja, "-C", build, "-t", "query", "build.ninja"], check=False).splitlines():
        s = line.strip().lstrip("|").strip()
        if s.startswith("/") and s.endswith(".cmake"):
            used.add(s, "CMake configure (read by cmake)")
    return run([ninja, "-C", build, "-t", "commands"]).splitlines()


def from_makefiles(build, used):
    """Makefile generators: *.d depfiles, CMAKE_MAKEFILE_DEPENDS and the link.txt files."""
    for d in glob.glob(os.path.join(build, "**", "*.d"), recursive=True):
        with open(d, encoding="utf-8", errors="replace") as f:
            text = f.read().replace("\\\n", " ")
        for rule in text.splitlines():
            if ":" not in rule:
                continue
            target, deps = rule.split(":", 1)
            # Make escapes spaces in file names as "\ ".
            for dep in re.split(r"(?<!\\)\s+", deps.strip()):
                used.add(dep.replace("\\ ", " "), f"compiling {target.strip()}")
    mk = os.path.join(build, "CMakeFiles", "Makefile.cmake")
    if os.path.isfile(mk):
        with open(mk, encoding="utf-8", errors="replace") as f:
            for m in re.finditer(r'"(/[^"]+\.cmake)"', f.read()):
                used.add(m.group(1), "CMake configure (read by cmake)")
    cmds = []
    for lt in glob.glob(os.path.join(build, "**", "link.txt"), recursive=True):
        with open(lt, encoding="utf-8", errors="replace") as f:
            cmds += [line for line in f.read().splitlines() if line.strip()]
    return cmds


LIB_RE = re.compile(r"\.(a|so)(\.[0-9]+)*$")


def from_link_commands(cmds, used):
    """Libraries named on link command lines; -lfoo resolved as the linker would."""
    resolve = {}  # (compiler, -L dirs, name) -> path, so each -lfoo costs one compiler call
    for cmd in cmds:
        try:
            words = shlex.split(cmd)
        except ValueError:
            continue
        # CMake's Ninja link rules read ": && cc ... && :"; split into the single commands.
        steps, cur = [], []
        for w in words:
            if w in ("&&", "||", ";"):
                steps.append(cur)
                cur = []
            else:
                cur.append(w)
        steps.append(cur)
        for argv in steps:
            if not argv or argv[0] == ":" or "-c" in argv or "-o" not in argv:
                continue  # not a link step (compile, ar, no-op)
            out = argv[argv.index("-o") + 1] if argv.index("-o") + 1 < len(argv) else "?"
            why = f"linking {out}"
            args = []
            for a in argv[1:]:
                args += a[4:].split(",") if a.startswith("-Wl,") else [a]
            ldirs = [a[2:] for a in args if a.startswith("-L") and len(a) > 2]
            for a in args:
                if a.startswith("/") and LIB_RE.search(a):
                    used.add(a, why)
                elif a.startswith("-l") and len(a) > 2:
                    names = [a[3:]] if a.startswith("-l:") else [f"lib{a[2:]}.so", f"lib{a[2:]}.a"]
                    key = (argv[0], tuple(ldirs), tuple(names))
                    if key not in resolve:
                        resolve[key] = resolve_lib(argv[0], ldirs, names)
                    if resolve[key]:
                        used.add(resolve[key], f"{why} ({a})")


def resolve_lib(compiler, ldirs, names):
    for d in ldirs:
        for n in names:
            if os.path.isfile(os.path.join(d, n)):
                return os.path.join(d, n)
    cc = compiler if shutil.which(compiler) else "cc"
    for n in names:
        p = run([cc, f"-print-file-name={n}"], check=False).strip()
        if os.path.isabs(p) and os.path.isfile(p):
            return os.path.normpath(p)  # e.g. /usr/lib/gcc/x86_64-linux-gnu/12/../../../x86_64-linux-gnu/libm.so
    return None


# ---------------------------------------------------------------------------------------------
# File -> package.

MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def candidates(path):
    """Names dpkg may have registered the file under, in two tiers: the path as used, then the
    symlink-resolved path. Debian 12 has merged /usr (/lib -> usr/lib), but packages still register
    some files as /lib/... and others as /usr/lib/...; try both spellings. The resolved path is only
    a fallback (for links that no package owns, like /usr/bin/cc via /etc/alternatives): a dev
    package's libfoo.so -> libfoo.so.1 link must be charged to the dev package, not to the runtime
    library that owns its target (which other packages may well pull in)."""
    tiers = []
    for p in (path, os.path.realpath(path)):
        parts = p.split("/")
        names = [p]
        if len(parts) > 2 and parts[1] == "usr" and parts[2] in MERGED:
            names.append("/" + "/".join(parts[2:]))
        elif len(parts) > 1 and parts[1] in MERGED:
            names.append("/usr" + p)
        tiers.append(names)
    return tiers


def owners_of(tiers, owners):
    """Packages owning the file: from the first tier with any owner."""
    for names in tiers:
        pkgs = set().union(*(owners.get(n, set()) for n in names))
        if pkgs:
            return pkgs
    return set()


def dpkg_owners(paths):
    """{path: set(packages)} for all names in `paths`, in a few batched `dpkg -S` calls."""
    owners = {}
    paths = list(paths)
    for i in range(0, len(paths), 1000):
        batch = paths[i:i + 1000]
        # dpkg -S treats *?[\ as a glob; escape them so the name matches only itself.
        args = [re.sub(r"([*?\[\\])", r"\\\1", p) for p in batch]
        # Exit status 1 just means "some name not found"; found ones are still printed.
        for line in run(["dpkg", "-S", "--"] + args, check=False).splitlines():
            if line.startswith("diversion ") or ": " not in line:
                continue
            pkgs, path = line.split(": ", 1)
            for pkg in pkgs.split(","):
                owners.setdefault(path.strip(), set()).add(pkg.strip().split(":")[0])
    return owners


# ---------------------------------------------------------------------------------------------
# Closure of the install script's packages over installed Depends and Pre-Depends.

def installed_db():
    """(deps, provides, essential): deps[pkg] = list of alternatives-lists of package names,
    provides[virtual] = set of installed packages providing it."""
    fmt = "${Package}\t${db:Status-Abbrev}\t${Essential}\t${Provides}\t${Depends}, ${Pre-Depends}\n"
    deps, provides, essential = {}, {}, set()
    for line in run(["dpkg-query", "-W", "-f", fmt]).splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        pkg, status, ess, prov, dep = fields
        if status[1:2] != "i":  # db:Status-Abbrev, 2nd letter = current state; "i" = installed
            continue
        groups = deps.setdefault(pkg, [])  # multi-arch copies of a package: merge their Depends
        for group in dep.split(","):
            alts = [name_of(a) for a in group.split("|")]
            alts = [a for a in alts if a]
            if alts:
                groups.append(alts)
        for p in prov.split(","):
            if name_of(p):
                provides.setdefault(name_of(p), set()).add(pkg)
        if ess == "yes":
            essential.add(pkg)
    return deps, provides, essential


def name_of(rel):
    """'libfoo:any (>= 1.2) [amd64] <!nocheck>' -> 'libfoo'. Versions are not checked: only
    installed packages are considered, and apt installed them to satisfy these constraints."""
    rel = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", rel).strip()
    return rel.split(":")[0].strip()


def closure(roots, deps, provides):
    seen, todo = set(), list(roots)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        for alts in deps.get(pkg, ()):
            # Any installed alternative (real, or providing a virtual name) satisfies the group.
            for a in alts:
                for p in ([a] if a in deps else []) + sorted(provides.get(a, ())):
                    if p not in seen:
                        todo.append(p)
    return seen


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="configured and built CMake build folder")
    ap.add_argument("--install-script", required=True, help="scripts/install-deps.sh")
    ap.add_argument("--source", help="source tree to ignore (default: CMAKE_HOME_DIRECTORY)")
    ap.add_argument("--without", action="append", default=[], metavar="PKG",
                    help="pretend the install script does not list PKG (proves the guard can fail)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every file and its package")
    a = ap.parse_args()
    t0 = time.monotonic()

    if not shutil.which("dpkg") or not shutil.which("dpkg-query"):
        print("check_install_deps: SKIP: dpkg not available (not a Debian machine)")
        return SKIP
    build = os.path.abspath(a.build)
    if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        print(f"check_install_deps: {build} is not a configured CMake build folder", file=sys.stderr)
        return 2

    # The install script's own list (`--list` installs nothing).
    listed = run(["bash", a.install_script, "--list"]).split()
    if not listed:
        print(f"check_install_deps: `{a.install_script} --list` printed no packages", file=sys.stderr)
        return 2
    for w in a.without:
        if w not in listed:
            print(f"check_install_deps: --without {w}: not in the install script's list",
                  file=sys.stderr)
            return 2
    roots = [p for p in listed if p not in a.without]

    entries = read_cache(build)
    cache = {n: v for n, _t, v in entries}
    source = a.source or cache.get("CMAKE_HOME_DIRECTORY") or cache.get("saicbench_SOURCE_DIR")
    used = Used([build] + ([source] if source else []))

    from_cache(entries, used)
    from_pkg_config(entries, used)
    ninja = ninja_exe(entries)
    if os.path.isfile(os.path.join(build, "build.ninja")) and ninja:
        link_cmds = from_ninja(build, ninja, used)
    else:
        link_cmds = from_makefiles(build, used)
    from_link_commands(link_cmds, used)
    if not used.files:
        print("check_install_deps: found no files the build used: is the build folder built?",
              file=sys.stderr)
        return 2

    cands = {f: candidates(f) for f in used.files}
    owners = dpkg_owners({n for tiers in cands.values() for names in tiers for n in names})

    deps, provides, essential = installed_db()
    missing_roots = [p for p in roots if p not in deps]
    # Essential packages are on every Debian system (apt will not remove them), so count them too.
    covered = closure(roots + sorted(essential), deps, provides)

    pkg_files = {}           # package -> first file used from it
    unowned, local = [], []
    uncovered = {}           # package not covered -> first file used from it
    for f in sorted(used.files):
        pkgs = owners_of(cands[f], owners)
        if not pkgs:
            (local if f.startswith("/usr/local/") else unowned).append(f)
        for p in sorted(pkgs):
            pkg_files.setdefault(p, f)
        # A file owned by several packages (rare) is covered if any one of them is.
        if pkgs and not pkgs & covered:
            for p in pkgs:
                uncovered.setdefault(p, f)
        if a.verbose:
            print(f"  {f}: {', '.join(sorted(pkgs)) or '(no package)'}  [{used.files[f]}]")

    dt = time.monotonic() - t0
    ok = not uncovered and not unowned
    for f in local:
        print(f"check_install_deps: note: {f} is owned by no package; under /usr/local, so "
              f"not an error (used by: {used.files[f]})")
    for p in missing_roots:
        print(f"check_install_deps: note: {p} (from the install script) is not installed here")
    if uncovered:
        print(f"check_install_deps: FAIL: the build uses {len(uncovered)} package(s) that "
              f"{a.install_script} does not install (not listed, nor pulled in by Depends/Pre-Depends"
              f" of what it lists{'; --without ' + ' '.join(a.without) if a.without else ''}):")
        for p in sorted(uncovered):
            f = uncovered[p]
            print(f"  {p}: e.g. {f} (used by: {used.files[f]})")
        print("  -> add them to the packages list in the install script "
              "(or a package there that Depends on them).")
    if unowned:
        print(f"check_install_deps: FAIL: {len(unowned)} file(s) used by the build are owned by "
              f"no Debian package and are not under /usr/local (a fresh machine will not have them):")
        for f in unowned[:20]:
            print(f"  {f} (used by: {used.files[f]})")
        if len(unowned) > 20:
            print(f"  ... and {len(unowned) - 20} more")
    if ok:
        print(f"check_install_deps: OK: {len(used.files)} files checked, {len(pkg_files)} packages "
              f"used, all covered by the {len(roots)} packages of {a.install_script} "
              f"({len(covered)} with dependencies) [{dt:.1f} s]")
        return 0
    print(f"check_install_deps: {len(used.files)} files checked, {len(pkg_files)} packages used "
          f"[{dt:.1f} s]")
    return 1


if __name__ == "__main__":
    sys.exit(main())
