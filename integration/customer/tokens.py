"""The link to one customer's page: signed, expiring, and revocable, with no login behind it.

A token names the organization, the connection, the customer (the account collected, so a job billed
with its parent opens the parent's page), the customer's link generation and when it was issued, and
carries an HMAC-SHA256 over all of it with a key derived from the app's secret. Raising the
customer's generation (the owner's "revoke") stops every link signed before; age stops it after
`max_age`. Pure: the clock and the secret are arguments.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

_PURPOSE = b"arpilot-customer-page-v1"
_FORM_PURPOSE = b"form:"


class LinkRefused(ValueError):
    """A link that opens nothing: forged, damaged, expired or revoked (the page does not say which)."""


@dataclass(frozen=True, slots=True)
class PageKey:
    organization_id: int
    connection_id: int
    customer_id: str  # the customer's provider id
    generation: int


@dataclass(frozen=True, slots=True)
class ReadLink:
    key: PageKey
    issued_at: dt.datetime


def _key(secret: str) -> bytes:
    # A key of its own, so a token of this kind can never pass for any other signature made with the secret.
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_link(key: PageKey, secret: str, now: dt.datetime) -> str:
    body = _b64(
        json.dumps(
            [key.organization_id, key.connection_id, key.customer_id, key.generation, int(now.timestamp())],
            separators=(",", ":"),
        ).encode()
    )
    mac = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_link(token: str, secret: str, now: dt.datetime, max_age: dt.timedelta) -> ReadLink:
    """The key a token carries, or LinkRefused; the generation is checked by the caller, against the store."""
    body, dot, mac = token.partition(".")
    if not dot or len(token) > 512:
        raise LinkRefused("not a link token")
    expected = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        raise LinkRefused("bad signature")
    try:
        organization_id, connection_id, customer_id, generation, issued = json.loads(_unb64(body))
    except (ValueError, TypeError, binascii.Error):
        raise LinkRefused("unreadable token") from None
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC)
    if now - issued_at > max_age:
        raise LinkRefused("expired")
    if issued_at - now > dt.timedelta(minutes=5):  # signed in the future: a clock gone wrong, not a link
        raise LinkRefused("issued in the future")
    return ReadLink(PageKey(organization_id, connection_id, str(customer_id), generation), issued_at)


def form_key(token: str, secret: str) -> str:
    """What the page's forms carry back: only a page rendered for this link knows it, and the page
    needs no session (a customer has none), so this stands in for the session's CSRF token."""
    return _b64(hmac.new(_key(secret), _FORM_PURPOSE + token.encode(), hashlib.sha256).digest())


def forms_match(token: str, secret: str, given: str) -> bool:
    return hmac.compare_digest(form_key(token, secret), given)


def limit_key(token: str) -> str:
    """A short, stable name for a link in the rate limiter's keys (the token itself is not stored)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]
