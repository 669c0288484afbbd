"""The worker side of the benchmarks, run as its own process so its peak memory is its own.

    python -m bench.worker sync CONNECTION_ID     # one mirror sync; prints JSON
    python -m bench.worker rq QUEUE_NAME          # an RQ worker in burst mode on QUEUE_NAME; prints JSON

Everything else comes from the environment, as for `arpilot worker` (DATABASE_URL, ARPILOT_VAR_DIR,
QUICKBOOKS_ENVIRONMENT, XERO_*, REDIS_URL). The JSON line carries the seconds spent and `maxrss_mb`,
the process's own peak resident set (`bench.figures.peak_rss_mb`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

from bench.figures import peak_rss_mb
from integration.cycle.providers import connector_factory
from integration.cycle.run import process_runtime
from integration.cycle.sync import sync_connection
from integration.store.db import transaction
from integration.store.models import Connection, Organization


def sync(connection_id: int) -> dict[str, Any]:
    runtime = process_runtime()
    with transaction(runtime.sessions) as session:
        connection = session.get(Connection, connection_id)
        organization = session.get(Organization, connection.organization_id) if connection else None
        if connection is None or organization is None:
            raise SystemExit(f"no connection {connection_id}")
        session.expunge_all()
    connector = connector_factory(runtime.settings, runtime.sessions)(connection, organization)
    started = time.perf_counter()
    result = sync_connection(runtime.sessions, connection_id, connector, dt.datetime.now(dt.UTC))
    return {
        "seconds": time.perf_counter() - started,
        "pages": result.pages,
        "upserted": result.upserted,
        "maxrss_mb": peak_rss_mb(),
    }


def rq(queue_name: str) -> dict[str, Any]:
    from redis import Redis
    from rq import Queue

    from integration.clock.queue import run_worker

    settings = process_runtime().settings
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set")
    started = time.perf_counter()
    run_worker(Queue(queue_name, connection=Redis.from_url(settings.redis_url)), burst=True, simple=True)
    return {"seconds": time.perf_counter() - started, "maxrss_mb": peak_rss_mb()}


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("sync", "rq"):
        raise SystemExit(__doc__)
    report = sync(int(argv[1])) if argv[0] == "sync" else rq(argv[1])
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
