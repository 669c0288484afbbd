"""The token authority: authorization codes, access tokens and rotating refresh tokens.

A *grant* is one consent (client, subject such as a company id, scopes). Its refresh tokens form a
chain: the current one, and superseded ones that die when their grace runs out. The rotation
policy is data, so each provider's sandbox states its own rules (QuickBooks returns the same
refresh token for about a day; Xero returns a new one on every refresh).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field

from connectors.sandbox.clock import SandboxClock


class InvalidGrant(Exception):
    """A code or refresh token that cannot be used; the message says why (no token values)."""


class TokenRejected(Exception):
    """An access token that does not authorize a call: unknown, expired or revoked."""


@dataclass(frozen=True)
class RotationPolicy:
    # A refresh within `reuse_window` of the current refresh token's issue returns that same
    # token; None means a new one on every refresh.
    reuse_window: dt.timedelta | None
    # How long a superseded refresh token still works (0: dead the moment a new one is returned).
    grace: dt.timedelta
    # Rolling life of a refresh token: each use extends it by this much.
    refresh_lifetime: dt.timedelta
    # Absolute maximum age of the grant's refresh chain (None: no hard limit).
    hard_lifetime: dt.timedelta | None = None
    access_lifetime: dt.timedelta = dt.timedelta(hours=1)
    code_lifetime: dt.timedelta = dt.timedelta(minutes=5)


@dataclass
class Grant:
    id: str
    client_id: str
    subject: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked: bool = False


@dataclass(frozen=True)
class TokenSet:
    grant: Grant
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    hard_expires_in: int | None


@dataclass
class _Code:
    grant: Grant
    redirect_uri: str
    expires_at: dt.datetime
    code_challenge: str | None = None  # PKCE S256 (RFC 7636): checked against the verifier at exchange
    used: bool = False


def s256_challenge(verifier: str) -> str:
    """The PKCE S256 code challenge of `verifier`: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Refresh:
    grant: Grant
    issued_at: dt.datetime
    expires_at: dt.datetime
    superseded_at: dt.datetime | None = None


@dataclass
class _Access:
    grant: Grant
    expires_at: dt.datetime


@dataclass
class TokenAuthority:
    clock: SandboxClock
    policy: RotationPolicy
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _access: dict[str, _Access] = field(default_factory=dict)
    _current: dict[str, str] = field(default_factory=dict)  # grant id -> current refresh token
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- issuing ---------------------------------------------------------------------------------
    def issue_code(
        self,
        client_id: str,
        subject: str,
        scopes: tuple[str, ...],
        redirect_uri: str,
        code_challenge: str | None = None,
    ) -> str:
        grant = self._new_grant(client_id, subject, scopes)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(grant, redirect_uri, self.clock.now() + self.policy.code_lifetime, code_challenge)
        return code

    def code_grant(self, code: str) -> Grant | None:
        """The grant an unexchanged code stands for (providers attach their own records to it)."""
        with self._lock:
            record = self._codes.get(code)
            return record.grant if record else None

    def exchange_code(self, code: str, client_id: str, redirect_uri: str, code_verifier: str | None = None) -> TokenSet:
        with self._lock:
            record = self._codes.get(code)
            if record is None or record.grant.client_id != client_id:
                raise InvalidGrant("unknown authorization code")
            if record.used:
                # RFC 6749 10.5: a replayed code revokes what it already granted.
                record.grant.revoked = True
                raise InvalidGrant("authorization code already used")
            if self.clock.now() >= record.expires_at:
                raise InvalidGrant("authorization code expired")
            if record.redirect_uri != redirect_uri:
                raise InvalidGrant("redirect_uri does not match the authorization request")
            if record.code_challenge is not None:
                if not code_verifier:
                    raise InvalidGrant("code_verifier is required: the authorization request sent a code_challenge")
                if not hmac.compare_digest(s256_challenge(code_verifier), record.code_challenge):
                    raise InvalidGrant("code_verifier does not match the code_challenge")
            record.used = True
            return self._start_chain(record.grant)

    def mint(self, client_id: str, subject: str, scopes: tuple[str, ...]) -> TokenSet:
        """Tokens for a grant made without the consent page (tests, demos)."""
        grant = self._new_grant(client_id, subject, scopes)
        with self._lock:
            return self._start_chain(grant)

    def refresh(self, refresh_token: str, client_id: str) -> TokenSet:
        with self._lock:
            now = self.clock.now()
            record = self._refresh.get(refresh_token)
            if record is None or record.grant.client_id != client_id:
                raise InvalidGrant("unknown refresh token")
            grant = record.grant
            if grant.revoked:
                raise InvalidGrant("refresh token revoked")
            if now >= record.expires_at:
                raise InvalidGrant("refresh token expired")
            hard_expiry = self._hard_expiry(grant)
            if hard_expiry is not None and now >= hard_expiry:
                raise InvalidGrant("refresh token reached its maximum lifetime")
            if record.superseded_at is not None and now >= record.superseded_at + self.policy.grace:
                raise InvalidGrant("refresh token superseded by a newer one")
            is_current = self._current.get(grant.id) == refresh_token
            window = self.policy.reuse_window
            if is_current and window is not None and now - record.issued_at < window:
                record.expires_at = now + self.policy.refresh_lifetime
                return self._token_set(grant, refresh_token, record)
            return self._rotate(grant, now)

    # -- checking and revoking -------------------------------------------------------------------
    def authenticate(self, access_token: str) -> Grant:
        with self._lock:
            record = self._access.get(access_token)
            if record is None:
                raise TokenRejected("unknown access token")
            if record.grant.revoked:
                raise TokenRejected("access token revoked")
            if self.clock.now() >= record.expires_at:
                raise TokenRejected("access token expired")
            return record.grant

    def revoke(self, token: str) -> Grant | None:
        """Revoke the whole grant behind a refresh or access token and return it; None if the token
        is unknown."""
        with self._lock:
            record = self._refresh.get(token) or self._access.get(token)
            if record is None:
                return None
            record.grant.revoked = True
            return record.grant

    def grants(self) -> list[Grant]:
        with self._lock:
            return list({r.grant.id: r.grant for r in self._refresh.values()}.values())

    # -- internals (caller holds the lock where noted) -------------------------------------------
    def _new_grant(self, client_id: str, subject: str, scopes: tuple[str, ...]) -> Grant:
        return Grant(secrets.token_hex(8), client_id, subject, tuple(scopes), self.clock.now())

    def _start_chain(self, grant: Grant) -> TokenSet:  # lock held
        return self._rotate(grant, self.clock.now())

    def _rotate(self, grant: Grant, now: dt.datetime) -> TokenSet:  # lock held
        previous = self._current.get(grant.id)
        if previous is not None:
            old = self._refresh[previous]
            old.superseded_at = old.superseded_at or now
        value = "RT1-" + secrets.token_urlsafe(32)
        record = _Refresh(grant, now, now + self.policy.refresh_lifetime)
        self._refresh[value] = record
        self._current[grant.id] = value
        return self._token_set(grant, value, record)

    def _token_set(self, grant: Grant, refresh_token: str, record: _Refresh) -> TokenSet:  # lock held
        now = self.clock.now()
        access = "AT1-" + secrets.token_urlsafe(48)
        self._access[access] = _Access(grant, now + self.policy.access_lifetime)
        hard = self._hard_expiry(grant)
        return TokenSet(
            grant=grant,
            access_token=access,
            expires_in=int(self.policy.access_lifetime.total_seconds()),
            refresh_token=refresh_token,
            refresh_expires_in=int((record.expires_at - now).total_seconds()),
            hard_expires_in=int((hard - now).total_seconds()) if hard else None,
        )

    def _hard_expiry(self, grant: Grant) -> dt.datetime | None:
        if self.policy.hard_lifetime is None:
            return None
        return grant.created_at + self.policy.hard_lifetime
