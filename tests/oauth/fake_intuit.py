"""A fake Intuit OAuth server on `responses`: discovery, token (both grants), revoke, userinfo, JWKS.

It rotates the refresh token on every refresh and rejects a superseded one with invalid_grant,
signs id_tokens with RS256 and serves the JWKS for them, so intuit-oauth runs unmodified.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from oauth.intuit import QuickBooksSettings

BASE = "https://oauth.intuit.test"
DISCOVERY = f"{BASE}/.well-known/openid_configuration"
ISSUER = f"{BASE}/op/v1"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret-5b1f0c7e"
REDIRECT_URI = "http://127.0.0.1:5000/connect/quickbooks/callback"

SETTINGS = QuickBooksSettings(
    client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environment=DISCOVERY, redirect_uri=REDIRECT_URI
)


@dataclass
class FakeIntuit:
    mock: responses.RequestsMock
    realm_id: str = "9130355555555555"
    subject: str = "user-sub-1"
    email: str = "owner@harborpine.example"
    refresh_delay: float = 0.0
    # (status, json body) answered to the next token request instead of the normal answer.
    next_token_error: tuple[int, dict[str, str] | str] | None = None
    id_token_realm: str | None = None  # overrides the realmid claim (tamper tests)
    issue_id_token: bool = True
    codes: dict[str, str] = field(default_factory=dict)
    current_refresh: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    issued: set[str] = field(default_factory=set)  # every code and token ever handed out
    refresh_calls: int = 0
    code_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid="k1", use="sig", alg="RS256")
        self.mock.add(
            responses.GET,
            DISCOVERY,
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{BASE}/connect/oauth2",
                "token_endpoint": f"{BASE}/oauth2/v1/tokens/bearer",
                "revocation_endpoint": f"{BASE}/oauth2/v1/tokens/revoke",
                "userinfo_endpoint": f"{BASE}/v1/openid_connect/userinfo",
                "jwks_uri": f"{BASE}/op/v1/jwks",
            },
        )
        self.mock.add(responses.GET, f"{BASE}/op/v1/jwks", json={"keys": [jwk]})
        self.mock.add_callback(responses.POST, f"{BASE}/oauth2/v1/tokens/bearer", callback=self._token)
        self.mock.add_callback(responses.POST, f"{BASE}/oauth2/v1/tokens/revoke", callback=self._revoke)
        self.mock.add_callback(responses.GET, f"{BASE}/v1/openid_connect/userinfo", callback=self._userinfo)

    def issue_code(self) -> str:
        code = "code-" + secrets.token_urlsafe(12)
        self.codes[code] = self.realm_id
        self.issued.add(code)
        return code

    def _client_ok(self, request) -> bool:  # type: ignore[no-untyped-def]
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        return request.headers.get("Authorization") == expected

    def _token(self, request):  # type: ignore[no-untyped-def]
        if not self._client_ok(request):
            return 401, {"intuit_tid": "tid-1"}, json.dumps({"error": "invalid_client"})
        form = dict(urllib.parse.parse_qsl(request.body))
        with self._lock:
            if self.next_token_error is not None:
                status, body = self.next_token_error
                self.next_token_error = None
                return status, {"intuit_tid": "tid-2"}, body if isinstance(body, str) else json.dumps(body)
            if form["grant_type"] == "authorization_code":
                self.code_calls += 1
                realm = self.codes.pop(form.get("code", ""), None)
                if realm is None or form.get("redirect_uri") != REDIRECT_URI:
                    return 400, {}, json.dumps({"error": "invalid_grant"})
                return 200, {}, json.dumps(self._new_tokens(with_id_token=self.issue_id_token))
            self.refresh_calls += 1
            token = form.get("refresh_token", "")
            if token not in self.current_refresh or token in self.revoked:
                return (
                    400,
                    {"intuit_tid": "tid-3"},
                    json.dumps({"error": "invalid_grant", "error_description": f"Token {token} invalid"}),
                )
            self.current_refresh.discard(token)
        time.sleep(self.refresh_delay)  # widens the race window in concurrency tests
        with self._lock:
            return 200, {}, json.dumps(self._new_tokens(with_id_token=False))

    def _new_tokens(self, *, with_id_token: bool) -> dict[str, object]:
        access, refresh = "eyJ.access." + secrets.token_urlsafe(24), "AB11" + secrets.token_urlsafe(30)
        self.access_tokens.add(access)
        self.current_refresh.add(refresh)
        self.issued.update((access, refresh))
        body: dict[str, object] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": 3600,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": 8726400,
        }
        if with_id_token:
            now = int(time.time())
            body["id_token"] = jwt.encode(
                {
                    "iss": ISSUER,
                    "aud": [CLIENT_ID],
                    "sub": self.subject,
                    "realmid": self.id_token_realm or self.realm_id,
                    "email": self.email,
                    "iat": now,
                    "exp": now + 3600,
                },
                self._key,
                algorithm="RS256",
                headers={"kid": "k1"},
            )
        return body

    def _revoke(self, request):  # type: ignore[no-untyped-def]
        if not self._client_ok(request):
            return 401, {}, json.dumps({"error": "invalid_client"})
        token = json.loads(request.body)["token"]
        with self._lock:
            self.revoked.add(token)
            self.current_refresh.discard(token)
        return 200, {}, ""

    def _userinfo(self, request):  # type: ignore[no-untyped-def]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return 401, {}, json.dumps({"error": "invalid_token"})
        return (
            200,
            {},
            json.dumps(
                {
                    "sub": self.subject,
                    "email": self.email,
                    "emailVerified": True,
                    "givenName": "Dana",
                    "familyName": "O'Neil",
                }
            ),
        )

    def seed_refresh_token(self) -> str:
        """A valid refresh token for the realm, as if a connect had happened earlier."""
        token = "AB11" + secrets.token_urlsafe(30)
        self.current_refresh.add(token)
        self.issued.add(token)
        return token


@contextmanager
def fake_intuit() -> Iterator[FakeIntuit]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeIntuit(mock)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
