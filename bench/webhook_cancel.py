"""Benchmark (e): from a payment webhook's receipt to its invoice's pending reminder skipped.

    .venv/bin/python bench/webhook_cancel.py [--invoices 2000] [--samples 20] [--latency-ms 100]

Both sandboxes at their documented limits with latency added; PostgreSQL and Redis as in
production (the web process and the workers share the rate-limit buckets in Redis). A QuickBooks
and a Xero company of `--invoices` invoices each get their first full cycle on two RQ workers.
While both cycles execute (the Xero one takes a quarter of an hour at 60 calls a minute), the bench
repeatedly pays, at the sandbox, the invoice of a reminder still planned near the end of the
ledger. The sandbox sends its signed webhook (QuickBooks: Payment and Invoice; Xero: INVOICE
UPDATE) to arpilot's web app on loopback, whose targeted refresh reads the invoice and skips the
reminder "paid since planning". A sample is the time from the webhook's arrival at the web app to
the action's `completed_at`; the target is a p95 under 10 seconds per provider, every sample taken
while the Xero company's full cycle was still running.

Prints the figures and merges them into bench/results/latest.json as bench/run.py's part `webhook`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import books  # noqa: E402
from bench.figures import Figure, at_most, exactly, info  # noqa: E402
from bench.world import BenchWorld, Connected, bench_world  # noqa: E402
from connectors.sandbox import SandboxServer  # noqa: E402
from integration.clock.queue import QUEUE_NAME, CycleQueue  # noqa: E402
from integration.cycle.targeted_refresh import PAID_REASON  # noqa: E402
from integration.store.models import Action, ActionStatus, CycleRun  # noqa: E402
from integration.web import create_app  # noqa: E402

TARGET_SECONDS = 10.0
PROVIDERS = ("quickbooks", "xero")
WAIT_SECONDS = 120.0


class Arrivals:
    """When each webhook delivery reached the web app, and the records it named: a WSGI middleware.
    The cycles' own writes (notes) make webhooks too, so a sample matches the payment's by id."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seen: list[tuple[float, set[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/webhooks/"):
            arrived = time.time()
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            with self.lock:
                self.seen.append((arrived, _named(body)))
        return self.app(environ, start_response)

    def first_after(self, instant: float, ids: set[str]) -> float | None:
        with self.lock:
            return next((t for t, named in self.seen if t >= instant and named & ids), None)


def _named(body: bytes) -> set[str]:
    """The record ids a QuickBooks (CloudEvents) or Xero webhook body names."""
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    if isinstance(data, list):
        return {str(event.get("intuitentityid")) for event in data if isinstance(event, dict)}
    return {str(event.get("resourceId")) for event in data.get("events", []) if isinstance(event, dict)}


def _wait(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {timeout:g}s")
        time.sleep(0.05)
    return found


def _pending_reminders(world: BenchWorld, connection_id: int) -> list[Action]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(Action)
                .where(
                    Action.connection_id == connection_id,
                    Action.status == ActionStatus.PLANNED,
                    Action.kind == "send_reminder",
                )
                .order_by(Action.id.desc())
            )
        )


def _running(world: BenchWorld, connection_id: int) -> bool:
    with world.sessions() as session:
        return (
            session.scalar(
                select(CycleRun.status)
                .where(CycleRun.connection_id == connection_id)
                .order_by(CycleRun.id.desc())
                .limit(1)
            )
            == "running"
        )


def _action(world: BenchWorld, action_id: int) -> Action:
    with world.sessions() as session:
        action = session.get(Action, action_id)
        assert action is not None
        session.expunge(action)
        return action


def _pay(world: BenchWorld, company: Connected, invoice_id: str) -> set[str]:
    """Pay the invoice in full at the sandbox; the ids its webhooks may name (invoice, payment)."""
    path = (
        f"/companies/{company.key}/payments"
        if company.provider == "quickbooks"
        else f"/organisations/{company.key}/payments"
    )
    payment = world.admin(company.provider, "POST", path, json={"invoice": invoice_id})["payment"]
    return {invoice_id, str(payment.get("Id") or payment.get("PaymentID"))}


@dataclasses.dataclass
class Samples:
    seconds: list[float] = dataclasses.field(default_factory=list)
    claimed_first: int = 0  # the executor reached the action before the refresh: its own re-check skips it
    while_xero_cycle_ran: int = 0


def _sample(
    world: BenchWorld, company: Connected, arrivals: Arrivals, used: set[int], xero_id: int, into: Samples
) -> None:
    candidates = [a for a in _pending_reminders(world, company.connection_id) if a.id not in used]
    if not candidates:
        raise RuntimeError(f"{company.provider}: no planned reminder left to pay")
    action = min(candidates[:10], key=lambda a: len(a.payload["invoice_ids"]))  # near the end, fewest invoices
    used.add(action.id)
    paid_at, named = time.time(), set()
    for invoice_id in action.payload["invoice_ids"]:
        named |= _pay(world, company, invoice_id)
    done = _wait(
        lambda: (a := _action(world, action.id)).status is not ActionStatus.PLANNED and a, "the action to leave planned"
    )
    running = _running(world, xero_id)
    if done.status is not ActionStatus.SKIPPED or done.last_error != PAID_REASON:
        into.claimed_first += 1
        return
    received = arrivals.first_after(paid_at, named)
    assert received is not None and done.completed_at is not None
    into.seconds.append(done.completed_at.timestamp() - received)
    into.while_xero_cycle_ran += running


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure(world: BenchWorld, invoices: int, samples: int) -> list[Figure]:
    scenario = books.company(invoices, books.today(), name=f"Bench webhook {invoices}")
    companies = {p: world.add(p, scenario) for p in PROVIDERS}
    settings = dataclasses.replace(world.settings, embedded_clock=False)
    web = create_app(settings)
    arrivals = Arrivals(web.wsgi_app)
    web.wsgi_app = arrivals  # type: ignore[method-assign]
    name = f"arpilot-bench-webhook-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = world.env()
    redis = Redis.from_url(env["REDIS_URL"])
    queue = Queue(name, connection=redis)
    workers: list[subprocess.Popen[str]] = []
    results = {p: Samples() for p in PROVIDERS}
    try:
        with SandboxServer(web) as server:
            for provider in PROVIDERS:
                world.admin(provider, "POST", "/webhooks", json={"url": f"{server.base_url}/webhooks/{provider}"})
            cycles = CycleQueue(queue, dt.timedelta(hours=2))
            for company in companies.values():
                cycles.enqueue(company.connection_id)
            world.reset_counters()
            workers = [
                subprocess.Popen(
                    world.worker_command("rq", name),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in PROVIDERS
            ]
            for company in companies.values():
                _wait(
                    lambda c=company: len(_pending_reminders(world, c.connection_id)) > 2 * samples,
                    f"{company.provider}'s cycle to plan its reminders",
                    timeout=1800,
                )
            used: set[int] = set()
            xero_id = companies["xero"].connection_id
            for _ in range(samples):
                for provider in PROVIDERS:
                    _sample(world, companies[provider], arrivals, used, xero_id, results[provider])
            counters = {p: world.counters(p) for p in PROVIDERS}
    finally:
        for provider in PROVIDERS:  # no more deliveries, and the refreshes under way end before the sandboxes do
            world.admin(provider, "POST", "/webhooks", json={"url": None})
        web.extensions["arpilot_webhooks"].refresher.shutdown(wait=True)
        for worker in workers:
            worker.kill()
            worker.wait(30)
        queue.delete(delete_jobs=True)
        Queue(QUEUE_NAME, connection=redis).delete(delete_jobs=True)  # the web app's "cycle soon" jobs
    label = f"(e) webhook to cancellation, {invoices:,}-invoice companies"
    figures: list[Figure] = []
    for provider in PROVIDERS:
        seconds = results[provider].seconds
        if not seconds:
            raise RuntimeError(f"{provider}: no sample was cancelled by the refresh ({results[provider]})")
        figures += [
            at_most(
                f"{label}, {provider}: p95", round(_p95(seconds), 2), "s", TARGET_SECONDS, f"< {TARGET_SECONDS:g} s"
            ),
            info(f"{label}, {provider}: median", round(statistics.median(seconds), 2), "s"),
            info(f"{label}, {provider}: slowest", round(max(seconds), 2), "s"),
            exactly(f"{label}, {provider}: samples cancelled by the refresh", len(seconds), "", samples),
            exactly(
                f"{label}, {provider}: samples while the Xero full cycle ran",
                results[provider].while_xero_cycle_ran,
                "",
                samples,
            ),
        ]
    throttled = sum(counters[p]["throttled_total"] for p in PROVIDERS)
    figures.append(at_most(f"{label}: 429s received", throttled, "", 0, "0"))
    return figures


def main(argv: list[str]) -> None:
    from bench.figures import load, save, table
    from bench.run import RESULTS, merged

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=int(os.environ.get("BENCH_WEBHOOK_INVOICES") or 2000))
    parser.add_argument("--samples", type=int, default=int(os.environ.get("BENCH_WEBHOOK_SAMPLES") or 20))
    parser.add_argument("--latency-ms", type=int, default=int(os.environ.get("BENCH_LATENCY_MS") or 100))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with bench_world(latency_ms=args.latency_ms) as world:
        figures = measure(world, args.invoices, args.samples)
    save(merged(figures, load(RESULTS), ("webhook",)), RESULTS)
    print(
        table(
            figures,
            f"arpilot webhook-to-cancellation benchmark; both sandboxes with {args.latency_ms} ms latency "
            f"and their documented limits; {(time.perf_counter() - started) / 60:.1f} minutes in all",
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
