"""Backtests the owner starts from the backtest page: the period checked, the replay run in a
background thread, its progress and its report.

Runs are kept in memory, in the web process that started them: the latest run of each
organization, so reloading the page shows its progress, then its result, for as long as that
process lives. A restart forgets them (the owner runs it again: it takes seconds), and with several
web processes (gunicorn's `--workers`) a reload or a progress poll that reaches another process does
not see the run: it shows the form again, and the page says so. Nothing is written to the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.sandbox.scenario.model import EARLIEST_DAY
from integration.owner.backtest_books import Books, Company
from integration.policy.backtest import BacktestReport, backtest
from integration.policy.rules import Rules

log = logging.getLogger(__name__)

# Two years of days: enough to see a full cycle of seasons twice, and a replay still takes seconds.
MAX_DAYS = 731
DATE_HINT = "a date like 2026-01-31"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class PeriodError(ValueError):
    """The period the owner typed cannot be replayed; `problems` maps each form field to its sentence."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _day(text: str, what: str, problems: dict[str, str], name: str) -> dt.date | None:
    text = text.strip()
    if not text:
        problems[name] = f"Enter the {what} of the period."
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems[name] = f"Enter the {what} as {DATE_HINT}."
        return None
    if day < EARLIEST_DAY:
        problems[name] = f"The {what} must be in {EARLIEST_DAY.year} or later."
        return None
    return day


def check_period(first: str, last: str, today: dt.date) -> Period:
    """The period from the form's two dates (`today` in the company's time zone), or PeriodError."""
    problems: dict[str, str] = {}
    start = _day(first, "first day", problems, "start")
    end = _day(last, "last day", problems, "end")
    if end is not None and end > today:
        problems["end"] = (
            f"The last day cannot be after today ({today.isoformat()}): a backtest replays what already happened."
        )
    elif start is not None and end is not None:
        if start > end:
            problems["start"] = "The first day must be before the last day."
        elif (end - start).days + 1 > MAX_DAYS:
            problems["start"] = (
                f"A backtest covers at most two years ({MAX_DAYS} days); this period is {(end - start).days + 1} days."
            )
    if problems or start is None or end is None:
        raise PeriodError(problems)
    return Period(start, end)


def default_period(today: dt.date) -> Period:
    """The year up to today, what the page offers first."""
    return Period(today - dt.timedelta(days=364), today)


@dataclass
class Run:
    id: str
    organization_id: int
    company: Company
    period: Period
    left_out: int
    started_at: dt.datetime
    days_done: int = 0
    status: str = "running"  # running, done, failed
    report: BacktestReport | None = None
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


class BacktestBusy(RuntimeError):
    """The organization's previous backtest is still running."""


@dataclass
class Runs:
    """The latest backtest of each organization in this process (see the module's docstring)."""

    clock: Callable[[], dt.datetime]
    _latest: dict[int, Run] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def latest(self, organization_id: int) -> Run | None:
        with self._lock:
            return self._latest.get(organization_id)

    def start(self, organization_id: int, company: Company, books: Books, rules: Rules, period: Period) -> Run:
        """Start the replay in a background thread and return its run at once."""
        run = Run(secrets.token_urlsafe(12), organization_id, company, period, books.left_out, self.clock())
        with self._lock:
            running = self._latest.get(organization_id)
            if running is not None and running.status == "running":
                raise BacktestBusy("A backtest is already running for your organization; its result comes first.")
            self._latest[organization_id] = run
        threading.Thread(
            target=self._replay, args=(run, books, rules), name=f"backtest-{organization_id}", daemon=True
        ).start()
        return run

    def _replay(self, run: Run, books: Books, rules: Rules) -> None:
        def day_done(_: dt.date) -> None:
            run.days_done += 1

        try:
            report = backtest(books.scenario, rules, run.period.start, run.period.end, on_day=day_done)
        except Exception:  # a replay that fails must end its run, or the page would wait forever
            log.exception("backtest of organization %s failed", run.organization_id)
            run.error = "The backtest stopped on an unexpected error. Nothing was changed; please try again."
            run.status = "failed"
        else:
            run.report, run.status = report, "done"
        run.finished_at = self.clock()
