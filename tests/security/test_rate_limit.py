"""Sign-in and webhook endpoints answer one address's flood with 429 + Retry-After, in-process and on Redis."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from integration.config import ConfigError, load_settings
from integration.web.request_limits import (
    CONFIG_KEY,
    EXTENSION,
    InProcessCounter,
    Limit,
    LimitedGroup,
    RedisCounter,
)
from tests.conftest import MakeApp

REDIS_URL = "redis://127.0.0.1:6379/0"
TIGHT = (
    LimitedGroup("sign-in", ("/connect/", "/launch/"), Limit(3, 60), json=False),
    LimitedGroup("webhooks", ("/webhooks/",), Limit(2, 60), json=True),
)


class FakeTime:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tight_app(make_app: MakeApp, counter: InProcessCounter | RedisCounter | None = None, **changes: Any) -> Flask:
    app = make_app(test_config={CONFIG_KEY: TIGHT}, **changes)
    if counter is not None:
        app.extensions[EXTENSION] = counter
    return app


def test_sign_in_flood_gets_429_with_retry_after(make_app: MakeApp) -> None:
    clock = FakeTime()
    client = tight_app(make_app, InProcessCounter(clock)).test_client()
    for _ in range(3):
        assert client.get("/connect/quickbooks").status_code in (302, 503)
    refused = client.get("/connect/xero/callback?state=x&code=y")  # one budget for every sign-in path
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert refused.headers["Content-Security-Policy"]  # still a page of ours, headers and all
    assert client.get("/launch/quickbooks").status_code == 429
    assert client.get("/healthz").status_code == 200  # other pages are not limited

    clock.now += 60
    assert client.get("/connect/quickbooks").status_code != 429  # a new window


def test_each_address_has_its_own_budget(make_app: MakeApp) -> None:
    client = tight_app(make_app, InProcessCounter(FakeTime())).test_client()
    for _ in range(4):
        client.get("/connect/quickbooks", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert client.get("/connect/quickbooks", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 429
    assert client.get("/connect/quickbooks", environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code != 429


def test_webhook_flood_gets_json_429_before_any_work(make_app: MakeApp) -> None:
    app = tight_app(make_app, InProcessCounter(FakeTime()))
    client = app.test_client()
    answers = [client.post("/webhooks/quickbooks", data=b"{}", headers={"intuit-signature": "bad"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[2].get_json()["error"] == "too many requests"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_forwarded_for_is_believed_only_behind_a_trusted_proxy(make_app: MakeApp) -> None:
    for proxies, limited in ((0, True), (1, False)):
        app = tight_app(make_app, InProcessCounter(FakeTime()), trusted_proxies=proxies)
        client = app.test_client()
        for n in range(4):  # a new forged address each time
            response = client.get("/connect/quickbooks", headers={"X-Forwarded-For": f"192.0.2.{n}"})
        assert (response.status_code == 429) is limited


def test_in_process_windows_forget_old_addresses() -> None:
    clock = FakeTime()
    counter = InProcessCounter(clock, sweep_seconds=10)
    limit = Limit(1, 10)
    for n in range(100):
        counter.hit(f"k{n}", limit)
    clock.now += 20
    counter.hit("fresh", limit)
    assert len(counter._windows) == 1  # noqa: SLF001 - bounded memory is the point of the test


@pytest.mark.redis
def test_redis_counter_is_shared_between_processes(make_app: MakeApp) -> None:
    Redis.from_url(REDIS_URL).ping()  # an unreachable server is a failure here, not a skip
    prefix = f"arpilot-test-ratelimit-{uuid.uuid4().hex}"
    clock = FakeTime()
    first, second = (tight_app(make_app, RedisCounter(REDIS_URL, clock, prefix=prefix)).test_client() for _ in range(2))
    statuses = [client.get("/connect/quickbooks").status_code for client in (first, second, first, second)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429  # two "web workers", one budget
    clock.now += 60
    assert first.get("/connect/quickbooks").status_code != 429
    connection = Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(match=f"{prefix}*"):
        connection.delete(key)


def test_app_uses_redis_when_redis_url_is_set(make_app: MakeApp) -> None:
    app = make_app(redis_url=REDIS_URL)
    assert isinstance(app.extensions[EXTENSION], RedisCounter)
    assert isinstance(make_app().extensions[EXTENSION], InProcessCounter)


def test_an_unreachable_redis_lets_requests_through(make_app: MakeApp, caplog: pytest.LogCaptureFixture) -> None:
    client = tight_app(make_app, RedisCounter("redis://127.0.0.1:1/0")).test_client()  # nothing listens there
    assert all(client.get("/connect/quickbooks").status_code != 429 for _ in range(5))
    assert "Redis is unavailable" in caplog.text


@pytest.mark.parametrize("value", ["one", "-1", "1.5"])
def test_trusted_proxies_must_be_a_whole_number(tmp_path, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="ARPILOT_TRUSTED_PROXIES must be a whole number"):
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_TRUSTED_PROXIES": value})
    assert load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
