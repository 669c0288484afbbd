"""Command-line parameter types shared by arpilot's commands."""

from __future__ import annotations

import datetime as dt

import click

from connectors.sandbox.scenario.model import DAY_RANGE, within_day_range


class Day(click.ParamType):
    """A calendar day typed as 2026-11-23, within the days arpilot reasons about (a backtest from
    9999-12-20 would run off the calendar with a traceback)."""

    name = "day"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a day like 2026-11-23", param, ctx)
        if not within_day_range(day):
            self.fail(f"must be {DAY_RANGE}, got {value}", param, ctx)
        return day


DAY = Day()


class Period(click.ParamType):
    """Two days as FROM:TO (2025-06-01:2025-11-30), each checked like DAY."""

    name = "period"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[dt.date, dt.date]:
        if isinstance(value, tuple):
            return value  # type: ignore[return-value]  # already converted (a default)
        first, colon, last = str(value).partition(":")
        if not colon:
            self.fail(f"{value!r} is not a period like 2025-06-01:2025-11-30", param, ctx)
        return DAY.convert(first, param, ctx), DAY.convert(last, param, ctx)


PERIOD = Period()
