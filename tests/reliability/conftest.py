"""Fixtures for the reliability suite: a connected company on either sandbox, and the figures it produces.

`books` is parametrized over both providers (and, through `sessions`, over SQLite and PostgreSQL).
`reliability` counts what the suite did: faults injected (each fault the sandboxes actually served,
each 429 their own limits answered, and each fault a test caused outside them: a revoked grant, a
skewed clock, a replayed webhook), crashes survived and duplicates found. At the end of the session
the counts are merged by test id into test-artifacts/reliability.json, whose `totals`
docs/reliability.md quotes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cycle.conftest import NOW, make_world
from tests.cycle.xero_world import make_xero_world
from tests.reliability.books import PROVIDERS, Books, exactly_once_findings
from tests.sandbox.conftest import small_scenario

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability.json"
FIGURES = ("faults_injected", "crashes_survived", "duplicates_found", "slow_clients_held", "stale_runs_reaped")


@dataclass
class Figures:
    """One test's counts."""

    faults_injected: int = 0
    crashes_survived: int = 0
    duplicates_found: int = 0
    slow_clients_held: int = 0  # slow requests cut off while the web process kept answering
    stale_runs_reaped: int = 0  # crashed or abandoned cycle runs found and closed
    kinds: dict[str, int] = field(default_factory=dict)

    def fault(self, kind: str, count: int = 1) -> None:
        self.faults_injected += count
        self.kinds[kind] = self.kinds.get(kind, 0) + count


class Reliability:
    def __init__(self) -> None:
        self.by_test: dict[str, Figures] = {}

    def figures(self, test_id: str) -> Figures:
        return self.by_test.setdefault(test_id, Figures())

    def write(self, path: Path) -> None:
        """Merge this session's figures into `path` (tests run in another session keep theirs)."""
        stored = json.loads(path.read_text())["tests"] if path.exists() else {}
        stored.update(
            {test_id: {**{k: getattr(f, k) for k in FIGURES}, "kinds": f.kinds} for test_id, f in self.by_test.items()}
        )
        totals = {k: sum(entry.get(k, 0) for entry in stored.values()) for k in FIGURES}
        kinds: dict[str, int] = {}
        for entry in stored.values():
            for kind, count in entry["kinds"].items():
                kinds[kind] = kinds.get(kind, 0) + count
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "totals": {**totals, "tests": len(stored), "fault_kinds": dict(sorted(kinds.items()))},
                    "tests": dict(sorted(stored.items())),
                },
                indent=2,
            )
            + "\n"
        )


@pytest.fixture(scope="session")
def reliability_log() -> Iterator[Reliability]:
    log = Reliability()
    yield log
    if log.by_test:
        log.write(ARTIFACT)


@pytest.fixture
def figures(reliability_log: Reliability, request: pytest.FixtureRequest) -> Figures:
    """This test's counts (faults it caused outside the sandboxes are added by the test)."""
    return reliability_log.figures(request.node.nodeid)


@pytest.fixture(params=PROVIDERS)
def books(
    request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path, figures: Figures
) -> Iterator[Books]:
    """A company connected on one provider's sandbox; afterwards its served faults are counted, and
    any duplicate a test left unasserted is counted (and fails the test there)."""
    make = make_world if request.param == "quickbooks" else make_xero_world
    for world in make(small_scenario(NOW.date()), sessions, tmp_path):
        books = Books(request.param, world)
        yield books
        served = books.runtime.counter.snapshot()
        for kind, count in served["faults_injected"].items():
            figures.fault(f"{kind}", count)
        if served["throttled_total"]:
            figures.fault("429 (sandbox limit)", served["throttled_total"])
        figures.duplicates_found += len(exactly_once_findings(books).duplicates)
