"""The production path: the clock enqueues cycles on RQ, `arpilot worker` processes run them.

Each enqueue carries a job id made of the queue, the connection, the interval and the slot the
instant falls in (see `integration.clock.slots`), and RQ's atomic `unique=True` refuses a second job with
that id: two clocks, or one clock catching up, enqueue a slot once. Results and failures are kept
past the slot so a late duplicate still finds the first job. A job that waits longer than one
interval for a worker expires instead of piling up behind the next cycle of the same connection.

`enqueue_soon` is the extra cycle a web request asks for (a newly connected company, a webhook's
change) when no clock runs in the web process. Its id follows the same scheme over a one-minute
window instead of the interval, so a burst of webhooks enqueues one job, while a change made after
this slot's cycle already ran still gets a cycle of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.exceptions import DuplicateJobError

from integration.clock.slots import slot_index
from integration.config import Settings

log = logging.getLogger(__name__)

QUEUE_NAME = "arpilot-cycles"
DEFAULT_TARGET = "integration.cycle.run:run_cycle"
MIN_JOB_TIMEOUT_SECONDS = 1800
FAILURE_TTL_SECONDS = 7 * 24 * 3600
SOON_WINDOW = dt.timedelta(minutes=1)


def rq_function_path(target: str) -> str:
    """ "package.module:function" (the scheduler's form) as RQ's dotted "package.module.function"."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"target must look like 'package.module:function', not {target!r}")
    return f"{module}.{name}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    created: bool  # False: this slot's job already existed, nothing was added


@dataclass
class CycleQueue:
    queue: Queue
    interval: dt.timedelta
    target: str = DEFAULT_TARGET
    clock: Callable[[], dt.datetime] = field(default=_utcnow)

    @classmethod
    def from_settings(cls, settings: Settings, *, target: str = DEFAULT_TARGET, name: str = QUEUE_NAME) -> CycleQueue:
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set: there is no queue to use")
        queue = Queue(name, connection=Redis.from_url(settings.redis_url))
        return cls(queue, settings.cycle_interval, target)

    def job_id(self, connection_id: int, slot: int) -> str:
        return f"{self.queue.name}-connection-{connection_id}-every-{int(self.interval.total_seconds())}s-slot-{slot}"

    def soon_job_id(self, connection_id: int, window: int) -> str:
        return f"{self.queue.name}-connection-{connection_id}-soon-{int(SOON_WINDOW.total_seconds())}s-window-{window}"

    def enqueue(self, connection_id: int) -> Enqueued:
        """This slot's cycle (the clock's job)."""
        job_id = self.job_id(connection_id, slot_index(connection_id, self.interval, self.clock()))
        return self._enqueue(
            connection_id, job_id, keep=self.interval, description=f"cycle for connection {connection_id}"
        )

    def enqueue_soon(self, connection_id: int) -> Enqueued:
        """A cycle now besides the slot's; at most one per connection and window."""
        job_id = self.soon_job_id(connection_id, slot_index(connection_id, SOON_WINDOW, self.clock()))
        return self._enqueue(
            connection_id, job_id, keep=SOON_WINDOW, description=f"cycle soon for connection {connection_id}"
        )

    def _enqueue(self, connection_id: int, job_id: str, *, keep: dt.timedelta, description: str) -> Enqueued:
        """Enqueue unless `job_id` exists; `keep`: how long the id must outlive the job to refuse repeats."""
        seconds = int(self.interval.total_seconds())
        try:
            self.queue.enqueue(
                rq_function_path(self.target),
                connection_id,
                job_id=job_id,
                unique=True,
                ttl=seconds,
                result_ttl=2 * int(keep.total_seconds()),
                failure_ttl=max(FAILURE_TTL_SECONDS, 2 * seconds),
                job_timeout=max(MIN_JOB_TIMEOUT_SECONDS, seconds),
                description=description,
            )
        except DuplicateJobError:
            log.info("cycle job %s already enqueued; not adding it twice", job_id)
            return Enqueued(job_id, created=False)
        log.info("enqueued cycle job %s", job_id)
        return Enqueued(job_id, created=True)


def run_worker(queue: Queue, *, burst: bool = False, simple: bool = False) -> bool:
    """Process cycle jobs until stopped (or, with burst, until the queue is empty)."""
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([queue], connection=queue.connection)
    return worker.work(burst=burst)
