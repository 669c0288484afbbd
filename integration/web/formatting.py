"""How the owner's pages write money, days and moments: in the organization's locale (Organization.locale)
and the company's time zone (Connection.timezone, else Organization.timezone).

The Babel calls are reminders.formatting's, the same the emails use, so a page and the reminder it
previews write an amount alike. Registered in create_app as Jinja filters (`money`, `day`, `moment`,
`clock`) and read by the shared macros of templates/dashboard/macros.html. A page that shows one company
passes that company's zone (`zone`, a ZoneInfo or a zone name, in the template's context); otherwise the
organization's zone applies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import get_currency_name, parse_pattern
from flask import Flask, g, has_request_context, session
from jinja2 import pass_context
from jinja2.runtime import Context

from connectors.contract import Money
from integration.store.models import Connection, Organization
from integration.store.scoping import scoped
from integration.web.common import now, runtime
from reminders import formatting
from reminders.errors import InvalidLocale

DEFAULT_LOCALE = "en_US"
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Style:
    """Whose conventions a page writes in."""

    locale: Locale
    zone: ZoneInfo


def style_of(locale: str, zone: str | None) -> Style:
    """The style for stored settings; an unknown locale or zone falls back to en_US and UTC: a page shows
    rather than fails on a stored value."""
    try:
        babel_locale = formatting.parse_locale(locale)
    except InvalidLocale:
        babel_locale = formatting.parse_locale(DEFAULT_LOCALE)
    return Style(babel_locale, zone_named(zone))


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def money_text(amount: Decimal | int | str, currency: str, style: Style) -> str:
    """'$3,555.43', '3.555,43 €', '¥3,555': the amount's own currency in the owner's locale. Text is an
    amount as stored in JSON ("250.00")."""
    return formatting.money(Money.parse(amount, currency), style.locale)


def whole_money_text(amount: Decimal | int, currency: str, style: Style) -> str:
    """'$35,555', '35.555 €': rounded to the unit, for a chart's labels, where cents would crowd the bars."""
    pattern = parse_pattern(style.locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return str(
        pattern.apply(Money.parse(amount, currency).amount, style.locale, currency=currency, currency_digits=False)
    )


def month_text(value: dt.date, style: Style) -> str:
    """A month's short name, for a chart's ticks: 'Nov', 'Nov.'."""
    return format_date(value, format="MMM", locale=style.locale)


def weekday_text(value: dt.date, style: Style) -> str:
    """A day's name, for a calendar's headings: 'Friday', 'Freitag'."""
    return format_date(value, format="EEEE", locale=style.locale)


def day_text(value: dt.date, style: Style) -> str:
    """A calendar day in the locale's medium form: 'Nov 2, 2026', '2 Nov 2026', '02.11.2026'."""
    return formatting.date(value, style.locale)


def clock_text(instant: dt.datetime, style: Style, zone: ZoneInfo | None = None) -> str:
    """The time of day in the company's zone: '9:00 AM', '09:00'."""
    return format_time(instant.astimezone(zone or style.zone), format="short", locale=style.locale)


def moment_text(instant: dt.datetime, style: Style, today: dt.date, zone: ZoneInfo | None = None) -> str:
    """A moment in the company's zone: 'today, 9:00 AM', 'yesterday, 4:30 PM', 'Nov 2, 2026, 9:00 AM'.
    `today` is the current day in that same zone."""
    zone = zone or style.zone
    local = instant.astimezone(zone)
    days_ago = (today - local.date()).days
    shown_day = {0: "today", 1: "yesterday"}.get(days_ago) or day_text(local.date(), style)
    pattern = get_datetime_format("medium", locale=style.locale)  # how the locale joins a day and a time
    return str(pattern).replace("'", "").replace("{1}", shown_day).replace("{0}", clock_text(local, style, zone))


def request_style() -> Style:
    """The signed-in organization's style, read once per request; en_US and UTC for visitors."""
    if not has_request_context():
        return style_of(DEFAULT_LOCALE, None)
    if "arpilot_style" not in g:
        organization = None
        organization_id = session.get("organization_id")
        if organization_id is not None:
            with runtime().sessions() as db:
                organization = db.get(Organization, organization_id)
        g.arpilot_style = (
            style_of(organization.locale, organization.timezone) if organization else style_of(DEFAULT_LOCALE, None)
        )
    return g.arpilot_style


def connection_zone(connection_id: int) -> ZoneInfo:
    """The zone of one of the signed-in organization's companies: its books' zone, else the organization's."""
    style = request_style()
    organization_id = session.get("organization_id")
    if organization_id is None:
        return style.zone
    with runtime().sessions() as db:
        named = db.scalar(
            scoped(Connection, organization_id)
            .where(Connection.id == connection_id)
            .with_only_columns(Connection.timezone)
        )
    return zone_named(named) if named else style.zone


def _context_zone(context: Context, style: Style, given: ZoneInfo | str | None = None) -> ZoneInfo:
    """The zone a filter was given (`moment(connection.timezone)`), else the page's `zone`, else the
    organization's."""
    zone: Any = given or context.get("zone")
    if isinstance(zone, ZoneInfo):
        return zone
    return zone_named(zone) if isinstance(zone, str) else style.zone


def _money(amount: Decimal | int | str, currency: str) -> str:
    return money_text(amount, currency, request_style())


def _whole_money(amount: Decimal | int, currency: str) -> str:
    return whole_money_text(amount, currency, request_style())


def _month(value: dt.date) -> str:
    return month_text(value, request_style())


def _weekday(value: dt.date) -> str:
    return weekday_text(value, request_style())


def _currency_name(code: str) -> str:
    """A currency as the reader names it ('US Dollar', 'US-Dollar'), for a table's headings."""
    return get_currency_name(code, locale=request_style().locale)


@pass_context
def _day(context: Context, value: dt.date | dt.datetime | str | None) -> str:
    if value is None:
        return "—"
    style = request_style()
    if isinstance(value, str):  # a day as stored in JSON (a payment plan's instalment)
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):  # a moment shown as its day where the company is
        value = value.astimezone(_context_zone(context, style)).date()
    return day_text(value, style)


@pass_context
def _moment(context: Context, instant: dt.datetime | None, zone: ZoneInfo | str | None = None) -> str:
    if instant is None:
        return "—"
    style = request_style()
    shown_in = _context_zone(context, style, zone)
    return moment_text(instant, style, now().astimezone(shown_in).date(), shown_in)


@pass_context
def _clock(context: Context, instant: dt.datetime | None) -> str:
    if instant is None:
        return "—"
    style = request_style()
    return clock_text(instant, style, _context_zone(context, style))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=_money,
        whole_money=_whole_money,
        day=_day,
        weekday=_weekday,
        currency_name=_currency_name,
        month=_month,
        moment=_moment,
        clock=_clock,
    )
    app.jinja_env.globals["company_zone"] = connection_zone
