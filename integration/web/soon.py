"""A connection's cycle now, asked for by a web request: a newly connected company, a webhook's change.

With REDIS_URL set, RQ workers run every cycle, so the cycle is enqueued at once
(`CycleQueue.enqueue_soon`: a burst of webhooks makes one job). This is what production needs, where
the clock is `arpilot clock`, a process of its own that only enqueues each connection's slot.
Without a queue, the web process's embedded clock runs it in-process (`Clock.run_soon`). With
neither, the connection waits for its slot, as it would anyway.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from redis.exceptions import RedisError

from integration.clock.queue import CycleQueue
from integration.config import Settings

log = logging.getLogger(__name__)

CLOCK_EXTENSION = "arpilot_clock"
QUEUE_EXTENSION = "arpilot_cycle_queue"


def init_app(app: Flask, settings: Settings) -> None:
    """Give the web process the cycle queue, when one is configured."""
    if settings.redis_url:
        app.extensions[QUEUE_EXTENSION] = CycleQueue.from_settings(settings)  # connects on first use


def run_cycle_soon(connection_id: int) -> None:
    """Start the connection's cycle now rather than at its next slot; never fails the request: the
    slot's cycle still comes if this one cannot be started."""
    queue: CycleQueue | None = current_app.extensions.get(QUEUE_EXTENSION)
    if queue is not None:
        try:
            queue.enqueue_soon(connection_id)
        except RedisError as exc:
            log.warning(
                "connection %s: its cycle could not be enqueued now, it runs at its slot: %s", connection_id, exc
            )
        return
    clock = current_app.extensions.get(CLOCK_EXTENSION)
    if clock is not None:
        clock.run_soon(connection_id)
