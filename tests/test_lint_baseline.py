"""tools/lint_baseline.py: the comparison `make lint` rests on, without running ruff or mypy."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools import lint_baseline as lb

ROOT = Path("/repo")


def ruff_json(*items: tuple[str, int, str, str]) -> str:
    return json.dumps(
        [
            {"filename": f"/repo/{path}", "location": {"row": row, "column": 1}, "code": code, "message": message}
            for path, row, code, message in items
        ]
    )


def mypy_json(*items: tuple[str, int, str, str]) -> str:
    lines = [
        json.dumps({"file": path, "line": row, "column": 4, "message": message, "code": code, "severity": "error"})
        for path, row, code, message in items
    ]
    lines.append(json.dumps({"file": "a.py", "line": 1, "column": 0, "message": "a note", "severity": "note"}))
    return "\n".join(lines) + "\nFound 2 errors\n"


def test_keys_are_stable_when_lines_shift() -> None:
    before = lb.parse_ruff(
        ruff_json(
            ("reminders/x.py", 10, "E501", "Line too long (130 > 120)"),
            ("tests/t.py", 5, "F811", "Redefinition of unused `world` from line 3: `world` redefined here"),
        ),
        ROOT,
    )
    after = lb.parse_ruff(
        ruff_json(
            ("reminders/x.py", 42, "E501", "Line too long (131 > 120)"),
            ("tests/t.py", 9, "F811", "Redefinition of unused `world` from line 7: `world` redefined here"),
        ),
        ROOT,
    )
    assert lb.count(before) == lb.count(after)
    assert lb.compare(lb.count(before), lb.count(after)).ok
    assert before[0].key == lb.Key("ruff", "reminders/x.py", "E501", "Line too long")
    assert before[0].where() == "reminders/x.py:10:1: E501 Line too long"


def test_mypy_errors_only_and_line_references_masked() -> None:
    findings = lb.parse_mypy(
        mypy_json(("connectors/contract.py", 379, "name-defined", 'Name "x" already defined on line 12')), ROOT
    )
    assert [f.key for f in findings] == [
        lb.Key("mypy", "connectors/contract.py", "name-defined", 'Name "x" already defined on line N')
    ]
    assert findings[0].line == 379 and findings[0].column == 5


def test_new_finding_fails_and_is_reported_with_its_place() -> None:
    recorded = lb.count(lb.parse_ruff(ruff_json(("oauth/a.py", 3, "B905", "`zip()` without strict")), ROOT))
    findings = lb.parse_ruff(
        ruff_json(
            ("oauth/a.py", 3, "B905", "`zip()` without strict"), ("oauth/a.py", 8, "B905", "`zip()` without strict")
        ),
        ROOT,
    )
    comparison = lb.compare(recorded, lb.count(findings))
    assert not comparison.ok
    assert comparison.new == Counter({lb.Key("ruff", "oauth/a.py", "B905", "`zip()` without strict"): 1})
    text = "\n".join(lb.report(comparison, findings, recorded))
    assert "1 NEW findings" in text and "2 found, 1 recorded" in text
    # Both places are shown: which of the two is the new one cannot be known from counts.
    assert "oauth/a.py:3:1" in text and "oauth/a.py:8:1" in text


def test_fixed_finding_passes_and_asks_for_a_smaller_baseline() -> None:
    key = lb.Key("mypy", "reminders/content.py", "type-arg", "Missing type parameters")
    other_key = lb.Key("ruff", "tests/t.py", "E501", "Line too long")
    recorded = Counter({key: 2, other_key: 1})
    comparison = lb.compare(recorded, Counter({key: 1}))
    assert comparison.ok
    assert comparison.fixed == Counter({key: 1, other_key: 1})
    text = "\n".join(lb.report(comparison, [], recorded))
    assert "2 baseline findings are fixed" in text
    assert "make lint-baseline" in text


def test_a_finding_in_a_strict_package_fails_even_when_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict_key = lb.Key("mypy", "connectors/contract.py", "type-arg", "Missing type parameters")
    assert not lb.compare(Counter({strict_key: 1}), Counter({strict_key: 1})).ok
    baseline = tmp_path / "lint-baseline.txt"
    baseline.write_text(lb.render_baseline(Counter()))
    monkeypatch.setattr(lb, "collect", lambda root, ruff, mypy: [lb.Finding(strict_key, 3, 1)])
    args = ["--baseline", str(baseline), "--ruff", "ruff", "--mypy", "mypy"]
    assert lb.main([*args, "--update", "--allow-growth"]) == 1  # never recorded
    assert lb.read_baseline(baseline.read_text()) == Counter()


def test_strict_packages_are_counted_apart() -> None:
    counts = Counter(
        {
            lb.Key("mypy", "integration/policy/decide.py", "arg-type", "m"): 2,
            lb.Key("mypy", "connectors/xero/client.py", "arg-type", "m"): 1,
            lb.Key("mypy", "integration/policy_store.py", "arg-type", "m"): 4,  # not the policy package
        }
    )
    assert lb.split_strict(counts) == (7, 3)


def test_baseline_round_trips() -> None:
    counts = Counter({lb.Key("ruff", "a b.py", "E501", "Line too long"): 3, lb.Key("mypy", "c.py", "misc", "x\ty"): 1})
    text = lb.render_baseline(counts)
    assert text.startswith("#")
    assert lb.read_baseline(text) == counts
    with pytest.raises(ValueError, match="line 1"):
        lb.read_baseline("three\truff\ta.py\tE501\tmessage\n")


def test_growth_is_judged_per_rule_so_a_moved_file_needs_no_override() -> None:
    old = lb.Key("mypy", "integration/owner/records.py", "arg-type", "m")
    moved = lb.Key("mypy", "integration/store/records.py", "arg-type", "m")
    assert lb.growth_by_code(Counter({old: 2}), Counter({moved: 2})) == {}
    assert lb.growth_by_code(Counter({old: 2}), Counter({moved: 3})) == {("mypy", "arg-type"): (2, 3)}


def test_update_refuses_growth_unless_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = tmp_path / "lint-baseline.txt"
    key = lb.Key("ruff", "oauth/a.py", "B905", "`zip()` without strict")
    baseline.write_text(lb.render_baseline(Counter({key: 1})))
    found = [lb.Finding(key, 1, 1), lb.Finding(key, 2, 1)]
    monkeypatch.setattr(lb, "collect", lambda root, ruff, mypy: found)
    args = ["--baseline", str(baseline), "--ruff", "ruff", "--mypy", "mypy"]

    assert lb.main(args) == 1  # check: one new finding
    assert lb.main([*args, "--update"]) == 1  # refused
    assert lb.read_baseline(baseline.read_text()) == Counter({key: 1})
    assert lb.main([*args, "--update", "--allow-growth"]) == 0
    assert lb.read_baseline(baseline.read_text()) == Counter({key: 2})

    found.pop()
    assert lb.main(args) == 0  # one fixed: passes
    assert lb.main([*args, "--update"]) == 0  # shrinking needs no flag
    assert lb.read_baseline(baseline.read_text()) == Counter({key: 1})


def test_a_moved_module_is_named_as_moved() -> None:
    old = lb.Key("mypy", "integration/owner/records.py", "arg-type", "m")
    moved = lb.Key("mypy", "integration/store/records.py", "arg-type", "m")
    comparison = lb.compare(Counter({old: 2}), Counter({moved: 2}))
    assert not comparison.ok
    assert lb.moved_paths(comparison) == [("integration/owner/records.py", "integration/store/records.py")]
    text = "\n".join(lb.report(comparison, [lb.Finding(moved, 3, 1)], Counter({old: 2})))
    assert "integration/owner/records.py -> integration/store/records.py" in text
