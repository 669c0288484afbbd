"""The period the owner asks the backtest page to replay, checked in plain words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from connectors.sandbox.scenario.model import EARLIEST_DAY

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
