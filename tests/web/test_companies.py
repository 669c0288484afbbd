"""One organization, many companies: a company added while signed in joins the organization (with
one sign-in), the header's switcher keeps a choice only among the organization's own companies,
and each company may keep rules of its own, copied from another."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from integration.cycle.run import cycle_once, default_deps
from integration.owner.stored_rules import has_own_rules, load_rules, save_rules
from integration.policy.rules import Rules
from integration.store.connections import mark_disconnected
from integration.store.db import transaction
from integration.store.models import ActivityEntry, CompanyRules, Connection, ConnectionStatus, Organization, User
from integration.web.companies import SELECTED_KEY, selected_connection_id
from tests.oauth import sandbox_flow
from tests.oauth.sandbox_flow import Sandbox
from tests.oauth.xero_flow import XeroSandbox
from tests.oauth.xero_flow import consent as xero_consent
from tests.web.conftest import Seeded, seed_organization, signed_in
from tests.web.forms import rules_form

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(client: FlaskClient, path: str = "/companies") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


@pytest.fixture
def both_app(make_app, sandbox: Sandbox, xero_sandbox: XeroSandbox) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(quickbooks=sandbox.config, xero=xero_sandbox.config, xero_webhook_key=xero_sandbox.webhook_key)


def test_a_quickbooks_owner_adds_a_xero_company_and_sees_both_with_one_sign_in(
    both_app: Flask, xero_sandbox: XeroSandbox
) -> None:
    client = both_app.test_client()
    quickbooks_id, _ = sandbox_flow.connect(both_app, client)
    with client.session_transaction() as session:
        signed_in_as = (session["user_id"], session["organization_id"])
    tenant = xero_sandbox.tenant_ids()["demo"]
    added = client.get("/connect/xero/callback", query_string=xero_consent(client, [tenant]))
    assert added.status_code == 302 and added.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert (session["user_id"], session["organization_id"]) == signed_in_as  # still the same person
    assert "Connected to this account: " in client.get("/").get_data(as_text=True)
    with both_app.extensions["arpilot"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(Organization)) == 1
        assert db.scalar(select(func.count()).select_from(User)) == 1  # the Xero login made no user of its own
        xero = db.scalars(select(Connection).where(Connection.provider == "xero")).one()
        assert xero.organization_id == signed_in_as[1] and xero.status is ConnectionStatus.ACTIVE
    page = client.get("/companies").get_data(as_text=True)
    assert f'id="company-{quickbooks_id}"' in page and f'id="company-{xero.id}"' in page
    assert "Add a QuickBooks company" in page and "Add a Xero company" in page
    # The header's switcher lists both, and "All companies".
    assert page.count('<option value="">All companies</option>') == 1
    assert f'<option value="{quickbooks_id}"' in page and f'<option value="{xero.id}"' in page


def test_a_company_held_by_another_organization_is_still_refused_when_added(
    both_app: Flask, xero_sandbox: XeroSandbox
) -> None:
    sessions = both_app.extensions["arpilot"].sessions
    tenant = xero_sandbox.tenant_ids()["demo"]
    other = seed_organization(sessions, "Other Org", "9130002", "Rival")
    with transaction(sessions) as db:
        db.add(Connection(organization_id=other.organization_id, provider="xero", external_id=tenant, display_name="X"))
    client = both_app.test_client()
    sandbox_flow.connect(both_app, client)
    refused = client.get("/connect/xero/callback", query_string=xero_consent(client, [tenant]))
    assert refused.status_code == 409 and "connected elsewhere" in refused.get_data(as_text=True)
    with sessions() as db:
        holder = db.scalars(select(Connection).where(Connection.external_id == tenant)).one()
        assert holder.organization_id == other.organization_id  # untouched


def _second_company(app: Flask, seeded: Seeded, name: str = "Harbor Xero") -> int:
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection = Connection(
            organization_id=seeded.organization_id, provider="xero", external_id=f"tenant-{name}", display_name=name
        )
        db.add(connection)
        db.flush()
        return connection.id


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed_organization(app.extensions["arpilot"].sessions, "Harbor & Pine", "9130001", "Acme Tools")


def _select(client: FlaskClient, company: str, next_path: str = "/settings") -> tuple[int, str]:
    response = client.post(
        "/companies/select", data={"csrf_token": _token(client), "company": company, "next": next_path}
    )
    return response.status_code, response.headers.get("Location", response.get_data(as_text=True))


def test_the_switcher_keeps_a_choice_among_the_organizations_companies(app: Flask, seeded: Seeded) -> None:
    xero_id = _second_company(app, seeded)
    other = seed_organization(app.extensions["arpilot"].sessions, "Other Org", "9130002", "Rival")
    client = signed_in(app, seeded)
    assert _select(client, str(xero_id)) == (302, "/settings")
    with client.session_transaction() as session:
        assert session[SELECTED_KEY] == xero_id
    assert f'<option value="{xero_id}" selected>' in client.get("/companies").get_data(as_text=True)
    # Another organization's company, a word, an off-site address: refused or ignored, the choice kept.
    for forged in (str(other.connection_id), "abc", "1e3", "²"):
        status, body = _select(client, forged)
        assert status == 400 and "not one of this account" in body, forged
        with client.session_transaction() as session:
            assert session[SELECTED_KEY] == xero_id
    assert _select(client, "", "//evil.example/") == (302, "/")
    with client.session_transaction() as session:
        assert session[SELECTED_KEY] is None  # all companies


def test_a_stale_choice_is_dropped(app: Flask, seeded: Seeded) -> None:
    xero_id = _second_company(app, seeded)
    client = signed_in(app, seeded)
    _select(client, str(xero_id))
    with transaction(app.extensions["arpilot"].sessions) as db:
        mark_disconnected(db, db.get(Connection, xero_id), "test")  # type: ignore[arg-type]
    with client.session_transaction() as stored:
        data = dict(stored)
    with app.test_request_context():
        from flask import session

        session.update(data)
        assert selected_connection_id() is None
        assert SELECTED_KEY not in session


def test_settings_edit_the_chosen_companys_rules(app: Flask, seeded: Seeded) -> None:
    xero_id = _second_company(app, seeded)
    sessions = app.extensions["arpilot"].sessions
    client = signed_in(app, seeded)
    page = client.get("/settings").get_data(as_text=True)
    assert "Rules for all companies" in page and "every company without rules of its own follows them" in page
    _select(client, str(xero_id))
    page = client.get("/settings").get_data(as_text=True)
    assert "Rules for Harbor Xero" in page and "follows the account's rules for now" in page
    form = rules_form(Rules.default(), **{"frequency.min_days_between_emails": "9"})
    saved = client.post("/settings", data={**form, "csrf_token": _token(client, "/settings"), "observe": "on"})
    assert saved.status_code == 302
    with sessions() as db:
        assert load_rules(db, seeded.organization_id, xero_id).frequency.min_days_between_emails == 9
        # The other company and the organization keep the defaults.
        default = Rules.default().frequency.min_days_between_emails
        assert load_rules(db, seeded.organization_id, seeded.connection_id).frequency.min_days_between_emails == default
        assert load_rules(db, seeded.organization_id).frequency.min_days_between_emails == default
    assert "has rules of its own" in client.get("/settings").get_data(as_text=True)


def test_copy_rules_from_another_company_keeps_the_mode(app: Flask, seeded: Seeded) -> None:
    xero_id = _second_company(app, seeded)
    sessions = app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        source = {**Rules.default().to_json(), "mode": "live"}
        source["frequency"] = {**source["frequency"], "min_days_between_emails": 11}
        save_rules(db, seeded.organization_id, source, seeded.connection_id)
    client = signed_in(app, seeded)
    _select(client, str(xero_id))
    page = client.get("/settings").get_data(as_text=True)
    assert f'<option value="{seeded.connection_id}">Harbor &amp; Pine (QuickBooks)</option>' in page
    copied = client.post(
        "/settings/rules/copy",
        data={"csrf_token": _token(client), "source": str(seeded.connection_id), "target": str(xero_id)},
    )
    assert copied.status_code == 302
    with sessions() as db:
        rules = load_rules(db, seeded.organization_id, xero_id)
        assert rules.frequency.min_days_between_emails == 11 and rules.mode == "observe"  # live only by confirming
        row = db.scalars(select(CompanyRules).where(CompanyRules.connection_id == xero_id)).one()
        assert row.version == 1
    client.post(
        "/settings/rules/copy",
        data={"csrf_token": _token(client), "source": str(seeded.connection_id), "target": str(xero_id)},
    )
    with sessions() as db:
        assert db.scalars(select(CompanyRules).where(CompanyRules.connection_id == xero_id)).one().version == 2


def test_copy_from_another_organizations_company_is_refused(app: Flask, seeded: Seeded) -> None:
    other = seed_organization(app.extensions["arpilot"].sessions, "Other Org", "9130002", "Rival")
    sessions = app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        save_rules(db, other.organization_id, {"frequency": {"min_days_between_emails": 13}}, other.connection_id)
    client = signed_in(app, seeded)
    for source, target in ((str(other.connection_id), ""), ("", str(other.connection_id)), ("x", ""), ("", "")):
        refused = client.post(
            "/settings/rules/copy", data={"csrf_token": _token(client), "source": source, "target": target}
        )
        assert refused.status_code == 400 and "Nothing was changed" in refused.get_data(as_text=True), (source, target)
    with sessions() as db:
        assert not has_own_rules(db, seeded.organization_id, seeded.connection_id)
        assert load_rules(db, seeded.organization_id).frequency.min_days_between_emails != 13
        assert load_rules(db, other.organization_id, other.connection_id).frequency.min_days_between_emails == 13


def test_a_cycle_follows_its_companys_own_rules(sandbox_app: Flask) -> None:
    runtime = sandbox_app.extensions["arpilot"]
    connection_id, _ = sandbox_flow.connect(sandbox_app, sandbox_app.test_client())
    with transaction(runtime.sessions) as db:
        organization_id = db.get(Connection, connection_id).organization_id  # type: ignore[union-attr]
        save_rules(db, organization_id, {"mode": "observe"})
        save_rules(db, organization_id, {"mode": "live"}, connection_id)
    summary = cycle_once(default_deps(runtime), connection_id)
    assert summary.status == "done", summary.detail  # the organization observes; this company is live
    with transaction(runtime.sessions) as db:
        db.execute(delete(CompanyRules))
    assert cycle_once(default_deps(runtime), connection_id).status == "observed"


def test_live_mode_switches_for_the_chosen_company_alone(app: Flask, seeded: Seeded) -> None:
    xero_id = _second_company(app, seeded)
    sessions = app.extensions["arpilot"].sessions
    client = signed_in(app, seeded)
    _select(client, str(xero_id))
    # The live page lists what the chosen company's rules would do: that company alone.
    page = client.get("/settings/live").get_data(as_text=True)
    assert "Harbor Xero" in page
    switched = client.post(
        "/settings/live", data={"csrf_token": _token(client, "/settings/live"), "reply_address": "ar@example.com"}
    )
    assert switched.status_code == 302
    with sessions() as db:
        assert load_rules(db, seeded.organization_id, xero_id).mode == "live"
        assert load_rules(db, seeded.organization_id, seeded.connection_id).mode == "observe"
        assert load_rules(db, seeded.organization_id).mode == "observe"
        entry = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "mode_changed")).one()
        assert entry.connection_id == xero_id  # the log says which company went live
