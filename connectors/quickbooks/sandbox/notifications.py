"""QuickBooks webhook bodies: CloudEvents (the default) and the legacy eventNotifications shape."""

from __future__ import annotations

import datetime as dt
import json
import uuid

CLOUDEVENTS = "cloudevents"
LEGACY = "legacy"
FORMATS = (CLOUDEVENTS, LEGACY)
SIGNATURE_HEADER = "intuit-signature"

_PAST = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}


def notification_body(fmt: str, realm_id: str, entity: str, entity_id: str, operation: str, at: dt.datetime) -> bytes:
    utc = at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if fmt == LEGACY:
        payload: object = {
            "eventNotifications": [
                {
                    "realmId": realm_id,
                    "dataChangeEvent": {
                        "entities": [{"name": entity, "id": entity_id, "operation": operation, "lastUpdated": utc}]
                    },
                }
            ]
        }
    else:
        payload = [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.sandbox.arpilot",
                "type": f"qbo.{entity.lower()}.{_PAST.get(operation, operation.lower())}.v1",
                "datacontenttype": "application/json",
                "time": utc,
                "intuitentityid": entity_id,
                "intuitaccountid": realm_id,
                "data": {},
            }
        ]
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")
