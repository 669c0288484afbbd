"""Benchmark (c): many connections, a full cycle each (sync, decide, plan, write-back), on RQ workers.

Every connection is enqueued on a queue of its own name, then WORKERS `bench.worker rq` processes
(RQ burst workers, the production worker path) run them all. The figure is the span from the first
cycle's start to the last one's end (a production worker is already running when cycles arrive);
the workers' wall time, Python start-up included, is printed beside it. Each provider's slowest
cycle is also set against one connection's floor: how close its calls are paced to the limits.

The lower bound the limits and the latency impose, from the calls the cycles made (a provider's
companies are identical, so each connection of a provider made that provider's calls / its connections):
- one connection's cycle is sequential, so it takes at least latency x its calls, and at least
  what its provider's rate limits allow: (ceil(calls / L) - 1) x window for each documented limit L
  (QuickBooks 500 a minute and 10 a second per realm; Xero 60 a minute per tenant);
- WORKERS cycles run at once, so all of them take at least the sum of those times / WORKERS, and
  at least the longest one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import uuid
from math import ceil
from typing import Any

from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from bench import books
from bench.figures import Figure, at_most, exactly, info
from bench.world import BenchWorld
from integration.clock.queue import CycleQueue
from integration.store.models import Action, ActionStatus, CycleRun

TIME_TARGET = 1.3  # within 1.3 x the lower bound
RATE_LIMITS = {  # provider -> (calls, window seconds) per company, as documented
    "quickbooks": ((500, 60.0), (10, 1.0)),
    "xero": ((60, 60.0),),
}


def connection_floor(provider: str, calls: float, latency: float) -> float:
    """The fewest seconds one connection's cycle of `calls` calls can take."""
    by_rate = [(ceil(calls / limit) - 1) * window for limit, window in RATE_LIMITS[provider]]
    return max([latency * calls, *by_rate])


def lower_bound(per_connection: dict[str, tuple[int, float]], latency: float, workers: int) -> float:
    """`per_connection`: provider -> (connections, calls each)."""
    floors = [connection_floor(p, calls, latency) for p, (n, calls) in per_connection.items() for _ in range(n)]
    return max(max(floors, default=0.0), sum(floors) / workers)


def pacing_figure(
    label: str, provider: str, runs: list[Any], connection_ids: set[int], calls: float, latency: float
) -> Figure:
    """A provider's slowest cycle against one connection's floor: how well its calls are paced,
    whatever the other provider's cycles do to the workers' packing."""
    slowest = max(
        (run.finished_at - run.started_at).total_seconds() for run in runs if run.connection_id in connection_ids
    )
    floor = connection_floor(provider, calls, latency)
    return at_most(
        f"(c) {label}: slowest {provider} cycle, against one {provider} connection's floor",
        round(slowest, 1),
        "s",
        floor * TIME_TARGET,
        f"<= {floor * TIME_TARGET:.1f} s (1.3 x {floor:.1f} s)",
    )


def measure(
    world: BenchWorld, connections: dict[str, int], invoices: dict[str, int], workers: int, latency_ms: int
) -> list[Figure]:
    """`connections`, `invoices`: provider -> how many companies, and how many invoices each."""
    scenarios = {p: books.company(invoices[p], books.today(), name=f"Bench cycle {invoices[p]}") for p in connections}
    # Providers interleaved, as a clock enqueueing by connection id would meet them.
    order = [p for n in range(max(connections.values(), default=0)) for p, count in connections.items() if n < count]
    ids = [world.add(provider, scenarios[provider]).connection_id for provider in order]
    name = f"arpilot-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = world.env()
    queue = Queue(name, connection=Redis.from_url(env["REDIS_URL"]))
    try:
        cycles = CycleQueue(queue, dt.timedelta(hours=2))
        for connection_id in ids:
            cycles.enqueue(connection_id)
        world.reset_counters()
        started = time.perf_counter()
        children = [
            subprocess.Popen(
                world.worker_command("rq", name), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(workers)
        ]
        outputs = [child.communicate(timeout=6 * 3600) for child in children]
        elapsed = time.perf_counter() - started
    finally:
        queue.delete(delete_jobs=True)
    for child, (out, err) in zip(children, outputs):
        if child.returncode != 0:
            raise RuntimeError(f"worker failed ({child.returncode}): {err[-3000:]}")
    peak_mb = max(json.loads(out.strip().splitlines()[-1])["maxrss_mb"] for out, _ in outputs)
    counters = {p: world.counters(p) for p in connections}
    with world.sessions() as session:
        runs = session.execute(
            select(CycleRun.connection_id, CycleRun.started_at, CycleRun.finished_at, CycleRun.status).where(
                CycleRun.connection_id.in_(ids)
            )
        ).all()
        done_cycles = sum(1 for run in runs if run.status == "done")
        span = (max(run.finished_at for run in runs) - min(run.started_at for run in runs)).total_seconds()
        actions_done = (
            session.scalar(
                select(func.count())
                .select_from(Action)
                .where(Action.connection_id.in_(ids), Action.status == ActionStatus.DONE)
            )
            or 0
        )
    calls = {p: counters[p]["total"] for p in connections}
    throttled = sum(counters[p]["throttled_total"] for p in connections)
    bound = lower_bound({p: (n, calls[p] / n) for p, n in connections.items() if n}, latency_ms / 1000, workers)
    sizes = " + ".join(f"{n} {p} x {invoices[p]:,} invoices" for p, n in connections.items() if n)
    label = f"{sizes}, {workers} workers"
    figures = [
        exactly(f"(c) {label}: cycles completed", done_cycles, "", len(ids)),
        info(f"(c) {label}: lower bound from limits and latency", round(bound, 1), "s"),
        at_most(
            f"(c) {label}: full-cycle time, first cycle start to last cycle end",
            round(span, 1),
            "s",
            bound * TIME_TARGET,
            f"<= {bound * TIME_TARGET:.1f} s (1.3 x bound)",
        ),
        info(f"(c) {label}: worker processes' wall time, start-up included", round(elapsed, 1), "s"),
        at_most(f"(c) {label}: 429s received", throttled, "", 0, "0"),
        info(f"(c) {label}: actions performed per second", round(actions_done / span, 2), "actions/s"),
        at_most(f"(c) {label}: worker peak RSS", round(peak_mb), "MB", 300, "< 300 MB"),
    ]
    figures += [
        pacing_figure(label, p, runs, {i for i, q in zip(ids, order) if q == p}, calls[p] / n, latency_ms / 1000)
        for p, n in connections.items()
        if n
    ]
    figures += [
        info(
            f"(c) {label}: {p} API calls ({connections[p]} connections, {actions_done} actions in all)",
            calls[p],
            "calls",
        )
        for p in connections
        if connections[p]
    ]
    return figures
