"""The whole connect + refresh + disconnect flow at DEBUG: no token, code or client secret escapes."""

from __future__ import annotations

import logging

import pytest
import requests_oauthlib
from flask import Flask

from connectors.contract import AuthExpired
from integration.store.token_refresh import ConnectionTokenSource
from oauth.intuit import IntuitOAuth
from tests.oauth.sandbox_flow import Sandbox, cipher_of, consent, stored
from tests.oauth.webflow import csrf_token


def test_no_secret_in_logs_pages_or_errors(
    sandbox_app: Flask, sandbox: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http to the loopback sandbox only
    secrets: set[str] = {sandbox.config.client_secret}
    shown: list[str] = []  # every page, header and error message arpilot produced

    def keep(response) -> None:  # type: ignore[no-untyped-def]
        shown.append(response.get_data(as_text=True))
        shown.extend(f"{name}: {value}" for name, value in response.headers.items() if name != "Set-Cookie")

    client = sandbox_app.test_client()
    realm, params = consent(client)
    secrets.add(params["code"])
    response = client.get("/connect/quickbooks/callback", query_string=params)
    keep(response)
    keep(client.get("/"))
    connection_id = 1
    first = stored(sandbox_app, connection_id)
    secrets.update((first.access_token, first.refresh_token))

    source = ConnectionTokenSource(
        sandbox_app.extensions["arpilot"].sessions,
        cipher_of(sandbox_app),
        connection_id,
        lambda: IntuitOAuth(sandbox.config),
    )
    access = source.refreshed(first.access_token)
    secrets.add(access)
    # An API call the way python-quickbooks makes it (requests-oauthlib logs headers at DEBUG).
    session = requests_oauthlib.OAuth2Session(
        sandbox.config.client_id, token={"access_token": access, "token_type": "Bearer"}
    )
    session.get(
        f"{sandbox.base_url}/v3/company/{realm}/companyinfo/{realm}", headers={"Authorization": f"Bearer {access}"}
    )

    # The grant dies inside QuickBooks; the next refresh must say so without any token.
    IntuitOAuth(sandbox.config).revoke(stored(sandbox_app, connection_id).refresh_token)
    with pytest.raises(AuthExpired) as caught:
        source.refreshed(access)
    shown.extend([str(caught.value), repr(caught.value)])
    keep(client.get("/"))
    keep(client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)}))

    logged = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert any(r.name.startswith("requests_oauthlib") for r in caplog.records), "the library logged nothing to check"
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
        for text in shown:
            assert secret not in text
