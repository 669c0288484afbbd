"""A running cycle's progress, kept in its `CycleRun.summary["progress"]` for the dashboard to show.

The phase (syncing customers, invoices, payments or credits; deciding; sending), the pages fetched
and the invoices stored so far. Each write is one short UPDATE of the summary alone (the heartbeat
renews the lease beside it), made when the phase changes and otherwise at most once every
WRITE_EVERY seconds, so a sync of a hundred pages costs a handful of writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from integration.store.db import transaction
from integration.store.models import CycleRun

WRITE_EVERY = 1.0  # seconds
ENTITY_PHASES = {
    "customer": "syncing customers",
    "invoice": "syncing invoices",
    "payment": "syncing payments",
}
CREDITS_PHASE = "syncing credits"  # every provider's credit entities, one phase to the owner
DECIDING, SENDING = "deciding", "sending"


class CycleProgress:
    """Told by the cycle and the sync what they are doing; writes it to the run's row."""

    def __init__(
        self, sessions: sessionmaker[Session], run_id: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sessions, self.run_id, self.clock = sessions, run_id, clock
        self.phase = "starting"
        self.pages = 0
        self.invoices = 0
        self._written_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "pages": self.pages, "invoices": self.invoices}

    def entity(self, entity: str) -> None:
        """The sync starts on `entity`."""
        self.enter(ENTITY_PHASES.get(entity, CREDITS_PHASE))

    def page(self, entity: str, rows: int) -> None:
        """The sync stored a page of `rows` records of `entity`."""
        self.pages += 1
        if entity == "invoice":
            self.invoices += rows
        if self._written_at is None or self.clock() - self._written_at >= WRITE_EVERY:
            self._write()

    def enter(self, phase: str) -> None:
        if phase != self.phase:
            self.phase = phase
            self._write()

    def _write(self) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(CycleRun).where(CycleRun.id == self.run_id).values(summary={"progress": self.to_json()})
            )
        self._written_at = self.clock()
