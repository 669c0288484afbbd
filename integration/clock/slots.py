"""Where each connection's cycles fall in time (pure functions, no clock reads).

Every connection gets a fixed anchor: a deterministic offset within one interval, so connections
are spread over the interval instead of all firing on the hour, and a connection's schedule is a
function of its id alone. Scheduling it again at any moment gives the same fire times, and every
clock and worker agrees on which slot (interval number since the anchor) an instant belongs to.
"""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Knuth's multiplicative hash: consecutive ids land far apart within the interval.
_SPREAD = 2654435761


def _seconds(interval: dt.timedelta) -> int:
    seconds = int(interval.total_seconds())
    if seconds < 1 or seconds != interval.total_seconds():
        raise ValueError(f"interval must be a whole number of seconds, at least 1, not {interval}")
    return seconds


def cycle_anchor(connection_id: int, interval: dt.timedelta) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=(connection_id * _SPREAD) % _seconds(interval))


def slot_index(connection_id: int, interval: dt.timedelta, instant: dt.datetime) -> int:
    """The number of the interval `instant` falls in, counted from the connection's anchor."""
    if instant.tzinfo is None:
        raise ValueError("slot_index needs an aware datetime")
    elapsed = instant - cycle_anchor(connection_id, interval)
    return int(elapsed.total_seconds() // _seconds(interval))


def next_run(connection_id: int, interval: dt.timedelta, instant: dt.datetime) -> dt.datetime:
    """When the connection's next slot starts after `instant` (the clock adds up to a minute of jitter)."""
    return cycle_anchor(connection_id, interval) + interval * (slot_index(connection_id, interval, instant) + 1)
