"""Where each company's cycles stand, as the dashboard tells the owner: a running cycle's phase and
what it has fetched (written by integration/cycle/progress.py), a first sync that has not finished
or has failed, and the latest finished run (the page refreshes its figures when that changes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integration.owner.company_filter import of_company
from integration.store.models import Connection, CycleRun
from integration.store.scoping import scoped

ENDED_BADLY = ("failed", "stopped")


@dataclass(frozen=True, slots=True)
class CompanyProgress:
    connection_id: int
    name: str
    status: str | None  # the latest run's: running, done, observed, failed, stopped; None before any
    first_sync: bool  # no sync of this company has finished yet
    phase: str | None
    pages: int
    invoices: int  # stored by the running (or latest) run
    detail: str | None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def message(self) -> str | None:
        """One sentence for the owner, or None when there is nothing to tell."""
        if self.running and self.first_sync:
            return f"First sync running for {self.name}: {self.invoices:,} invoices so far ({self._doing})."
        if self.running:
            return f"Cycle running for {self.name} ({self._doing})."
        if self.first_sync and self.status in ENDED_BADLY:
            return f"The first sync of {self.name} failed: {self.detail or 'no reason was given'}."
        return None

    @property
    def _doing(self) -> str:
        pages = f"{self.pages:,} page{'s' if self.pages != 1 else ''} fetched"
        return f"{self.phase}, {pages}" if self.phase else pages

    def to_json(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "name": self.name,
            "status": self.status,
            "running": self.running,
            "first_sync": self.first_sync,
            "phase": self.phase,
            "pages": self.pages,
            "invoices": self.invoices,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Progress:
    companies: list[CompanyProgress]
    finished: int | None  # the id of the latest finished run of these companies

    @property
    def running(self) -> bool:
        return any(c.running for c in self.companies)

    @property
    def first_sync_pending(self) -> bool:
        """Nothing mirrored can be trusted to be complete: no company has finished a sync."""
        return bool(self.companies) and all(c.first_sync for c in self.companies)

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "first_sync_pending": self.first_sync_pending,
            "finished": self.finished,
            "companies": [c.to_json() for c in self.companies],
        }


def cycle_progress(session: Session, organization_id: int, connection_id: int | None = None) -> Progress:
    """Every company of the organization (only `connection_id`'s when given) and its latest run."""
    connections = session.scalars(
        of_company(scoped(Connection, organization_id), Connection.id, connection_id).order_by(Connection.id)
    ).all()
    companies = []
    for connection in connections:
        run = session.scalars(
            select(CycleRun)
            .where(CycleRun.connection_id == connection.id)
            .order_by(CycleRun.started_at.desc(), CycleRun.id.desc())
            .limit(1)
        ).first()
        summary = (run.summary or {}) if run else {}
        done = summary.get("progress") or {}
        companies.append(
            CompanyProgress(
                connection.id,
                connection.display_name,
                run.status if run else None,
                connection.last_sync_at is None,
                done.get("phase"),
                int(done.get("pages") or 0),
                int(done.get("invoices") or 0),
                summary.get("detail"),
            )
        )
    finished = session.scalar(
        select(func.max(CycleRun.id)).where(
            CycleRun.connection_id.in_([c.id for c in connections]), CycleRun.finished_at.is_not(None)
        )
    )
    return Progress(companies, finished)
