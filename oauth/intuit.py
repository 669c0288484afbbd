"""Intuit OAuth 2.0 / OpenID Connect on intuit-oauth 1.2.6 (`intuitlib.client.AuthClient`).

Behaviours of the library this module works around:
- The AuthClient constructor fetches the discovery document, and every token response is copied
  onto the client as attributes, so one client holds one flow's state. A fresh client is built
  for each operation (an extra GET of the discovery document per connect or refresh, about once
  an hour per connection), which keeps concurrent refreshes of different companies apart.
- It sends every request without a timeout; `_AuthClient` adds one to every request it makes.
- Its random state comes from `random`, not `secrets`: arpilot always passes its own state.
- A token response's id_token that fails validation is dropped silently, and the JWKS fetch uses
  module-level `requests` (no timeout). Claims are read only from an id_token the library kept.
- `AuthClientError`'s message embeds the raw response body. arpilot re-raises its own typed
  errors carrying the HTTP status, the OAuth error code and intuit_tid, never the body.
- `get_bearer_token` cannot send a PKCE code_verifier, so the Intuit flow relies on the client
  secret and the session-bound state (Intuit accepts either).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jwt
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from connectors.contract import ProviderValidationError, Transient
from oauth.crypto import TokenSet
from oauth.errors import ClientRejected, InvalidGrant, oauth_error_code  # the errors are re-exported
from oauth.redact import register_secret

PROVIDER = "quickbooks"
SCOPES = [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.PROFILE, Scopes.EMAIL]
HTTP_TIMEOUT_SECONDS = 20.0
_KEPT_CLAIMS = ("sub", "realmid", "email", "iss")
T = TypeVar("T")


@dataclass(frozen=True)
class QuickBooksSettings:
    """Intuit app credentials. `environment` is `sandbox`, `production`, or a discovery URL."""

    client_id: str
    client_secret: str = field(repr=False)
    environment: str
    redirect_uri: str


@dataclass(frozen=True)
class IntuitUser:
    """The person who consented, from the OpenID userinfo endpoint."""

    subject: str
    email: str | None
    name: str | None
    email_verified: bool = False


class _AuthClient(AuthClient):
    """AuthClient with a timeout on every request (the library sets none)."""

    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        self.timeout = timeout  # set first: the parent constructor already fetches discovery
        super().__init__(*args, **kwargs)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def translate_error(exc: Exception, action: str) -> Exception:
    """One place mapping library and transport failures to arpilot's typed errors."""
    if isinstance(exc, AuthClientError):
        code = oauth_error_code(exc.response)
        where = f"Intuit refused the {action}: HTTP {exc.status_code}"
        detail = f"{where}, {code or 'no error code'} (intuit_tid {exc.intuit_tid or 'none'})"
        if code == "invalid_grant":
            return InvalidGrant(detail)
        if code == "invalid_client" or exc.status_code == 401:
            return ClientRejected(detail + ": check QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET")
        if exc.status_code >= 500 or exc.status_code == 429:
            return Transient(detail)
        return ProviderValidationError(detail)
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return Transient(f"Intuit could not be reached for the {action} ({type(exc).__name__})")
    if isinstance(exc, (ValueError, KeyError, TypeError, jwt.PyJWTError, requests.RequestException)):
        # Malformed discovery or token JSON, an id_token the library chokes on.
        return Transient(f"Intuit's answer to the {action} could not be read ({type(exc).__name__})")
    return exc


def _guarded(action: str, call: Callable[[], T]) -> T:
    """Run one library call; raise its translated error *outside* the except block, so the
    library's exception (whose message holds the raw response body) is not even kept as context."""
    try:
        return call()
    except Exception as exc:  # not blind: unknown kinds come back from translate_error unchanged
        error = translate_error(exc, action)
        if error is exc:
            raise
    raise error


class IntuitOAuth:
    """The Intuit flow for one app's credentials; each call builds its own AuthClient."""

    def __init__(
        self,
        config: QuickBooksSettings,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self._config = config
        self._clock = clock
        self._timeout = timeout
        register_secret(config.client_secret)

    def __repr__(self) -> str:
        return f"IntuitOAuth(client_id={self._config.client_id!r}, environment={self._config.environment!r})"

    def _client(self, action: str) -> _AuthClient:
        return _guarded(
            f"{action} (discovery document)",
            lambda: _AuthClient(
                self._config.client_id,
                self._config.client_secret,
                self._config.redirect_uri,
                self._config.environment,
                timeout=self._timeout,
            ),
        )

    def authorization_url(self, state: str) -> str:
        """Where to send the browser: the accounting scope plus OpenID profile and email."""
        return self._client("authorization").get_authorization_url(SCOPES, state_token=state)

    def exchange_code(self, code: str, realm_id: str) -> TokenSet:
        """Trade the callback's code for tokens; realmId comes only from the callback."""
        client = self._client("code exchange")
        requested_at = self._clock()
        _guarded("code exchange", lambda: client.get_bearer_token(code, realm_id=realm_id))
        return self._token_set(
            client, realm_id, requested_at, previous_refresh=None, scope=tuple(scope.value for scope in SCOPES)
        )

    def refresh(self, refresh_token: str, realm_id: str) -> TokenSet:
        """A new access token (and possibly a new refresh token) for the grant."""
        client = self._client("token refresh")
        requested_at = self._clock()
        _guarded("token refresh", lambda: client.refresh(refresh_token=refresh_token))
        return self._token_set(client, realm_id, requested_at, previous_refresh=refresh_token, scope=())

    def revoke(self, token: str) -> None:
        """Revoke the grant at Intuit (a refresh token revokes the whole connection)."""
        client = self._client("revoke")
        _guarded("revoke", lambda: client.revoke(token=token))

    def user_info(self, access_token: str) -> IntuitUser:
        client = self._client("userinfo")
        body = _guarded("userinfo request", lambda: client.get_user_info(access_token=access_token).json())
        subject = body.get("sub") if isinstance(body, dict) else None
        if not isinstance(subject, str) or not subject:
            raise ProviderValidationError("Intuit's userinfo answer has no subject (sub)")
        names = [body.get("givenName"), body.get("familyName")]
        name = " ".join(part for part in names if isinstance(part, str) and part) or None
        email = body.get("email") if isinstance(body.get("email"), str) else None
        return IntuitUser(subject=subject, email=email, name=name, email_verified=bool(body.get("emailVerified")))

    def _token_set(
        self,
        client: AuthClient,
        realm_id: str,
        requested_at: dt.datetime,
        *,
        previous_refresh: str | None,
        scope: tuple[str, ...],
    ) -> TokenSet:
        access = getattr(client, "access_token", None)
        # A refresh that returns no refresh_token leaves the old one valid.
        refresh = getattr(client, "refresh_token", None) or previous_refresh
        expires_in = getattr(client, "expires_in", None)
        if not isinstance(access, str) or not isinstance(refresh, str) or not isinstance(expires_in, (int, float)):
            raise Transient("Intuit's token response lacks access_token, refresh_token or expires_in")
        refresh_in = getattr(client, "x_refresh_token_expires_in", None)
        # Lifetimes count from when the request was sent: never later than Intuit's own clock.
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=requested_at + dt.timedelta(seconds=expires_in),
            refresh_expires_at=(
                requested_at + dt.timedelta(seconds=refresh_in) if isinstance(refresh_in, (int, float)) else None
            ),
            external_id=realm_id,
            scope=scope,
            id_token_claims=_verified_claims(getattr(client, "id_token", None)),
        )


def _verified_claims(id_token: str | None) -> Mapping[str, Any] | None:
    """Claims of an id_token that intuit-oauth already validated (it drops invalid ones)."""
    if not id_token:
        return None
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return {key: claims[key] for key in _KEPT_CLAIMS if key in claims}
