"""A cycle records its progress as it goes (integration/cycle/progress.py): each phase, the pages
fetched and the invoices stored, in its run's summary, at most once a second within a phase."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.progress import CycleProgress
from integration.store.db import transaction
from integration.store.models import CycleRun
from tests.cycle.conftest import World
from tests.web.test_cockpit import NOW, _connection, _org


def _run(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as db:
        org, _ = _org(db, "Progress Ltd")
        run = CycleRun(connection_id=_connection(db, org, "Books", synced=None).id, started_at=NOW)
        db.add(run)
        db.flush()
        return run.id


def _stored(sessions: sessionmaker[Session], run_id: int) -> dict[str, Any]:
    with sessions() as db:
        return db.scalars(select(CycleRun.summary).where(CycleRun.id == run_id)).one()


def test_pages_are_written_at_most_once_a_second_and_phases_at_once(sessions: sessionmaker[Session]) -> None:
    run_id = _run(sessions)
    clock = iter([0.0, 0.0, 0.3, 0.6, 1.2, 1.2, 1.5, 1.5]).__next__
    progress = CycleProgress(sessions, run_id, clock=clock)
    progress.entity("customer")  # written (phase), at 0.0
    assert _stored(sessions, run_id) == {"progress": {"phase": "syncing customers", "pages": 0, "invoices": 0}}
    progress.entity("invoice")  # written (phase)
    progress.page("invoice", 1000)  # 0.3 since: not written
    progress.page("invoice", 1000)  # 0.6: not written
    assert _stored(sessions, run_id)["progress"] == {"phase": "syncing invoices", "pages": 0, "invoices": 0}
    progress.page("invoice", 340)  # 1.2: written
    assert _stored(sessions, run_id)["progress"] == {"phase": "syncing invoices", "pages": 3, "invoices": 2340}
    progress.entity("credit_note")
    assert _stored(sessions, run_id)["progress"]["phase"] == "syncing credits"


def test_a_cycle_tells_each_phase_and_keeps_its_counts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[dict[str, Any]] = []
    write = CycleProgress._write

    def spy(self: CycleProgress) -> None:
        write(self)
        written.append(_stored(world.sessions, self.run_id)["progress"])

    monkeypatch.setattr(CycleProgress, "_write", spy)
    world.set_rules({"mode": "live"})
    summary = world.cycle()
    assert summary.status == "done"
    phases = list(dict.fromkeys(w["phase"] for w in written))
    assert phases[:3] == ["syncing customers", "syncing invoices", "syncing payments"]
    assert phases[-2:] == ["deciding", "sending"]
    # The finished run keeps the last phase and the counts (the small scenario has five invoices).
    assert summary.progress["invoices"] == summary.synced["invoice"] == 5
    assert summary.progress["pages"] >= 3
    with world.sessions() as db:
        run = db.scalars(select(CycleRun).order_by(CycleRun.id.desc())).first()
    assert run is not None and run.summary["progress"] == summary.progress
