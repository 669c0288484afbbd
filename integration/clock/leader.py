"""One active clock: the leader holds a PostgreSQL advisory lock for as long as its process lives.

`arpilot clock` calls `wait_for_leadership` before it schedules anything. On PostgreSQL the lock is
`pg_try_advisory_lock` on a connection of its own, outside any transaction, held until the process
ends: when the leader dies its connection closes and the server releases the lock, and a standby,
trying again every `poll_seconds`, becomes the leader. Leaders never release the lock on purpose.
A leader whose lock connection breaks (server restart, network) can no longer know that it is the
only one, so `Leadership.check` raises and the clock stops (its supervisor restarts it as a standby).

SQLite is the embedded single-process mode: one clock, in the web process or `arpilot clock`, and no
lock; starting two clocks against one SQLite file is not a supported topology.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# "arpk": the first key of the two-int advisory lock, beside the cycle locks' "arpc" namespace.
CLOCK_NAMESPACE = 0x6172706B
CLOCK_LOCK_ID = 1


class LeadershipLost(RuntimeError):
    """The connection that held the clock lock is gone: another clock may be leading now."""


@dataclass
class Leadership:
    """Held by the leading clock; `connection` is None where no lock is needed (SQLite)."""

    connection: Connection | None

    def check(self) -> None:
        """Raise LeadershipLost unless the lock's session is still alive (and so still holds it)."""
        if self.connection is None:
            return
        try:
            held = self.connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND classid = :namespace AND objid = :id AND granted"
                ),
                {"namespace": CLOCK_NAMESPACE, "id": CLOCK_LOCK_ID},
            ).scalar_one()
        except Exception as exc:  # noqa: BLE001 - any failure to ask means the lock cannot be vouched for
            raise LeadershipLost(f"the clock lock's database session broke: {type(exc).__name__}") from exc
        if not held:
            raise LeadershipLost("the clock lock is no longer held by this session")


def try_leadership(engine: Engine) -> Leadership | None:
    """The leadership if no other clock holds it now, else None."""
    if engine.dialect.name != "postgresql":
        return Leadership(None)
    # AUTOCOMMIT: the lock must not hold a transaction open for the life of the process.
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        acquired = connection.execute(
            text("SELECT pg_try_advisory_lock(:namespace, :id)"), {"namespace": CLOCK_NAMESPACE, "id": CLOCK_LOCK_ID}
        ).scalar_one()
    except BaseException:
        connection.close()
        raise
    if acquired:
        return Leadership(connection)
    connection.close()
    return None


def wait_for_leadership(
    engine: Engine,
    poll_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_standby: Callable[[], None] = lambda: None,
) -> Leadership:
    """Block until this process leads; `on_standby` is called once if another clock leads first."""
    leadership = try_leadership(engine)
    if leadership is None:
        on_standby()
    while leadership is None:
        sleep(poll_seconds)
        leadership = try_leadership(engine)
    return leadership
