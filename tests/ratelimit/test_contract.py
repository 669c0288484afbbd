"""The LimitStore contract: every test runs against the in-process store and the Redis store."""

from __future__ import annotations

import pytest

from connectors.quickbooks.limiter import Limits, RealmLimiter
from connectors.ratelimit import PAUSED, Charge, LimitStore, Quota, Rate, Wait, Window
from tests.quickbooks.helpers import FakeClock
from tests.ratelimit.windows import assert_one_more_waits, most_in_any_window

MINUTE = Rate("minute", 10, 60.0, burst=3)  # 3 at once, then 7 a minute
DAY = Quota("day", 2, 86_400.0)
SLIDING = Window("minute", 4, 60.0)  # any 4 at once, never 5 in 60 seconds


def test_a_bucket_lets_its_burst_through_then_says_how_long_to_wait(store: LimitStore, now: FakeClock) -> None:
    charge = [Charge("realm-1", MINUTE)]
    assert [store.take(charge) for _ in range(3)] == [Wait(0.0)] * 3
    refused = store.take(charge)
    assert refused.limit == "minute" and refused.seconds == pytest.approx(60 / 7)
    now.sleep(refused.seconds)
    assert store.take(charge).taken
    assert not store.take(charge).taken  # the refusals took nothing; the refill was one token


def test_keys_have_their_own_buckets(store: LimitStore) -> None:
    for key in ("realm-1", "realm-2"):
        assert all(store.take([Charge(key, MINUTE)]).taken for _ in range(3))


def test_a_take_is_all_or_nothing_across_its_charges(store: LimitStore) -> None:
    tight = Rate("appminute", 3, 60.0, burst=1)
    assert store.take([Charge("tenant-1", MINUTE), Charge("app", tight)]).taken
    refused = store.take([Charge("tenant-2", MINUTE), Charge("app", tight)])
    assert refused.limit == "appminute" and refused.seconds == pytest.approx(30.0)
    # tenant-2's minute bucket was not touched by the refused take: its whole burst is still there.
    assert all(store.take([Charge("tenant-2", MINUTE)]).taken for _ in range(3))


def test_a_charge_may_cost_more_than_one(store: LimitStore) -> None:
    batch = Charge("realm-1", MINUTE, cost=3)
    assert store.take([batch]).taken
    assert store.take([batch]).seconds == pytest.approx(3 * 60 / 7)
    with pytest.raises(ValueError, match="never pass"):
        Charge("realm-1", MINUTE, cost=4)


def test_a_quota_resets_when_the_providers_day_turns(store: LimitStore, now: FakeClock) -> None:
    charge = [Charge("tenant-1", DAY)]
    assert store.take(charge).taken and store.take(charge).taken
    refused = store.take(charge)
    assert refused.limit == "day" and refused.seconds == pytest.approx(12 * 3600)  # 12:00 UTC to midnight
    now.sleep(12 * 3600 - 1)
    assert not store.take(charge).taken
    now.sleep(1)
    assert store.take(charge).taken


def test_a_pause_holds_every_charge_of_its_key_and_is_never_shortened(store: LimitStore, now: FakeClock) -> None:
    store.pause("realm-1", 60)
    store.pause("realm-1", 5)
    assert store.take([Charge("realm-1", MINUTE)]) == Wait(pytest.approx(60.0), PAUSED)  # type: ignore[arg-type]
    assert store.take([Charge("realm-2", MINUTE)]).taken
    now.sleep(60)
    assert store.take([Charge("realm-1", MINUTE)]).taken


def test_hammering_a_realm_keeps_every_documented_window(store: LimitStore, now: FakeClock) -> None:
    limiter = RealmLimiter(Limits(), sleep=now.sleep, store=store, realm_id="123")
    times = []
    while len(times) < 1500:  # three minutes' worth at 500 a minute
        with limiter.slot():
            times.append(now())
    assert most_in_any_window(times, 60.0) <= 500
    assert most_in_any_window(times, 1.0) <= 10
    # And it was not starved: the bucket keeps back only its burst (a batch's 30), so 470 a minute.
    assert len(times) / ((times[-1] - times[0]) / 60) >= 470


def test_batches_count_each_item_against_the_minute(store: LimitStore, now: FakeClock) -> None:
    limiter = RealmLimiter(Limits(), sleep=now.sleep, store=store, realm_id="123")
    items = []
    for _ in range(40):
        with limiter.slot(batch_items=30):
            items.append((now(), 30))
    expanded = [at for at, count in items for _ in range(count)]
    assert most_in_any_window(expanded, 60.0) <= 500


def test_a_slot_admits_at_most_its_maximum(store: LimitStore) -> None:
    assert_one_more_waits(lambda key: store.slot(key, 2), 2)


def test_a_window_lets_its_whole_maximum_through_then_waits_for_the_oldest_call_to_leave(
    store: LimitStore, now: FakeClock
) -> None:
    charge = [Charge("tenant-1", SLIDING)]
    assert store.take(charge).taken and store.take(charge).taken
    now.sleep(10)
    assert store.take(charge).taken and store.take(charge).taken
    refused = store.take(charge)
    assert refused.limit == "minute" and refused.seconds == pytest.approx(50.0)  # the first call leaves at 60 s
    now.sleep(50)
    assert store.take(charge).taken and store.take(charge).taken  # both of the first two have left
    assert store.take(charge).seconds == pytest.approx(10.0)  # the next leaves with the calls made at 10 s


def test_a_window_charge_of_several_waits_until_that_many_have_left(store: LimitStore, now: FakeClock) -> None:
    for _ in range(4):
        assert store.take([Charge("tenant-1", SLIDING)]).taken
        now.sleep(5)
    assert store.take([Charge("tenant-1", SLIDING, cost=3)]).seconds == pytest.approx(60 - 20 + 10)
    with pytest.raises(ValueError, match="never pass"):
        Charge("tenant-1", SLIDING, cost=5)


def test_hammering_a_window_keeps_it_and_spends_it_whole(store: LimitStore, now: FakeClock) -> None:
    times = []
    while len(times) < 300:
        wait = store.take([Charge("tenant-1", Window("minute", 60, 60.0))])
        if wait.taken:
            times.append(now())
            now.sleep(0.1)  # each call's latency
        else:
            now.sleep(wait.seconds)
    assert most_in_any_window(times, 60.0) == 60
    assert times[-1] - times[0] == pytest.approx(4 * 60 + 59 * 0.1)  # five minutes' worth, each at full speed
