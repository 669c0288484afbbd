"""QuickBooks webhooks: the intuit-signature check and both payload shapes. Pure functions.

Intuit signs the raw body: `intuit-signature` = base64(HMAC-SHA256(body, verifier token)). The body
is either a CloudEvents array (`qbo.invoice.updated.v1`, mandatory from May 2026) or the legacy
`{"eventNotifications": [...]}`. Payloads name entities only; the sync fetches them afterwards.
python-quickbooks' own `validate_webhook_signature` compares with `==` (not constant time) and
raises on a malformed header, so it is not used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from connectors.text import storable

# CloudEvents verbs to the legacy operation names
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "voided": "Void",
    "merged": "Merge",
    "emailed": "Emailed",
}


class WebhookPayloadError(ValueError):
    """The body is neither CloudEvents nor the legacy notification shape."""


@dataclass(frozen=True, slots=True)
class Notification:
    realm_id: str
    entity: str  # lower-case QuickBooks entity name: invoice, customer, payment, term, …
    entity_id: str
    operation: str  # Create, Update, Delete, Merge, Void
    dedupe_key: str  # CloudEvents id, or realm/entity/id/operation/lastUpdated for the legacy shape


def signature_valid(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Constant-time check of intuit-signature; a missing or garbled header is simply invalid."""
    if not signature or not verifier_token:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def sign(body: bytes, verifier_token: str) -> str:
    """The intuit-signature header value for `body` (for tests and the sandbox's deliveries)."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def parse(body: bytes) -> list[Notification]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise WebhookPayloadError(f"webhook body is not JSON: {str(exc)[:200]}") from None
    if isinstance(payload, list):
        return [_cloud_event(event, index) for index, event in enumerate(payload)]
    if isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        return _legacy(payload["eventNotifications"])
    raise WebhookPayloadError("webhook body is neither a CloudEvents array nor {eventNotifications: [...]}")


def _field(data: Any, key: str, where: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if value in (None, ""):
        raise WebhookPayloadError(f"{where}.{key} is missing")
    if not storable(str(value)):
        raise WebhookPayloadError(f"{where}.{key} carries a NUL or an unencodable character")
    return str(value)


def _cloud_event(event: Any, index: int) -> Notification:
    where = f"[{index}]"
    kind = _field(event, "type", where)
    parts = kind.split(".")
    if len(parts) < 3 or parts[0] != "qbo":
        raise WebhookPayloadError(f"{where}.type {kind!r} is not qbo.<entity>.<verb>[.v1]")
    return Notification(
        realm_id=_field(event, "intuitaccountid", where),
        entity=parts[1].lower(),
        entity_id=_field(event, "intuitentityid", where),
        operation=_OPERATIONS.get(parts[2].lower(), parts[2].capitalize()),
        dedupe_key="ce:" + _field(event, "id", where),
    )


def _legacy(notifications: list[Any]) -> list[Notification]:
    found: list[Notification] = []
    for n, notification in enumerate(notifications):
        where = f"eventNotifications[{n}]"
        realm_id = _field(notification, "realmId", where)
        change = notification.get("dataChangeEvent")
        entities = change.get("entities") if isinstance(change, dict) else None
        if not isinstance(entities, list):
            raise WebhookPayloadError(f"{where}.dataChangeEvent.entities is missing")
        for e, entity in enumerate(entities):
            at = f"{where}.dataChangeEvent.entities[{e}]"
            name, entity_id = _field(entity, "name", at), _field(entity, "id", at)
            operation = _field(entity, "operation", at)
            stamp = str(entity.get("lastUpdated") or "")
            found.append(
                Notification(
                    realm_id,
                    name.lower(),
                    entity_id,
                    operation,
                    f"legacy:{realm_id}:{name}:{entity_id}:{operation}:{stamp}",
                )
            )
    return found
