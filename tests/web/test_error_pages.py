"""When a request goes wrong the owner gets a page in the app's layout, in plain words, with the right
status and a way back; never a stack trace (integration/web/errors.py)."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask

from integration.store.db import transaction
from integration.store.models import Connection, ConnectionStatus
from integration.web import credit_policy
from tests.conftest import MakeApp
from tests.web.conftest import Seeded, seed_organization, signed_in


def _styled(html: str, status: int, title: str) -> None:
    assert '<link rel="stylesheet" href="/static/app.css">' in html  # base.html's layout
    assert f'<p class="muted">Error {status}</p>' in html
    assert re.search(rf'<h1 id="error-title">{re.escape(title)}</h1>', html)
    assert "Traceback" not in html and 'File "' not in html


def test_an_unknown_address_is_a_styled_404_with_a_way_home(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    visitor = app.test_client().get("/no/such/page")
    assert visitor.status_code == 404
    html = visitor.get_data(as_text=True)
    _styled(html, 404, "Page not found")
    assert '<a class="btn" href="/">Go to the home page</a>' in html
    owner = signed_in(app, two_orgs[0]).get("/no/such/page")
    assert owner.status_code == 404
    assert '<a class="btn" href="/">Back to your dashboard</a>' in owner.get_data(as_text=True)
    assert 'aria-label="Main"' in owner.get_data(as_text=True)  # the owner keeps the navigation


def test_another_organizations_record_is_the_same_styled_404(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    response = signed_in(app, mine).get(f"/customers/{theirs.customer_id}")
    assert response.status_code == 404
    _styled(response.get_data(as_text=True), 404, "Page not found")


def test_a_bad_request_is_a_styled_400_in_plain_words(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    response = signed_in(app, two_orgs[0]).get("/activity?q=%00")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    _styled(html, 400, "This request could not be used")
    assert "a character arpilot cannot store (a NUL byte)" in html  # the view's own words replace the default


def test_a_wrong_method_is_a_styled_405(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    response = signed_in(app, two_orgs[0]).get("/sign-out")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"].split(", ")  # the 405 still says what the address takes
    _styled(response.get_data(as_text=True), 405, "This page cannot be used that way")


def test_a_raised_exception_is_a_styled_500_and_is_logged(
    make_app: MakeApp, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url=database_url, test_config={"PROPAGATE_EXCEPTIONS": False})  # as in production

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: the credit policy broke")

    monkeypatch.setattr(credit_policy, "render_credit_policy", broken)
    seeded = seed_organization(app.extensions["arpilot"].sessions, "Harbor & Pine", "9130001", "Acme")
    with caplog.at_level(logging.ERROR):
        response = signed_in(app, seeded).get("/credit-policy")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    _styled(html, 500, "Something went wrong on our side")
    assert "secret internals" not in html and "RuntimeError" not in html
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert logged, "the error and its traceback go to the log"


def test_a_forbidden_action_is_a_styled_403_saying_why(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    with transaction(app.extensions["arpilot"].sessions) as db:  # the company is disconnected in another tab
        db.get(Connection, mine.connection_id).status = ConnectionStatus.DISCONNECTED  # type: ignore[union-attr]
    response = client.get(f"/settings/customers/{mine.customer_id}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    _styled(html, 403, "This cannot be done here")
    assert "was disconnected on" in html and "reconnect to act on it" in html  # the reason replaces the default
