"""`POST /webhooks/quickbooks`: verified, de-duplicated change notifications into `SyncRequests`.

Intuit wants a 200 within 3 seconds and retries otherwise, so the handler only records which
entities changed; the cycle drains `SyncRequests` and syncs them. A delivery is remembered as seen
only after it has been recorded, so a failure answered with 500 is retried by Intuit and not lost.
The seen-set lives in this process (bounded); a duplicate that slips past it costs one extra
incremental sync, nothing more.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable

from flask import Blueprint, Flask, current_app, request
from sqlalchemy import select

from connectors.quickbooks.webhooks import Notification, WebhookPayloadError, parse, signature_valid
from integration.app_context import Runtime
from integration.db import transaction
from integration.models import Connection
from integration.sync import ENTITIES, ChangedEntity, InProcessSyncRequests, SyncRequests

blueprint = Blueprint("webhooks", __name__)
EXTENSION = "arpilot_webhooks"


class RecentKeys:
    """The last `size` delivery keys seen, oldest forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def unseen(self, keys: Iterable[str]) -> set[str]:
        with self._lock:
            return {key for key in keys if key not in self._keys}

    def remember(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._keys[key] = None
                self._keys.move_to_end(key)
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)


class WebhookState:
    def __init__(self, sync_requests: SyncRequests) -> None:
        self.sync_requests = sync_requests
        self.seen = RecentKeys()


def init_app(app: Flask, sync_requests: SyncRequests | None = None) -> None:
    """Register the webhook routes; the SyncRequests queue is app.extensions['arpilot_webhooks'].sync_requests."""
    app.extensions[EXTENSION] = WebhookState(sync_requests or InProcessSyncRequests())
    app.register_blueprint(blueprint)


@blueprint.post("/webhooks/quickbooks")
def quickbooks() -> tuple[dict[str, object], int]:
    runtime: Runtime = current_app.extensions["arpilot"]
    state: WebhookState = current_app.extensions[EXTENSION]
    verifier = runtime.settings.quickbooks_webhook_verifier
    if not verifier:
        return {"error": "QuickBooks webhooks are not configured"}, 503
    body = request.get_data(cache=False)
    if not signature_valid(body, request.headers.get("intuit-signature"), verifier):
        return {"error": "invalid intuit-signature"}, 401
    try:
        notifications = parse(body)
    except WebhookPayloadError as exc:
        return {"error": str(exc)}, 400
    fresh_keys = state.seen.unseen(n.dedupe_key for n in notifications)
    fresh = [n for n in notifications if n.dedupe_key in fresh_keys]
    queued = _queue(runtime, state.sync_requests, fresh)
    state.seen.remember(fresh_keys)
    return {"received": len(notifications), "duplicates": len(notifications) - len(fresh), "queued": queued}, 200


def _queue(runtime: Runtime, sync_requests: SyncRequests, notifications: list[Notification]) -> int:
    by_realm: dict[str, list[ChangedEntity]] = defaultdict(list)
    for n in notifications:
        if n.entity in ENTITIES:  # estimates, items… are not mirrored
            by_realm[n.realm_id].append(ChangedEntity(n.entity, n.entity_id, n.operation))
    if not by_realm:
        return 0
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Connection.external_id, Connection.id).where(
                Connection.provider == "quickbooks", Connection.external_id.in_(list(by_realm))
            )
        )
        connections = {realm_id: connection_id for realm_id, connection_id in rows}
    queued = 0
    clock = current_app.extensions.get("arpilot_clock")
    for realm_id, changes in by_realm.items():
        if realm_id in connections:  # a realm we no longer hold (disconnected) is ignored
            sync_requests.add(connections[realm_id], changes)
            queued += len(changes)
            if clock is not None:
                clock.run_soon(connections[realm_id])  # the change reaches the mirror now, not next interval
    return queued
