"""What the security, bad-input and fuzzing tests tried, merged into test-artifacts/reliability.json.

The file is shared with the fault-injection suite (tests/reliability): one entry per test id under
`tests`, each with that suite's figures (faults_injected, crashes_survived, duplicates_found, kinds)
and any of ours, and `totals` summed over every numeric figure. Each session rewrites only its own
test ids, so either suite can run alone without erasing the other's figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability.json"
# The fault-injection suite's figures, present (as 0) on every entry so its totals can sum them.
SHARED = ("faults_injected", "crashes_survived", "duplicates_found")


def totals(tests: dict[str, dict[str, object]]) -> dict[str, object]:
    summed: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for entry in tests.values():
        summed.update({k: v for k, v in entry.items() if isinstance(v, int) and not isinstance(v, bool)})
        kinds.update(entry.get("kinds", {}))  # type: ignore[arg-type]
    return {**dict(sorted(summed.items())), "tests": len(tests), "fault_kinds": dict(sorted(kinds.items()))}


def merge(path: Path, figures: dict[str, Counter[str]]) -> None:
    """Read, replace this session's test ids, write back."""
    stored = json.loads(path.read_text()).get("tests", {}) if path.exists() else {}
    for test_id, counts in figures.items():
        stored[test_id] = {**{k: 0 for k in SHARED}, "kinds": {}, **dict(sorted(counts.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"totals": totals(stored), "tests": dict(sorted(stored.items()))}, indent=2) + "\n")
