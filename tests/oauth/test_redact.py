from __future__ import annotations

import logging

import pytest
import requests_oauthlib
import responses

from oauth.redact import REDACTED, install_log_redaction, redact, register_secret


@pytest.fixture(autouse=True)
def redaction() -> None:
    install_log_redaction()


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Adding token {'access_token': 'eyJabc.def-ghi', 'expires_in': 3600} to request.", "eyJabc.def-ghi"),
        ('{"refresh_token": "AB11xyzxyzxyz", "x_refresh_token_expires_in": 8726400}', "AB11xyzxyzxyz"),
        ("grant_type=refresh_token&refresh_token=RT1-abcdef123", "RT1-abcdef123"),
        ("Supplying headers {'Authorization': 'Bearer AT1-zzzzzzzz'}", "AT1-zzzzzzzz"),
        ("Authorization: Basic Y2xpZW50OnNlY3JldA==", "Y2xpZW50OnNlY3JldA=="),
        ('"GET /connect/quickbooks/callback?code=AB11code999&state=s&realmId=1 HTTP/1.1" 302', "AB11code999"),
        ("{'token': 'AB11revoke-me'}", "AB11revoke-me"),
    ],
)
def test_token_shaped_text_is_redacted(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = 'grant_type=refresh_token "error_code": "3001" x_refresh_token_expires_in=100 token_type bearer'
    assert redact(text) == text


def test_registered_secret_is_redacted_anywhere() -> None:
    register_secret("plain-looking-secret-42")
    assert redact("the value plain-looking-secret-42 appeared") == f"the value {REDACTED} appeared"
    register_secret("short")  # too short to redact safely: ignored
    assert redact("short") == "short"


def test_records_of_deep_library_loggers_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, "https://api.example.test/v3/company/1/invoice/1", json={})
        session = requests_oauthlib.OAuth2Session(
            "client", token={"access_token": "AT1-library-logged-token", "token_type": "Bearer"}
        )
        session.get(
            "https://api.example.test/v3/company/1/invoice/1",
            headers={"Authorization": "Bearer AT1-library-logged-token"},
        )
    library = [r for r in caplog.records if r.name.startswith("requests_oauthlib")]
    assert any("Adding token" in r.getMessage() for r in library)  # the library did log it...
    assert "AT1-library-logged-token" not in caplog.text  # ...but never the value


def test_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    try:
        raise RuntimeError("HTTP status 400, error message: {'refresh_token': 'RT1-in-an-exception'}")
    except RuntimeError:
        logging.getLogger("some.where").exception("refresh failed")
    assert "RT1-in-an-exception" not in caplog.text and "refresh failed" in caplog.text


def test_installing_twice_wraps_once() -> None:
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory
