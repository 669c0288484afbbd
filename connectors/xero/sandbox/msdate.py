"""Xero's date forms: Microsoft JSON dates (`/Date(1546128000000+0000)/`), the `...String`
convenience fields, and the date forms Xero accepts on input. Pure functions, no clock."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

MS_DATE_RE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _millis(instant: dt.datetime) -> int:
    return (instant.astimezone(dt.UTC) - _EPOCH) // dt.timedelta(milliseconds=1)


def ms_date(day: dt.date) -> str:
    """A calendar date as Xero sends it: midnight UTC, `+0000`."""
    return f"/Date({_millis(dt.datetime.combine(day, dt.time(), dt.UTC))}+0000)/"


def ms_instant(instant: dt.datetime) -> str:
    """A timestamp (UpdatedDateUTC, DateUTC) in UTC milliseconds with `+0000`."""
    return f"/Date({_millis(instant)}+0000)/"


def envelope_instant(instant: dt.datetime) -> str:
    """The envelope's DateTimeUTC: milliseconds without an offset, as Xero writes it."""
    return f"/Date({_millis(instant)})/"


def date_string(day: dt.date) -> str:
    """DateString / DueDateString: `2018-12-30T00:00:00`."""
    return f"{day.isoformat()}T00:00:00"


def instant_string(instant: dt.datetime) -> str:
    """UpdatedDateUTCString: ISO 8601 UTC with a Z, whole seconds."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ms(value: str) -> dt.datetime:
    """The instant of a `/Date(ms[+hhmm])/` string; ValueError otherwise."""
    match = MS_DATE_RE.match(value)
    if match is None:
        raise ValueError(f"not a /Date(...)/ value: {value!r}")
    return _EPOCH + dt.timedelta(milliseconds=int(match.group("ms")))


def parse_input_date(value: object) -> dt.date:
    """A date field of a request body: `YYYY-MM-DD`, `YYYY-MM-DDT00:00:00` or `/Date(ms)/`."""
    if not isinstance(value, str):
        raise ValueError(f"a date must be a string, got {value!r}")
    if value.startswith("/Date("):
        return parse_ms(value).date()
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc


def parse_if_modified_since(value: str) -> dt.datetime:
    """The If-Modified-Since header: ISO 8601 (naive means UTC; xero-python sends `isoformat()`)
    or an HTTP date (RFC 7231). ValueError when it is neither."""
    text = value.strip()
    try:
        instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            instant = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a date-time: {value!r}") from exc
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)
