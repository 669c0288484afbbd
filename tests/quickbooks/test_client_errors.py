"""One test per documented QuickBooks error, through python-quickbooks' real HTTP calls (responses)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from connectors.contract import (
    AuthExpired,
    Conflict,
    Note,
    NotFound,
    ProviderValidationError,
    RateLimited,
    Transient,
)
from connectors.quickbooks.errors import ERROR_TABLE, Outcome
from connectors.quickbooks.limiter import Limits
from tests.quickbooks.helpers import (
    COMPANY,
    FakeClock,
    MemoryTokens,
    customer_json,
    fault,
    invoice_json,
    make_connector,
)

INVOICE_URL = f"{COMPANY}/invoice/130"
WRITE_URL = f"{COMPANY}/invoice"


def _invoice(**fields: object) -> dict:
    return {"Invoice": invoice_json(**fields), "time": "2026-11-23T08:00:00.000-08:00"}


@responses.activate
def test_401_refreshes_once_and_retries_with_the_new_token() -> None:
    tokens = MemoryTokens()
    responses.get(INVOICE_URL, status=401, body="")
    responses.get(INVOICE_URL, json=_invoice())
    invoice = make_connector(tokens).get_invoice("130")
    assert invoice.provider_id == "130"
    assert tokens.refreshes == ["token-1"]
    assert [c.request.headers["Authorization"] for c in responses.calls] == ["Bearer token-1", "Bearer token-2"]


@responses.activate
def test_a_second_401_after_a_working_refresh_is_retried_once_more() -> None:
    """Issue 15.8: two 401s in a row, with a refresh that worked between them, are not a dead grant."""
    tokens = MemoryTokens()
    responses.get(INVOICE_URL, status=401, body="")
    responses.get(
        INVOICE_URL, status=401, json=fault("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401")
    )
    responses.get(INVOICE_URL, json=_invoice())
    assert make_connector(tokens).get_invoice("130").provider_id == "130"
    assert tokens.refreshes == ["token-1", "token-2"]
    assert [c.request.headers["Authorization"] for c in responses.calls] == [
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-3",
    ]


@responses.activate
def test_401_after_two_working_refreshes_is_auth_expired() -> None:
    tokens = MemoryTokens()
    responses.get(
        INVOICE_URL, status=401, json=fault("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401")
    )
    with pytest.raises(AuthExpired):
        make_connector(tokens).get_invoice("130")
    assert len(tokens.refreshes) == 2 and len(responses.calls) == 3


@responses.activate
def test_401_with_a_revoked_grant_is_auth_expired_without_retrying() -> None:
    responses.get(INVOICE_URL, status=401, body="")
    with pytest.raises(AuthExpired, match="invalid_grant"):
        make_connector(MemoryTokens(revoked=True)).get_invoice("130")
    assert len(responses.calls) == 1


@pytest.mark.parametrize("status", [429, 400])
@responses.activate
def test_throttle_fault_3001_waits_sixty_seconds_and_retries(status: int) -> None:
    clock = FakeClock()
    responses.get(
        INVOICE_URL, status=status, json=fault("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429")
    )
    responses.get(INVOICE_URL, json=_invoice())
    assert make_connector(clock=clock).get_invoice("130").provider_id == "130"
    assert sum(clock.slept) >= 60 and len(responses.calls) == 2


@responses.activate
def test_429_without_a_fault_body_is_still_throttling() -> None:
    clock = FakeClock()
    responses.get(INVOICE_URL, status=429, body="Too Many Requests")
    responses.get(INVOICE_URL, json=_invoice())
    make_connector(clock=clock, throttle_wait=5).get_invoice("130")
    assert sum(clock.slept) == pytest.approx(5)


@responses.activate
def test_a_429_storm_ends_in_rate_limited() -> None:
    clock = FakeClock()
    responses.get(INVOICE_URL, status=429, json=fault("3001", "ThrottleExceeded"))
    with pytest.raises(RateLimited) as caught:
        make_connector(clock=clock, max_throttle_retries=3).get_invoice("130")
    assert len(responses.calls) == 4 and caught.value.retry_after == 60
    assert sum(clock.slept) >= 180


@responses.activate
def test_stale_sync_token_5010_rereads_and_retries_once() -> None:
    responses.get(INVOICE_URL, json=_invoice(SyncToken="0"))
    responses.get(INVOICE_URL, json=_invoice(SyncToken="1", PrivateNote="owner edit"))
    responses.post(WRITE_URL, status=400, json=fault("5010", "Stale Object Error"))
    responses.post(WRITE_URL, json=_invoice(SyncToken="2"))
    ref = make_connector().add_invoice_note("130", Note("Reminder 1 sent", "a-17"), "key-17")
    assert ref == "invoice/130/note/a-17"
    writes = [c.request for c in responses.calls if c.request.method == "POST"]
    second = json.loads(writes[1].body)
    assert second == {
        "Id": "130",
        "SyncToken": "1",
        "sparse": True,
        "PrivateNote": "owner edit\n[arpilot 2026-11-23 a-17] Reminder 1 sent",
    }
    assert "requestid=key-17" in writes[0].url and "requestid=key-17~1" in writes[1].url


@responses.activate
def test_stale_sync_token_twice_is_conflict() -> None:
    responses.get(INVOICE_URL, json=_invoice())
    responses.post(WRITE_URL, status=400, json=fault("5010", "Stale Object Error"))
    with pytest.raises(Conflict, match="5010"):
        make_connector().add_invoice_note("130", Note("x", "a-1"), "k")
    assert sum(c.request.method == "POST" for c in responses.calls) == 2


@responses.activate
def test_610_object_not_found() -> None:
    responses.get(
        INVOICE_URL,
        status=400,
        json=fault("610", "Object Not Found", "Something you're trying to use has been made inactive"),
    )
    with pytest.raises(NotFound, match="610"):
        make_connector().get_invoice("130")


@responses.activate
def test_6000_business_validation_is_not_retried() -> None:
    responses.post(
        f"{COMPANY}/invoice/130/send",
        status=400,
        json=fault("6000", "A business validation error has occurred", "Email address is missing"),
    )
    with pytest.raises(ProviderValidationError, match="Email address is missing"):
        make_connector().send_invoice("130", "key-1")
    assert len(responses.calls) == 1


@responses.activate
def test_6240_duplicate_term_name_finds_the_term_another_writer_created() -> None:
    customer_url = f"{COMPANY}/customer/58"
    responses.post(f"{COMPANY}/query", json={"QueryResponse": {}, "time": "t"})
    responses.post(f"{COMPANY}/term", status=400, json=fault("6240", "Duplicate Name Exists Error"))
    responses.post(
        f"{COMPANY}/query",
        json={"QueryResponse": {"Term": [{"Id": "9", "Name": "Due on the 15th", "DayOfMonthDue": 15}]}, "time": "t"},
    )
    responses.get(customer_url, json={"Customer": customer_json(), "time": "t"})
    responses.post(
        f"{COMPANY}/customer", json={"Customer": customer_json(SyncToken="1", SalesTermRef={"value": "9"}), "time": "t"}
    )
    assert make_connector().set_mid_month_terms("58", 15, "key-mm") == "term/9"
    body = json.loads(responses.calls[-1].request.body)
    assert body == {"Id": "58", "SyncToken": "0", "sparse": True, "SalesTermRef": {"value": "9"}}


@responses.activate
def test_6240_with_no_term_to_find_is_a_validation_error() -> None:
    responses.post(f"{COMPANY}/query", json={"QueryResponse": {}, "time": "t"})
    responses.post(f"{COMPANY}/term", status=400, json=fault("6240", "Duplicate Name Exists Error"))
    with pytest.raises(ProviderValidationError, match="6240"):
        make_connector().set_mid_month_terms("58", 15, "key-mm")


@responses.activate
def test_500_is_retried_with_backoff_then_transient() -> None:
    clock = FakeClock()
    responses.get(INVOICE_URL, status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(Transient, match="503"):
        make_connector(clock=clock, max_transient_retries=3).get_invoice("130")
    assert len(responses.calls) == 4 and clock.slept == [1, 2, 4]


@responses.activate
def test_500_then_success_recovers() -> None:
    responses.get(INVOICE_URL, status=500, body="oops")
    responses.get(INVOICE_URL, json=_invoice())
    assert make_connector().get_invoice("130").provider_id == "130"


@pytest.mark.parametrize("body", ["<html>not json</html>", json.dumps({"unexpected": {}}), "[]"])
@responses.activate
def test_malformed_body_is_transient_after_bounded_retries(body: str) -> None:
    responses.get(INVOICE_URL, body=body, content_type="application/json")
    with pytest.raises(Transient, match="malformed|json"):
        make_connector(max_transient_retries=2).get_invoice("130")
    assert len(responses.calls) == 3


@responses.activate
def test_timeout_is_transient() -> None:
    responses.get(INVOICE_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(Transient, match="timed out"):
        make_connector(max_transient_retries=1).get_invoice("130")
    assert len(responses.calls) == 2


@responses.activate
def test_connection_refused_is_transient() -> None:
    responses.get(INVOICE_URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(Transient):
        make_connector(max_transient_retries=0).get_invoice("130")


@responses.activate
def test_authorization_fault_120_is_auth_expired_without_refresh() -> None:
    tokens = MemoryTokens()
    responses.get(INVOICE_URL, status=400, json=fault("120", "Authorization Failure", kind="AuthorizationFault"))
    with pytest.raises(AuthExpired):
        make_connector(tokens).get_invoice("130")
    assert tokens.refreshes == []


def test_error_table_names_every_documented_code() -> None:
    documented = {
        ("status", 401),
        ("status", 429),
        ("status", 500),
        ("fault", 3001),
        ("fault", 3200),
        ("fault", 120),
        ("fault", 610),
        ("fault", 5010),
        ("fault", 6190),
        ("fault", 10000),
    }
    covered = {
        (r.source, code)
        for r in ERROR_TABLE
        for (source, code) in documented
        if r.source == source and r.first <= code <= r.last
    }
    assert covered == documented
    assert {r.outcome for r in ERROR_TABLE} >= {
        Outcome.REFRESH,
        Outcome.THROTTLED,
        Outcome.TRANSIENT,
        Outcome.CONFLICT,
        Outcome.NOT_FOUND,
    }


@responses.activate
def test_limiter_spaces_requests_under_the_per_second_limit() -> None:
    clock = FakeClock()
    responses.get(INVOICE_URL, json=_invoice())
    connector = make_connector(clock=clock, limits=Limits(per_minute=500, per_second=2, concurrent=2))
    for _ in range(6):
        connector.get_invoice("130")
    # One at once, then one a second: two at once and then one every half second would put three
    # calls in one second, over the limit.
    assert clock.slept == pytest.approx([1.0] * 5)


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        make_connector(base_url="http://quickbooks.example/v3")
    make_connector(base_url="http://127.0.0.1:8801/v3")
