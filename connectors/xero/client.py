"""xero-python wired for arpilot, and the one place HTTP outcomes become typed errors.

What this module works around in xero-python 15.x (read from the installed source):
- `Configuration` has a metaclass that returns a shallow copy of the first instance ever built, so
  every copy shares that first instance's `OAuth2Token`. Each client sets its own fresh
  `OAuth2Token()` on its copy, so tenants never see each other's tokens.
- The SDK refreshes tokens by itself when it can. Refresh belongs to `oauth/` (rotation-safe, under
  a lock), so the token dict handed to the SDK has no refresh token, no expiry and the OAuth2Token
  no client secret: the SDK can never refresh. On a 401 the client asks the `AccessTokenSource`
  for `refreshed(stale)` and retries, at most REFRESHES_PER_CALL times; a 401 after those is AuthExpired.
- Responses are read raw (`_preload_content=False`) and parsed with `parse_float=Decimal`, so the
  mapping sees Xero's JSON exactly and a single odd record cannot abort a page inside the SDK's
  model layer. (The SDK's models also parse money as Decimal, but they raise bare ValueErrors on
  unexpected dates and enum values.)
- Request bodies are plain dicts: serializing the SDK's `Contact` model adds `HasAttachments:false`
  and `HasValidationErrors:false`, and Xero should receive only the fields being changed.
- The SDK's error classes compute `.status`/`.reason` by parsing the body as JSON, which raises on
  a non-JSON body; only `http_resp` (status, headers, raw bytes) is read here.
- `_request_timeout` must be an int or a (connect, read) tuple: a float is silently ignored.
- urllib3 errors (timeouts, refused connections) escape the SDK untranslated; they become Transient.
- urllib3's default retry policy (inherited by the SDK's PoolManager) sleeps out Retry-After on 429
  and 503 inside the call, with the real clock; it is switched off so that retries live in one place.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, HTTPStatusException

from connectors.contract import (
    REFRESHES_PER_CALL,
    AccessTokenSource,
    AuthExpired,
    ConnectorError,
    NotFound,
    ProviderValidationError,
    RateLimited,
    Transient,
)
from connectors.xero.limiter import Clock, SystemClock, XeroLimiter, shared_limiter

DEFAULT_BASE_URL = "https://api.xero.com/api.xro/2.0"


@dataclass(frozen=True)
class RetryPolicy:
    transient_attempts: int = 3  # tries in all for 5xx, timeouts and malformed JSON
    backoff_seconds: float = 1.0  # doubled after every transient failure
    minute_limit_waits: int = 3  # 429 `minute` answers waited out (Retry-After) before giving up
    max_retry_after_seconds: float = 120.0
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read


@dataclass(frozen=True)
class HttpFailure:
    """A non-2xx answer: status, case-insensitive headers and the JSON body if it had one."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @classmethod
    def from_sdk(cls, exc: HTTPStatusException) -> HttpFailure:
        response = exc.http_resp
        headers = {k.lower(): v for k, v in (response.getheaders() if response else {}).items()}
        return cls(getattr(response, "status", 0), headers, _json_or_none(getattr(response, "data", b"")))

    def detail(self) -> str:
        body = self.body if isinstance(self.body, Mapping) else {}
        return str(body.get("Detail") or body.get("Message") or body.get("Title") or "").strip()


def _first_validation_message(failure: HttpFailure) -> str:
    body = failure.body if isinstance(failure.body, Mapping) else {}
    for element in body.get("Elements") or ():
        for error in (element.get("ValidationErrors") or ()) if isinstance(element, Mapping) else ():
            if isinstance(error, Mapping) and error.get("Message"):
                return str(error["Message"])
    return failure.detail() or "Xero refused the request (400)"


def _retry_after(failure: HttpFailure, now: dt.datetime, default: float) -> float:
    value = failure.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    return default


def _rate_limited(failure: HttpFailure, now: dt.datetime) -> RateLimited:
    problem = failure.headers.get("x-rate-limit-problem", "").strip().lower()
    if problem == "day":
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        wait = _retry_after(failure, now, (midnight - now).total_seconds())
        return RateLimited(
            f"Xero's daily call limit for this organisation is used up; retry in {wait:.0f}s",
            retry_after=wait,
            daily=True,
        )
    wait = _retry_after(failure, now, 60.0)
    return RateLimited(f"Xero rate limit ({problem or 'unspecified'}) reached; retry in {wait:.0f}s", retry_after=wait)


# Status -> typed error. Anything 5xx not listed is Transient; any other 4xx is a refusal.
STATUS_ERRORS: dict[int, Callable[[HttpFailure, dt.datetime], ConnectorError]] = {
    400: lambda f, now: ProviderValidationError(_first_validation_message(f)),
    401: lambda f, now: AuthExpired(f"Xero rejected the access token (401 {f.detail() or 'Unauthorized'})"),
    403: lambda f, now: AuthExpired(
        "Xero refused access to this organisation (403): it was disconnected inside Xero or the app "
        "lost access to it; reconnect the organisation"
    ),
    404: lambda f, now: NotFound("Xero has no such record (404)"),
    429: _rate_limited,
}


def error_for(failure: HttpFailure, now: dt.datetime) -> ConnectorError:
    if failure.status in STATUS_ERRORS:
        return STATUS_ERRORS[failure.status](failure, now)
    if failure.status >= 500 or failure.status == 0:
        return Transient(f"Xero answered {failure.status}: {failure.detail() or 'server error'}")
    return ProviderValidationError(f"Xero refused the request ({failure.status} {failure.detail()})".strip())


def _json_or_none(data: bytes | None) -> Any:
    try:
        return json.loads(data or b"", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None


class XeroClient:
    """One tenant's Accounting API, called through the limiter with arpilot's retry rules."""

    def __init__(
        self,
        *,
        tenant_id: str,
        tokens: AccessTokenSource,
        base_url: str = DEFAULT_BASE_URL,
        limiter: XeroLimiter | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.tenant_id = tenant_id
        self.clock = clock or SystemClock()
        self._tokens = tokens
        self._limiter = limiter or shared_limiter()
        self._retry = retry
        self._local = threading.local()
        configuration = Configuration()  # a copy of the process's first instance (SDK metaclass)
        configuration.oauth2_token = OAuth2Token()  # ours alone; no client id/secret: never refreshes
        api_client = ApiClient(
            configuration,
            oauth2_token_getter=self._sdk_token,
            oauth2_token_saver=self._sdk_refreshed,
        )
        # urllib3's default Retry sleeps out a 429/503 Retry-After inside the call (12 hours for a
        # daily limit) and re-sends PUTs after read errors. No retries below this class: all of
        # them happen in `call`, through the limiter and the injectable clock.
        api_client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
            total=0, redirect=False, raise_on_status=False, respect_retry_after_header=False
        )
        self.api = AccountingApi(api_client, base_url=base_url)

    def _sdk_token(self) -> dict[str, Any]:
        # No expires_at and no refresh_token: the SDK treats the token as valid and cannot refresh.
        return {"access_token": self._local.token, "token_type": "Bearer", "expires_in": None, "scope": None}

    def _sdk_refreshed(self, token: dict[str, Any]) -> None:
        raise AssertionError("xero-python must never refresh tokens itself; oauth/ owns refresh")

    def call(self, operation: str, *args: Any, idempotency_key: str | None = None, **kwargs: Any) -> Any:
        """`AccountingApi.<operation>(tenant_id, *args, **kwargs)` -> the parsed JSON body (None for 204).

        Raises only ConnectorError kinds. Transient failures and 429 `minute` answers are retried
        here within bounds; a 429 `day` answer raises RateLimited(daily=True) at once.
        """
        method = getattr(self.api, operation)
        if idempotency_key is not None:
            kwargs["idempotency_key"] = idempotency_key
        token = self._tokens.access_token()
        refreshes = 0
        transient_failures = 0
        limit_waits = 0
        while True:
            self._local.token = token
            body, status, error = self._attempt(method, args, kwargs)
            if error is None:
                return body
            if status == 401 and refreshes < REFRESHES_PER_CALL:
                token = self._tokens.refreshed(token)
                refreshes += 1
                continue
            if isinstance(error, RateLimited):
                # Every worker holds off this tenant until Retry-After, not only this one.
                self._limiter.pause(self.tenant_id, error.retry_after)
            if isinstance(error, RateLimited) and not error.daily and limit_waits < self._retry.minute_limit_waits:
                limit_waits += 1
                self.clock.sleep(min(error.retry_after, self._retry.max_retry_after_seconds))
                continue
            if isinstance(error, Transient) and transient_failures + 1 < self._retry.transient_attempts:
                self.clock.sleep(self._retry.backoff_seconds * 2**transient_failures)
                transient_failures += 1
                continue
            raise error

    def _attempt(
        self, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, int, ConnectorError | None]:
        """One HTTP call -> (parsed body, HTTP status or 0, typed error or None)."""
        try:
            with self._limiter.call(self.tenant_id):
                response = method(
                    self.tenant_id, *args, _preload_content=False, _request_timeout=self._retry.timeout, **kwargs
                )
                try:
                    data = response.data
                finally:
                    response.release_conn()
        except HTTPStatusException as exc:
            failure = HttpFailure.from_sdk(exc)
            return None, failure.status, error_for(failure, self.clock.now())
        except (urllib3.exceptions.HTTPError, ApiException, OSError) as exc:
            return None, 0, Transient(f"could not reach Xero: {type(exc).__name__}")
        if not data:
            return None, response.status, None
        parsed = _json_or_none(data)
        if parsed is None:
            return None, response.status, Transient("Xero sent a response that is not JSON")
        return parsed, response.status, None
