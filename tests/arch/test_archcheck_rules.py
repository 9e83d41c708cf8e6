#!/usr/bin/env python3
"""The rules of scripts/archcheck.py can fail: each one is fed a small synthetic tree (a
measurement as archcheck.measure() returns it) with exactly one violation, and must report it;
the same tree without the violation must pass. The ctest `archcheck` then only ever sees the
real tree."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import archcheck  # noqa: E402


def clean_tree():
    """Every library of the table with its public headers, a consistent link graph and one user
    file that includes public headers only."""
    texts, owners = {}, {}
    for lib, spec in archcheck.LIBRARIES.items():
        for h in spec["public"]:
            texts[h] = "#include <stddef.h>\n"
            owners[h] = lib
    texts["harness/internal/plan.h"] = "#include <stdint.h>\n"
    owners["harness/internal/plan.h"] = "sb_harness"
    texts["cli/cmd_run.c"] = '#include "harness.h"\n#include "report.h"\n'
    owners["cli/cmd_run.c"] = "saicbench"
    kinds = {lib: "STATIC_LIBRARY" for lib in archcheck.LIBRARIES}
    kinds.update({exe: "EXECUTABLE" for exe in archcheck.EXECUTABLES})
    return {"kinds": kinds, "edges": [("sb_harness", "sb_results", "PUBLIC")],
            "files": sorted(texts), "texts": texts, "owners": owners, "sql_files": []}


def rules(m):
    return sorted({r for r, _ in archcheck.evaluate_rules(m)})


class Rules(unittest.TestCase):
    def test_clean_tree_passes(self):
        self.assertEqual(archcheck.evaluate_rules(clean_tree()), [])

    def test_boundary(self):
        m = clean_tree()
        m["texts"]["cli/cmd_run.c"] += '#include "internal/plan.h"\n'
        v = archcheck.evaluate_rules(m)
        self.assertEqual(rules(m), ["boundary"])
        self.assertIn("harness/internal/plan.h, which is private to sb_harness", v[0][1])
        # The library's own files may include it.
        m = clean_tree()
        m["texts"]["harness/runner.c"] = '#include "internal/plan.h"\n'
        m["owners"]["harness/runner.c"] = "sb_harness"
        m["files"].append("harness/runner.c")
        self.assertEqual(archcheck.evaluate_rules(m), [])

    def test_layers(self):
        m = clean_tree()
        m["edges"].append(("sb_results", "sb_harness", "PRIVATE"))
        self.assertEqual(rules(m), ["layers"])

    def test_sql(self):
        m = clean_tree()
        m["sql_files"].append({"path": "harness/runner.c", "includes_sqlite3_h": True,
                               "sqlite3_calls": 2, "sqlite3_handles": 1, "owner": "sb_harness"})
        self.assertEqual(rules(m), ["sql"])

    def test_headers(self):
        m = clean_tree()
        m["texts"]["metrics/metrics.h"] = '#include "report.h"\n'
        self.assertEqual(rules(m), ["headers"])

    def test_table(self):
        m = copy.deepcopy(clean_tree())
        m["kinds"]["sb_new"] = "STATIC_LIBRARY"
        self.assertEqual(rules(m), ["table"])


if __name__ == "__main__":
    unittest.main()
