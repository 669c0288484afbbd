"""Xero webhooks: signature check, parsing and de-duplication. Pure: no Flask, no I/O.

Xero signs the raw body: `x-xero-signature` = base64(HMAC-SHA256(body, webhook key)). The endpoint
must answer 200 for a valid signature and 401 for an invalid one; during "intent to receive" Xero
sends signed payloads with an empty `events` list, some deliberately mis-signed, and activates the
subscription only if every answer is right. Delivery is at least once, so each event has a stable
dedupe key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.text import storable

SIGNATURE_HEADER = "x-xero-signature"


class WebhookPayloadError(ValueError):
    """A correctly signed body that is not a Xero webhook payload."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    tenant_id: str
    category: str  # INVOICE, CONTACT, ...
    event_type: str  # CREATE, UPDATE
    resource_id: str
    occurred_at: dt.datetime  # UTC
    resource_url: str | None = None

    @property
    def dedupe_key(self) -> str:
        """The same change delivered twice has the same key; a later change to it does not."""
        stamp = self.occurred_at.isoformat()
        return f"xero:{self.tenant_id}:{self.category}:{self.resource_id}:{self.event_type}:{stamp}"


@dataclass(frozen=True, slots=True)
class WebhookResult:
    status_code: int  # 200 valid, 401 mis-signed, 400 signed but unreadable
    events: tuple[WebhookEvent, ...] = ()
    error: str | None = None


def signature_valid(raw_body: bytes, signature: str | None, key: str) -> bool:
    """Constant-time comparison of the header with the HMAC of the exact bytes received."""
    if not signature or not key:
        return False
    return hmac.compare_digest(sign(raw_body, key).encode(), signature.strip().encode("ascii", "replace"))


def sign(raw_body: bytes, key: str) -> str:
    """The header value Xero would send (for the sandbox and tests)."""
    return base64.b64encode(hmac.new(key.encode(), raw_body, hashlib.sha256).digest()).decode()


def parse_events(raw_body: bytes) -> tuple[WebhookEvent, ...]:
    """The events of a payload; an empty tuple for the intent-to-receive handshake."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise WebhookPayloadError(f"body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, Mapping) or not isinstance(payload.get("events"), list):
        raise WebhookPayloadError("body must be an object with an 'events' list")
    return tuple(_event(index, item) for index, item in enumerate(payload["events"]))


def _event(index: int, item: object) -> WebhookEvent:
    if not isinstance(item, Mapping):
        raise WebhookPayloadError(f"events[{index}] must be an object")

    def text(name: str) -> str:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip() or not storable(value):
            raise WebhookPayloadError(f"events[{index}].{name} must be a non-empty string of storable text")
        return value.strip()

    return WebhookEvent(
        tenant_id=text("tenantId"),
        category=text("eventCategory").upper(),
        event_type=text("eventType").upper(),
        resource_id=text("resourceId"),
        occurred_at=_utc(index, text("eventDateUtc")),
        resource_url=None if item.get("resourceUrl") is None else text("resourceUrl"),
    )


def _utc(index: int, value: str) -> dt.datetime:
    """eventDateUtc is ISO 8601 in UTC, often without an offset and with 7 fractional digits."""
    trimmed = value.removesuffix("Z")
    if "." in trimmed:
        whole, fraction = trimmed.split(".", 1)
        trimmed = f"{whole}.{fraction[:6]}"
    try:
        parsed = dt.datetime.fromisoformat(trimmed)
    except ValueError:
        raise WebhookPayloadError(f"events[{index}].eventDateUtc is not an ISO timestamp: {value!r}") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def handle_xero_webhook(raw_body: bytes, signature: str | None, key: str) -> WebhookResult:
    """What the HTTP endpoint answers: 401 unless signed with `key`, then 200 with the events.

    A signed body that cannot be read is answered 400 rather than 200: Xero then retries and
    eventually disables the subscription, which surfaces the fault instead of losing events.
    """
    if not signature_valid(raw_body, signature, key):
        return WebhookResult(401, error="invalid or missing x-xero-signature")
    try:
        events = parse_events(raw_body)
    except WebhookPayloadError as exc:
        return WebhookResult(400, error=str(exc))
    return WebhookResult(200, _unique(events))


def _unique(events: tuple[WebhookEvent, ...]) -> tuple[WebhookEvent, ...]:
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.dedupe_key not in seen:
            seen.add(event.dedupe_key)
            kept.append(event)
    return tuple(kept)
