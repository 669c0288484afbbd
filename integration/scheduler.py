"""The clock (APScheduler 3): one interval job per active connection, refreshed as connections come and go.

Embedded (`create_app` when not in production): a BackgroundScheduler inside the web process runs
cycles in its thread pool. Production (`arpilot clock`): a BlockingScheduler whose jobs only
enqueue the cycle on RQ for `arpilot worker` processes. With REDIS_URL set either clock enqueues;
without it either runs the cycle in-process.

Each cycle job:
- has the id `cycle:<connection id>` and a trigger fixed by the connection id (see
  `integration.slots`), so adding it again, with `replace_existing=True`, changes nothing;
- is jittered by up to a tenth of the interval (at most a minute) on top of that spread;
- has `coalesce=True` and a misfire grace of one whole interval: after the clock was down (or
  starved) for several intervals the missed runs collapse into one, which always still runs;
- has `max_instances=1`; the per-connection lock inside the cycle covers other processes.
A refresh job adds jobs for new active connections and removes those of gone or inactive ones
without touching the schedule of the others. A weekly job sends each owner's digest email
(`integration.digest`), in the clock's own thread pool: one light email per organization a week.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.config import Settings
from integration.models import Connection, ConnectionStatus
from integration.queue import DEFAULT_TARGET, CycleQueue
from integration.slots import cycle_anchor

log = logging.getLogger(__name__)

CYCLE_JOB_PREFIX = "cycle:"
REFRESH_JOB_ID = "refresh-connections"
DIGEST_JOB_ID = "weekly-digest"
DIGEST_TARGET = "integration.digest:send_weekly_digests"
# Monday morning in the Americas, Monday afternoon in Europe; sending is idempotent per week, so a
# run caught up after downtime (within the day's grace) never sends a second copy.
DIGEST_TRIGGER = {"day_of_week": "mon", "hour": 13, "minute": 0}
DIGEST_GRACE_SECONDS = 24 * 3600
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
        interval = dt.timedelta(minutes=settings.cycle_interval_minutes)
        jitter = min(MAX_JITTER_SECONDS, int(interval.total_seconds()) // 10)
        return cls(interval=interval, jitter_seconds=jitter)

    @property
    def misfire_grace_seconds(self) -> int:
        # A whole interval: the latest missed run is at most one interval old, so it always runs.
        return int(self.interval.total_seconds())


def cycle_job_id(connection_id: int) -> str:
    return f"{CYCLE_JOB_PREFIX}{connection_id}"


def cycle_trigger(connection_id: int, plan: ClockPlan) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=int(plan.interval.total_seconds()),
        start_date=cycle_anchor(connection_id, plan.interval),
        timezone=dt.UTC,
        jitter=plan.jitter_seconds or None,
    )


def active_connection_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        query = select(Connection.id).where(Connection.status == ConnectionStatus.ACTIVE).order_by(Connection.id)
        return list(session.scalars(query))


@dataclass(frozen=True)
class Refreshed:
    added: tuple[int, ...]
    removed: tuple[int, ...]


class Clock:
    """A scheduler plus the rule for which jobs it should hold.

    `dispatch` is what a cycle job calls with the connection id: an import path such as
    "integration.cycle:run_cycle" (run in the scheduler's thread pool) or a callable such as
    `CycleQueue.enqueue`. `digest`, when given, is the weekly digest job's target.
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        plan: ClockPlan,
        dispatch: str | Callable[[int], object],
        list_connections: Callable[[], Iterable[int]],
        digest: str | Callable[[], object] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.plan = plan
        self.dispatch = dispatch
        self.list_connections = list_connections
        self.digest = digest

    def scheduled_connection_ids(self) -> set[int]:
        return {
            int(job.id[len(CYCLE_JOB_PREFIX):]) for job in self.scheduler.get_jobs()
            if job.id.startswith(CYCLE_JOB_PREFIX)
        }

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
        self.scheduler.add_job(
            self.refresh,
            IntervalTrigger(seconds=self.plan.refresh_seconds, timezone=dt.UTC),
            id=REFRESH_JOB_ID,
            name="pick up new and removed connections",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=self.plan.refresh_seconds,
            max_instances=1,
        )
        if self.digest is not None:
            self.schedule_digest(self.digest)
        self.scheduler.start()

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

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def build_clock(runtime: Runtime, *, blocking: bool, target: str = DEFAULT_TARGET) -> Clock:
    """The clock the settings ask for: enqueue on RQ when REDIS_URL is set, else run in-process."""
    settings = runtime.settings
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=dt.UTC, executors={"default": ThreadPoolExecutor(EMBEDDED_THREADS)}
    )
    dispatch: str | Callable[[int], object] = (
        CycleQueue.from_settings(settings, target=target).enqueue if settings.redis_url else target
    )
    return Clock(scheduler, ClockPlan.from_settings(settings), dispatch, lambda: active_connection_ids(runtime.sessions),
                 digest=DIGEST_TARGET)


def start_embedded_clock(runtime: Runtime) -> Clock:
    clock = build_clock(runtime, blocking=False)
    clock.start()
    atexit.register(clock.shutdown)
    return clock
