"""One process hammering a QuickBooks realm through the Redis-shared limiter (run by test_processes)."""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from redis import Redis

from connectors.contract import RateLimited
from connectors.quickbooks.client import QboClient
from connectors.quickbooks.limiter import Limits, RealmLimiter
from connectors.ratelimit.redis_store import RedisStore


class StaticTokens:
    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refreshed(self, stale_access_token: str) -> str:
        raise AssertionError("the minted token lives longer than the test")


def hammer(
    api_url: str,
    realm: str,
    token: str,
    limits: Limits,
    redis_url: str,
    prefix: str,
    seconds: float,
    ready: Barrier,
    results: Queue,
) -> None:
    """Call the realm as fast as the limiter allows for `seconds`; put (call instants, 429s) on `results`."""
    limiter = RealmLimiter(limits, store=RedisStore(Redis.from_url(redis_url), prefix=prefix), realm_id=realm)
    # No throttle retries: a 429 is counted, never waited out.
    client = QboClient(realm, StaticTokens(token), base_url=api_url, limiter=limiter, max_throttle_retries=0)
    times: list[float] = []
    throttled = 0

    def company_info(qb):  # type: ignore[no-untyped-def]
        times.append(time.time())  # inside the slot, right after the limiter let the call through
        return qb.query("select * from Customer maxresults 1")

    ready.wait()
    stop = time.monotonic() + seconds
    try:
        while time.monotonic() < stop:
            try:
                client.call(company_info)
            except RateLimited:
                throttled += 1
    finally:  # an unexpected error still answers, so the test fails at once instead of waiting
        results.put((times, throttled))
