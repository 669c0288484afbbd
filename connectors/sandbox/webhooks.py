"""Signed webhook delivery to one configured URL, on a background thread, every attempt recorded.

Signature: base64(HMAC-SHA256(raw body, key)), which is what both providers use; the header name
is the provider's. Delivery is at-least-once in spirit but attempted once here; failures are
recorded for tests to read back. `deliver_now` posts synchronously, optionally with a deliberately
wrong signature, for handshakes that judge the receiver's answers (Xero's intent to receive).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import queue
import threading
from dataclasses import dataclass
from typing import Any

import requests

from connectors.sandbox.clock import SandboxClock


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    signature_header: str
    key: str
    timeout: float = 5.0


@dataclass(frozen=True)
class Delivery:
    at: str
    url: str
    body: str
    signature: str
    status: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "url": self.url,
            "body": self.body,
            "signature": self.signature,
            "status": self.status,
            "error": self.error,
        }


class WebhookDispatcher:
    def __init__(self, clock: SandboxClock) -> None:
        self._clock = clock
        self._target: WebhookTarget | None = None
        self._queue: queue.Queue[tuple[WebhookTarget, bytes, str] | None] = queue.Queue()
        self._deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def target(self) -> WebhookTarget | None:
        return self._target

    def configure(self, target: WebhookTarget | None) -> None:
        self._target = target

    def send(self, body: bytes, content_type: str = "application/json") -> bool:
        """Queue one signed delivery of `body`; False when no target is configured."""
        target = self._target
        if target is None:
            return False
        self._ensure_worker()
        self._queue.put((target, body, content_type))
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery was attempted (tests call this before asserting)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            finally:
                self._queue.task_done()

    def deliver_now(
        self, body: bytes, *, mis_sign: bool = False, content_type: str = "application/json"
    ) -> Delivery | None:
        """Post `body` at once and return the attempt (None without a target); `mis_sign` signs it
        with a key that is not the configured one."""
        target = self._target
        if target is None:
            return None
        if mis_sign:
            target = WebhookTarget(target.url, target.signature_header, "not-" + target.key, target.timeout)
        return self._deliver(target, body, content_type)

    def _deliver(self, target: WebhookTarget, body: bytes, content_type: str) -> Delivery:
        signature = sign(body, target.key)
        status: int | None = None
        error: str | None = None
        try:
            response = requests.post(
                target.url,
                data=body,
                timeout=target.timeout,
                headers={"Content-Type": content_type, target.signature_header: signature},
            )
            status = response.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        delivery = Delivery(self._clock.now().isoformat(), target.url, body.decode("utf-8"), signature, status, error)
        with self._lock:
            self._deliveries.append(delivery)
        return delivery
