"""Which store the providers' rate limiters keep their state in: Redis when REDIS_URL is set, so
every worker on every machine draws from the same buckets, else this process alone (embedded).

One store per process and URL: every connector built here shares it, as the providers' limits are
per realm, per tenant and per app, never per connector.
"""

from __future__ import annotations

import functools

from redis import Redis

from connectors.quickbooks.limiter import DEFAULT_LIMITERS, LimiterRegistry
from connectors.ratelimit.redis_store import RedisStore
from connectors.xero.limiter import XeroLimiter, shared_limiter


@functools.cache
def _redis_limiters(redis_url: str) -> tuple[LimiterRegistry, XeroLimiter]:
    store = RedisStore(Redis.from_url(redis_url))
    return LimiterRegistry(store=store), XeroLimiter(store=store)


def shared_limiters(redis_url: str | None) -> tuple[LimiterRegistry, XeroLimiter]:
    """(QuickBooks realms, Xero tenants and app) limiters for this process."""
    if redis_url:
        return _redis_limiters(redis_url)
    return DEFAULT_LIMITERS, shared_limiter()
