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
