"""Backtests the owner starts from the backtest page: the replay run in a background thread of the
web process, its progress and its report, kept so that a reload shows them.

The latest run of each organization is kept as JSON in a store: in Redis when `REDIS_URL` is set,
so every web process sees the run whichever one replays it (gunicorn runs several), else in this
process's memory (`arpilot web` is one process; a restart forgets the run, and the owner runs it
again: it takes seconds). Nothing is written to the database. A run whose replay stopped beating
(its process ended mid-run) is shown as interrupted, and a new one may start.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis import Redis, RedisError, WatchError

from integration.owner.backtest_books import Books, Company
from integration.owner.backtest_period import Period
from integration.policy.backtest import backtest
from integration.policy.rules import Rules

log = logging.getLogger(__name__)

# A replay beats after every day, and a day takes well under a second: a minute's silence means its process ended.
STALE_AFTER = dt.timedelta(seconds=60)
INTERRUPTED = (
    "The backtest stopped before it finished (the server restarted). Nothing was changed; please run it again."
)
FAILED = "The backtest stopped on an unexpected error. Nothing was changed; please try again."
KEPT_FOR = dt.timedelta(days=7)  # in Redis; the page offers a new run any time
# Replays at once in one web process: each keeps a CPU busy for seconds, and the process has pages to serve.
REPLAYS_AT_ONCE = 2


@dataclass
class Run:
    id: str
    organization_id: int
    company: Company
    period: Period
    not_replayed: list[str]  # what the replay does without, and why (integration.owner.backtest_books)
    started_at: dt.datetime
    beat_at: dt.datetime
    days_done: int = 0
    status: str = "running"  # running, done, failed
    report: dict[str, Any] | None = None  # BacktestReport.as_dict()
    error: str | None = None
    finished_at: dt.datetime | None = None

    @property
    def percent(self) -> int:
        return 100 * self.days_done // self.period.days

    def progress(self) -> dict[str, object]:
        """What the page's progress poll reads."""
        return {
            "id": self.id,
            "status": self.status,
            "days_done": self.days_done,
            "days_total": self.period.days,
            "percent": self.percent,
        }

    def stalled(self, now: dt.datetime) -> bool:
        return self.status == "running" and now - self.beat_at > STALE_AFTER

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["period"] = [self.period.start.isoformat(), self.period.end.isoformat()]
        for name in ("started_at", "beat_at", "finished_at"):
            data[name] = data[name] and data[name].isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Run:
        data = json.loads(text)
        start, end = (dt.date.fromisoformat(day) for day in data.pop("period"))
        for name in ("started_at", "beat_at", "finished_at"):
            data[name] = data[name] and dt.datetime.fromisoformat(data[name])
        return cls(period=Period(start, end), company=Company(**data.pop("company")), **data)


class CannotStart(RuntimeError):
    """A run cannot start now; the message says why, for the owner."""


class BacktestBusy(CannotStart):
    """The organization's previous backtest is still running."""


class RunStore(Protocol):
    def get(self, organization_id: int) -> Run | None: ...

    def put(self, run: Run) -> None: ...

    def claim(self, run: Run, free: Callable[[Run | None], bool]) -> bool:
        """Store `run` as its organization's latest if `free` says the one stored may be replaced."""
        ...


class MemoryStore:
    """The runs of this process only."""

    def __init__(self) -> None:
        self._runs: dict[int, str] = {}
        self._lock = threading.Lock()

    def get(self, organization_id: int) -> Run | None:
        with self._lock:
            text = self._runs.get(organization_id)
        return None if text is None else Run.from_json(text)

    def put(self, run: Run) -> None:
        with self._lock:
            self._runs[run.organization_id] = run.to_json()

    def claim(self, run: Run, free: Callable[[Run | None], bool]) -> bool:
        with self._lock:
            current = self._runs.get(run.organization_id)
            if not free(None if current is None else Run.from_json(current)):
                return False
            self._runs[run.organization_id] = run.to_json()
            return True


class RedisStore:
    """The runs of every web process sharing `redis_url`."""

    def __init__(self, redis_url: str, prefix: str = "arpilot:backtest") -> None:
        # Short timeouts, as the request limits have: a hung Redis must not hold the page.
        self._redis = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self._prefix = prefix

    def _key(self, organization_id: int) -> str:
        return f"{self._prefix}:{organization_id}"

    def get(self, organization_id: int) -> Run | None:
        text = self._redis.get(self._key(organization_id))
        return None if text is None else Run.from_json(text)

    def put(self, run: Run) -> None:
        self._redis.set(self._key(run.organization_id), run.to_json(), ex=KEPT_FOR)

    def claim(self, run: Run, free: Callable[[Run | None], bool]) -> bool:
        key = self._key(run.organization_id)
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(key)
                current = pipe.get(key)
                if not free(None if current is None else Run.from_json(current)):
                    return False
                pipe.multi()
                pipe.set(key, run.to_json(), ex=KEPT_FOR)
                pipe.execute()
            except WatchError:
                return False  # another process started a run between the read and the write
        return True


class Runs:
    """Starts replays and answers for the latest run of each organization."""

    def __init__(
        self, store: RunStore, clock: Callable[[], dt.datetime], replays_at_once: int = REPLAYS_AT_ONCE
    ) -> None:
        self.store = store
        self.clock = clock
        self._slots = threading.BoundedSemaphore(replays_at_once)

    def latest(self, organization_id: int) -> Run | None:
        try:
            run = self.store.get(organization_id)
        except RedisError as exc:
            log.warning("backtest runs unavailable, Redis is not answering: %s", exc)
            return None
        if run is not None and run.stalled(self.clock()):
            run.status, run.error = "failed", INTERRUPTED
        return run

    def start(self, organization_id: int, company: Company, books: Books, rules: Rules, period: Period) -> Run:
        """Start the replay in a background thread and return its run at once."""
        now = self.clock()
        not_replayed = [f"{r.entity} {r.provider_id or ''}: {r.reason}" for r in books.not_replayed]
        run = Run(secrets.token_urlsafe(12), organization_id, company, period, not_replayed, now, now)

        def free(current: Run | None) -> bool:
            return current is None or current.status != "running" or current.stalled(now)

        try:
            claimed = self.store.claim(run, free)
        except RedisError as exc:
            log.warning("backtest not started, Redis is not answering: %s", exc)
            raise CannotStart("The backtest cannot start right now; please try again in a minute.") from exc
        if not claimed:
            raise BacktestBusy("A backtest is already running for your organization; its result comes first.")
        threading.Thread(
            target=self._replay, args=(run, books, rules), name=f"backtest-{organization_id}", daemon=True
        ).start()
        return run

    def _replay(self, run: Run, books: Books, rules: Rules) -> None:
        def beat() -> None:
            run.beat_at = self.clock()
            self._keep(run)

        def day_done(_: dt.date) -> None:
            run.days_done += 1
            beat()

        while not self._slots.acquire(timeout=STALE_AFTER.total_seconds() / 4):
            beat()  # waiting its turn (its bar stays at 0), not dead
        try:
            report = backtest(books.scenario, rules, run.period.start, run.period.end, on_day=day_done)
        except Exception:  # a replay that fails must end its run, or the page would wait for it
            log.exception("backtest of organization %s failed", run.organization_id)
            run.error, run.status = FAILED, "failed"
        else:
            run.report, run.status = report.as_dict(), "done"
        finally:
            self._slots.release()
        run.finished_at = self.clock()
        self._keep(run)

    def _keep(self, run: Run) -> None:
        try:
            self.store.put(run)
        except RedisError as exc:  # progress unseen for a while; a run never finished shows as interrupted
            log.warning("backtest progress not kept, Redis is not answering: %s", exc)
