"""A QuickBooks connection is called by its company's name (CompanyInfo), read while connecting."""

from __future__ import annotations

import requests
from flask import Flask
from sqlalchemy import select

from integration.store.models import ActivityEntry, Connection, Organization
from tests.oauth.sandbox_flow import Sandbox, connect

DEMO_COMPANY = "Harbor & Pine Landscaping"  # the sandbox's default company


def _names(app: Flask, connection_id: int) -> tuple[str, str]:
    with app.extensions["arpilot"].sessions() as db:
        connection = db.get(Connection, connection_id)
        return connection.display_name, db.get(Organization, connection.organization_id).name


def _fail_company_info(sandbox: Sandbox, count: int = 1) -> None:
    rule = {"path": "/companyinfo/", "kind": "status", "status": 503, "count": count}
    requests.post(f"{sandbox.base_url}/_sandbox/faults", json=rule, timeout=10).raise_for_status()


def test_connect_names_the_connection_and_organization_after_the_company(sandbox_app: Flask) -> None:
    client = sandbox_app.test_client()
    connection_id, realm = connect(sandbox_app, client)
    assert _names(sandbox_app, connection_id) == (DEMO_COMPANY, DEMO_COMPANY)
    page = client.get("/").get_data(as_text=True)
    assert "Harbor &amp; Pine Landscaping" in page and f"QuickBooks company {realm}" not in page
    with sandbox_app.extensions["arpilot"].sessions() as db:
        logged = db.scalars(select(ActivityEntry.message).where(ActivityEntry.kind == "connection")).all()
    assert logged == [f"{DEMO_COMPANY} connected by owner@sandbox.example."]


def test_a_failing_company_info_read_does_not_stop_the_connect(sandbox_app: Flask, sandbox: Sandbox) -> None:
    _fail_company_info(sandbox)
    client = sandbox_app.test_client()
    connection_id, realm = connect(sandbox_app, client)  # signed in, connection active
    placeholder = f"QuickBooks company {realm}"
    assert _names(sandbox_app, connection_id) == (placeholder, placeholder)
    assert placeholder in client.get("/").get_data(as_text=True)


def test_a_reconnect_whose_read_fails_keeps_the_name(sandbox_app: Flask, sandbox: Sandbox) -> None:
    connection_id, _ = connect(sandbox_app, sandbox_app.test_client())
    _fail_company_info(sandbox)
    again, _ = connect(sandbox_app, sandbox_app.test_client())
    assert again == connection_id and _names(sandbox_app, connection_id) == (DEMO_COMPANY, DEMO_COMPANY)
