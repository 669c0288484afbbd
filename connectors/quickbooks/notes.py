"""arpilot's lines inside QuickBooks' free-text fields. Pure functions.

Invoice.PrivateNote (4000 characters) gets one dated line per action: `[arpilot 2026-11-23 a-17] text`.
When the field would overflow, arpilot's oldest lines go first; the owner's own text is never
touched. Customer.Notes (2000 characters) carries at most one credit-hold marker line that also
remembers the customer's previous terms, so a hold can be released without arpilot's database; a
release replaces it with one line saying when the hold came off and why (the latest release only).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from connectors.contract import ProviderValidationError

PRIVATE_NOTE_LIMIT = 4000
CUSTOMER_NOTES_LIMIT = 2000

_NOTE_LINE = re.compile(r"^\[arpilot \d{4}-\d{2}-\d{2} (?P<action>[^\s\]]+)\]")
_HOLD_LINE = re.compile(
    r"^\[arpilot credit hold since (?P<since>\d{4}-\d{2}-\d{2}); "
    r"previous terms: (?P<prev>[^\s;\]]+); (?P<action>[^\s\]]+)\]"
)
_RELEASE_LINE = re.compile(r"^\[arpilot credit hold released \d{4}-\d{2}-\d{2}")
_NO_TERMS = "none"


class NoteTooLong(ProviderValidationError):
    """The owner's own text leaves no room for arpilot's line."""


def _lines(text: str | None) -> list[str]:
    # split("\n"), not splitlines(): the owner's text comes back byte for byte, \r and all.
    return text.split("\n") if text else []


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_action_id(action_id: str) -> str:
    if not action_id or any(c.isspace() or c in "[];" for c in action_id):
        raise ValueError(f"action id must be non-empty without spaces, brackets or ';': {action_id!r}")
    return action_id


def note_line(on: dt.date, action_id: str, text: str) -> str:
    return f"[arpilot {on.isoformat()} {_check_action_id(action_id)}] {_one_line(text)}".rstrip()


def has_note(private_note: str | None, action_id: str) -> bool:
    return any((m := _NOTE_LINE.match(line)) is not None and m["action"] == action_id for line in _lines(private_note))


def append_note(private_note: str | None, line: str, limit: int = PRIVATE_NOTE_LIMIT) -> str:
    """The field with `line` appended, dropping arpilot's oldest lines (then shortening `line`) to fit."""
    lines = _lines(private_note)
    while True:
        text = "\n".join([*lines, line])
        if len(text) <= limit:
            return text
        oldest = next((i for i, existing in enumerate(lines) if _NOTE_LINE.match(existing)), None)
        if oldest is None:
            break
        del lines[oldest]
    room = limit - len("\n".join([*lines, ""]))
    prefix = _NOTE_LINE.match(line)
    assert prefix is not None, "append_note takes lines built by note_line"
    if room < prefix.end() + 4:
        raise NoteTooLong(
            f"PrivateNote holds {len(private_note or '')} characters of the owner's text; no room for arpilot's note"
        )
    return "\n".join([*lines, line[: room - 1] + "…"])


@dataclass(frozen=True, slots=True)
class Hold:
    since: dt.date
    previous_terms_id: str | None
    action_id: str


def find_hold(notes: str | None) -> Hold | None:
    for line in _lines(notes):
        if m := _HOLD_LINE.match(line):
            previous = None if m["prev"] == _NO_TERMS else m["prev"]
            return Hold(dt.date.fromisoformat(m["since"]), previous, m["action"])
    return None


def add_hold(notes: str | None, hold: Hold, reason: str, limit: int = CUSTOMER_NOTES_LIMIT) -> str:
    """Customer.Notes with the hold marker line appended (the reason shortened to fit)."""
    head = (
        f"[arpilot credit hold since {hold.since.isoformat()}; previous terms: "
        f"{hold.previous_terms_id or _NO_TERMS}; {_check_action_id(hold.action_id)}]"
    )
    kept = remove_hold(notes)
    marked = _with_marker(kept, head, reason, limit)
    if marked is None:
        raise NoteTooLong(
            f"Customer.Notes holds {len(kept)} characters of the owner's text; no room for the credit-hold marker"
        )
    return marked


def release_hold(
    notes: str | None, released: dt.date, action_id: str, reason: str, limit: int = CUSTOMER_NOTES_LIMIT
) -> str:
    """Customer.Notes with the hold marker (and any earlier release line) replaced by a line saying
    when the hold came off, since when it had been on, and why. The release never waits for room:
    when the owner's text leaves none, the marker goes without a line."""
    hold = find_hold(notes)
    since = f" (on hold since {hold.since.isoformat()})" if hold is not None else ""
    head = f"[arpilot credit hold released {released.isoformat()}{since}; {_check_action_id(action_id)}]"
    kept = "\n".join(line for line in _lines(remove_hold(notes)) if not _RELEASE_LINE.match(line))
    return _with_marker(kept, head, reason, limit) or kept


def _with_marker(kept: str, head: str, reason: str, limit: int) -> str | None:
    """`kept` with arpilot's line `head reason` appended, the reason shortened to fit; None when even
    `head` does not fit."""
    room = limit - len(kept) - (1 if kept else 0) - len(head)
    if room < 0:
        return None
    reason = _one_line(reason)
    tail = "" if not reason or room < 5 else " " + (reason if len(reason) < room else reason[: room - 2] + "…")
    return "\n".join(filter(None, [kept, head + tail]))


def remove_hold(notes: str | None) -> str:
    return "\n".join(line for line in _lines(notes) if not _HOLD_LINE.match(line))


def replace_previous_terms(notes: str, previous_terms_id: str) -> str:
    """The marker line with its remembered terms changed (terms moved while on hold)."""

    def swap(line: str) -> str:
        m = _HOLD_LINE.match(line)
        if not m:
            return line
        return line[: m.start("prev")] + previous_terms_id + line[m.end("prev") :]

    return "\n".join(swap(line) for line in _lines(notes))
