"""Signing out, the session cookie's settings, and `arpilot web --port`."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from integration.cli import main
from integration.config import Settings
from integration.store.db import upgrade
from integration.web import SESSION_LIFETIME
from tests.conftest import MakeApp
from tests.oauth.sandbox_flow import Sandbox, consent
from tests.web.conftest import Seeded, signed_in


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no form with a CSRF token on the page"
    return match.group(1)


def test_sign_out_needs_the_csrf_token_and_forgets_the_owner(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, two_orgs[0])
    page = client.get("/activity").get_data(as_text=True)
    assert 'action="/sign-out"' in page and ">Sign out</button>" in page

    forged = client.post("/sign-out")
    assert forged.status_code == 400 and "This form has expired" in forged.get_data(as_text=True)
    assert client.get("/activity").status_code == 200  # still signed in

    response = client.post("/sign-out", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert dict(session) == {}
    assert client.get("/activity").status_code == 302
    landing = client.get("/").get_data(as_text=True)
    assert "Connect to QuickBooks" in landing and "Sign out" not in landing


def test_session_cookie_settings(make_app: MakeApp) -> None:
    app = make_app()
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # plain http on loopback
    assert app.config["PERMANENT_SESSION_LIFETIME"] == SESSION_LIFETIME == dt.timedelta(hours=12)
    production = make_app(env="production")
    assert production.config["SESSION_COOKIE_SECURE"] is True


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_sign_in_sets_a_lax_httponly_cookie_that_expires(sandbox_app: Flask) -> None:
    client = sandbox_app.test_client()
    _, params = consent(client)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    response = client.get("/connect/quickbooks/callback", query_string=params)
    assert response.status_code == 302
    cookie = _session_cookie(response)
    attributes = {part.split("=", 1)[0].strip().lower() for part in cookie.split(";")}
    assert {"httponly", "expires", "path"} <= attributes and "secure" not in attributes
    assert "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    assert before + SESSION_LIFETIME <= expires <= dt.datetime.now(dt.UTC) + SESSION_LIFETIME


def test_production_cookie_is_secure(settings: Settings, make_app: MakeApp, sandbox: Sandbox) -> None:
    upgrade(settings.database_url)  # production never creates its schema itself (`arpilot db upgrade` on release)
    app = make_app(env="production", quickbooks=sandbox.config)
    response = app.test_client().get("/connect/quickbooks")  # the pending state goes into the session
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """`arpilot web` with Flask's server and the embedded sandboxes replaced by recorders."""
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("ARPILOT_EMBEDDED_CLOCK", "0")
    runs: list[dict[str, object]] = []
    monkeypatch.setattr(Flask, "run", lambda app, **kwargs: runs.append({"app": app, **kwargs}))
    monkeypatch.setattr("integration.demo.embedded.start_embedded_sandboxes", lambda settings: [])
    return runs


def test_web_serves_on_the_given_port(cli_env: list[dict[str, object]]) -> None:
    result = CliRunner().invoke(main, ["web", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert "arpilot web app on http://127.0.0.1:8765/" in result.output
    (run,) = cli_env
    assert (run["host"], run["port"], run["use_reloader"], run["debug"]) == ("127.0.0.1", 8765, False, False)
    assert isinstance(run["app"], Flask) and "activity.index" in run["app"].view_functions  # type: ignore[attr-defined]


def test_web_port_defaults_to_5000(cli_env: list[dict[str, object]]) -> None:
    assert CliRunner().invoke(main, ["web"]).exit_code == 0
    assert cli_env[0]["port"] == 5000


@pytest.mark.parametrize("port", ["http", "0", "65536", "-1"])
def test_web_refuses_a_port_that_is_not_one(cli_env: list[dict[str, object]], port: str) -> None:
    result = CliRunner().invoke(main, ["web", "--port", port])
    assert result.exit_code == 2 and "Invalid value for '--port'" in result.output
    assert cli_env == []
