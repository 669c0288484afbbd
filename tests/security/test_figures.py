"""test-artifacts/reliability.json is shared: merging keeps the other suite's entries, and the
report sums every entry whoever wrote last."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bench.reliability_report import figures, table
from tests.security.figures import merge


def test_merge_keeps_other_suites_and_replaces_only_its_own_tests(tmp_path: Path) -> None:
    path = tmp_path / "reliability.json"
    theirs = {
        "tests/reliability/test_faults.py::t": {
            "faults_injected": 7,
            "crashes_survived": 2,
            "duplicates_found": 0,
            "kinds": {"timeout": 7},
        }
    }
    path.write_text(json.dumps({"totals": {}, "tests": theirs}))
    merge(path, {"tests/security/x.py::a": Counter(bad_inputs_tried=3)})
    merge(path, {"tests/security/x.py::a": Counter(bad_inputs_tried=5)})  # a rerun replaces, never adds
    stored = json.loads(path.read_text())
    assert stored["tests"]["tests/reliability/test_faults.py::t"] == theirs["tests/reliability/test_faults.py::t"]
    assert stored["totals"]["bad_inputs_tried"] == 5 and stored["totals"]["faults_injected"] == 7
    # The other suite's writer sums its figures over every entry: ours carry them as zeros.
    assert all(
        all(k in entry for k in ("faults_injected", "crashes_survived", "duplicates_found", "kinds"))
        for entry in stored["tests"].values()
    )

    totals, kinds, tests = figures(path)
    assert (totals["faults_injected"], totals["bad_inputs_tried"], kinds["timeout"], tests) == (7, 5, 7, 2)
    report = table(totals, kinds, tests)
    assert "| faults injected" in report and "| 7 |" in report and "| timeout | 7 |" in report
