"""Intuit OAuth in the sandbox, driven by the real intuit-oauth AuthClient over loopback."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.invoice import Invoice

from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
from connectors.quickbooks.sandbox.app import QUICKBOOKS_ROTATION
from connectors.sandbox import InvalidGrant, SandboxRefused
from tests.sandbox.conftest import REDIRECT_URI, RunningSandbox

DAY = 24 * 3600


def _advance(qbo: RunningSandbox, seconds: int) -> None:
    assert qbo.admin("POST", "/clock", json={"advance_seconds": seconds}).status_code == 200


def test_consent_code_exchange_and_id_token(qbo: RunningSandbox) -> None:
    auth, callback = qbo.consent([Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL])
    assert callback["state"] == auth.state_token and callback["realmId"] == qbo.realm
    auth.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    assert auth.expires_in == 3600
    assert 8_726_000 < auth.x_refresh_token_expires_in <= 8_726_400
    assert auth.id_token is not None  # intuit-oauth kept it: RS256 signature, iss and aud all checked
    assert auth.get_user_info().json()["email"] == "owner@sandbox.example"
    with pytest.raises(AuthClientError) as reused:
        auth.get_bearer_token(callback["code"])
    assert reused.value.status_code == 400 and b"invalid_grant" in reused.value.content


def test_cancel_redirects_with_access_denied(qbo: RunningSandbox) -> None:
    auth, callback = qbo.consent([Scopes.ACCOUNTING], decision="cancel")
    assert callback == {"error": "access_denied", "state": auth.state_token}


def test_authorize_rejects_unknown_client_without_redirecting(qbo: RunningSandbox) -> None:
    page = requests.get(
        f"{qbo.base_url}/connect/oauth2",
        params={"client_id": "nobody", "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid"},
        timeout=10,
    )
    assert page.status_code == 400 and "Unknown client_id" in page.text


def test_authorize_rejects_unknown_scope_by_redirect(qbo: RunningSandbox) -> None:
    answer = requests.get(
        f"{qbo.base_url}/connect/oauth2",
        allow_redirects=False,
        timeout=10,
        params={
            "client_id": qbo.sandbox.config.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.everything",
            "state": "s1",
        },
    )
    assert answer.status_code == 302 and "error=invalid_scope" in answer.headers["Location"]


def test_refresh_rotation_supersedes_and_revoke(qbo: RunningSandbox) -> None:
    auth, callback = qbo.consent([Scopes.ACCOUNTING])
    auth.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    first = auth.refresh_token
    auth.refresh()
    assert auth.refresh_token == first  # within ~24 h Intuit hands back the same refresh token
    seen = [first]
    for _ in range(3):
        _advance(qbo, DAY + 60)
        auth.refresh()
        assert auth.refresh_token not in seen  # a new value once the window has passed
        seen.append(auth.refresh_token)
    with pytest.raises(AuthClientError) as superseded:
        auth.refresh(refresh_token=seen[-2])
    assert superseded.value.status_code == 400 and b"invalid_grant" in superseded.value.content
    access = auth.access_token
    assert auth.revoke() is True
    with pytest.raises(AuthClientError) as revoked:
        auth.refresh()
    assert b"invalid_grant" in revoked.value.content
    qb = qbo.client(access_token=access, refresh_token=seen[-1])
    with pytest.raises(AuthorizationException):
        Invoice.count(qb=qb)


def test_grace_window_is_configurable() -> None:
    config = QboSandboxConfig(rotation=replace(QUICKBOOKS_ROTATION, grace=dt.timedelta(hours=1)))
    sandbox = create_app(config).extensions["qbo_sandbox"]
    realm = next(iter(sandbox.companies))
    tokens = sandbox.authority.mint(config.client_id, realm, ("com.intuit.quickbooks.accounting",))
    sandbox.clock.advance(dt.timedelta(days=2))
    newer = sandbox.authority.refresh(tokens.refresh_token, config.client_id)
    assert newer.refresh_token != tokens.refresh_token
    sandbox.clock.advance(dt.timedelta(minutes=30))
    assert sandbox.authority.refresh(tokens.refresh_token, config.client_id).refresh_token  # still inside the grace
    sandbox.clock.advance(dt.timedelta(minutes=31))
    with pytest.raises(InvalidGrant, match="superseded"):
        sandbox.authority.refresh(tokens.refresh_token, config.client_id)


def test_token_endpoint_rejects_bad_client_credentials(qbo: RunningSandbox) -> None:
    answer = requests.post(
        f"{qbo.base_url}/oauth2/v1/tokens/bearer",
        auth=(qbo.sandbox.config.client_id, "wrong"),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["intuit_tid"]


def test_access_token_expires_after_an_hour(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    assert Invoice.count(qb=qb) == 5
    _advance(qbo, 3601)
    with pytest.raises(AuthorizationException) as expired:
        Invoice.count(qb=qb)
    assert expired.value.error_code == 401
    assert "3200" in expired.value.detail  # the 401 body is the authentication fault


def test_refuses_to_start_in_production() -> None:
    with pytest.raises(SandboxRefused):
        create_app(environ={"ARPILOT_ENV": "production"})
