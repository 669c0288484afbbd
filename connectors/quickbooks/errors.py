"""The one table from QuickBooks HTTP statuses and fault codes to what the client does about them.

python-quickbooks loses the HTTP status of a failed call (a 429 arrives as a `ValidationException`
with fault code 3001, a 5xx or a 429 without a fault body as code 10000 "Error reading json
response"), so the client's transport raises `HttpStatusError` itself for the statuses that
decide the outcome (401, 429, 5xx) before the SDK parses anything; every other failure arrives
as a `QuickbooksException` carrying the fault `code`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import SupportsIndex, SupportsInt

from quickbooks.exceptions import QuickbooksException

from connectors.contract import (
    AuthExpired,
    Conflict,
    ConnectorError,
    NotFound,
    ProviderValidationError,
    RateLimited,
    Transient,
)


class Outcome(enum.Enum):
    REFRESH = "refresh"  # the access token was refused: refresh (REFRESHES_PER_CALL times), then AuthExpired
    AUTH_EXPIRED = "auth_expired"  # the grant itself is gone: reconnect
    THROTTLED = "throttled"  # wait (60 s by Intuit's guidance) and retry
    TRANSIENT = "transient"  # retry with backoff, then Transient
    CONFLICT = "conflict"  # stale SyncToken: re-read and retry once, then Conflict
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # the request is wrong; retrying will not help


class HttpStatusError(Exception):
    """A response whose HTTP status decides the outcome before any body parsing."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class TransportError(Exception):
    """The request never got a response: timeout or connection failure."""


@dataclass(frozen=True, slots=True)
class Rule:
    source: str  # "status" (HTTP) or "fault" (Fault.Error[].code; 10000 is python-quickbooks' bad-JSON code)
    first: int
    last: int
    outcome: Outcome
    why: str


# First matching rule wins; a fault code that matches nothing is INVALID.
ERROR_TABLE: tuple[Rule, ...] = (
    Rule("status", 401, 401, Outcome.REFRESH, "access token expired or revoked (fault 3200)"),
    Rule("status", 429, 429, Outcome.THROTTLED, "ThrottleExceeded"),
    Rule("status", 500, 599, Outcome.TRANSIENT, "server error"),
    Rule("fault", 3001, 3001, Outcome.THROTTLED, "ThrottleExceeded inside a fault body"),
    Rule("fault", 3200, 3200, Outcome.REFRESH, "AuthenticationFailed inside a fault body"),
    Rule("fault", 1, 499, Outcome.AUTH_EXPIRED, "authorization failure (120: the user lost access)"),
    Rule("fault", 610, 610, Outcome.NOT_FOUND, "Object Not Found"),
    Rule("fault", 5010, 5010, Outcome.CONFLICT, "Stale Object Error (SyncToken)"),
    Rule("fault", 6190, 6190, Outcome.AUTH_EXPIRED, "Invalid Company Status: subscription ended"),
    Rule("fault", 10000, 10000, Outcome.TRANSIENT, "unreadable response body"),
)

THROTTLE_WAIT = 60.0  # Intuit: wait 60 s after a 429; there is no Retry-After header to rely on

_ERRORS: dict[Outcome, type[ConnectorError]] = {
    Outcome.REFRESH: AuthExpired,
    Outcome.AUTH_EXPIRED: AuthExpired,
    Outcome.TRANSIENT: Transient,
    Outcome.CONFLICT: Conflict,
    Outcome.NOT_FOUND: NotFound,
    Outcome.INVALID: ProviderValidationError,
}


@dataclass(frozen=True, slots=True)
class Classified:
    outcome: Outcome
    message: str
    code: int | None = None


def classify(exc: Exception) -> Classified:
    """Decide what a failed call means. Messages carry the provider's text, never a token."""
    if isinstance(exc, TransportError):
        return Classified(Outcome.TRANSIENT, f"QuickBooks: {exc}")
    code: int | None
    if isinstance(exc, HttpStatusError):
        source, code, message = "status", exc.status, f"QuickBooks {exc}"
    elif isinstance(exc, QuickbooksException):
        code = _int(exc.error_code)
        source = "fault"
        message = f"QuickBooks fault {exc.error_code}: {exc.message}" + (f" ({exc.detail})" if exc.detail else "")
    else:
        raise exc
    for rule in ERROR_TABLE:
        if rule.source == source and code is not None and rule.first <= code <= rule.last:
            return Classified(rule.outcome, message[:1000], code)
    return Classified(Outcome.INVALID, message[:1000], code)


def error_for(classified: Classified, retry_after: float = THROTTLE_WAIT) -> ConnectorError:
    """The typed error for an outcome once retrying is over (or not allowed)."""
    if classified.outcome is Outcome.THROTTLED:
        return RateLimited(classified.message, retry_after=retry_after)
    return _ERRORS[classified.outcome](classified.message)


def _int(code: object) -> int | None:
    if not isinstance(code, (str, bytes, SupportsInt, SupportsIndex)):  # what int() takes
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        return None
