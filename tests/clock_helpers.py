"""A controllable clock for APScheduler 3, and job targets that record their calls.

APScheduler 3 reads the time only through `datetime.now` in its scheduler and executor base
modules and in the interval trigger (a trigger without a start date), so replacing that name there
moves its clock; `ManualScheduler` processes due jobs only
when told to, so a test decides exactly when the clock "wakes up".
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

calls: list[int] = []
called = threading.Event()


def record_cycle(connection_id: int) -> None:
    calls.append(connection_id)
    called.set()


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = self

        class ControlledDatetime(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return clock.now.astimezone(tz) if tz else clock.now

        monkeypatch.setattr("apscheduler.schedulers.base.datetime", ControlledDatetime)
        monkeypatch.setattr("apscheduler.executors.base.datetime", ControlledDatetime)
        monkeypatch.setattr("apscheduler.triggers.interval.datetime", ControlledDatetime)


class ManualScheduler(BaseScheduler):
    """Runs due jobs inline, only on `tick()`."""

    def __init__(self) -> None:
        super().__init__(timezone=dt.UTC, executors={"default": DebugExecutor()})

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def tick(self) -> None:
        self._process_jobs()


class RunSoonRecorder:
    """Stands in for the embedded clock where a test only asks which cycles were requested now."""

    def __init__(self) -> None:
        self.soon: list[int] = []

    def run_soon(self, connection_id: int) -> None:
        self.soon.append(connection_id)
