"""Hostile values on every route and every parameter, from the app's own URL map: a NUL byte, integers
past any column's range, bytes that are not UTF-8 and overlong text, in the path, the query string,
the form and (for the webhooks) a correctly signed JSON body. Each answer is a 4xx, never a 500, on
SQLite and on PostgreSQL (which refuses NUL in text and integers past 64 bits where SQLite did not).

Which parameters a route reads is learnt by asking it: a first, ordinary request records every name
the view looks up in `request.args` / `request.form`, so a parameter added later is tried too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from connectors.quickbooks.webhooks import sign as sign_quickbooks
from connectors.xero.webhooks import sign as sign_xero
from tests.security.tenants import Tenant, csrf_token, route_values, signed_in, tenant_rules

HUGE = b"99999999999999999999999"
# name -> raw bytes, percent-encoded into query strings and form bodies as they are.
HOSTILE: dict[str, bytes] = {
    "nul": b"a\x00b",
    "lone nul": b"\x00",
    "huge integer": HUGE,
    "negative huge integer": b"-" + HUGE,
    "past 64 bits": str(2**63).encode(),
    "past 32 bits": str(2**31).encode(),
    "not utf-8": b"\xff\xfe\xc3",
    "overlong": b"7" * 5000,
    "overlong date": b"2026-01-01" + b"0" * 300,
}
FORM = "application/x-www-form-urlencoded"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def recording_request_class(seen: set[str]) -> type[Request]:
    """A request class whose args and form remember every name a view asks for."""

    class Recorded(ImmutableMultiDict):  # type: ignore[type-arg]
        def get(self, key, default=None, type=None):  # type: ignore[no-untyped-def, override]
            seen.add(key)
            return super().get(key, default, type)

        def getlist(self, key, type=None):  # type: ignore[no-untyped-def, override]
            seen.add(key)
            return super().getlist(key, type)

        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            seen.add(key)
            return super().__getitem__(key)

        def __contains__(self, key: object) -> bool:
            if isinstance(key, str):
                seen.add(key)
            return super().__contains__(key)

    class RecordingRequest(Request):
        parameter_storage_class = Recorded

    return RecordingRequest


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - SKIPPED_METHODS)


def encoded(pairs: Iterable[tuple[str, bytes]]) -> bytes:
    return b"&".join(quote_from_bytes(k.encode()).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs)


def path_of(app: Flask, rule: Rule, values: dict[str, object]) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def no_500(response: TestResponse, what: str, failures: list[str]) -> None:
    if response.status_code >= 500 and response.status_code != 503:  # 503: a provider that is not set up
        failures.append(f"{what}: {response.status_code}")


def test_every_route_and_parameter_answers_hostile_values_with_a_4xx(tenants, tally) -> None:  # type: ignore[no-untyped-def]
    app, alpha, _ = tenants
    seen: set[str] = set()
    app.request_class = recording_request_class(seen)
    failures: list[str] = []
    tried = routes = 0
    for rule in tenant_rules(app):
        for method in methods(rule):
            routes += 1
            client = signed_in(app, alpha)  # afresh: the walk passes POST /sign-out too
            token = csrf_token(app, client)
            path = path_of(app, rule, route_values(rule, alpha))
            seen.clear()
            ordinary = client.open(path, method=method, data={"csrf_token": token} if method != "GET" else None)
            no_500(ordinary, f"{method} {path} (ordinary)", failures)
            # every name the view read, and one it did not: a guard must not depend on the view reading it
            names = (seen - {"csrf_token"}) | {"unread"}
            for name in sorted(names):
                for label, value in HOSTILE.items():
                    if method == "GET":
                        response = client.get(path, query_string=encoded([(name, value)]).decode("ascii"))
                    else:
                        body = encoded([("csrf_token", token.encode()), (name, value)])
                        response = client.open(path, method=method, data=body, content_type=FORM)
                    tried += 1
                    no_500(response, f"{method} {path} {name}={label}", failures)
            tried += path_arguments(app, client, rule, method, alpha, token, failures)
    assert not failures, "\n".join(failures)
    assert routes >= 20 and tried >= 500
    tally["hostile_inputs"] += tried
    tally["hostile_routes"] += routes


def path_arguments(
    app: Flask,
    client,
    rule: Rule,
    method: str,
    tenant: Tenant,
    token: str,  # type: ignore[no-untyped-def]
    failures: list[str],
) -> int:
    """Each path argument replaced by each hostile value, written into the raw path."""
    tried = 0
    ours = route_values(rule, tenant)
    for name in ours:
        marker = "HOSTILE-MARKER-7"
        template = path_of(app, rule, {**ours, name: marker if isinstance(ours[name], str) else 424242424})
        placeholder = marker if isinstance(ours[name], str) else "424242424"
        for label, value in HOSTILE.items():
            path = template.replace(placeholder, quote_from_bytes(value))
            data = encoded([("csrf_token", token.encode())]) if method != "GET" else None
            response = client.open(path, method=method, data=data, content_type=FORM if data else None)
            tried += 1
            if response.status_code not in (400, 404, 405):
                failures.append(f"{method} {rule.rule} {name}={label}: {response.status_code} (expected 400/404)")
    return tried


QUICKBOOKS_FIELDS = ("intuitaccountid", "intuitentityid", "id", "type")
XERO_FIELDS = ("tenantId", "resourceId", "eventCategory", "eventType", "eventDateUtc")
# JSON can carry what a query string cannot: numbers past 64 bits and nesting.
JSON_HOSTILE: dict[str, object] = {
    **{label: value.decode("utf-8", "surrogateescape") for label, value in HOSTILE.items()},
    "huge number": int(HUGE),
    "negative number": -int(HUGE),
    "nested": [[[[{"a": 1}]]]],
    "object": {"x": "\x00"},
}


def quickbooks_event(**changed: object) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "intuit.x",
        "type": "qbo.invoice.updated.v1",
        "time": "2026-11-23T17:00:00Z",
        "intuitentityid": "130",
        "intuitaccountid": "realm-Alpha",
        **changed,
    }


def quickbooks_bodies(field: str, value: object) -> tuple[str, str]:
    """The CloudEvents body and the legacy one, `field` (or its legacy twin) set to `value`."""
    legacy = {"intuitaccountid": "realmId", "intuitentityid": "id"}.get(field)
    entity: dict[str, object] = {
        "name": "Invoice",
        "id": "130",
        "operation": "Update",
        "lastUpdated": "2026-11-23T17:00:00Z",
    }
    notification: dict[str, object] = {"realmId": "realm-Alpha", "dataChangeEvent": {"entities": [entity]}}
    if legacy == "realmId":
        notification["realmId"] = value
    elif legacy:
        entity[legacy] = value
    return json.dumps([quickbooks_event(**{field: value})]), json.dumps({"eventNotifications": [notification]})


def xero_event(**changed: object) -> dict[str, object]:
    return {
        "tenantId": "realm-Alpha",
        "eventCategory": "INVOICE",
        "eventType": "UPDATE",
        "resourceId": "r-1",
        "eventDateUtc": "2026-11-23T17:00:00.000",
        "resourceUrl": "https://api.xero.com/x",
        **changed,
    }


def test_signed_webhooks_answer_hostile_fields_with_a_4xx_or_ignore_them(tenants, tally) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = tenants
    settings = app.extensions["arpilot"].settings
    client = app.test_client()
    failures: list[str] = []
    tried = 0
    for field in QUICKBOOKS_FIELDS:
        for label, value in JSON_HOSTILE.items():
            for body in quickbooks_bodies(field, value):
                raw = body.encode("utf-8", "surrogateescape")
                response = client.post(
                    "/webhooks/quickbooks",
                    data=raw,
                    content_type="application/json",
                    headers={"intuit-signature": sign_quickbooks(raw, settings.quickbooks_webhook_verifier)},
                )
                tried += 1
                no_500(response, f"quickbooks {field}={label}", failures)
    for field in XERO_FIELDS:
        for label, value in JSON_HOSTILE.items():
            raw = json.dumps(
                {
                    "events": [xero_event(**{field: value})],
                    "firstEventSequence": 1,
                    "lastEventSequence": 1,
                    "entropy": "x",
                }
            ).encode("utf-8", "surrogateescape")
            response = client.post(
                "/webhooks/xero",
                data=raw,
                content_type="application/json",
                headers={"x-xero-signature": sign_xero(raw, settings.xero_webhook_key)},
            )
            tried += 1
            no_500(response, f"xero {field}={label}", failures)
    assert not failures, "\n".join(failures)
    tally["hostile_inputs"] += tried


@pytest.mark.parametrize(
    "path",
    [
        "/settings/customers?q=%00",
        "/activity?customer=99999999999999999999999",
        "/customers/99999999999999999999999",
        "/activity?page=99999999999999999999999",
        "/activity?invoice=%00",
    ],
)
def test_the_probes_findings_answer_400_or_404(tenants, path: str, tally) -> None:  # type: ignore[no-untyped-def]
    app, alpha, _ = tenants
    assert signed_in(app, alpha).get(path).status_code in (400, 404)
    tally["hostile_inputs"] += 1
