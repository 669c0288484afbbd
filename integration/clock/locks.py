"""One cycle per connection at a time, across threads, processes and machines.

`connection_lock(engine, connection_id)` is a context manager that either holds the connection's
lock for its body or raises `ConnectionLocked` at once (a busy connection is skipped, never
waited for: the next tick will come).

- PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(namespace, connection_id)`, on a
  connection checked out for the lock alone and kept outside any transaction. It is released in
  `finally`; if the release cannot be confirmed the connection is discarded, and the server drops
  the lock with the session, so a killed process never leaves a connection locked.
- SQLite (the embedded default runs one process): a process-wide registry of non-blocking
  `threading.Lock`s keyed by database and connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# First key of the two-int advisory lock: "arpc" in ASCII, so arpilot's cycle locks cannot collide
# with another application's single-bigint advisory locks in the same database.
ADVISORY_NAMESPACE = 0x61727063
_INT4_MAX = 2**31 - 1


class ConnectionLocked(RuntimeError):
    """Another cycle of this connection is running; this one should be skipped."""

    def __init__(self, connection_id: int) -> None:
        super().__init__(f"connection {connection_id} is locked by another cycle")
        self.connection_id = connection_id


@contextmanager
def connection_lock(engine: Engine, connection_id: int) -> Iterator[None]:
    if isinstance(connection_id, bool) or not isinstance(connection_id, int) or not 0 < connection_id <= _INT4_MAX:
        raise ValueError(f"connection id must be a positive 32-bit integer, not {connection_id!r}")
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, connection_id):
            yield
    else:
        with _process_lock(engine, connection_id):
            yield


@contextmanager
def _advisory_lock(engine: Engine, connection_id: int) -> Iterator[None]:
    keys = {"namespace": ADVISORY_NAMESPACE, "id": connection_id}
    # AUTOCOMMIT: holding the lock must not hold a transaction open (no "idle in transaction").
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        acquired = connection.execute(text("SELECT pg_try_advisory_lock(:namespace, :id)"), keys).scalar_one()
        if not acquired:
            raise ConnectionLocked(connection_id)
        try:
            yield
        finally:
            _advisory_unlock(connection, keys)
    finally:
        connection.close()


def _advisory_unlock(connection, keys: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    try:
        released = connection.execute(text("SELECT pg_advisory_unlock(:namespace, :id)"), keys).scalar_one()
    except Exception:  # noqa: BLE001 - whatever broke, the session must not go back to the pool
        log.warning("could not release the advisory lock of connection %s; discarding the session", keys["id"])
        connection.invalidate()
        return
    if not released:
        log.warning("advisory lock of connection %s was not held at release; discarding the session", keys["id"])
        connection.invalidate()


_registry: dict[tuple[str, int], threading.Lock] = {}
_registry_guard = threading.Lock()


@contextmanager
def _process_lock(engine: Engine, connection_id: int) -> Iterator[None]:
    key = (engine.url.render_as_string(hide_password=True), connection_id)
    with _registry_guard:
        lock = _registry.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        raise ConnectionLocked(connection_id)
    try:
        yield
    finally:
        lock.release()
