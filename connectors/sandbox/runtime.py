"""What every sandbox app carries: clock, limits, faults, counters, idempotency, webhooks.

`SandboxRuntime.install(app)` hooks the generic behaviour in front of every emulated endpoint
(everything outside the admin prefix): count the request, add the configured latency, apply an
injected fault. Provider blueprints then do authentication and their own rate limits.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, Response, g, request

from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.faults import FaultInjector, FaultRule
from connectors.sandbox.idempotency import IdempotencyStore
from connectors.sandbox.limits import ConcurrencyGate, WindowLimiter
from connectors.sandbox.metrics import RequestCounter
from connectors.sandbox.webhooks import WebhookDispatcher

ADMIN_PREFIX = "/_sandbox"
MALFORMED_BODY = '{"QueryResponse": {"startPosition": 1, "maxResults": 1, "Invo'


class SandboxRefused(RuntimeError):
    """A sandbox asked to start where it must never run (ARPILOT_ENV=production)."""


def refuse_in_production(environ: Mapping[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    if environ.get("ARPILOT_ENV", "").strip() == "production":
        raise SandboxRefused(
            "the sandboxes emulate providers for development and tests; "
            "they refuse to start when ARPILOT_ENV=production"
        )


@dataclass
class SandboxRuntime:
    clock: SandboxClock = field(default_factory=SandboxClock)
    # Named, admin-adjustable limits (requests per minute, concurrency...); the provider names them.
    limits: dict[str, int] = field(default_factory=dict)
    latency_ms: int = 0
    faults: FaultInjector = field(default_factory=FaultInjector)
    counter: RequestCounter = field(default_factory=RequestCounter)
    gate: ConcurrencyGate = field(default_factory=ConcurrencyGate)
    idempotency: IdempotencyStore = field(default_factory=IdempotencyStore)
    limiter: WindowLimiter = field(init=False)
    webhooks: WebhookDispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = WindowLimiter(self.clock)
        self.webhooks = WebhookDispatcher(self.clock)

    def install(self, app: Flask) -> None:
        app.before_request(self._before_request)
        app.after_request(self._after_request)

    def _before_request(self) -> Response | None:
        if request.path.startswith(ADMIN_PREFIX):
            return None
        rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        self.counter.request(f"{request.method} {rule}")
        g.sandbox_delay = self.latency_ms / 1000
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return None
        self.counter.fault(fault.kind)
        if fault.kind == "timeout":
            g.sandbox_delay += fault.seconds
            return None
        return _apply_fault(fault)

    def _after_request(self, response: Response) -> Response:
        # Delays happen after the work, while the provider's concurrency slot is still held, as on
        # a slow server; a "timeout" fault therefore performs the effect and loses the answer.
        delay = g.pop("sandbox_delay", 0)
        if delay:
            time.sleep(delay)
        return response


def _apply_fault(fault: FaultRule) -> Response | None:
    if fault.kind == "status":
        return Response(
            fault.body or f"sandbox injected fault: HTTP {fault.status}", status=fault.status, mimetype="text/plain"
        )
    if fault.kind == "malformed":
        return Response(fault.body or MALFORMED_BODY, status=200, mimetype="application/json")
    connection = request.environ.get("werkzeug.socket")
    if connection is None:  # not behind a real server (Flask test client): nothing to drop
        raise ConnectionAbortedError("sandbox injected fault: connection closed")
    connection.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=500)
