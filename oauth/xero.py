"""Xero OAuth 2.0 / OpenID Connect with plain `requests`: PKCE, code exchange, refresh, revoke,
the connections (tenants) a consent granted, and the consenting person's identity.

One consent may grant several organisations; each becomes its own arpilot connection, all sharing
the grant's tokens (TokenSet.grant_id ties them together, see integration.store.token_refresh). Xero rotates the
refresh token on every refresh and honours the previous one for 30 minutes only.

Errors carry the HTTP status and the OAuth error code, never a response body.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from connectors.contract import ProviderValidationError, Transient
from oauth.crypto import TokenSet
from oauth.errors import ClientRejected, InvalidGrant, oauth_error_code
from oauth.redact import register_secret
from oauth.state import PkcePair

PROVIDER = "xero"
HTTP_TIMEOUT_SECONDS = 20.0


XERO_DEFAULT_SCOPES = (
    "offline_access",
    "openid",
    "profile",
    "email",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)


@dataclass(frozen=True)
class XeroSettings:
    """Xero app credentials and hosts. `identity_url` serves authorize/token/revocation/userinfo
    (Xero: https://login.xero.com for authorize, https://identity.xero.com for the rest, both
    accepted under one base here); `api_url` serves /connections and /api.xro/2.0."""

    client_id: str
    client_secret: str = field(repr=False)
    identity_url: str
    api_url: str
    redirect_uri: str
    authorize_url: str
    scopes: tuple[str, ...] = XERO_DEFAULT_SCOPES


@dataclass(frozen=True)
class XeroTenant:
    """One organisation a consent connected: Xero's connection id and the tenant it opens."""

    connection_id: str
    tenant_id: str
    tenant_name: str
    auth_event_id: str | None


@dataclass(frozen=True)
class XeroUser:
    subject: str
    email: str | None
    name: str | None


def auth_event_id(access_token: str) -> str | None:
    """Xero's access tokens are JWTs naming the consent (`authentication_event_id`); opaque
    tokens (the sandbox's) name none. Read only to filter GET /connections, never trusted further."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    value = claims.get("authentication_event_id")
    return value if isinstance(value, str) and value else None


class XeroOAuth:
    """The Xero flow for one app's credentials."""

    def __init__(
        self,
        config: XeroSettings,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        timeout: float = HTTP_TIMEOUT_SECONDS,
        http: requests.Session | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._timeout = timeout
        self._http = http or requests.Session()
        register_secret(config.client_secret)

    def __repr__(self) -> str:
        return f"XeroOAuth(client_id={self._config.client_id!r}, identity_url={self._config.identity_url!r})"

    # -- the browser's part ----------------------------------------------------------------------
    def authorization_url(self, state: str, pkce: PkcePair) -> str:
        query = {
            "response_type": "code",
            "client_id": self._config.client_id,
            "redirect_uri": self._config.redirect_uri,
            "scope": " ".join(self._config.scopes),
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": pkce.method,
        }
        return f"{self._config.authorize_url}?{urlencode(query)}"

    # -- token endpoint --------------------------------------------------------------------------
    def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        """Trade the callback's code (with the PKCE verifier) for the grant's tokens.

        external_id is empty until the tenants are known: the callback copies the set per tenant.
        """
        requested_at = self._clock()
        body = self._token_call(
            "code exchange",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._config.redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        return self._token_set(body, requested_at, previous_refresh=None, grant_id=str(uuid.uuid4()))

    def refresh(self, refresh_token: str, external_id: str) -> TokenSet:
        """A new access token and a new (rotated) refresh token for the grant."""
        requested_at = self._clock()
        body = self._token_call("token refresh", {"grant_type": "refresh_token", "refresh_token": refresh_token})
        return self._token_set(body, requested_at, previous_refresh=refresh_token, external_id=external_id)

    def revoke(self, refresh_token: str) -> None:
        """Revoke the grant: Xero removes every connection it made."""
        self._call(
            "revoke",
            "POST",
            f"{self._config.identity_url}/connect/revocation",
            data={"token": refresh_token},
            auth=(self._config.client_id, self._config.client_secret),
        )

    # -- connections and identity ----------------------------------------------------------------
    def tenants(self, access_token: str) -> list[XeroTenant]:
        """The organisations this consent connected (filtered by its auth event when the token names it)."""
        event = auth_event_id(access_token)
        params = {"authEventId": event} if event else None
        body = _json(
            self._call(
                "connections list", "GET", f"{self._config.api_url}/connections", params=params, bearer=access_token
            ),
            "connections list",
        )
        if not isinstance(body, list):
            raise Transient("Xero's connections answer is not a list")
        return [
            XeroTenant(
                str(item["id"]),
                str(item["tenantId"]),
                str(item.get("tenantName") or item["tenantId"]),
                item.get("authEventId"),
            )
            for item in body
            if isinstance(item, dict)
            and item.get("id")
            and item.get("tenantId")
            and item.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]

    def remove_tenant(self, access_token: str, connection_id: str) -> None:
        """DELETE /connections/{id}: that organisation only; the grant keeps the others."""
        self._call(
            "connection removal",
            "DELETE",
            f"{self._config.api_url}/connections/{connection_id}",
            bearer=access_token,
            missing_ok=True,
        )

    def user_info(self, access_token: str) -> XeroUser:
        body = _json(
            self._call("userinfo request", "GET", f"{self._config.identity_url}/connect/userinfo", bearer=access_token),
            "userinfo request",
        )
        subject = body.get("xero_userid") or body.get("sub") if isinstance(body, dict) else None
        if not isinstance(subject, str) or not subject:
            raise ProviderValidationError("Xero's userinfo answer has no subject (sub / xero_userid)")
        name = body.get("name") or " ".join(
            p for p in (body.get("given_name"), body.get("family_name")) if isinstance(p, str) and p
        )
        email = body.get("email")
        return XeroUser(
            subject=subject,
            email=email if isinstance(email, str) else None,
            name=name if isinstance(name, str) and name else None,
        )

    # -- transport -------------------------------------------------------------------------------
    def _token_call(self, action: str, form: dict[str, str]) -> dict[str, Any]:
        body = _json(
            self._call(
                action,
                "POST",
                f"{self._config.identity_url}/connect/token",
                data=form,
                auth=(self._config.client_id, self._config.client_secret),
            ),
            action,
        )
        if not isinstance(body, dict):
            raise Transient(f"Xero's answer to the {action} is not an object")
        return body

    def _call(
        self, action: str, method: str, url: str, *, bearer: str | None = None, missing_ok: bool = False, **kwargs: Any
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            response = self._http.request(method, url, headers=headers, timeout=self._timeout, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Transient(f"Xero could not be reached for the {action} ({type(exc).__name__})") from None
        if response.ok or (missing_ok and response.status_code == 404):
            return response
        raise _error(response, action)

    def _token_set(
        self,
        body: dict[str, Any],
        requested_at: dt.datetime,
        *,
        previous_refresh: str | None,
        external_id: str = "",
        grant_id: str | None = None,
    ) -> TokenSet:
        access, refresh, expires_in = body.get("access_token"), body.get("refresh_token"), body.get("expires_in")
        refresh = refresh or previous_refresh
        if not isinstance(access, str) or not isinstance(refresh, str) or not isinstance(expires_in, (int, float)):
            raise Transient("Xero's token response lacks access_token, refresh_token (offline_access) or expires_in")
        scope = tuple(body["scope"].split()) if isinstance(body.get("scope"), str) else ()
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=requested_at + dt.timedelta(seconds=expires_in),
            # Xero: 60 days from the last use; every refresh restarts it.
            refresh_expires_at=requested_at + dt.timedelta(days=60),
            external_id=external_id,
            scope=scope,
            grant_id=grant_id,
        )


def _json(response: requests.Response, action: str) -> Any:
    """The answer's JSON. A body that does not parse (truncated, a proxy's HTML page) is Transient:
    retried by the next cycle, never an untyped error out of it. The body itself is not quoted: it
    may hold tokens."""
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError is a ValueError
        raise Transient(f"Xero's answer to the {action} is not JSON") from None


def _error(response: requests.Response, action: str) -> Exception:
    code = oauth_error_code(response)
    detail = f"Xero refused the {action}: HTTP {response.status_code}, {code or 'no error code'}"
    if code == "invalid_grant":
        return InvalidGrant(detail)
    if code == "invalid_client":
        return ClientRejected(detail + ": check XERO_CLIENT_ID and XERO_CLIENT_SECRET")
    if response.status_code in (401, 403):
        # The access token was refused (expired, or the tenant was removed inside Xero).
        return InvalidGrant(detail)
    if response.status_code >= 500 or response.status_code == 429:
        return Transient(detail)
    return ProviderValidationError(detail)
