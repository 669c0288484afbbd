"""The clock (APScheduler 3): one interval job per active connection, refreshed as connections come and go.

Embedded (`create_app` when not in production): a BackgroundScheduler inside the web process runs
cycles in its thread pool. Production (`arpilot clock`): a BlockingScheduler whose jobs only
enqueue the cycle on RQ for `arpilot worker` processes. With REDIS_URL set either clock enqueues;
without it either runs the cycle in-process.

Each cycle job:
- has the id `cycle:<connection id>` and a trigger fixed by the connection id (see
  `integration.clock.slots`), so adding it again, with `replace_existing=True`, changes nothing;
- is jittered by up to a tenth of the interval (at most a minute) on top of that spread;
- has `coalesce=True` and a misfire grace of one whole interval: after the clock was down (or
  starved) for several intervals the missed runs collapse into one, which always still runs;
- has `max_instances=1`; the per-connection lock inside the cycle covers other processes.
A refresh job adds jobs for new active connections and removes those of gone or inactive ones
without touching the schedule of the others; the same job reaps abandoned cycle runs and starts a
cycle now for each connection whose last cycle failed once its backoff has passed
(integration/cycle/leases.py). A weekly job sends each owner's digest email
(`integration.owner.digest`), in the clock's own thread pool: one light email per organization a week.

`arpilot clock` runs `Clock.lead` once it holds the clock lock (integration/clock/leader.py): a job checks
the lock every `standby_poll_seconds` and stops the clock if it is lost, and before scheduling it
fires the current slot of every active connection that has no cycle run in it yet. A fresh
scheduler's first fire is the next slot, so without this a takeover would skip the slots that
started while no clock led; with RQ the slot's job id refuses any job the old leader enqueued.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.clock.leader import Leadership, LeadershipLost
from integration.clock.queue import DEFAULT_TARGET, CycleQueue
from integration.clock.slots import cycle_anchor, slot_index
from integration.config import Settings
from integration.cycle.leases import connections_due_a_retry
from integration.store.models import Connection, ConnectionStatus, CycleRun

log = logging.getLogger(__name__)

CYCLE_JOB_PREFIX = "cycle:"
REFRESH_JOB_ID = "refresh-connections"
DIGEST_JOB_ID = "weekly-digest"
DIGEST_TARGET = "integration.owner.digest:send_weekly_digests"
# Monday morning in the Americas, Monday afternoon in Europe; sending is idempotent per week, so a
# run caught up after downtime (within the day's grace) never sends a second copy.
DIGEST_TRIGGER = {"day_of_week": "mon", "hour": 13, "minute": 0}
DIGEST_GRACE_SECONDS = 24 * 3600
INBOX_JOB_ID = "read-inbox"
INBOX_TARGET = "integration.inbound.inbox:read_inbox_job"
LEADERSHIP_JOB_ID = "check-clock-lock"
CATCH_UP_JOB_ID = "fire-this-slot"
MAX_STANDBY_POLL_SECONDS = 5.0
DEFAULT_REFRESH_SECONDS = 60
MAX_JITTER_SECONDS = 60
EMBEDDED_THREADS = 4


@dataclass(frozen=True)
class ClockPlan:
    interval: dt.timedelta
    jitter_seconds: int = 0
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> ClockPlan:
        interval = settings.cycle_interval
        jitter = min(MAX_JITTER_SECONDS, int(interval.total_seconds()) // 10)
        return cls(interval=interval, jitter_seconds=jitter)

    @property
    def standby_poll_seconds(self) -> float:
        # Several tries an interval: a standby leads well within one interval of the leader's death.
        return min(MAX_STANDBY_POLL_SECONDS, self.interval.total_seconds() / 6)

    @property
    def misfire_grace_seconds(self) -> int:
        # A whole interval: the latest missed run is at most one interval old, so it always runs.
        return int(self.interval.total_seconds())


def cycle_job_id(connection_id: int) -> str:
    return f"{CYCLE_JOB_PREFIX}{connection_id}"


def _connection_id_of(job_id: str) -> int | None:
    """The connection of a regular cycle job ("cycle:7"), None for any other job ("cycle:7:now")."""
    rest = job_id[len(CYCLE_JOB_PREFIX) :] if job_id.startswith(CYCLE_JOB_PREFIX) else ""
    return int(rest) if rest.isdigit() else None


class SlotTrigger(IntervalTrigger):
    """An IntervalTrigger whose jitter never piles up.

    APScheduler 3 computes each fire from the previous *jittered* one, so the jitter accumulates (half
    of it per interval on average) until a fire slips past the end of its slot and that slot is
    never fired. Here each fire is its own slot's start plus a fresh jitter.
    """

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        if previous_fire_time is not None:
            slots = math.floor((previous_fire_time - self.start_date).total_seconds() / self.interval_length)
            previous_fire_time = self.start_date + dt.timedelta(seconds=slots * self.interval_length)
        return super().get_next_fire_time(previous_fire_time, now)


def cycle_trigger(connection_id: int, plan: ClockPlan) -> IntervalTrigger:
    return SlotTrigger(
        seconds=int(plan.interval.total_seconds()),
        start_date=cycle_anchor(connection_id, plan.interval),
        timezone=dt.UTC,
        jitter=plan.jitter_seconds or None,
    )


def active_connection_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        query = select(Connection.id).where(Connection.status == ConnectionStatus.ACTIVE).order_by(Connection.id)
        return list(session.scalars(query))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def connections_without_a_run_this_slot(
    sessions: sessionmaker[Session], interval: dt.timedelta, now: dt.datetime
) -> list[int]:
    """Active connections with no cycle run started in the slot `now` falls in."""
    with sessions() as session:
        last = (
            select(CycleRun.connection_id, func.max(CycleRun.started_at).label("started"))
            .group_by(CycleRun.connection_id)
            .subquery()
        )
        rows = session.execute(
            select(Connection.id, last.c.started)
            .outerjoin(last, last.c.connection_id == Connection.id)
            .where(Connection.status == ConnectionStatus.ACTIVE)
            .order_by(Connection.id)
        ).all()
    return [
        connection_id
        for connection_id, started in rows
        if started is None or slot_start(connection_id, interval, now) > started
    ]


def slot_start(connection_id: int, interval: dt.timedelta, now: dt.datetime) -> dt.datetime:
    return cycle_anchor(connection_id, interval) + slot_index(connection_id, interval, now) * interval


@dataclass(frozen=True)
class Refreshed:
    added: tuple[int, ...]
    removed: tuple[int, ...]


class Clock:
    """A scheduler plus the rule for which jobs it should hold.

    `dispatch` is what a cycle job calls with the connection id: an import path such as
    "integration.cycle.run:run_cycle" (run in the scheduler's thread pool) or a callable such as
    `CycleQueue.enqueue`. `digest`, when given, is the weekly digest job's target; `inbox`, the job
    that reads the embedded inbox folder of customers' replies (every refresh interval).
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        plan: ClockPlan,
        dispatch: str | Callable[[int], object],
        list_connections: Callable[[], Iterable[int]],
        list_unrun: Callable[[], Iterable[int]] = tuple,
        digest: str | Callable[[], object] | None = None,
        list_retry_due: Callable[[], Iterable[int]] = tuple,
        retry: Callable[[int], object] | None = None,
        inbox: str | Callable[[], object] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.plan = plan
        self.dispatch = dispatch
        self.list_connections = list_connections
        self.digest = digest
        self.inbox = inbox
        self.list_unrun = list_unrun
        self.list_retry_due = list_retry_due
        self.retry = retry or self.run_soon  # RQ: enqueue_soon, since the slot's job id is taken
        self.lost_leadership: LeadershipLost | None = None

    def scheduled_connection_ids(self) -> set[int]:
        ids = (_connection_id_of(job.id) for job in self.scheduler.get_jobs())
        return {connection_id for connection_id in ids if connection_id is not None}

    def refresh(self) -> Refreshed:
        wanted = set(self.list_connections())
        present = self.scheduled_connection_ids()
        added, removed = sorted(wanted - present), sorted(present - wanted)
        for connection_id in added:
            self.schedule(connection_id)
        for connection_id in removed:
            self.scheduler.remove_job(cycle_job_id(connection_id))
        if added or removed:
            log.info("clock refreshed: scheduled %s, unscheduled %s", added, removed)
        return Refreshed(tuple(added), tuple(removed))

    def schedule(self, connection_id: int) -> None:
        self.scheduler.add_job(
            self.dispatch,
            cycle_trigger(connection_id, self.plan),
            args=[connection_id],
            id=cycle_job_id(connection_id),
            name=f"cycle for connection {connection_id}",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=self.plan.misfire_grace_seconds,
            max_instances=1,
        )

    def run_soon(self, connection_id: int) -> None:
        """One cycle now, besides the regular ones: a newly connected company is synced at once."""
        self.scheduler.add_job(
            self.dispatch,
            DateTrigger(timezone=dt.UTC),
            args=[connection_id],
            id=f"{cycle_job_id(connection_id)}:now",
            name=f"first cycle for connection {connection_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        """Schedule the connections there are now, keep refreshing, and start (BlockingScheduler blocks)."""
        self.refresh()
        self._every_refresh(self._tick, REFRESH_JOB_ID, "pick up new and removed connections, retry failed cycles")
        if self.digest is not None:
            self.schedule_digest(self.digest)
        if self.inbox is not None:
            self._every_refresh(self.inbox, INBOX_JOB_ID, "read customers' replies from the inbox folder")
        self.scheduler.start()

    def _every_refresh(self, target: str | Callable[[], object], job_id: str, name: str) -> None:
        self.scheduler.add_job(
            target,
            IntervalTrigger(seconds=self.plan.refresh_seconds, timezone=dt.UTC),
            id=job_id,
            name=name,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=self.plan.refresh_seconds,
            max_instances=1,
        )

    def _tick(self) -> None:
        self.refresh()
        self.retry_failed()

    def retry_failed(self) -> list[int]:
        """A cycle now for each connection whose last cycle failed and whose backoff has passed."""
        due = list(self.list_retry_due())
        for connection_id in due:
            self.retry(connection_id)
        if due:
            log.info("retrying the failed cycles of %s connection(s): %s", len(due), due)
        return due

    def schedule_digest(self, target: str | Callable[[], object]) -> None:
        self.scheduler.add_job(
            target,
            CronTrigger(timezone=dt.UTC, **DIGEST_TRIGGER),
            id=DIGEST_JOB_ID,
            name="weekly digest email to each owner",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=DIGEST_GRACE_SECONDS,
            max_instances=1,
        )

    def lead(self, leadership: Leadership) -> None:
        """Start as the one leading clock: keep checking the lock, fire this slot's missing cycles, schedule."""
        self.scheduler.add_job(
            self._keep_leading,
            IntervalTrigger(seconds=self.plan.standby_poll_seconds, timezone=dt.UTC),
            args=[leadership],
            id=LEADERSHIP_JOB_ID,
            name="check that this clock still holds the clock lock",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._fire_unrun,
            DateTrigger(timezone=dt.UTC),
            id=CATCH_UP_JOB_ID,
            name="fire this slot for connections with no cycle in it",
            replace_existing=True,
            misfire_grace_time=None,
        )
        self.start()

    def _fire_unrun(self) -> None:
        unrun = list(self.list_unrun())
        for connection_id in unrun:
            self.run_soon(connection_id)
        if unrun:
            log.info("clock leads: firing this slot for %s connection(s) with no cycle in it yet", len(unrun))

    def _keep_leading(self, leadership: Leadership) -> None:
        try:
            leadership.check()
        except LeadershipLost as exc:
            log.error("clock stops: %s", exc)
            self.lost_leadership = exc
            self.shutdown()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def build_clock(runtime: Runtime, *, blocking: bool, target: str = DEFAULT_TARGET) -> Clock:
    """The clock the settings ask for: enqueue on RQ when REDIS_URL is set, else run in-process."""
    settings = runtime.settings
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=dt.UTC, executors={"default": ThreadPoolExecutor(EMBEDDED_THREADS)})
    queue = CycleQueue.from_settings(settings, target=target) if settings.redis_url else None
    dispatch: str | Callable[[int], object] = queue.enqueue if queue is not None else target
    plan = ClockPlan.from_settings(settings)
    return Clock(
        scheduler,
        plan,
        dispatch,
        lambda: active_connection_ids(runtime.sessions),
        lambda: connections_without_a_run_this_slot(runtime.sessions, plan.interval, _utcnow()),
        digest=DIGEST_TARGET,
        inbox=INBOX_TARGET,
        list_retry_due=lambda: connections_due_a_retry(runtime.sessions, _utcnow(), plan.interval),
        retry=queue.enqueue_soon if queue is not None else None,
    )


def start_embedded_clock(runtime: Runtime) -> Clock:
    clock = build_clock(runtime, blocking=False)
    clock.start()
    atexit.register(clock.shutdown)
    return clock
