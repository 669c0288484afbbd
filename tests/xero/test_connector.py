"""The Xero connector against a loopback server: sync, write-back, and the status -> error table."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from connectors.contract import (
    AuthExpired,
    Connector,
    Customer,
    Invoice,
    Note,
    NotFound,
    PaymentTerms,
    ProviderValidationError,
    RateLimited,
    SyncRequest,
    Transient,
)
from connectors.xero.connector import XeroConnector
from tests.xero.canned import CannedXero, Reply, problem, validation_error
from tests.xero.conftest import FakeClock, FakeTokens
from tests.xero.samples import CONTACT_ID, invoice_json, loads, uid

STARTED = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
INVOICE_1 = uid("invoice", 1)


def sync(connector: XeroConnector, entity: str, cursor: str | None = None, page_size: int = 1000) -> list:
    return list(connector.changes(SyncRequest(entity, cursor, page_size=page_size, started_at=STARTED)))


def test_it_is_a_connector(connector: XeroConnector) -> None:
    assert isinstance(connector, Connector)


def test_initial_sync_pages_through_accrec_invoices_and_stops_at_the_last_page(
    server: CannedXero, connector: XeroConnector
) -> None:
    server.invoices.append(invoice_json(9, Type="ACCPAY"))  # a bill: never synced
    pages = sync(connector, "invoice", page_size=2)
    assert [len(p.records) for p in pages] == [2, 1]
    assert [p.done for p in pages] == [False, True]
    assert all(isinstance(r, Invoice) for p in pages for r in p.records)
    gets = server.requests("GET")
    assert len(gets) == 2
    assert all("If-Modified-Since" not in e.request_headers for e in gets)
    assert ["page=1&" in gets[0].path, "page=2&" in gets[1].path] == [True, True]
    assert all("pageSize=2" in e.path and "InvoiceID+ASC" in e.path and "ACCREC" in e.path for e in gets)


def test_the_final_cursor_is_the_newest_change_capped_at_the_sync_start(
    server: CannedXero, connector: XeroConnector
) -> None:
    final = json.loads(sync(connector, "invoice")[-1].cursor)
    assert final == {"since": "2026-03-02T09:33:00.123000+00:00", "page": 1, "high_water": None}
    server.invoices.append(invoice_json(7, UpdatedDateUTC="/Date(1893456000000+0000)/"))  # 2030, after the start
    capped = json.loads(sync(connector, "invoice")[-1].cursor)
    assert capped["since"] == STARTED.isoformat()


def test_incremental_sync_sends_if_modified_since(server: CannedXero, connector: XeroConnector) -> None:
    cursor = sync(connector, "invoice")[-1].cursor
    server.recorded.clear()
    server.invoices.append(invoice_json(8, UpdatedDateUTC="/Date(1773000000000+0000)/"))
    pages = sync(connector, "invoice", cursor)
    assert server.requests()[0].request_headers["If-Modified-Since"] == "2026-03-02T09:33:00.123000+00:00"
    assert [r.provider_id for r in pages[0].records] == [uid("invoice", 3), uid("invoice", 8)]


def test_an_interrupted_sync_resumes_at_the_stored_page(server: CannedXero, connector: XeroConnector) -> None:
    first = next(iter(connector.changes(SyncRequest("invoice", None, page_size=2, started_at=STARTED))))
    server.recorded.clear()
    rest = sync(connector, "invoice", first.cursor, page_size=2)
    assert "page=2" in server.requests()[0].path
    assert [r.provider_id for r in rest[0].records] == [uid("invoice", 3)]


def test_customers_and_payments_sync(server: CannedXero, connector: XeroConnector) -> None:
    records = sync(connector, "customer")[0].records
    assert [type(r) for r in records] == [PaymentTerms, Customer]
    assert records[1].terms_id == records[0].provider_id == "DAYSAFTERBILLDATE:30"
    assert "includearchived=true" in server.requests()[0].path.lower()
    payment = sync(connector, "payment")[0].records[0]
    assert payment.applied_to[0].invoice_id == INVOICE_1


def test_unknown_entity_and_corrupt_cursor_are_typed_errors(connector: XeroConnector) -> None:
    from connectors.contract import ConnectorError

    with pytest.raises(ConnectorError, match="cannot sync"):
        sync(connector, "journals")
    with pytest.raises(ConnectorError, match="unreadable Xero sync cursor"):
        sync(connector, "invoice", "2026-01-01")


def test_get_invoice_includes_the_online_invoice_link(connector: XeroConnector) -> None:
    invoice = connector.get_invoice(INVOICE_1)
    assert invoice.pay_link == f"https://in.xero.com/{INVOICE_1}"


def test_customer_read_uses_the_organisation_currency_when_the_contact_has_none(
    server: CannedXero, connector: XeroConnector
) -> None:
    del server.contacts[CONTACT_ID]["DefaultCurrency"]
    assert connector.get_customer(CONTACT_ID).currency == "USD"
    assert any(e.path.startswith("/api.xro/2.0/Organisation") for e in server.requests("GET"))


def test_company_name_is_the_organisation_name(connector: XeroConnector) -> None:
    assert connector.company_name() == "Demo"


# --- write-back ------------------------------------------------------------------------------------


def note(action: str, text: str = "Reminder 1 sent") -> Note:
    return Note(text=text, action_id=action, on=dt.date(2026, 3, 10))


def test_history_note_carries_the_action_id_and_is_found_again(server: CannedXero, connector: XeroConnector) -> None:
    ref = connector.add_invoice_note(INVOICE_1, note("act-1"), "key-1")
    assert ref == f"history:{INVOICE_1}"
    assert server.history[INVOICE_1][0]["Details"] == "[arpilot act-1] 2026-03-10 Reminder 1 sent"
    assert connector.find_invoice_note(INVOICE_1, "act-1")
    assert not connector.find_invoice_note(INVOICE_1, "act-2")


def test_long_notes_are_cut_to_xeros_limit_keeping_the_marker(server: CannedXero, connector: XeroConnector) -> None:
    connector.add_invoice_note(INVOICE_1, note("act-long", "x" * 3000), "key-long")
    details = server.history[INVOICE_1][0]["Details"]
    assert len(details) == 2500 and details.startswith("[arpilot act-long]")


def test_batched_notes_one_call_per_invoice_and_failures_kept_per_note(
    server: CannedXero, connector: XeroConnector
) -> None:
    missing = uid("invoice", 99)
    results = connector.add_invoice_notes(
        [
            (INVOICE_1, note("a"), "ka"),
            (INVOICE_1, note("b"), "kb"),
            (missing, note("c"), "kc"),
            (uid("invoice", 2), note("d"), "kd"),
        ]
    )
    assert results["a"] == results["b"] == f"history:{INVOICE_1}"
    assert isinstance(results["c"], NotFound)
    assert results["d"] == f"history:{uid('invoice', 2)}"
    assert len(server.requests("PUT")) == 3
    assert [r["Details"][:11] for r in server.history[INVOICE_1]] == ["[arpilot a]", "[arpilot b]"]


def test_a_daily_limit_stops_a_note_batch_and_marks_the_rest(server: CannedXero, connector: XeroConnector) -> None:
    server.fail_next(Reply(429, b"", {"Retry-After": "3600", "X-Rate-Limit-Problem": "day"}, conformant=False))
    results = connector.add_invoice_notes([(INVOICE_1, note("a"), "ka"), (uid("invoice", 2), note("b"), "kb")])
    assert all(isinstance(r, RateLimited) and r.daily for r in results.values())
    assert len(server.recorded) == 1


def test_invoice_email_through_xero(server: CannedXero, connector: XeroConnector) -> None:
    assert connector.send_invoice(INVOICE_1, "key-email") == f"email:{INVOICE_1}"
    assert server.emailed == [INVOICE_1]
    email = server.requests("POST")[0]
    assert email.request_body == b"{}" and email.request_headers["Idempotency-Key"] == "key-email"


@pytest.mark.parametrize("status", ["DRAFT", "VOIDED", "DELETED"])
def test_invoice_email_refused_for_statuses_xero_will_not_email(
    server: CannedXero, connector: XeroConnector, status: str
) -> None:
    server.invoices[0]["Status"] = status
    with pytest.raises(ProviderValidationError, match="Xero emails only"):
        connector.send_invoice(INVOICE_1, "key")
    assert server.emailed == []


def test_invoice_email_refused_without_an_address(server: CannedXero, connector: XeroConnector) -> None:
    server.contacts[CONTACT_ID].update(EmailAddress="", ContactPersons=[])
    with pytest.raises(ProviderValidationError, match="no email address"):
        connector.send_invoice(INVOICE_1, "key")
    with pytest.raises(ProviderValidationError, match="own addresses"):
        server.contacts[CONTACT_ID]["EmailAddress"] = "ada@acme.example"
        connector.send_invoice(INVOICE_1, "key", to="someone@else.example")
    assert server.emailed == []


def test_mid_month_terms_send_only_the_contact_id_and_terms(server: CannedXero, connector: XeroConnector) -> None:
    assert connector.set_mid_month_terms(CONTACT_ID, 15, "key-terms") == "OFFOLLOWINGMONTH:15"
    post = server.requests("POST")[0]
    assert loads(post.request_body) == {
        "Contacts": [{"ContactID": CONTACT_ID, "PaymentTerms": {"Sales": {"Day": 15, "Type": "OFFOLLOWINGMONTH"}}}]
    }
    assert connector.get_customer(CONTACT_ID).terms_id == "OFFOLLOWINGMONTH:15"


def test_credit_hold_creates_the_group_once_joins_and_leaves(server: CannedXero, connector: XeroConnector) -> None:
    assert not connector.customer_on_hold(CONTACT_ID)
    connector.set_credit_hold(CONTACT_ID, True, note("hold-1", "Credit hold: 61+ days overdue"), "key-hold")
    assert connector.customer_on_hold(CONTACT_ID)
    fresh = XeroConnector(tenant_id=connector.client.tenant_id, tokens=FakeTokens(server), base_url=server.base_url)
    fresh.set_credit_hold(CONTACT_ID, True, note("hold-2"), "key-hold-2")
    assert len(server.groups) == 1 and next(iter(server.groups.values()))["Name"] == "Credit hold"
    connector.set_credit_hold(CONTACT_ID, False, note("release-1", "Released: balance cleared"), "key-release")
    assert not connector.customer_on_hold(CONTACT_ID)
    assert [h["Details"][:19] for h in server.history[CONTACT_ID]] == [
        "[arpilot hold-1] 20",
        "[arpilot hold-2] 20",
        "[arpilot release-1]",
    ]
    assert [e.method for e in server.requests() if "/ContactGroups/" in e.path] == ["PUT", "PUT", "DELETE"]


def test_every_write_carries_an_idempotency_key(server: CannedXero, connector: XeroConnector) -> None:
    connector.add_invoice_note(INVOICE_1, note("n"), "key-note")
    connector.send_invoice(INVOICE_1, "key-email")
    connector.set_mid_month_terms(CONTACT_ID, 15, "key-terms")
    connector.set_credit_hold(CONTACT_ID, True, note("h"), "key-hold")
    writes = [e for e in server.requests() if e.method in ("PUT", "POST")]
    assert len(writes) == 6
    keys = [e.request_headers.get("Idempotency-Key") for e in writes]
    assert all(keys) and len(set(keys)) == len(keys)
    assert {"key-note", "key-email", "key-terms", "key-hold"} <= set(keys)


# --- one test per status: the table of typed errors -------------------------------------------------


def test_400_is_a_validation_error_with_xeros_first_message(server: CannedXero, connector: XeroConnector) -> None:
    server.fail_next(validation_error("Invoice not of valid status for modification"))
    with pytest.raises(ProviderValidationError, match="^Invoice not of valid status for modification$"):
        connector.add_invoice_note(INVOICE_1, note("x"), "k")


def test_401_refreshes_once_then_succeeds(server: CannedXero, connector: XeroConnector, tokens: FakeTokens) -> None:
    server.valid_tokens = set()  # tok-1 has expired at Xero
    assert connector.get_invoice(INVOICE_1).provider_id == INVOICE_1
    assert tokens.refreshes == ["tok-1"]
    assert [e.request_headers["Authorization"] for e in server.requests()][:2] == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_after_a_working_refresh_is_retried_once_more(
    server: CannedXero,
    connector: XeroConnector,
    tokens: FakeTokens,
) -> None:
    """Issue 15.8: two 401s in a row, with a refresh that worked between them, are not a dead grant."""
    server.fail_next(
        problem(401, "Unauthorized", "AuthenticationUnsuccessful"),
        problem(401, "Unauthorized", "AuthenticationUnsuccessful"),
    )
    assert connector.get_invoice(INVOICE_1).provider_id == INVOICE_1
    assert tokens.refreshes == ["tok-1", "tok-2"]
    assert [e.request_headers["Authorization"] for e in server.requests()][:3] == [
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-3",
    ]


def test_401_after_two_working_refreshes_is_auth_expired(
    server: CannedXero, connector: XeroConnector, tokens: FakeTokens
) -> None:
    server.fail_next(*[problem(401, "Unauthorized", "AuthenticationUnsuccessful")] * 3)
    with pytest.raises(AuthExpired, match="401"):
        connector.get_invoice(INVOICE_1)
    assert tokens.refreshes == ["tok-1", "tok-2"] and len(server.recorded) == 3


def test_403_means_the_organisation_was_disconnected_inside_xero(server: CannedXero, connector: XeroConnector) -> None:
    server.fail_next(problem(403, "Forbidden", "AuthenticationUnsuccessful"))
    with pytest.raises(AuthExpired, match="disconnected inside Xero"):
        connector.get_invoice(INVOICE_1)


def test_404_is_not_found(connector: XeroConnector) -> None:
    with pytest.raises(NotFound):
        connector.get_invoice(uid("invoice", 404))


def test_429_minute_waits_retry_after_then_succeeds(
    server: CannedXero, connector: XeroConnector, clock: FakeClock
) -> None:
    server.fail_next(Reply(429, b"", {"Retry-After": "17", "X-Rate-Limit-Problem": "minute"}, conformant=False))
    assert connector.get_invoice(INVOICE_1).provider_id == INVOICE_1
    assert clock.sleeps == [17.0]


def test_429_minute_gives_up_after_bounded_waits(
    server: CannedXero, connector: XeroConnector, clock: FakeClock
) -> None:
    limited = Reply(429, b"", {"Retry-After": "5", "X-Rate-Limit-Problem": "minute"}, conformant=False)
    server.fail_next(*[limited] * 4)
    with pytest.raises(RateLimited) as caught:
        connector.get_invoice(INVOICE_1)
    assert not caught.value.daily and caught.value.retry_after == 5 and clock.sleeps == [5.0] * 3


def test_429_day_stops_at_once(server: CannedXero, connector: XeroConnector, clock: FakeClock) -> None:
    server.fail_next(Reply(429, b"", {"Retry-After": "43200", "X-Rate-Limit-Problem": "day"}, conformant=False))
    with pytest.raises(RateLimited) as caught:
        connector.get_invoice(INVOICE_1)
    assert caught.value.daily and caught.value.retry_after == 43200
    assert clock.sleeps == [] and len(server.recorded) == 1


def test_500_is_retried_with_backoff_then_transient(
    server: CannedXero, connector: XeroConnector, clock: FakeClock
) -> None:
    server.fail_next(*[problem(500, "Internal Server Error", "boom")] * 3)
    with pytest.raises(Transient, match="500"):
        connector.get_invoice(INVOICE_1)
    assert clock.sleeps == [0.5, 1.0] and len(server.recorded) == 3


def test_a_500_then_success_recovers(server: CannedXero, connector: XeroConnector) -> None:
    server.fail_next(problem(503, "Service Unavailable", "busy"))
    assert connector.get_invoice(INVOICE_1).provider_id == INVOICE_1


def test_malformed_json_is_transient_after_retries(server: CannedXero, connector: XeroConnector) -> None:
    garbage = Reply(200, b'{"Invoices": [', {"Content-Type": "application/json"}, conformant=False)
    server.fail_next(garbage, garbage, garbage)
    with pytest.raises(Transient, match="not JSON"):
        connector.get_invoice(INVOICE_1)


def test_unreachable_server_is_transient(tokens: FakeTokens, clock: FakeClock) -> None:
    from connectors.xero.client import RetryPolicy
    from connectors.xero.limiter import XeroLimiter

    with CannedXero() as gone:
        url = gone.base_url
    dead = XeroConnector(
        tenant_id="t",
        tokens=tokens,
        base_url=url,
        clock=clock,
        limiter=XeroLimiter(clock=clock),
        retry=RetryPolicy(timeout=(0.5, 0.5)),
    )
    with pytest.raises(Transient, match="could not reach Xero"):
        dead.get_invoice(INVOICE_1)
