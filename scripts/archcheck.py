#!/usr/bin/env python3
"""archcheck: measure saicbench's architecture and, with --check, guard it.

Run from the repository root with a configured (and, for the symbol counts, built) build folder:

    python3 scripts/archcheck.py --build build-x [--check] [--json out.json] [-v]

Measurements (always printed):
  library graph      which project library / executable links which other project library,
                     direct links only, as CMake itself sees them (`cmake --graphviz`, re-run on
                     the build folder; nothing in it changes)
  large files        product .c/.h files (tracked by git, outside tests/ and examples/) over
                     MAX_FILE_LINES lines
  long functions     function definitions in product files over MAX_FUNCTION_LINES lines,
                     counted from the first line of the signature to the closing brace
  global symbols     per project static library (nm on its .a): the defined global symbols, how
                     many are not declared in the library's public header(s), and how many lack
                     the library's conventional name prefix
  SQL-speaking files product files that include <sqlite3.h> or call sqlite3_*()

Rules (always evaluated and printed; enforced, exit status 1, only with --check):
  (a) layers   every direct link between project targets goes from a higher layer to a
               strictly lower one (equal layers may not link each other)
  (b) sql      only files under SQL_ALLOWED_DIRS include sqlite3.h or call sqlite3_*()
  (c) headers  no public header includes a header owned by another library of the same or a
               higher layer
  (d) boundary a product file includes another library's headers only through that library's
               public header(s) (LIBRARIES); everything else of a library is private to it
  (t) table    every project library CMake knows is in LIBRARIES, and every public header
               listed there exists

The tables at the top of this script (LIBRARIES, EXECUTABLES, SQL_ALLOWED_DIRS, ...) are the one place to edit
when libraries are added, renamed or re-layered.

Exit status: 0 fine (or violations without --check), 1 violations with --check, 2 the
measurement itself failed (no build folder, cmake or nm failed, ...).
Standard library only.
"""

import argparse
import bisect
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------------------------
# The architecture, in one place.
#
# LIBRARIES: every project static library.
#   dir       the folder its sources live in (informational; ownership of files is taken from
#             the build's compile_commands.json)
#   public    its public header(s): the declarations users may rely on. Today no library has a
#             single header named after it; the most central one is chosen (see the note).
#   prefixes  the conventional prefixes of its global names: the library's own name and, where
#             that differs, the concept its public header is named after
#   layer     higher layers may link lower layers only (rule a)
LIBRARIES = {
    # layer 0: no project dependencies at all
    "sb_base": {"dir": "base", "public": ["base/base.h"], "prefixes": ["sb_"], "layer": 0},
    # layer 1: foundations that use at most sb_base
    "sb_data": {"dir": "data", "public": ["data/data.h"],
                "prefixes": ["data_", "dataset_", "image_"], "layer": 1},
    "sb_metrics": {"dir": "metrics", "public": ["metrics/metrics.h"],
                   "prefixes": ["metrics_"], "layer": 1},
    "sb_nn": {"dir": "nn", "public": ["nn/nn.h"], "prefixes": ["nn_"], "layer": 1},
    "sb_saic_coder": {"dir": "codecs/saic", "public": ["codecs/saic/saic_coder.h"],
                      "prefixes": ["saic_"], "layer": 1},
    # layer 2: the SAIC codec's networks, density and checkpoints (inference only)
    "sb_saic": {"dir": "codecs/saic", "public": ["codecs/saic/saic.h"],
                "prefixes": ["saic_"], "layer": 2},
    # layer 3: the codecs (registry, built-in codecs, plugins) and the task networks
    # saicbench_codec.h is the plugin interface (what a plugin sees); codec_registry.h includes it
    "sb_codecs": {"dir": "codecs", "public": ["codecs/codec_registry.h", "codecs/saicbench_codec.h"],
                  "prefixes": ["codec_"], "layer": 3},
    "sb_tasks": {"dir": "tasks", "public": ["tasks/classifier.h"],
                 "prefixes": ["tasks_", "classifier_"], "layer": 3},
    # layer 4: the result database, the only SQL
    "sb_results": {"dir": "results", "public": ["results/results.h"],
                   "prefixes": ["results_", "store_", "merge_"], "layer": 4},
    # layer 5: the runner (suite -> units -> codecs -> metrics -> results) and training
    "sb_harness": {"dir": "harness", "public": ["harness/harness.h"],
                   "prefixes": ["harness_", "runner_", "plan_", "encode_cache_", "suite_", "ratectl_",
                                "writer_"],
                   "layer": 5},
    "sb_train": {"dir": "train", "public": ["train/train.h"],
                 "prefixes": ["train_", "saic_train_", "saic_export", "config_yaml_"], "layer": 5},
    # layer 6: reports, compare, gate inputs; the SAIC encode/decode/export subcommands
    "sb_reports": {"dir": "reports", "public": ["reports/report.h"],
                   "prefixes": ["report_", "svg_"], "layer": 6},
    "sb_saic_cli": {"dir": "codecs/saic", "public": ["codecs/saic/saic_cli.h"],
                    "prefixes": ["saic_"], "layer": 6},
    # layer 7: the release gate (runs the harness, reads results, uses the reports' BD)
    "sb_gate": {"dir": "gate", "public": ["gate/gate.h"], "prefixes": ["gate_"], "layer": 7},
}

# The project's executables: part of the graph and of rule (a), no symbol measurement.
EXECUTABLES = {
    "saicbench": {"layer": 8},
    "saicbench_train": {"layer": 8},
}

# A static library CMake knows whose name matches this but that is missing from LIBRARIES is
# reported (rule t), so new libraries cannot slip past the layer rule.
PROJECT_LIBRARY_PATTERN = re.compile(r"^sb_")
# Libraries of the tests (tests/), not of the product: outside the rules.
TEST_LIBRARIES = {"sb_test"}

# Rule (b): the only folders (relative to the repository root, with a trailing slash) whose
# files may include sqlite3.h or call sqlite3_*().
SQL_ALLOWED_DIRS = ["results/"]

# Product code: tracked .c/.h files outside these folders, minus tracked generated files.
NON_PRODUCT_DIRS = ["tests/", "examples/"]
GENERATED_FILES = []  # tracked generated sources, if any ever appear (build outputs are untracked)

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 100

# ---------------------------------------------------------------------------------------------

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
_Static_assert _Thread_local __attribute__ __typeof__ typeof __declspec __extension__ __asm__ asm
""".split())

GRAPHVIZ_SHAPES = {  # cmake --graphviz node shapes (see its legend)
    "egg": "EXECUTABLE", "octagon": "STATIC_LIBRARY", "doubleoctagon": "SHARED_LIBRARY",
    "tripleoctagon": "MODULE_LIBRARY", "pentagon": "INTERFACE_LIBRARY",
    "hexagon": "OBJECT_LIBRARY", "septagon": "UNKNOWN_LIBRARY", "box": "CUSTOM_TARGET",
}
GRAPHVIZ_STYLES = {None: "PUBLIC", "dotted": "PRIVATE", "dashed": "INTERFACE"}


class MeasureError(Exception):
    """The measurement could not be made (exit status 2)."""


def run(cmd, cwd=None):
    """Runs cmd and returns its stdout; a failure is a MeasureError quoting stderr."""
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as e:
        raise MeasureError(f"cannot run {cmd[0]}: {e}")
    if r.returncode != 0:
        raise MeasureError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n"
                           f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return r.stdout


# ---- C source scanning ----------------------------------------------------------------------

def strip_c(text):
    """Returns text with comments, the contents of string and character literals and whole
    preprocessor directives (continuation lines included) replaced by spaces. Newlines are kept,
    so offsets and line numbers in the result are those of the original."""
    out = list(text)
    n = len(text)
    i = 0
    line_start = True  # nothing but blanks (or comments) so far on this line

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    def skip_block_comment(j):  # j at "/*"; returns the offset after "*/"
        end = text.find("*/", j + 2)
        end = n if end < 0 else end + 2
        blank(j, end)
        return end

    def skip_literal(j, keep_quotes):  # j at the opening quote; returns the offset after it
        q = text[j]
        k = j + 1
        while k < n and text[k] != q and text[k] != "\n":
            k += 2 if text[k] == "\\" else 1
        k = min(k, n)
        if keep_quotes:
            blank(j + 1, k)
        else:
            blank(j, min(k + 1, n))
        return k + 1 if k < n and text[k] == q else k

    while i < n:
        c = text[i]
        if c == "\n":
            line_start = True
            i += 1
        elif text.startswith("/*", i):
            i = skip_block_comment(i)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c == "#" and line_start:
            # A directive: up to a newline that is not escaped by a backslash.
            j = i
            while j < n:
                if text.startswith("/*", j):
                    j = skip_block_comment(j)
                elif text.startswith("//", j):
                    end = text.find("\n", j)
                    end = n if end < 0 else end
                    blank(j, end)
                    j = end
                elif text[j] in "\"'":
                    j = skip_literal(j, keep_quotes=False)
                elif text[j] == "\n":
                    if text[i:j].rstrip("\r").endswith("\\"):
                        j += 1
                        i = j  # continuation: keep this newline, go on from the next line
                    else:
                        break
                else:
                    out[j] = " "
                    j += 1
            i = j
        elif c in "\"'":
            line_start = False
            i = skip_literal(i, keep_quotes=True)
        else:
            if not c.isspace():
                line_start = False
            i += 1
    return "".join(out)


def _remove_attributes(decl):
    """Blanks __attribute__((...)) groups (balanced parentheses) out of a declaration."""
    out = decl
    for m in reversed(list(re.finditer(r"\b__attribute__\s*\(", decl))):
        depth, k = 0, m.end() - 1
        while k < len(decl):
            if decl[k] == "(":
                depth += 1
            elif decl[k] == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        out = out[:m.start()] + " " * (k + 1 - m.start()) + out[k + 1:]
    return out


def _classify(decl):
    """What a '{' at file scope opens, given the declaration text before it: ('extern', None)
    for extern "C" {, ('fn', name) for a function body, ('block', None) for anything else
    (struct/union/enum bodies, initialisers)."""
    if re.fullmatch(r'\s*extern\s*"\s*"\s*', decl):
        return "extern", None
    d = _remove_attributes(decl).rstrip()
    if not d.endswith(")"):
        return "block", None
    depth = 0
    for ch in d:  # "int x[] = {" or "... = (type){" are initialisers, not functions
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "=" and depth == 0:
            return "block", None
    for m in re.finditer(r"([A-Za-z_]\w*)\s*\(", d):
        if m.group(1) not in C_KEYWORDS:
            return "fn", m.group(1)
    return "fn", "?"


def find_functions(text):
    """Function definitions in C source text: a list of (name, first line, last line), 1-based,
    from the first line of the signature to the line of the closing brace."""
    code = strip_c(text)
    line_offsets = [m.end() for m in re.finditer("\n", code)]

    def line_of(offset):
        return bisect.bisect_right(line_offsets, offset) + 1

    functions = []
    stack = []  # one entry per open brace: 'extern', 'fn', 'block' or 'inner'
    depth = 0  # open braces other than extern "C" blocks
    decl_start = None  # offset of the first character of the current file-scope declaration
    fn = None
    for i, c in enumerate(code):
        if c not in "{};" and (decl_start is not None or c.isspace()):
            continue
        if depth == 0:
            if c == "{":
                decl = code[decl_start:i] if decl_start is not None else ""
                kind, name = _classify(decl)
                stack.append(kind)
                if kind == "extern":
                    decl_start = None  # its contents are file-scope declarations
                else:
                    depth += 1
                if kind == "fn":
                    fn = (name, line_of(decl_start if decl_start is not None else i))
                    decl_start = None
            elif c == "}":
                if stack:  # the end of an extern "C" block
                    stack.pop()
                decl_start = None
            elif c == ";":
                decl_start = None
            elif decl_start is None:
                decl_start = i
        else:
            if c == "{":
                stack.append("inner")
                depth += 1
            elif c == "}":
                kind = stack.pop()
                depth -= 1
                if kind == "fn":
                    functions.append((fn[0], fn[1], line_of(i)))
                    decl_start = None
                # 'block': the declaration goes on to its ';' (struct s {...} x;)
    return functions


def include_names(text):
    """The quoted and angle-bracket #include names of a C file, in order: [(name, is_system)]."""
    return [(m.group(2), m.group(1) == "<")
            for m in re.finditer(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', text, re.M)]


def identifiers(text):
    """Every identifier outside comments and literals (for "is it declared in this header")."""
    return set(re.findall(r"[A-Za-z_]\w*", strip_c(text)))


# ---- the repository ---------------------------------------------------------------------------

def tracked_c_files(root):
    out = run(["git", "-C", root, "ls-files", "-z", "--", "*.c", "*.h"])
    return sorted(p for p in out.split("\0") if p)


def is_product(path):
    return (not any(path.startswith(d) for d in NON_PRODUCT_DIRS)
            and path not in GENERATED_FILES)


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def count_lines(text):
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


# ---- the build folder --------------------------------------------------------------------------

def cache_value(build, key):
    with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split("=", 1)[1].strip()
    return None


def read_graph(root, build, cmake, dot_file=None):
    """The target graph as CMake sees it: ({target: type}, [(from, to, scope)]), direct links
    only. Made by re-running CMake on the build folder with --graphviz (the build files are
    regenerated unchanged) unless dot_file, an existing `cmake --graphviz` output, is given."""
    if dot_file:
        with open(dot_file, encoding="utf-8") as f:
            dot = f.read()
    else:
        source = cache_value(build, "CMAKE_HOME_DIRECTORY")
        if not source:
            raise MeasureError(f"{build}/CMakeCache.txt names no source folder")
        if os.path.realpath(source) != os.path.realpath(root):
            print(f"archcheck: warning: {build} was configured from {source}, not {root}: the "
                  "library graph and symbols are that tree's", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="archcheck.") as tmp:
            path = os.path.join(tmp, "g.dot")
            run([cmake, "-S", source, "-B", build, f"--graphviz={path}"])
            with open(path, encoding="utf-8") as f:
                dot = f.read()
    labels, kinds, edges = {}, {}, []
    for m in re.finditer(r'^\s*"(node\d+)"\s*\[\s*label\s*=\s*"((?:[^"\\]|\\.)*)"\s*,'
                         r'\s*shape\s*=\s*(\w+)', dot, re.M):
        name = m.group(2).split("\\n")[0]  # "saicbench_codec_interface\n(saicbench::codec)"
        labels[m.group(1)] = name
        kinds[name] = GRAPHVIZ_SHAPES.get(m.group(3), m.group(3))
    for m in re.finditer(r'^\s*"(node\d+)"\s*->\s*"(node\d+)"(?:\s*\[\s*style\s*=\s*(\w+)\s*\])?',
                         dot, re.M):
        edges.append((labels[m.group(1)], labels[m.group(2)],
                      GRAPHVIZ_STYLES.get(m.group(3), m.group(3))))
    if not kinds:
        raise MeasureError("cmake --graphviz wrote no targets")
    return kinds, edges


def source_owners(root, build):
    """{repository-relative .c path: [targets compiling it]} from compile_commands.json."""
    path = os.path.join(build, "compile_commands.json")
    if not os.path.exists(path):
        raise MeasureError(f"{path} missing (CMAKE_EXPORT_COMPILE_COMMANDS is ON in the top "
                           "CMakeLists.txt; configure the build folder first)")
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    owners = {}
    rootreal = os.path.realpath(root)
    for e in entries:
        src = os.path.realpath(os.path.join(e["directory"], e["file"]))
        rel = os.path.relpath(src, rootreal)
        if rel.startswith(".."):
            continue  # generated into the build folder
        args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
        obj = args[args.index("-o") + 1] if "-o" in args else ""
        m = re.search(r"CMakeFiles/([^/]+)\.dir/", obj)
        if m:
            owners.setdefault(rel, []).append(m.group(1))
    return owners


def file_owners(files, src_owners):
    """{product file: owning target or None}. A .c file belongs to the target that compiles it;
    a header to the target compiling the .c file of the same name, else to the only target that
    compiles anything in the header's folder."""
    by_dir = {}
    for src, targets in src_owners.items():
        for t in targets:
            by_dir.setdefault(os.path.dirname(src), set()).add(t)
    owners = {}
    for f in files:
        # A library's private headers live in <its folder>/internal/: they belong to the folder
        # above, as if they sat next to its sources.
        d = os.path.dirname(f)
        if os.path.basename(d) == "internal":
            d = os.path.dirname(d)
        stem_c = os.path.join(d, os.path.basename(f)[:-2] + ".c")
        targets = src_owners.get(f) or src_owners.get(stem_c)
        if not targets and f.endswith(".h"):
            candidates = by_dir.get(d, set())
            targets = sorted(candidates) if len(candidates) == 1 else None
        owners[f] = targets[0] if targets else None
    return owners


def find_archive(build, lib):
    for dirpath, dirnames, filenames in os.walk(build):
        dirnames[:] = [d for d in dirnames if d not in ("CMakeFiles", "Testing", ".cmake")]
        if f"lib{lib}.a" in filenames:
            return os.path.join(dirpath, f"lib{lib}.a")
    return None


def global_symbols(archive):
    """[(symbol, nm type letter, object file)] of the defined global symbols of a static
    library. Compiler-made names (.gomp_critical_*, __x86.get_pc_thunk*) are left out."""
    out = run(["nm", "--defined-only", "-g", "-P", archive])
    symbols, member = [], ""
    for line in out.splitlines():
        m = re.match(r"^.*\[(.+)\]:$", line) or re.match(r"^(\S+):$", line)
        if m:
            member = m.group(1)
            continue
        parts = line.split()
        if len(parts) >= 2 and len(parts[1]) == 1:
            name = parts[0]
            if name.startswith(".") or name.startswith("__"):
                continue
            symbols.append((name, parts[1], member))
    return symbols


# ---- measurements -----------------------------------------------------------------------------

def measure(root, build, cmake, dot_file):
    files = [f for f in tracked_c_files(root) if is_product(f)]
    texts = {f: read(root, f) for f in files}
    owners = file_owners(files, source_owners(root, build))

    # The library graph, restricted to the project's libraries and executables.
    kinds, all_edges = read_graph(root, build, cmake, dot_file)
    project = [t for t in kinds if t in LIBRARIES or t in EXECUTABLES
               or (kinds[t] == "STATIC_LIBRARY" and PROJECT_LIBRARY_PATTERN.match(t)
                   and t not in TEST_LIBRARIES)]
    edges = sorted({(a, b, s) for a, b, s in all_edges if a in project and b in project})

    large = sorted(({"path": f, "lines": count_lines(t), "owner": owners[f]}
                    for f, t in texts.items() if count_lines(t) > MAX_FILE_LINES),
                   key=lambda x: (-x["lines"], x["path"]))

    functions = []
    for f, t in texts.items():
        for name, first, last in find_functions(t):
            if last - first + 1 > MAX_FUNCTION_LINES:
                functions.append({"path": f, "function": name, "first_line": first,
                                  "last_line": last, "lines": last - first + 1,
                                  "owner": owners[f]})
    functions.sort(key=lambda x: (-x["lines"], x["path"], x["first_line"]))

    symbols = {}
    for lib, spec in LIBRARIES.items():
        archive = find_archive(build, lib)
        entry = {"archive": archive and os.path.relpath(archive, build),
                 "public": spec["public"], "prefixes": spec["prefixes"]}
        if archive is None:
            entry["error"] = "not built (no lib%s.a in the build folder)" % lib
        else:
            declared = set()
            for h in spec["public"]:
                if h in texts:
                    declared |= identifiers(texts[h])
            syms = global_symbols(archive)
            entry["defined"] = [{"name": n, "type": ty, "object": o} for n, ty, o in syms]
            entry["not_in_public"] = sorted(n for n, _, _ in syms if n not in declared)
            entry["without_prefix"] = sorted(
                n for n, _, _ in syms if not any(n.startswith(p) for p in spec["prefixes"]))
        symbols[lib] = entry

    sql = []
    for f, t in texts.items():
        includes = any(name == "sqlite3.h" for name, _ in include_names(t))
        code = strip_c(t)
        calls = len(re.findall(r"\bsqlite3_\w+\s*\(", code))
        handles = len(re.findall(r"\bsqlite3(?:_stmt)?\s*\*", code))
        if includes or calls:
            sql.append({"path": f, "includes_sqlite3_h": includes, "sqlite3_calls": calls,
                        "sqlite3_handles": handles, "owner": owners[f]})
    sql.sort(key=lambda x: (-x["sqlite3_calls"], x["path"]))

    return {"root": root, "build": build, "kinds": {t: kinds[t] for t in project},
            "edges": edges, "files": files, "texts": texts, "owners": owners,
            "large_files": large, "long_functions": functions, "symbols": symbols,
            "sql_files": sql}


def layer_of(target):
    spec = LIBRARIES.get(target) or EXECUTABLES.get(target)
    return spec["layer"] if spec else None


def evaluate_rules(m):
    """[(rule, message)] for every violation of rules a, b, c and t."""
    violations = []

    # (t) the table matches the build and the tree
    for t, kind in sorted(m["kinds"].items()):
        if t not in LIBRARIES and t not in EXECUTABLES:
            violations.append(("table", f"{t} ({kind}) is a project target missing from the "
                               "LIBRARIES table in scripts/archcheck.py: give it a layer"))
    for lib in sorted(LIBRARIES):
        if lib not in m["kinds"]:
            violations.append(("table", f"{lib} is in LIBRARIES but CMake has no such target"))
        for h in LIBRARIES[lib]["public"]:
            if h not in m["texts"]:
                violations.append(("table", f"{lib}: public header {h} does not exist"))

    # (a) links go strictly downwards
    for a, b, scope in m["edges"]:
        la, lb = layer_of(a), layer_of(b)
        if la is None or lb is None:
            continue  # reported under (t)
        if la <= lb:
            how = "the same layer" if la == lb else "a higher layer"
            violations.append(("layers", f"{a} (layer {la}) links {b} (layer {lb}, {how}; "
                               f"{scope.lower()} link)"))

    # (b) SQL only in the allowed folders
    for e in m["sql_files"]:
        if not any(e["path"].startswith(d) for d in SQL_ALLOWED_DIRS):
            what = []
            if e["includes_sqlite3_h"]:
                what.append("includes sqlite3.h")
            if e["sqlite3_calls"]:
                n = e["sqlite3_calls"]
                what.append(f"calls sqlite3_* {n} time{'s' if n != 1 else ''}")
            violations.append(("sql", f"{e['path']} ({e['owner']}) {' and '.join(what)}; "
                               f"SQL is allowed under {', '.join(SQL_ALLOWED_DIRS)} only"))

    # (c) public headers include nothing from the same or a higher layer of another library
    by_name = {}
    for f in m["files"]:
        if f.endswith(".h"):
            by_name.setdefault(os.path.basename(f), []).append(f)
    for lib in sorted(LIBRARIES):
        for h in LIBRARIES[lib]["public"]:
            if h not in m["texts"]:
                continue
            for name, system in include_names(m["texts"][h]):
                target = resolve_include(h, name, by_name, m["texts"]) if not system else None
                owner = m["owners"].get(target) if target else None
                if not owner or owner == lib or layer_of(owner) is None:
                    continue
                if layer_of(owner) >= LIBRARIES[lib]["layer"]:
                    violations.append(("headers", f"{h} (public header of {lib}, layer "
                                       f"{LIBRARIES[lib]['layer']}) includes {target} "
                                       f"({owner}, layer {layer_of(owner)})"))

    # (d) other libraries only through their public headers
    for f in sorted(m["texts"]):
        if not is_product(f):
            continue
        a = m["owners"].get(f)
        for name, system in include_names(m["texts"][f]):
            target = resolve_include(f, name, by_name, m["texts"]) if not system else None
            b = m["owners"].get(target) if target else None
            if not b or b == a or b not in LIBRARIES or target in LIBRARIES[b]["public"]:
                continue
            violations.append(("boundary", f"{f} ({a or 'no target'}) includes {target}, "
                               f"which is private to {b} (public: "
                               f"{', '.join(LIBRARIES[b]['public'])})"))
    return violations


def resolve_include(includer, name, by_name, texts):
    """The product header an #include "name" in includer means: next to the includer first,
    else the one product header with that path suffix."""
    local = os.path.normpath(os.path.join(os.path.dirname(includer), name))
    if local in texts:
        return local
    matches = [f for f in by_name.get(os.path.basename(name), []) if f.endswith(name)]
    return matches[0] if len(matches) == 1 else None


# ---- output -------------------------------------------------------------------------------------

def graph_lines(m):
    """'a → b, c (private)' per project target, highest layer first."""
    out = {}
    for a, b, scope in m["edges"]:
        out.setdefault(a, []).append(b + ("" if scope == "PUBLIC" else f" ({scope.lower()})"))
    order = sorted(m["kinds"], key=lambda t: (-(layer_of(t) if layer_of(t) is not None else 99), t))
    lines = []
    for t in order:
        lyr = layer_of(t)
        lines.append((t, lyr, out.get(t, [])))
    return lines


def print_report(m, violations, check, top, verbose):
    p = print
    p(f"archcheck: {m['root']} (build folder {m['build']})")
    p(f"layers: " + "; ".join(
        f"{l}: " + ", ".join(sorted(t for t in list(LIBRARIES) + list(EXECUTABLES)
                                    if layer_of(t) == l))
        for l in sorted({layer_of(t) for t in list(LIBRARIES) + list(EXECUTABLES)})))

    p("\n== Library graph (direct links between project targets; CMake's view) ==")
    for a, b, scope in m["edges"]:
        p(f"  {a} -> {b} [{scope}]")
    p(f"  ({len(m['edges'])} links)")
    p("\n  As text (layer, target → what it links; links are PUBLIC unless marked):")
    for t, lyr, deps in graph_lines(m):
        p(f"  - [{lyr if lyr is not None else '?'}] {t} → {', '.join(deps) if deps else '(none)'}")

    p(f"\n== Product files over {MAX_FILE_LINES} lines: {len(m['large_files'])} "
      f"(of {len(m['files'])} product .c/.h files) ==")
    for e in m["large_files"]:
        p(f"  {e['lines']:5d}  {e['path']}  ({e['owner'] or '?'})")

    fns = m["long_functions"]
    p(f"\n== Functions over {MAX_FUNCTION_LINES} lines: {len(fns)} "
      "(signature to closing brace) ==")
    for e in fns[:top] if top else fns:
        p(f"  {e['lines']:5d}  {e['path']}:{e['first_line']}  {e['function']}()")
    if top and len(fns) > top:
        p(f"  ... {len(fns) - top} more (--top 0 lists all)")

    p("\n== Global symbols per library (nm) ==")
    p(f"  {'library':14s} {'defined':>7s} {'not in public':>13s} {'no prefix':>9s}  public header;"
      " prefixes")
    totals = [0, 0, 0]
    for lib, e in m["symbols"].items():
        if "error" in e:
            p(f"  {lib:14s} {e['error']}")
            continue
        nums = [len(e["defined"]), len(e["not_in_public"]), len(e["without_prefix"])]
        totals = [x + y for x, y in zip(totals, nums)]
        p(f"  {lib:14s} {nums[0]:7d} {nums[1]:13d} {nums[2]:9d}  {', '.join(e['public'])}; "
          f"{', '.join(e['prefixes'])}")
    p(f"  {'total':14s} {totals[0]:7d} {totals[1]:13d} {totals[2]:9d}")
    for lib, e in m["symbols"].items():
        if e.get("without_prefix"):
            p(f"  {lib} without prefix: {', '.join(e['without_prefix'])}")
    if verbose:
        for lib, e in m["symbols"].items():
            if e.get("not_in_public"):
                p(f"  {lib} not in {', '.join(e['public'])}: {', '.join(e['not_in_public'])}")

    p(f"\n== SQL-speaking product files (include sqlite3.h or call sqlite3_*): "
      f"{len(m['sql_files'])} ==")
    p(f"  {'calls':>5s}  {'include':7s}  {'handles':>7s}  file")
    for e in m["sql_files"]:
        p(f"  {e['sqlite3_calls']:5d}  {'yes' if e['includes_sqlite3_h'] else 'no':7s}  "
          f"{e['sqlite3_handles']:7d}  {e['path']}  ({e['owner'] or '?'})")
    p(f"  total sqlite3_*() calls: {sum(e['sqlite3_calls'] for e in m['sql_files'])}")

    enforced = "enforced" if check else "not enforced; --check enforces them"
    p(f"\n== Rules ({enforced}): {len(violations)} violation(s) ==")
    for rule in ("table", "layers", "sql", "headers", "boundary"):
        these = [msg for r, msg in violations if r == rule]
        p(f"  [{rule}] {len(these)}" + ("" if these else " (ok)"))
        for msg in these:
            p(f"    {msg}")


def to_json(m, violations):
    return {
        "root": m["root"],
        "build": m["build"],
        "limits": {"file_lines": MAX_FILE_LINES, "function_lines": MAX_FUNCTION_LINES},
        "table": {"libraries": LIBRARIES, "executables": EXECUTABLES,
                  "sql_allowed_dirs": SQL_ALLOWED_DIRS},
        "targets": m["kinds"],
        "links": [{"from": a, "to": b, "scope": s} for a, b, s in m["edges"]],
        "graph_text": [{"target": t, "layer": l, "links": d} for t, l, d in graph_lines(m)],
        "product_files": len(m["files"]),
        "large_files": m["large_files"],
        "long_functions": m["long_functions"],
        "symbols": m["symbols"],
        "sql_files": m["sql_files"],
        "violations": [{"rule": r, "message": msg} for r, msg in violations],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="archcheck.py", description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, metavar="DIR",
                    help="a configured and built CMake build folder of this tree")
    ap.add_argument("--check", action="store_true",
                    help="enforce the rules: exit 1 and list the violations if any")
    ap.add_argument("--json", metavar="FILE", help="also write everything as JSON to FILE")
    ap.add_argument("--top", type=int, default=0, metavar="N",
                    help="list only the N longest functions (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list the symbols missing from each public header")
    ap.add_argument("--root", metavar="DIR",
                    help="the repository (default: the one this script is in)")
    ap.add_argument("--cmake", default="cmake", metavar="PATH", help="the cmake to run")
    ap.add_argument("--dot", metavar="FILE",
                    help="read the target graph from this `cmake --graphviz` output instead of "
                         "re-running CMake on the build folder")
    args = ap.parse_args(argv)

    root = os.path.abspath(args.root or os.path.join(os.path.dirname(__file__), ".."))
    build = os.path.abspath(args.build)
    try:
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            raise MeasureError(f"{build} is not a configured CMake build folder "
                               "(no CMakeCache.txt)")
        m = measure(root, build, args.cmake, args.dot)
    except MeasureError as e:
        print(f"archcheck: {e}", file=sys.stderr)
        return 2
    violations = evaluate_rules(m)
    print_report(m, violations, args.check, args.top, args.verbose)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_json(m, violations), f, indent=1, ensure_ascii=False)
            f.write("\n")
    if args.check and violations:
        print(f"\narchcheck: FAILED: {len(violations)} architecture rule violation(s)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
