"""The credit policy page: written from the organization's rules, in the app's layout, printable."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from integration.owner.stored_rules import save_rules
from integration.owner.written_policy import render_credit_policy
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Organization
from tests.web.conftest import Seeded, signed_in

STATIC = Path(__file__).resolve().parents[2] / "integration" / "web" / "static"


def _save(app: Flask, seeded: Seeded, **changes: dict) -> Rules:  # type: ignore[type-arg]
    data = Rules.default().to_json()
    for key, values in changes.items():
        data[key] = {**data[key], **values}
    with transaction(app.extensions["arpilot"].sessions) as db:
        return save_rules(db, seeded.organization_id, data)


def test_page_is_the_policy_written_from_the_rules(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    html = client.get("/credit-policy").get_data(as_text=True)
    default = render_credit_policy(Rules.default(), "Harbor & Pine", "en_US", currency="USD")
    assert default.body_html in html
    assert "<h1>Harbor &amp; Pine credit policy</h1>" in html
    assert '<a href="/credit-policy" aria-current="page">Credit policy</a>' in html

    rules = _save(
        app,
        mine,
        credit_hold={"all_customers_days_overdue": 45, "days_overdue": 30},
        sender={"reply_to": "accounts@harbor.example"},
    )
    changed = client.get("/credit-policy").get_data(as_text=True)
    assert render_credit_policy(rules, "Harbor & Pine", "en_US", currency="USD").body_html in changed
    assert "reaches 45 days overdue" in changed and "accounts@harbor.example" in changed
    assert "reaches 45 days overdue" not in html


def test_each_organization_sees_its_own_policy(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    _save(app, theirs, credit_hold={"all_customers_days_overdue": 33, "days_overdue": 20})
    html = signed_in(app, mine).get("/credit-policy").get_data(as_text=True)
    assert "33 days" not in html and "Other Org" not in html


def test_page_obeys_the_content_security_policy_and_prints_without_the_chrome(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    html = signed_in(app, two_orgs[0]).get("/credit-policy").get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/print.js" defer>']
    assert '<link rel="stylesheet" href="/static/credit_policy.css">' in html
    assert '<button type="button" data-print>Print</button>' in html
    app_print = (STATIC / "app.css").read_text().split("@media print", 1)[1]
    assert ".topbar" in app_print and "form" in app_print and "button" in app_print
    policy_print = (STATIC / "credit_policy.css").read_text().split("@media print", 1)[1]
    assert ".policy-tools { display: none; }" in policy_print
    assert 'class="policy-tools"' in html and 'class="policy card"' in html


def test_plain_text_download(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    response = signed_in(app, two_orgs[0]).get("/credit-policy.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="credit-policy.txt"'
    assert (
        response.get_data(as_text=True)
        == render_credit_policy(Rules.default(), "Harbor & Pine", "en_US", currency="USD").text
    )


def test_an_unwritable_setting_is_named_not_a_crash(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.get(Organization, mine.organization_id).base_currency = "XYZ"  # type: ignore[union-attr]
    _save(app, mine, credit_hold={"min_overdue_amount": "100"})  # the threshold needs the currency
    client = signed_in(app, mine)
    page = client.get("/credit-policy")
    assert page.status_code == 500 and "cannot be written from the current settings" in page.get_data(as_text=True)
    text = client.get("/credit-policy.txt")
    assert text.status_code == 500 and "XYZ" in text.get_data(as_text=True)


def test_needs_a_signed_in_owner(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    for path in ("/credit-policy", "/credit-policy.txt"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/"


def test_any_hour_reads_as_any_time_of_day_on_the_page(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _save(app, mine, schedule={"send_from_hour": 0, "send_until_hour": 24}, credit_hold={"enabled": False})
    html = signed_in(app, mine).get("/credit-policy").get_data(as_text=True)
    assert "at any time of day" in html and "12:00" not in html
    assert "Credit hold" not in html  # no hold rule, no section
