"""`POST /webhooks/quickbooks` and `POST /webhooks/xero`: verified, de-duplicated change notifications into `SyncRequests`.

Intuit wants a 200 within 3 seconds (Xero within 5) and both retry otherwise, so the handler only records which
entities changed and asks for the connection's cycle; the targeted refresh (integration/cycle/targeted_refresh.py)
drains `SyncRequests` in the background and skips the pending actions of invoices paid since they were
planned. It runs in every web process that starts cycles (embedded clock or RQ). A delivery is remembered as seen
only after it has been recorded, so a failure answered with 500 is retried by Intuit and not lost.
The seen-set lives in this process (bounded); a duplicate that slips past it costs one extra
incremental sync, nothing more.
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, request
from sqlalchemy import select

from connectors.quickbooks.webhooks import WebhookPayloadError, parse, signature_valid
from connectors.xero.webhooks import SIGNATURE_HEADER as XERO_SIGNATURE
from connectors.xero.webhooks import handle_xero_webhook
from integration.app_context import Runtime
from integration.config import Settings
from integration.cycle.providers import connector_factory
from integration.cycle.sync import CREDIT_ENTITIES, ENTITIES, ChangedEntity, InProcessSyncRequests, SyncRequests
from integration.cycle.targeted_refresh import TargetedRefresher
from integration.store.db import transaction
from integration.store.models import Connection, ConnectionStatus
from integration.web.soon import run_cycle_soon

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
    def __init__(self, sync_requests: SyncRequests, refresher: TargetedRefresher | None = None) -> None:
        self.sync_requests = sync_requests
        self.refresher = refresher
        self.seen = RecentKeys()


def init_app(app: Flask, settings: Settings, sync_requests: SyncRequests | None = None) -> None:
    """Give the webhook routes their state; the SyncRequests queue is app.extensions['arpilot_webhooks'].sync_requests.
    A process that starts cycles (embedded clock, or RQ) also refreshes paid invoices at once."""
    requests = sync_requests or InProcessSyncRequests()
    refresher = None
    if settings.embedded_clock or settings.redis_url:
        runtime: Runtime = app.extensions["arpilot"]
        refresher = TargetedRefresher(requests, runtime.sessions, connector_factory(settings, runtime.sessions))
        atexit.register(refresher.shutdown)
    app.extensions[EXTENSION] = WebhookState(requests, refresher)


@dataclass(frozen=True)
class Change:
    """One entity a provider says changed, in the company `external_id` (realm or tenant id)."""

    external_id: str
    entity: str  # normalized: customer, invoice, payment, …
    entity_id: str
    operation: str
    dedupe_key: str


@blueprint.post("/webhooks/quickbooks")
def quickbooks() -> tuple[dict[str, object], int]:
    runtime: Runtime = current_app.extensions["arpilot"]
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
    return _accept(
        "quickbooks",
        [
            Change(n.realm_id, QUICKBOOKS_ENTITIES.get(n.entity, n.entity), n.entity_id, n.operation, n.dedupe_key)
            for n in notifications
        ],
    )


# QuickBooks' entity names where arpilot's mirrored entity is spelled differently.
QUICKBOOKS_ENTITIES = {"creditmemo": "credit_memo"}


# Xero's event categories as arpilot's mirrored entities (a contact is arpilot's customer).
XERO_ENTITIES = {"INVOICE": "invoice", "CONTACT": "customer"}


@blueprint.post("/webhooks/xero")
def xero() -> tuple[dict[str, object], int]:
    """Xero's deliveries, the intent-to-receive handshake included (empty events, some mis-signed)."""
    runtime: Runtime = current_app.extensions["arpilot"]
    key = runtime.settings.xero_webhook_key
    if not key:
        return {"error": "Xero webhooks are not configured"}, 503
    result = handle_xero_webhook(request.get_data(cache=False), request.headers.get(XERO_SIGNATURE), key)
    if result.status_code != 200:
        return {"error": result.error or "refused"}, result.status_code
    return _accept(
        "xero",
        [
            Change(
                e.tenant_id,
                XERO_ENTITIES.get(e.category, e.category.lower()),
                e.resource_id,
                e.event_type.title(),
                e.dedupe_key,
            )
            for e in result.events
        ],
    )


def _accept(provider: str, changes: list[Change]) -> tuple[dict[str, object], int]:
    """De-duplicate, queue targeted syncs, and only then remember the deliveries as seen."""
    runtime: Runtime = current_app.extensions["arpilot"]
    state: WebhookState = current_app.extensions[EXTENSION]
    fresh_keys = state.seen.unseen(c.dedupe_key for c in changes)
    fresh = [c for c in changes if c.dedupe_key in fresh_keys]
    queued = _queue(runtime, state.sync_requests, state.refresher, provider, fresh)
    state.seen.remember(fresh_keys)
    return {"received": len(changes), "duplicates": len(changes) - len(fresh), "queued": queued}, 200


def _queue(
    runtime: Runtime,
    sync_requests: SyncRequests,
    refresher: TargetedRefresher | None,
    provider: str,
    changes: list[Change],
) -> int:
    by_company: dict[str, list[ChangedEntity]] = defaultdict(list)
    for c in changes:
        if c.entity in ENTITIES or c.entity in CREDIT_ENTITIES:  # estimates, items… are not mirrored
            by_company[c.external_id].append(ChangedEntity(c.entity, c.entity_id, c.operation))
    if not by_company:
        return 0
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Connection.external_id, Connection.id).where(
                Connection.provider == provider,
                Connection.external_id.in_(list(by_company)),
                Connection.status == ConnectionStatus.ACTIVE,
            )
        )
        connections = {external_id: connection_id for external_id, connection_id in rows}
    queued = 0
    for external_id, entities in by_company.items():
        if external_id in connections:  # a company we no longer hold (disconnected) is ignored
            sync_requests.add(connections[external_id], entities)
            queued += len(entities)
            if refresher is not None:
                refresher.poke(connections[external_id])  # paid invoices' pending actions, in seconds
            run_cycle_soon(connections[external_id])  # the change reaches the mirror now, not next interval
    return queued
