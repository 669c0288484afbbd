"""Building a connection's connector: its provider's client, its tokens, its base URL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import AuthExpired, Connector, Provider
from connectors.quickbooks.client import PRODUCTION_URL, QboClient
from connectors.quickbooks.connector import QuickBooksConnector, read_company_name
from connectors.quickbooks.limiter import LimiterRegistry
from connectors.ratelimit.shared import shared_limiters
from connectors.xero.connector import XeroConnector
from connectors.xero.limiter import XeroLimiter
from integration.config import ConfigError, Settings
from integration.store.models import Connection, Organization
from integration.store.token_refresh import ConnectionTokenSource
from oauth.crypto import TokenCipher
from oauth.intuit import IntuitOAuth
from oauth.xero import XeroOAuth

QUICKBOOKS_SANDBOX_URL = "https://sandbox-quickbooks.api.intuit.com/v3"
# A read made while the owner waits on the connect callback gets one short try.
CONNECT_READ_TIMEOUT_SECONDS = 10.0

ConnectorFactory = Callable[[Connection, Organization], Connector]


def quickbooks_api_base(environment: str) -> str:
    """Intuit's production or sandbox API; for a discovery URL, the v3 API on the same origin (a local sandbox)."""
    if environment.lower() in ("production", "prod"):
        return PRODUCTION_URL
    if environment.lower() == "sandbox":
        return QUICKBOOKS_SANDBOX_URL
    parts = urlsplit(environment)
    return f"{parts.scheme}://{parts.netloc}/v3"


class GrantedToken:
    """The access token a consent has just granted, as an AccessTokenSource. It is never refreshed:
    a token issued a moment ago that QuickBooks refuses is not cured by refreshing it."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def __repr__(self) -> str:
        return "GrantedToken(...)"

    def access_token(self) -> str:
        return self._access_token

    def refreshed(self, stale_access_token: str) -> str:  # noqa: ARG002 - AccessTokenSource signature
        raise AuthExpired("QuickBooks refused the access token it had just granted")


def quickbooks_company_name(settings: Settings, realm_id: str, access_token: str) -> str:
    """The company's CompanyInfo name read with a just-granted token: one try, no retry and no
    waiting out a limit, since the owner is waiting on the page. Raises the ConnectorError kinds."""
    config = settings.quickbooks
    if config is None:
        raise ConfigError("QUICKBOOKS_CLIENT_ID is not set, so QuickBooks cannot be read")
    client = QboClient(
        realm_id,
        GrantedToken(access_token),
        base_url=quickbooks_api_base(config.environment),
        limiter=shared_limiters(settings.redis_url)[0].for_realm(realm_id),
        max_throttle_retries=0,
        max_transient_retries=0,
        timeout=CONNECT_READ_TIMEOUT_SECONDS,
    )
    return read_company_name(client)


class _XeroClock:
    """The Xero client's clock from arpilot's: the same instants, and waits through `sleep`."""

    def __init__(self, clock: Callable[[], dt.datetime], sleep: Callable[[float], None]) -> None:
        self.now, self.sleep = clock, sleep

    def monotonic(self) -> float:
        return self.now().timestamp()


def connector_factory(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
    limiters: LimiterRegistry | None = None,
    xero_limiter: XeroLimiter | None = None,
) -> ConnectorFactory:
    """Connectors for each provider; the limiters default to the shared ones (connectors/ratelimit/shared.py)."""
    cipher = TokenCipher(settings.token_encryption_keys)
    shared_realms, shared_xero = shared_limiters(settings.redis_url)
    realm_limiters, tenant_limiter = limiters or shared_realms, xero_limiter or shared_xero

    def build(connection: Connection, organization: Organization) -> Connector:
        if connection.provider == Provider.QUICKBOOKS.value:
            config = settings.quickbooks
            if config is None:
                raise ConfigError("QUICKBOOKS_CLIENT_ID is not set, so QuickBooks connections cannot run")
            tokens = ConnectionTokenSource(
                sessions, cipher, connection.id, lambda: IntuitOAuth(config, clock=clock), clock=clock
            )
            return QuickBooksConnector(
                connection.external_id,
                tokens,
                home_currency=organization.base_currency,
                base_url=quickbooks_api_base(config.environment),
                today=lambda: clock().date(),
                sleep=sleep,
                limiter=realm_limiters.for_realm(connection.external_id),
            )
        if connection.provider == Provider.XERO.value:
            xero = settings.xero
            if xero is None:
                raise ConfigError("XERO_CLIENT_ID is not set, so Xero connections cannot run")
            tokens = ConnectionTokenSource(
                sessions, cipher, connection.id, lambda: XeroOAuth(xero, clock=clock), clock=clock
            )
            return XeroConnector(
                tenant_id=connection.external_id,
                tokens=tokens,
                base_url=f"{xero.api_url}/api.xro/2.0",
                base_currency=organization.base_currency,
                limiter=tenant_limiter,
                clock=_XeroClock(clock, sleep),
            )
        raise ConfigError(f"no connector for provider {connection.provider!r}")

    return build
