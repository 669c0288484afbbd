"""Identity: consent with PKCE granting two organisations, code exchange, rotation with the
30-minute grace, invalid_grant after it, revocation, connections, userinfo."""

from __future__ import annotations

import pytest
import requests
from xero_python.exceptions import HTTPStatusException

from tests.xero_sandbox.conftest import REDIRECT_URI, RunningXero, pkce_pair


def _exchange(xero: RunningXero, code: str, verifier: str | None, **extra: str):  # type: ignore[no-untyped-def]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": xero.config.client_id,
        "client_secret": xero.config.client_secret,
        **extra,
    }
    if verifier:
        form["code_verifier"] = verifier
    return xero.token(**form)


def test_consent_grants_two_organisations_with_pkce(xero: RunningXero) -> None:
    verifier, challenge = pkce_pair()
    callback = xero.consent(tenants=[xero.tenant("demo"), xero.tenant("second")], challenge=challenge)
    assert callback["state"] == "st-123" and "offline_access" in callback["scope"]

    assert _exchange(xero, callback["code"], None).json()["error"] == "invalid_grant"  # verifier required
    wrong = _exchange(xero, callback["code"], pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    answer = _exchange(xero, callback["code"], verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 1800 and token["refresh_token"]
    assert token["scope"].split() == callback["scope"].split()

    connections = xero.identity(token).get_connections()
    assert {c.tenant_id for c in connections} == {xero.tenant("demo"), xero.tenant("second")}
    assert {c.tenant_type for c in connections} == {"ORGANISATION"}
    assert len({c.auth_event_id for c in connections}) == 1
    assert {c.tenant_name for c in connections} == {"Harbor & Pine Landscaping", "Kereru Catering"}
    event = str(connections[0].auth_event_id)
    assert len(xero.identity(token).get_connections(auth_event_id=event)) == 2

    for tenant in (xero.tenant("demo"), xero.tenant("second")):
        assert xero.accounting(token).get_contacts(tenant).contacts

    # codes are single-use: a replay is refused and revokes what the code granted (RFC 6749 10.5)
    assert _exchange(xero, callback["code"], verifier).json()["error"] == "invalid_grant"
    with pytest.raises(HTTPStatusException) as caught:
        xero.accounting(token).get_contacts(xero.tenant("demo"))
    assert caught.value.status == 401


def test_basic_client_auth_and_no_refresh_token_without_offline_access(xero: RunningXero) -> None:
    callback = xero.consent(tenants=[xero.tenant("demo")], scope="openid email accounting.transactions")
    answer = requests.post(
        xero.sandbox.token_url(xero.base_url),
        timeout=10,
        auth=(xero.config.client_id, xero.config.client_secret),
        data={"grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT_URI},
    )
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()
    userinfo = requests.get(
        f"{xero.base_url}/connect/userinfo",
        timeout=10,
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert userinfo.status_code == 200 and userinfo.json()["email"] == xero.sandbox.user.email
    bad = requests.post(
        xero.sandbox.token_url(xero.base_url),
        timeout=10,
        auth=(xero.config.client_id, "wrong"),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_cancel_and_bad_authorization_requests(xero: RunningXero) -> None:
    assert xero.consent(tenants=[xero.tenant("demo")], decision="cancel") == {
        "error": "access_denied",
        "state": "st-123",
    }

    params = {
        "response_type": "code",
        "client_id": xero.config.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "accounting.everything",
        "state": "s",
    }
    refused = requests.get(xero.sandbox.authorize_url(xero.base_url), params=params, allow_redirects=False, timeout=10)
    assert refused.status_code == 302 and "error=invalid_scope" in refused.headers["Location"]
    params.update(scope="accounting.transactions", code_challenge="short", code_challenge_method="plain")
    refused = requests.get(xero.sandbox.authorize_url(xero.base_url), params=params, allow_redirects=False, timeout=10)
    assert "error=invalid_request" in refused.headers["Location"]
    params["client_id"] = "nobody"
    assert requests.get(xero.sandbox.authorize_url(xero.base_url), params=params, timeout=10).status_code == 400


def test_refresh_rotation_grace_then_invalid_grant(xero: RunningXero) -> None:
    token = xero.minted(tenants=["demo"])
    client = xero.api_client({**token, "scope": token["scope"]})
    first_refresh = token["refresh_token"]
    rotated = client.refresh_oauth2_token()  # xero-python's own refresh against the sandbox token URL
    assert rotated["refresh_token"] != first_refresh and rotated["access_token"] != token["access_token"]

    xero.advance(29 * 60)  # the superseded refresh token still works inside the 30-minute grace
    retry = xero.token(
        grant_type="refresh_token",
        refresh_token=first_refresh,
        client_id=xero.config.client_id,
        client_secret=xero.config.client_secret,
    )
    assert retry.status_code == 200, retry.text
    xero.advance(2 * 60)
    late = xero.token(
        grant_type="refresh_token",
        refresh_token=first_refresh,
        client_id=xero.config.client_id,
        client_secret=xero.config.client_secret,
    )
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"

    # the access token from the retry expires after 30 minutes: 401 with Xero's problem shape
    xero.advance(31 * 60)
    with pytest.raises(HTTPStatusException) as caught:
        xero.accounting({**retry.json(), "refresh_token": None}).get_invoices(xero.tenant("demo"))
    assert caught.value.status == 401
    current = retry.json()["refresh_token"]
    assert (
        xero.token(
            grant_type="refresh_token",
            refresh_token=current,
            client_id=xero.config.client_id,
            client_secret=xero.config.client_secret,
        ).status_code
        == 200
    )


def test_unused_refresh_token_dies_after_60_days(xero: RunningXero) -> None:
    token = xero.minted()
    xero.advance(61 * 86400)
    answer = xero.token(
        grant_type="refresh_token",
        refresh_token=token["refresh_token"],
        client_id=xero.config.client_id,
        client_secret=xero.config.client_secret,
    )
    assert answer.json()["error"] == "invalid_grant"


def test_revocation_removes_connections(xero: RunningXero) -> None:
    token = xero.minted(tenants=["demo", "second"])
    client = xero.api_client(token)
    client.revoke_oauth2_token()  # xero-python posts token=<refresh token> to /connect/revocation
    assert xero.admin("GET", "/connections").json()["connections"] == []
    with pytest.raises(HTTPStatusException) as caught:
        xero.identity(token).get_connections()
    assert caught.value.status == 401


def test_delete_connection_then_403_for_that_tenant(xero: RunningXero) -> None:
    token = xero.minted(tenants=["demo", "second"])
    identity = xero.identity(token)
    second = next(c for c in identity.get_connections() if str(c.tenant_id) == xero.tenant("second"))
    identity.delete_connection(second.id)
    assert [str(c.tenant_id) for c in identity.get_connections()] == [xero.tenant("demo")]
    accounting = xero.accounting(token)
    with pytest.raises(HTTPStatusException) as caught:
        accounting.get_invoices(xero.tenant("second"))
    assert caught.value.status == 403
    assert accounting.get_invoices(xero.tenant("demo")).invoices
    with pytest.raises(HTTPStatusException):
        identity.delete_connection(second.id)  # already gone: 404
