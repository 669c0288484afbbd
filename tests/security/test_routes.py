"""Every route, from the app's own URL map: CSRF on each unsafe method, and organization isolation on
each route with an id. Pages added later are covered without touching this file, and a route with an
argument `tests/security/tenants.py` cannot fill fails until the table learns it."""

from __future__ import annotations

import io
import zipfile

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from integration.store.models import (
    Action,
    Connection,
    ConnectionStatus,
    CustomerOverride,
    InvoicePause,
    MirroredInvoice,
)
from tests.security.tenants import (
    LINK_ARGUMENTS,
    UnfillableRoute,
    csrf_token,
    names_a_row,
    route_values,
    signed_in,
    tenant_rules,
)

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def path_for(app: Flask, rule: Rule, values: dict[str, object], method: str) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - SKIPPED_METHODS)


def snapshot(app: Flask) -> dict[str, object]:
    """What a successful cross-tenant or forged request would change."""
    with app.extensions["arpilot"].sessions() as db:
        return {
            "connections": sorted((c.id, c.status, c.token_blob) for c in db.scalars(select(Connection))),
            "actions": sorted((a.id, a.status) for a in db.scalars(select(Action))),
            "pauses": sorted((p.id, p.disputed, p.promise_to_pay, p.note) for p in db.scalars(select(InvoicePause))),
            "overrides": sorted(
                (o.id, o.paused, o.excluded, o.opted_out) for o in db.scalars(select(CustomerOverride))
            ),
            "invoices": db.scalar(select(func.count()).select_from(MirroredInvoice)),
        }


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def body_text(response: TestResponse) -> str:
    """The response as text: a PDF (a statement, a letter) as the text it shows, a ZIP download (the
    collections packet) as the text of its files, its PDF summary included."""
    if response.mimetype == "application/pdf":
        return _pdf_text(response.data)
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            return "".join(
                _pdf_text(archive.read(name)) if name.endswith(".pdf") else archive.read(name).decode("utf-8-sig")
                for name in archive.namelist()
            )
    return response.get_data(as_text=True)


def shows_any(response: TestResponse, markers: tuple[str, ...]) -> list[str]:
    text = body_text(response) + "".join(f"{k}: {v}" for k, v in response.headers.items())
    return [marker for marker in markers if marker in text]


def test_every_route_with_an_id_answers_404_for_another_organizations_row(tenants, tally) -> None:  # type: ignore[no-untyped-def]
    app, alpha, bravo = tenants
    client = signed_in(app, alpha)
    token = csrf_token(app, client)
    before = snapshot(app)
    unfillable, leaks, checked = [], [], 0
    for rule in tenant_rules(app):
        if not names_a_row(rule):
            continue
        try:
            ours = route_values(rule, alpha)
            theirs = {**route_values(rule, bravo), **{k: v for k, v in ours.items() if k in LINK_ARGUMENTS}}
        except UnfillableRoute as exc:
            unfillable.append(str(exc))
            continue
        for method in methods(rule):
            response = client.open(path_for(app, rule, theirs, method), method=method, data={"csrf_token": token})
            checked += 1
            if response.status_code != 404 or shows_any(response, bravo.markers):
                leaks.append(
                    f"{method} {rule.rule} with Bravo's ids: {response.status_code} {shows_any(response, bravo.markers)}"
                )
            if method == "GET":  # the same route with our own row must work, or the 404 above proves nothing
                assert client.get(path_for(app, rule, ours, method)).status_code != 404, rule.rule
    assert not unfillable, "\n".join(unfillable)
    assert not leaks, "\n".join(leaks)
    assert checked >= 1  # at least POST /connections/<id>/disconnect
    assert snapshot(app) == before
    tally["isolation_requests"] += checked


def test_no_page_shows_another_organizations_data(tenants, tally) -> None:  # type: ignore[no-untyped-def]
    app, alpha, bravo = tenants
    client = signed_in(app, alpha)
    home = client.get("/")
    assert shows_any(home, alpha.markers), "the dashboard shows none of the signed-in owner's own data"
    pages = 0
    for rule in tenant_rules(app):
        if "GET" not in methods(rule):
            continue
        try:
            path = path_for(app, rule, route_values(rule, alpha), "GET")
        except UnfillableRoute:
            continue  # reported by the test above
        response = client.get(path)
        pages += 1
        assert not shows_any(response, bravo.markers), f"GET {rule.rule} shows Bravo's data"
    tally["isolation_requests"] += pages


def test_every_unsafe_route_refuses_a_signed_in_request_without_a_valid_csrf_token(tenants, tally) -> None:  # type: ignore[no-untyped-def]
    app, alpha, bravo = tenants
    unsafe_methods = set(app.config["WTF_CSRF_METHODS"])
    unsafe = [
        (rule, method) for rule in app.url_map.iter_rules() for method in methods(rule) if method in unsafe_methods
    ]
    assert any(rule.endpoint == "account.disconnect" for rule, _ in unsafe)
    bravo_token = csrf_token(app, signed_in(app, bravo))
    before = snapshot(app)
    refused = []
    for rule, method in unsafe:
        path = path_for(app, rule, route_values(rule, alpha), method)
        for label, data in (
            ("no token", {}),
            ("forged token", {"csrf_token": "forged"}),
            ("another session's token", {"csrf_token": bravo_token}),
        ):
            response = signed_in(app, alpha).open(path, method=method, data=data)
            assert response.status_code == 400, f"{method} {rule.rule} with {label}: {response.status_code}"
            assert "This form has expired" in response.get_data(as_text=True)
            refused.append((rule.rule, label))
    assert snapshot(app) == before
    with app.extensions["arpilot"].sessions() as db:
        assert db.get(Connection, alpha.connection_id).status == ConnectionStatus.ACTIVE  # type: ignore[union-attr]
    tally["csrf_refusals"] += len(refused)
