"""Tokens at rest: the TokenSet record and its encryption into Connection.token_blob.

The blob is a MultiFernet ciphertext of the TokenSet as JSON. The first configured key encrypts,
every configured key decrypts, so keys rotate without downtime: put a new key first, run
`arpilot rotate-keys` (re-encrypts every blob with it), then drop the old key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from oauth.redact import register_secret

BLOB_FORMAT = 1


class TokenDecryptError(Exception):
    """A token blob that none of the configured keys opens (or that is not a TokenSet)."""


@dataclass(frozen=True)
class TokenSet:
    """One connection's OAuth tokens. repr and str show expiries and ids, never a token value."""

    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None
    external_id: str  # QuickBooks realmId or Xero tenantId
    scope: tuple[str, ...] = ()
    # Verified OpenID claims kept for identity (sub, realmid, email): never the id_token itself.
    id_token_claims: Mapping[str, Any] | None = field(default=None, hash=False)
    # One consent's tokens may serve several connections (Xero: one per organisation granted);
    # they share this id and are refreshed and stored together. None: the grant serves one connection.
    grant_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("access_expires_at", "refresh_expires_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"TokenSet.{name} must be timezone-aware")
        if not self.access_token or not self.refresh_token:
            raise ValueError("TokenSet needs both an access token and a refresh token")
        # Every token value arpilot holds is known to the log redaction from the moment it exists.
        register_secret(self.access_token)
        register_secret(self.refresh_token)

    def __repr__(self) -> str:
        refresh = self.refresh_expires_at.isoformat() if self.refresh_expires_at else None
        return (
            f"TokenSet(external_id={self.external_id!r}, access_expires_at="
            f"{self.access_expires_at.isoformat()!r}, refresh_expires_at={refresh!r}, "
            f"scope={self.scope!r}, access_token=<redacted>, refresh_token=<redacted>)"
        )

    __str__ = __repr__

    def expires_within(self, margin: dt.timedelta, now: dt.datetime) -> bool:
        """Whether the access token is expired or will be within `margin` of `now`."""
        return self.access_expires_at - now <= margin

    def with_refresh(self, newer: TokenSet) -> TokenSet:
        """`newer` keeping what a refresh response does not repeat (scope, identity claims)."""
        return replace(
            newer,
            scope=newer.scope or self.scope,
            id_token_claims=newer.id_token_claims or self.id_token_claims,
            grant_id=newer.grant_id or self.grant_id,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": BLOB_FORMAT,
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "access_expires_at": self.access_expires_at.isoformat(),
                "refresh_expires_at": self.refresh_expires_at.isoformat() if self.refresh_expires_at else None,
                "external_id": self.external_id,
                "scope": list(self.scope),
                "id_token_claims": dict(self.id_token_claims) if self.id_token_claims else None,
                "grant_id": self.grant_id,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> TokenSet:
        data = json.loads(text)
        if data.get("format") != BLOB_FORMAT:
            raise ValueError(f"unknown token blob format {data.get('format')!r}")
        refresh_expires = data["refresh_expires_at"]
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            access_expires_at=dt.datetime.fromisoformat(data["access_expires_at"]),
            refresh_expires_at=dt.datetime.fromisoformat(refresh_expires) if refresh_expires else None,
            external_id=data["external_id"],
            scope=tuple(data["scope"]),
            id_token_claims=data["id_token_claims"],
            grant_id=data.get("grant_id"),  # absent from blobs written before grants were shared
        )


class TokenCipher:
    """Encrypts TokenSets with the first key; decrypts with any configured key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("TokenCipher needs at least one Fernet key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return "TokenCipher(<keys redacted>)"

    def encrypt(self, tokens: TokenSet) -> bytes:
        return self._fernet.encrypt(tokens.to_json().encode())

    def decrypt(self, blob: bytes) -> TokenSet:
        try:
            plain = self._fernet.decrypt(bytes(blob))
        except InvalidToken:
            raise TokenDecryptError(
                "the token blob does not open with any key in TOKEN_ENCRYPTION_KEYS "
                "(was a key dropped before `arpilot rotate-keys` ran?)"
            ) from None
        try:
            return TokenSet.from_json(plain)
        except (ValueError, KeyError, TypeError) as exc:
            # The message names the problem only: the plaintext holds tokens.
            raise TokenDecryptError(f"the decrypted token blob is not a TokenSet ({type(exc).__name__})") from None

    def rotate(self, blob: bytes) -> bytes:
        """The same tokens re-encrypted with the primary (first) key."""
        try:
            return self._fernet.rotate(bytes(blob))
        except InvalidToken:
            raise TokenDecryptError("the token blob does not open with any key in TOKEN_ENCRYPTION_KEYS") from None
