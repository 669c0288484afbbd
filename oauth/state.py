"""OAuth `state` bound to the browser session, and PKCE (RFC 7636) S256 pairs.

A state is issued into the browser's session (any mutable mapping: the web app's session, which it
keeps on the server so the browser never reads the state or the PKCE verifier; a dict in tests),
checked once on the callback and removed, so it is single use; it expires after ten minutes. The
session keeps only the few most recent pending states, so a person who opens the connect page in
several tabs can finish any of them.

The state is random from `secrets` (intuit-oauth's own `generate_token` uses `random`, which is not
meant for security, so arpilot always passes its own).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

STATE_TTL = dt.timedelta(minutes=10)
SESSION_KEY = "oauth_pending"
MAX_PENDING = 5


class OAuthStateError(Exception):
    """The callback's state is missing, unknown to this browser session, already used or expired."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # missing | unknown | expired | provider


@dataclass(frozen=True)
class PendingAuthorization:
    """What the callback gets back once its state checks out."""

    provider: str
    issued_at: dt.datetime
    code_verifier: str | None = None
    take_over: bool = False  # the person asked to take over a company connected to another account


@dataclass(frozen=True)
class PkcePair:
    verifier: str
    challenge: str
    method: str = "S256"

    def __repr__(self) -> str:
        return f"PkcePair(challenge={self.challenge!r}, method={self.method!r}, verifier=<redacted>)"

    @classmethod
    def new(cls) -> PkcePair:
        # 64 url-safe characters: inside RFC 7636's 43-128 range.
        return cls.from_verifier(secrets.token_urlsafe(48))

    @classmethod
    def from_verifier(cls, verifier: str) -> PkcePair:
        return cls(verifier=verifier, challenge=s256_challenge(verifier))


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 section 4.2)."""
    if not 43 <= len(verifier) <= 128:
        raise ValueError("a PKCE code verifier is 43 to 128 characters long")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_state(
    session: MutableMapping[str, Any],
    provider: str,
    now: dt.datetime,
    *,
    pkce: PkcePair | None = None,
    take_over: bool = False,
) -> str:
    """Create a state for `provider`, remember it in the browser session, and return it."""
    state = secrets.token_urlsafe(32)
    pending: dict[str, dict[str, Any]] = dict(session.get(SESSION_KEY) or {})
    pending[state] = {
        "provider": provider,
        "issued_at": now.timestamp(),
        "verifier": pkce.verifier if pkce else None,
        "take_over": take_over,
    }
    # Oldest first by issue time; keep the newest few.
    newest = sorted(pending.items(), key=lambda item: item[1]["issued_at"])[-MAX_PENDING:]
    session[SESSION_KEY] = dict(newest)
    return state


def consume_state(
    session: MutableMapping[str, Any],
    provider: str,
    received: str | None,
    now: dt.datetime,
) -> PendingAuthorization:
    """Check the callback's state against the session and remove it (single use)."""
    if not received:
        raise OAuthStateError("missing", "The sign-in response carried no state.")
    pending: dict[str, dict[str, Any]] = dict(session.get(SESSION_KEY) or {})
    # Constant-time comparison against each pending state: the state is a CSRF secret.
    match = next((key for key in pending if hmac.compare_digest(key, received)), None)
    if match is None:
        raise OAuthStateError(
            "unknown",
            "This sign-in response was not started from this browser, or it was already used.",
        )
    entry = pending.pop(match)
    session[SESSION_KEY] = pending
    issued_at = dt.datetime.fromtimestamp(entry["issued_at"], dt.UTC)
    if entry["provider"] != provider:
        raise OAuthStateError("provider", "This sign-in response belongs to another provider's flow.")
    if now - issued_at > STATE_TTL:
        raise OAuthStateError("expired", "This sign-in took longer than 10 minutes and expired.")
    return PendingAuthorization(
        provider=provider, issued_at=issued_at, code_verifier=entry["verifier"], take_over=bool(entry.get("take_over"))
    )
