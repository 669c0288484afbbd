"""A throwaway RQ queue on the real Redis at 127.0.0.1:6379 (an unreachable server fails the test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from redis import Redis
from rq import Queue

REDIS_URL = "redis://127.0.0.1:6379/0"


def throwaway_queue() -> Iterator[Queue]:
    """A uniquely named queue, deleted afterwards with every key that carries its name."""
    connection = Redis.from_url(REDIS_URL)
    connection.ping()  # an unreachable server is a failure here, not a skip
    queue = Queue(f"arpilot-test-{uuid.uuid4().hex}", connection=connection)
    yield queue
    queue.delete(delete_jobs=True)
    # Job hashes, results and registries all carry the queue's unique name in their keys.
    for key in connection.scan_iter(match=f"*{queue.name}*"):
        connection.delete(key)
    connection.close()
