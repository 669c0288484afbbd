"""The provider-neutral sandbox machinery: clock, token authority, limits, idempotency, signing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading

import pytest

from connectors.sandbox import InvalidGrant, RotationPolicy, SandboxClock, TokenAuthority, TokenRejected
from connectors.sandbox.idempotency import IdempotencyStore, StoredResponse
from connectors.sandbox.limits import ConcurrencyGate, Limit, WindowLimiter
from connectors.sandbox.webhooks import sign

START = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
XERO_LIKE = RotationPolicy(
    reuse_window=None,
    grace=dt.timedelta(minutes=30),
    refresh_lifetime=dt.timedelta(days=60),
    access_lifetime=dt.timedelta(minutes=30),
)


def _clock() -> SandboxClock:
    clock = SandboxClock(START)
    clock.freeze()
    return clock


def test_clock_set_advance_freeze() -> None:
    clock = SandboxClock()
    clock.set(START)
    assert abs(clock.now() - START) < dt.timedelta(seconds=5)
    clock.freeze()
    frozen = clock.now()
    assert clock.advance(dt.timedelta(days=3)) == frozen + dt.timedelta(days=3)
    clock.unfreeze()
    assert clock.now() >= frozen + dt.timedelta(days=3)
    with pytest.raises(ValueError, match="aware"):
        clock.set(dt.datetime(2026, 1, 1))


def test_rotation_every_refresh_with_grace() -> None:
    clock = _clock()
    authority = TokenAuthority(clock, XERO_LIKE)
    first = authority.mint("app", "tenant-1", ("accounting",))
    second = authority.refresh(first.refresh_token, "app")
    assert second.refresh_token != first.refresh_token
    clock.advance(dt.timedelta(minutes=29))
    assert authority.refresh(first.refresh_token, "app").refresh_token  # lost response: retry inside grace
    clock.advance(dt.timedelta(minutes=2))
    with pytest.raises(InvalidGrant, match="superseded"):
        authority.refresh(first.refresh_token, "app")


def test_refresh_token_expiry_hard_limit_and_wrong_client() -> None:
    clock = _clock()
    policy = RotationPolicy(
        reuse_window=dt.timedelta(hours=24),
        grace=dt.timedelta(0),
        refresh_lifetime=dt.timedelta(days=100),
        hard_lifetime=dt.timedelta(days=150),
    )
    authority = TokenAuthority(clock, policy)
    tokens = authority.mint("app", "realm", ("accounting",))
    with pytest.raises(InvalidGrant, match="unknown"):
        authority.refresh(tokens.refresh_token, "another-app")
    clock.advance(dt.timedelta(days=99))
    tokens = authority.refresh(tokens.refresh_token, "app")  # rolling: used before it lapsed
    assert tokens.hard_expires_in == int(dt.timedelta(days=51).total_seconds())
    clock.advance(dt.timedelta(days=52))
    with pytest.raises(InvalidGrant, match="maximum lifetime"):
        authority.refresh(tokens.refresh_token, "app")
    idle = authority.mint("app", "realm", ("accounting",))
    clock.advance(dt.timedelta(days=101))
    with pytest.raises(InvalidGrant, match="expired"):
        authority.refresh(idle.refresh_token, "app")


def test_codes_are_single_use_short_lived_and_bound_to_redirect() -> None:
    clock = _clock()
    authority = TokenAuthority(clock, XERO_LIKE)
    code = authority.issue_code("app", "realm", ("accounting",), "http://localhost/cb")
    with pytest.raises(InvalidGrant, match="redirect_uri"):
        authority.exchange_code(code, "app", "http://localhost/other")
    tokens = authority.exchange_code(code, "app", "http://localhost/cb")
    with pytest.raises(InvalidGrant, match="already used"):
        authority.exchange_code(code, "app", "http://localhost/cb")
    with pytest.raises(TokenRejected, match="revoked"):  # a replayed code revokes what it granted
        authority.authenticate(tokens.access_token)
    late = authority.issue_code("app", "realm", ("accounting",), "http://localhost/cb")
    clock.advance(dt.timedelta(minutes=6))
    with pytest.raises(InvalidGrant, match="expired"):
        authority.exchange_code(late, "app", "http://localhost/cb")


def test_access_tokens_expire_and_revoke_kills_the_grant() -> None:
    clock = _clock()
    authority = TokenAuthority(clock, XERO_LIKE)
    tokens = authority.mint("app", "realm", ("accounting",))
    assert authority.authenticate(tokens.access_token).subject == "realm"
    clock.advance(dt.timedelta(minutes=31))
    with pytest.raises(TokenRejected, match="expired"):
        authority.authenticate(tokens.access_token)
    fresh = authority.refresh(tokens.refresh_token, "app")
    assert authority.revoke(fresh.access_token) is not None  # the grant it ended
    with pytest.raises(InvalidGrant, match="revoked"):
        authority.refresh(fresh.refresh_token, "app")
    assert authority.revoke("never-issued") is None


def test_window_limiter_counts_per_key_and_window() -> None:
    clock = _clock()
    limiter = WindowLimiter(clock)
    minute = Limit("minute", 3, dt.timedelta(minutes=1))
    day = Limit("day", 4, dt.timedelta(days=1))
    assert [limiter.hit("a", [minute, day]) for _ in range(3)] == [None, None, None]
    assert limiter.hit("a", [minute, day]) == minute
    assert limiter.hit("b", [minute, day]) is None  # another key has its own counts
    clock.advance(dt.timedelta(minutes=1))
    assert limiter.hit("a", [minute, day]) is None
    assert limiter.hit("a", [minute, day]) == day  # refused requests were not counted: 4 got through
    assert limiter.hit("b", [minute], cost=4) == minute  # a batch bigger than the limit
    assert limiter.remaining("b", minute) == 3


def test_concurrency_gate() -> None:
    gate = ConcurrencyGate()
    with gate.held("realm", 1) as first:
        with gate.held("realm", 1) as second:
            assert (first, second) == (True, False)
    assert gate.in_flight("realm") == 0


def test_idempotency_runs_the_effect_once_under_concurrency() -> None:
    store = IdempotencyStore()
    effects: list[int] = []

    def effect() -> StoredResponse:
        effects.append(1)
        return StoredResponse(200, b"{}", "application/json")

    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.run_once("k", effect)[1])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(effects) == 1 and sorted(results) == [False] + [True] * 7


def test_signature_is_base64_hmac_sha256() -> None:
    body = b'{"eventNotifications":[]}'
    expected = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert sign(body, "key") == expected
