from __future__ import annotations

import urllib.parse

import pytest
import requests
import responses

from connectors.contract import AuthExpired, ProviderValidationError, Transient
from oauth.intuit import ClientRejected, IntuitOAuth, InvalidGrant
from tests.oauth import fake_intuit as fake
from tests.oauth.fake_intuit import FakeIntuit


def test_authorization_url_asks_for_accounting_and_openid(intuit: FakeIntuit) -> None:
    url = IntuitOAuth(fake.SETTINGS).authorization_url("state-from-arpilot")
    parsed = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == f"{fake.BASE}/connect/oauth2"
    assert query == {
        "client_id": fake.CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting openid profile email",
        "redirect_uri": fake.REDIRECT_URI,
        "state": "state-from-arpilot",
    }


def test_every_request_carries_a_timeout(intuit: FakeIntuit) -> None:
    IntuitOAuth(fake.SETTINGS, timeout=7.5).refresh(intuit.seed_refresh_token(), intuit.realm_id)
    assert [call.request.req_kwargs["timeout"] for call in intuit.mock.calls] == [7.5, 7.5]


def test_code_exchange_keeps_realm_from_callback_and_verified_claims(intuit: FakeIntuit) -> None:
    tokens = IntuitOAuth(fake.SETTINGS).exchange_code(intuit.issue_code(), intuit.realm_id)
    assert tokens.external_id == intuit.realm_id
    assert tokens.access_token in intuit.access_tokens and tokens.refresh_token in intuit.current_refresh
    assert tokens.id_token_claims == {
        "sub": intuit.subject,
        "realmid": intuit.realm_id,
        "email": intuit.email,
        "iss": fake.ISSUER,
    }
    assert "com.intuit.quickbooks.accounting" in tokens.scope


def test_lifetimes_count_from_the_request(intuit: FakeIntuit) -> None:
    tokens = IntuitOAuth(fake.SETTINGS).refresh(intuit.seed_refresh_token(), intuit.realm_id)
    assert round((tokens.refresh_expires_at - tokens.access_expires_at).total_seconds()) == 8726400 - 3600


def test_reused_code_is_invalid_grant(intuit: FakeIntuit) -> None:
    code = intuit.issue_code()
    IntuitOAuth(fake.SETTINGS).exchange_code(code, intuit.realm_id)
    with pytest.raises(InvalidGrant):
        IntuitOAuth(fake.SETTINGS).exchange_code(code, intuit.realm_id)


def test_superseded_refresh_token_is_invalid_grant_without_echoing_it(intuit: FakeIntuit) -> None:
    old = intuit.seed_refresh_token()
    IntuitOAuth(fake.SETTINGS).refresh(old, intuit.realm_id)
    with pytest.raises(AuthExpired) as caught:
        IntuitOAuth(fake.SETTINGS).refresh(old, intuit.realm_id)
    assert isinstance(caught.value, InvalidGrant)
    message = str(caught.value)
    assert "invalid_grant" in message and "tid-3" in message
    assert old not in message
    # The library's exception embeds the raw body (which echoes the token): it is not kept.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_invalid_client_is_a_configuration_error(intuit: FakeIntuit) -> None:
    wrong = fake.SETTINGS.__class__(fake.CLIENT_ID, "wrong-secret-123456", fake.DISCOVERY, fake.REDIRECT_URI)
    with pytest.raises(ClientRejected, match="QUICKBOOKS_CLIENT_SECRET") as caught:
        IntuitOAuth(wrong).refresh(intuit.seed_refresh_token(), intuit.realm_id)
    assert isinstance(caught.value, ProviderValidationError)
    assert "wrong-secret-123456" not in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_transient(intuit: FakeIntuit, status: int) -> None:
    intuit.next_token_error = (status, "<html>upstream trouble</html>")
    with pytest.raises(Transient, match=f"HTTP {status}"):
        IntuitOAuth(fake.SETTINGS).refresh(intuit.seed_refresh_token(), intuit.realm_id)


def test_other_client_errors_are_validation_errors(intuit: FakeIntuit) -> None:
    intuit.next_token_error = (400, {"error": "invalid_request"})
    with pytest.raises(ProviderValidationError, match="invalid_request"):
        IntuitOAuth(fake.SETTINGS).refresh(intuit.seed_refresh_token(), intuit.realm_id)


def test_unreachable_discovery_is_transient() -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, fake.DISCOVERY, body=requests.ConnectionError("refused"))
        with pytest.raises(Transient, match="could not be reached"):
            IntuitOAuth(fake.SETTINGS).authorization_url("s")


def test_failing_discovery_is_transient() -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, fake.DISCOVERY, status=503, body="down")
        with pytest.raises(Transient, match="discovery"):
            IntuitOAuth(fake.SETTINGS).authorization_url("s")


def test_token_timeout_is_transient(intuit: FakeIntuit) -> None:
    intuit.mock.replace(responses.POST, f"{fake.BASE}/oauth2/v1/tokens/bearer", body=requests.Timeout("slow"))
    with pytest.raises(Transient, match="Timeout"):
        IntuitOAuth(fake.SETTINGS).refresh(intuit.seed_refresh_token(), intuit.realm_id)


def test_malformed_token_answer_is_transient(intuit: FakeIntuit) -> None:
    intuit.next_token_error = (200, {"token_type": "bearer"})
    with pytest.raises(Transient, match="lacks"):
        IntuitOAuth(fake.SETTINGS).refresh(intuit.seed_refresh_token(), intuit.realm_id)


def test_id_token_with_an_unknown_key_is_a_bad_answer(intuit: FakeIntuit) -> None:
    intuit.mock.replace(responses.GET, f"{fake.BASE}/op/v1/jwks", json={"keys": []})
    with pytest.raises(Transient, match="could not be read"):
        # intuit-oauth raises KeyError for an unknown kid; arpilot reports it as a bad answer.
        IntuitOAuth(fake.SETTINGS).exchange_code(intuit.issue_code(), intuit.realm_id)


def test_no_id_token_means_no_claims(intuit: FakeIntuit) -> None:
    intuit.issue_id_token = False
    assert IntuitOAuth(fake.SETTINGS).exchange_code(intuit.issue_code(), intuit.realm_id).id_token_claims is None


def test_userinfo_gives_the_owner(intuit: FakeIntuit) -> None:
    client = IntuitOAuth(fake.SETTINGS)
    tokens = client.exchange_code(intuit.issue_code(), intuit.realm_id)
    user = client.user_info(tokens.access_token)
    assert (user.subject, user.email, user.name, user.email_verified) == (
        intuit.subject,
        intuit.email,
        "Dana O'Neil",
        True,
    )


def test_revoke_kills_the_refresh_token(intuit: FakeIntuit) -> None:
    client = IntuitOAuth(fake.SETTINGS)
    token = intuit.seed_refresh_token()
    client.revoke(token)
    with pytest.raises(InvalidGrant):
        client.refresh(token, intuit.realm_id)


def test_repr_hides_the_client_secret() -> None:
    assert fake.CLIENT_SECRET not in repr(IntuitOAuth(fake.SETTINGS))
    assert fake.CLIENT_SECRET not in repr(fake.SETTINGS)
