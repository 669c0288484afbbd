"""The QuickBooks Online HTTP client: python-quickbooks 0.9.12 plus auth, limits and retries.

Every call returns the raw JSON dict, parsed with `use_decimal=True` so amounts arrive as exact
Decimals straight from the JSON text; python-quickbooks' objects are not used (their defaults leak
into writes, #388, and mapping from plain dicts keeps `mapping` pure and SDK-free).

Workarounds for python-quickbooks 0.9.12 and intuit-oauth 1.2.6:
- `QuickBooks(auth_client=…)` refreshes inside its constructor when the auth client has no access
  token and keeps the rotated refresh token in memory only. The auth client here is an `AuthClient`
  that already holds the access token from the `AccessTokenSource`, skips intuit-oauth's network
  discovery fetch, and refuses to refresh: refreshing is oauth/'s job (under its lock, persisted).
- After a refresh the OAuth2Session keeps the old token; `_start_session()` rebuilds it.
- The session has no timeout and hides HTTP statuses (429 and 5xx become code 10000 or a
  ValidationException); `process_request` is overridden to add a timeout, turn transport failures
  into `TransportError` and raise `HttpStatusError` for 401/429/5xx. It calls `requests.Session.request`
  directly: `OAuth2Session.request` logs the token at DEBUG and refuses http://, and the Bearer header
  python-quickbooks sets is all QuickBooks needs. http:// is allowed for loopback sandboxes only.
- `Invoice.send()` cannot pass `requestid`; sends go through `qb.post` with `request_id`.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from intuitlib.client import AuthClient
from quickbooks.client import QuickBooks

from connectors.contract import REFRESHES_PER_CALL, AccessTokenSource
from connectors.quickbooks.errors import (
    HttpStatusError,
    Outcome,
    TransportError,
    classify,
    error_for,
)
from connectors.quickbooks.limiter import DEFAULT_LIMITERS, RealmLimiter, Sleep

MINOR_VERSION = 75
PRODUCTION_URL = "https://quickbooks.api.intuit.com/v3"
Json = dict[str, Any]


class _TokenOnlyAuthClient(AuthClient):  # type: ignore[misc]  # intuit-oauth ships no types
    """An intuit-oauth AuthClient that only carries a bearer token: no discovery fetch, no refresh."""

    def __init__(self, client_id: str, access_token: str) -> None:
        requests.Session.__init__(self)  # AuthClient.__init__ would fetch the discovery document
        self.client_id = client_id
        self.client_secret = None
        self.environment = "production"  # api_url_v3 is set per instance below, so this only avoids `sandbox`
        self.access_token = access_token
        self.refresh_token = None
        self.realm_id = None

    def refresh(self, refresh_token: str | None = None) -> None:  # refresh_token unused: the SDK's signature
        raise RuntimeError("tokens are refreshed by the AccessTokenSource, never by python-quickbooks")


class _QuickBooks(QuickBooks):  # type: ignore[misc]  # python-quickbooks ships no types
    """python-quickbooks with a timeout, typed transport failures and the statuses it would lose."""

    timeout: float = 30.0

    def process_request(  # the SDK's signature: headers is a dict, params and data what requests takes
        self, request_type: str, url: str, headers: Any = "", params: Any = "", data: Any = ""
    ) -> requests.Response:
        headers.update({"Authorization": "Bearer " + self.session.access_token})
        try:
            response = requests.Session.request(
                self.session, request_type, url, headers=headers, params=params, data=data, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise TransportError(f"timed out after {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise TransportError(type(exc).__name__) from exc
        if response.status_code in (401, 429) or response.status_code >= 500:
            raise HttpStatusError(response.status_code, response.text)
        return response


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url.rstrip("/")
    host = parts.hostname or ""
    loopback = host == "localhost" or _is_loopback_ip(host)
    if parts.scheme == "http" and loopback:
        return url.rstrip("/")
    raise ValueError(f"QuickBooks base URL must be https (http only on loopback), got {parts.scheme}://{host}")


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class QboClient:
    """One realm's API: raw JSON in and out, typed errors, limiter, bounded refreshes and retries."""

    def __init__(
        self,
        realm_id: str,
        tokens: AccessTokenSource,
        *,
        base_url: str = PRODUCTION_URL,
        client_id: str = "arpilot",
        limiter: RealmLimiter | None = None,
        sleep: Sleep = time.sleep,
        throttle_wait: float = 60.0,
        max_throttle_retries: int = 5,
        max_transient_retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        self.realm_id = realm_id
        self._tokens = tokens
        self._base_url = _check_base_url(base_url)
        self._client_id = client_id
        self._limiter = limiter or DEFAULT_LIMITERS.for_realm(realm_id)
        self._sleep = sleep
        self._throttle_wait = throttle_wait
        self._max_throttle = max_throttle_retries
        self._max_transient = max_transient_retries
        self._backoff = backoff
        self._timeout = timeout
        self._qb = self._build(tokens.access_token())

    def _build(self, access_token: str) -> _QuickBooks:
        qb = _QuickBooks(
            auth_client=_TokenOnlyAuthClient(self._client_id, access_token),
            company_id=self.realm_id,
            minorversion=MINOR_VERSION,
            use_decimal=True,
        )
        qb.api_url_v3 = qb.sandbox_api_url_v3 = self._base_url
        qb.timeout = self._timeout
        return qb

    def _refresh(self) -> None:
        fresh = self._tokens.refreshed(self._qb.auth_client.access_token)
        self._qb.auth_client.access_token = fresh
        self._qb._start_session()  # the OAuth2Session still holds the old token otherwise

    # --- the retry loop ---------------------------------------------------------------------

    def call(self, operation: Callable[[QuickBooks], Json], *, batch_items: int = 0) -> Json:
        """Run one API call under the limiter, applying the error table's outcome."""
        refreshes = throttled = transient = 0
        while True:
            try:
                with self._limiter.slot(batch_items=batch_items):
                    result = operation(self._qb)
                return result
            except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
                failure = classify(exc)
            if failure.outcome is Outcome.REFRESH and refreshes < REFRESHES_PER_CALL:
                self._refresh()
                refreshes += 1
            elif failure.outcome is Outcome.THROTTLED and throttled < self._max_throttle:
                throttled += 1
                self._limiter.pause(self._throttle_wait)
            elif failure.outcome is Outcome.TRANSIENT and transient < self._max_transient:
                transient += 1
                self._sleep(self._backoff * 2 ** (transient - 1))
            else:
                raise error_for(failure, retry_after=self._throttle_wait)

    # --- the calls arpilot makes ------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._qb.api_url}/company/{self.realm_id}/{path}"

    def query(self, statement: str, params: dict[str, str] | None = None) -> Json:
        """Run a query; returns the whole response: `QueryResponse` (empty when no rows) and `time`."""
        return self.call(lambda qb: _shaped(qb.query(statement, params=dict(params or {})), "QueryResponse", dict))

    def read(self, entity: str, entity_id: str, params: dict[str, str] | None = None) -> Json:
        result = self.call(
            lambda qb: _shaped(qb.get_single_object(entity, entity_id, params=dict(params or {})), entity, dict)
        )
        return _object(result, entity)

    def write(self, entity: str, body: Json, request_id: str, operation: str | None = None) -> Json:
        """Create (no Id) or sparse-update (Id, SyncToken, sparse) one entity, or apply `operation`
        (`void`) to it; returns it as saved."""
        text = json.dumps(body, default=str)
        params = {"operation": operation} if operation else None
        result = self.call(
            lambda qb: _shaped(qb.update_object(entity, text, request_id=request_id, params=params), entity, dict)
        )
        return _object(result, entity)

    def send_invoice(self, invoice_id: str, request_id: str, to: str | None = None) -> Json:
        params = {"sendTo": to} if to else {}
        url = self._url(f"invoice/{quote(invoice_id, safe='')}/send")
        result = self.call(
            lambda qb: _shaped(
                qb.post(url, None, content_type="application/octet-stream", params=dict(params), request_id=request_id),
                "Invoice",
                dict,
            )
        )
        return _object(result, "Invoice")

    def change_data_capture(self, entities: Sequence[str], changed_since: str) -> Json:
        """Returns the whole response: `CDCResponse` and `time`."""
        return self.call(
            lambda qb: _shaped(qb.change_data_capture(",".join(entities), changed_since), "CDCResponse", list)
        )

    def batch(self, items: Sequence[Json], request_id: str) -> list[Json]:
        """POST one batch (at most 30 items); returns BatchItemResponse items (faults included)."""
        text = json.dumps({"BatchItemRequest": list(items)}, default=str)
        url = self._url("batch")
        result = self.call(
            lambda qb: _shaped(qb.post(url, text, request_id=request_id), "BatchItemResponse", list),
            batch_items=len(items),
        )
        items_out: list[Json] = result["BatchItemResponse"]  # a list: _shaped checked it
        return items_out


def _object(envelope: Json, key: str) -> Json:
    """The entity in an envelope `_shaped` checked as a dict."""
    found: Json = envelope[key]
    return found


def _shaped(result: Any, key: str, kind: type) -> Json:
    """A 200 without the expected envelope is malformed: retried like a 5xx, then Transient."""
    if not isinstance(result, dict) or not isinstance(result.get(key), kind):
        raise TransportError(f"malformed response: no {key!r} in the body")
    return result
