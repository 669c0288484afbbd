"""Each connection's health as the dashboard and the weekly digest show it: its status, its latest
cycle, whether cycles keep failing, and when the next one runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.clock.slots import next_run
from integration.cycle.leases import Failing, failing, retry_at
from integration.owner.company_filter import of_company
from integration.store.connections import TAKEN_OVER
from integration.store.models import Connection, ConnectionStatus, CycleRun
from integration.store.scoping import scoped


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    id: int
    provider: str
    display_name: str
    status: ConnectionStatus
    status_reason: str | None
    last_sync_at: dt.datetime | None
    next_run_at: dt.datetime | None  # None unless active
    last_run_status: str | None
    last_run_detail: str | None
    failing: Failing | None = None  # the latest cycles failed: since when, why, and when it is retried
    retry_at: dt.datetime | None = None

    @property
    def needs_reconnect(self) -> bool:
        return self.status is ConnectionStatus.NEEDS_RECONNECT

    @property
    def taken_over(self) -> bool:
        """Handed to another arpilot account by an administrator of the company (connect_company)."""
        return self.status is ConnectionStatus.DISCONNECTED and (self.status_reason or "").startswith(TAKEN_OVER)


def connection_health(
    session: Session,
    organization_id: int,
    interval: dt.timedelta,
    now: dt.datetime,
    connection_id: int | None = None,
) -> list[ConnectionHealth]:
    """Every connection of the organization (only `connection_id` when given), in the order connected."""
    connections = of_company(scoped(Connection, organization_id), Connection.id, connection_id).order_by(Connection.id)
    health = []
    for connection in session.scalars(connections):
        run = session.scalars(
            select(CycleRun)
            .where(CycleRun.connection_id == connection.id)
            .order_by(CycleRun.started_at.desc())
            .limit(1)
        ).first()
        active = connection.status is ConnectionStatus.ACTIVE
        state = failing(session, connection.id) if active else None
        health.append(
            ConnectionHealth(
                connection.id,
                connection.provider,
                connection.display_name,
                connection.status,
                connection.status_reason,
                connection.last_sync_at,
                next_run(connection.id, interval, now) if active else None,
                run.status if run else None,
                (run.summary or {}).get("detail") if run else None,
                state,
                retry_at(state, interval) if state is not None else None,
            )
        )
    return health
