"""One cycle for one connection: tokens, sync, decide, plan, execute (see DESIGN.md).

PLACEHOLDER: the scheduler and the queue worker call `run_cycle(connection_id)` by its import path
(`integration.cycle:run_cycle`). For now it only takes the connection's lock and logs; the cycle
issue fills in the body inside the lock.
"""

from __future__ import annotations

import logging
from functools import cache

from integration.app_context import Runtime
from integration.locks import ConnectionLocked, connection_lock

log = logging.getLogger(__name__)


@cache
def process_runtime() -> Runtime:
    """The settings, engine and sessions of this process (a worker or clock thread has no Flask app)."""
    return Runtime.from_environment()


def run_cycle(connection_id: int) -> None:
    runtime = process_runtime()
    try:
        with connection_lock(runtime.engine, connection_id):
            log.info("cycle for connection %s: lock held (cycle body not written yet)", connection_id)
    except ConnectionLocked:
        log.info("cycle for connection %s skipped: another cycle of it is still running", connection_id)
