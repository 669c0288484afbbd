"""Every cycle run ends with an outcome: leases, reaping, "failing since", and retry with backoff.

A run is created "running" with a lease (`lease_expires_at`) that a heartbeat thread renews while
the cycle works. A process killed mid-cycle (or a cycle hung past RQ's job timeout, which kills
the work horse) stops renewing it; once the lease has expired the run is reaped: closed as
"failed" with the reason, and the activity log says so. Reaping happens at the start of the
connection's next cycle and on every clock refresh, so the owner hears of it even while no
cycle can run.

A connection whose latest runs failed is "failing since" the first of them. The clock retries it
after a delay that doubles with each failure in a row, from a minute up to the cycle interval
(the regular slot comes anyway).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, CycleRun

log = logging.getLogger(__name__)

RUNNING, FAILED = "running", "failed"
DEFAULT_LEASE = dt.timedelta(minutes=10)
RETRY_BASE = dt.timedelta(minutes=1)
REAPED_KIND = "cycle_failed"


def lease_expiry(now: dt.datetime, lease: dt.timedelta) -> dt.datetime:
    return now + lease


@contextmanager
def heartbeat(
    sessions: sessionmaker[Session], run_id: int, lease: dt.timedelta, clock: Callable[[], dt.datetime]
) -> Iterator[None]:
    """Renew the run's lease every third of it while the body runs (a thread: a step may block
    for minutes on a provider's rate limit, and is still alive)."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                with transaction(sessions) as session:
                    session.execute(
                        update(CycleRun)
                        .where(CycleRun.id == run_id, CycleRun.status == RUNNING)
                        .values(lease_expires_at=lease_expiry(clock(), lease))
                    )
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease has slack for two
                log.warning("cycle run %s: its lease could not be renewed", run_id, exc_info=True)

    # In the cycle's log context, so its warnings say which organization and connection they concern.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(renew,), name=f"cycle-run-{run_id}-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def reap_stale_runs(session: Session, now: dt.datetime, connection_id: int | None = None) -> list[int]:
    """Close every running run whose lease expired before `now` as failed, with an activity-log
    entry; returns their ids. `connection_id`: only that connection's."""
    query = select(CycleRun).where(CycleRun.status == RUNNING, CycleRun.lease_expires_at < now)
    if connection_id is not None:
        query = query.where(CycleRun.connection_id == connection_id)
    reaped = []
    for run in session.scalars(query.order_by(CycleRun.id).with_for_update(skip_locked=True)):
        reason = (
            f"the cycle started at {run.started_at:%Y-%m-%d %H:%M} UTC stopped without an outcome "
            "(its process was killed or hung); it is retried"
        )
        # It ended, at the latest, when its lease ran out: the retry's backoff counts from there.
        run.status, run.finished_at = FAILED, run.lease_expires_at
        run.summary = {**(run.summary or {}), "connection_id": run.connection_id, "status": FAILED, "detail": reason}
        organization_id = session.scalar(select(Connection.organization_id).where(Connection.id == run.connection_id))
        if organization_id is not None:
            session.add(
                ActivityEntry(
                    organization_id=organization_id,
                    connection_id=run.connection_id,
                    level="error",
                    kind=REAPED_KIND,
                    message=f"The cycle stopped: {reason}",
                )
            )
        reaped.append(run.id)
    if reaped:
        log.warning("reaped %s abandoned cycle run(s): %s", len(reaped), reaped)
    return reaped


@dataclass(frozen=True)
class Failing:
    """A connection whose latest finished runs failed: since the first of them, for the latest reason."""

    since: dt.datetime
    reason: str
    failures: int
    last_failed_at: dt.datetime


def failing(session: Session, connection_id: int, lookback: int = 50) -> Failing | None:
    """The failure streak of the connection's latest finished runs (None: the latest did not fail)."""
    runs = session.scalars(
        select(CycleRun)
        .where(CycleRun.connection_id == connection_id, CycleRun.status != RUNNING)
        .order_by(CycleRun.started_at.desc(), CycleRun.id.desc())
        .limit(lookback)
    ).all()
    streak = []
    for run in runs:
        if run.status != FAILED:
            break
        streak.append(run)
    if not streak:
        return None
    latest, first = streak[0], streak[-1]
    return Failing(
        first.started_at,
        (latest.summary or {}).get("detail") or "unknown error",
        len(streak),
        latest.finished_at or latest.started_at,
    )


def retry_delay(failures: int, cap: dt.timedelta) -> dt.timedelta:
    """A minute after the first failure, doubling with each one in a row, never over `cap`."""
    return min(RETRY_BASE * 2 ** min(max(failures - 1, 0), 30), cap)


def retry_at(state: Failing, cap: dt.timedelta) -> dt.datetime:
    return state.last_failed_at + retry_delay(state.failures, cap)


def connections_due_a_retry(sessions: sessionmaker[Session], now: dt.datetime, cap: dt.timedelta) -> list[int]:
    """Active connections whose latest run failed, none running, and whose backoff has passed.
    Reaps expired runs first, so a killed cycle counts as the failure it was."""
    with transaction(sessions) as session:
        reap_stale_runs(session, now)
    due = []
    with sessions() as session:
        active = session.scalars(
            select(Connection.id).where(Connection.status == ConnectionStatus.ACTIVE).order_by(Connection.id)
        ).all()
        for connection_id in active:
            running = session.scalar(
                select(CycleRun.id).where(CycleRun.connection_id == connection_id, CycleRun.status == RUNNING).limit(1)
            )
            state = None if running is not None else failing(session, connection_id)
            if state is not None and retry_at(state, cap) <= now:
                due.append(connection_id)
    return due
