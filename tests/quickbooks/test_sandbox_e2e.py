"""End to end: the connector and the mirror sync against the QuickBooks sandbox on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from connectors.contract import Note, ProviderValidationError
from connectors.quickbooks.connector import CREDIT_HOLD_TERM, QuickBooksConnector
from connectors.quickbooks.limiter import Limits, RealmLimiter
from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
from connectors.sandbox import SandboxServer
from connectors.sandbox.scenario import (
    Scenario,
    ScenarioCompany,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)
from integration.cycle.sync import sync_connection
from integration.store.db import transaction
from integration.store.models import Connection, MirroredCustomer, MirroredInvoice, MirroredPayment
from tests.conftest import add_connection
from tests.quickbooks.helpers import FakeClock

AS_OF = dt.date(2026, 11, 23)
ODD_NAME = "O'Brien\\Sons"


def scenario() -> Scenario:
    customers = (
        ScenarioCustomer("cust-01", "Acme Plumbing", "ap@acme.example", "+1-555-0101", "USD", 30),
        ScenarioCustomer("cust-02", ODD_NAME, "ap@obrien.example", None, "USD", 15),
        ScenarioCustomer("cust-03", "Cobalt Dental", None, None, "USD", 30),
    )

    def invoice(n: int, customer: str, days_ago: int, amount: str) -> ScenarioInvoice:
        issued = AS_OF - dt.timedelta(days=days_ago)
        return ScenarioInvoice(
            f"inv-{n}",
            str(n),
            customer,
            issued,
            issued + dt.timedelta(days=30),
            "USD",
            (ScenarioLine("Monthly maintenance", Decimal(amount)),),
        )

    invoices = tuple(invoice(1000 + n, f"cust-0{1 + n % 3}", 5 + n * 7, f"{100 + n}.{n:02d}") for n in range(1, 8))
    payments = (
        ScenarioPayment("pay-1", "cust-02", AS_OF - dt.timedelta(days=3), "USD", (("inv-1001", Decimal("50.00")),)),
    )
    return Scenario(
        ScenarioCompany("Harbor & Pine Landscaping", "America/Denver", "USD"), AS_OF, customers, invoices, payments
    )


@dataclass
class Sandbox:
    base_url: str
    realm: str

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = requests.request(method, f"{self.base_url}/_sandbox{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
        assert response.status_code < 300, response.text
        return response

    def company(self, path: str) -> dict:
        return self.admin("GET", f"/companies/{self.realm}{path}").json()

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.admin("GET", "/clock").json()["now"])


class SandboxTokens:
    """An AccessTokenSource that mints tokens through the sandbox's admin API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = self._mint()
        self.refreshes = 0

    def _mint(self) -> str:
        return self.sandbox.admin("POST", "/tokens", json={"realm_id": self.sandbox.realm}).json()["access_token"]

    def access_token(self) -> str:
        return self.token

    def refreshed(self, stale_access_token: str) -> str:
        self.refreshes += 1
        if stale_access_token == self.token:
            self.token = self._mint()
        return self.token


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    app = create_app(QboSandboxConfig(), scenario=scenario())
    server = SandboxServer(app)
    base_url = server.start()
    try:
        yield Sandbox(base_url, next(iter(app.extensions["qbo_sandbox"].companies)))
    finally:
        server.stop()


def connector_for(
    sandbox: Sandbox, clock: FakeClock | None = None, limits: Limits = Limits(), **options: object
) -> QuickBooksConnector:
    clock = clock or FakeClock()
    return QuickBooksConnector(
        sandbox.realm,
        SandboxTokens(sandbox),
        home_currency="USD",
        base_url=f"{sandbox.base_url}/v3",
        limiter=RealmLimiter(limits, clock, clock.sleep),
        sleep=clock.sleep,
        today=lambda: AS_OF,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def connection_id(sessions) -> int:  # type: ignore[no-untyped-def]
    return add_connection(sessions, "realm")


def mirrored(sessions, model):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return {row.provider_id: row for row in session.scalars(select(model))}


def test_company_name_is_read_from_company_info(sandbox: Sandbox) -> None:
    assert connector_for(sandbox).company_name() == "Harbor & Pine Landscaping"


def test_full_then_incremental_sync_mirrors_the_company(sandbox: Sandbox, sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    ids = sandbox.company("/ids")
    connector = connector_for(sandbox)
    first = sync_connection(sessions, connection_id, connector, sandbox.now())
    assert first.upserted == {"customer": 3, "invoice": 7, "payment": 1, "credit_memo": 0}
    invoices = mirrored(sessions, MirroredInvoice)
    target = ids["invoices"]["inv-1001"]
    assert invoices[target].balance == Decimal("51.01") and invoices[target].total == Decimal("101.01")
    customers = mirrored(sessions, MirroredCustomer)
    assert customers[ids["customers"]["cust-02"]].name == ODD_NAME
    assert customers[ids["customers"]["cust-03"]].email is None

    sandbox.admin("POST", "/clock", json={"advance_seconds": 3600})
    sandbox.admin("POST", f"/companies/{sandbox.realm}/payments", json={"invoice": "inv-1002", "amount": "10.00"})
    sandbox.admin("POST", "/clock", json={"advance_seconds": 3600})
    second = sync_connection(sessions, connection_id, connector, sandbox.now())
    assert second.upserted["invoice"] == 1 and second.upserted["payment"] == 1
    assert mirrored(sessions, MirroredInvoice)[ids["invoices"]["inv-1002"]].balance == Decimal("92.02")
    assert len(mirrored(sessions, MirroredPayment)) == 2
    counts = sandbox.admin("GET", "/requests").json()["requests"]
    cdc = sum(n for endpoint, n in counts.items() if endpoint.startswith("GET ") and endpoint.endswith("/cdc"))
    # One ChangeDataCapture call per entity (customer, invoice, payment, credit_memo), no queries; the
    # first was refused (the access token expired while the clock moved 2 h), refreshed once and repeated.
    assert cdc == 5 and connector.client._tokens.refreshes == 1


def test_every_write_back_is_visible_in_the_sandbox(sandbox: Sandbox) -> None:
    ids = sandbox.company("/ids")
    connector = connector_for(sandbox)
    invoice_id = ids["invoices"]["inv-1002"]
    odd = ids["customers"]["cust-02"]

    connector.add_invoice_note(invoice_id, Note("Reminder 1 sent to ap@acme.example", "a-1"), "key-a-1")
    connector.add_invoice_note(
        invoice_id, Note("Reminder 1 sent to ap@acme.example", "a-1"), "key-a-1"
    )  # repeat: no-op
    assert connector.find_invoice_note(invoice_id, "a-1")
    assert (
        sandbox.company("/notes")["invoices"][invoice_id]
        == "[arpilot 2026-11-23 a-1] Reminder 1 sent to ap@acme.example"
    )

    batch = connector.add_invoice_notes(
        [(ids["invoices"][f"inv-100{n}"], Note(f"Past due {n}", f"b-{n}"), f"key-b-{n}") for n in range(3, 8)]
    )
    assert all(isinstance(ref, str) for ref in batch.values()), batch
    assert sum("Past due" in note for note in sandbox.company("/notes")["invoices"].values()) == 5

    with pytest.raises(ProviderValidationError, match="BillEmail"):  # its customer has no email address
        connector.send_invoice(invoice_id, "key-send-0")
    emailed = ids["invoices"]["inv-1001"]
    connector.send_invoice(emailed, "key-send-1")
    assert [e["invoice_id"] for e in sandbox.company("/emails")["emails"]] == [emailed]

    assert connector.set_mid_month_terms(odd, 15, "key-mm-1") == connector.set_mid_month_terms(
        ids["customers"]["cust-01"], 15, "key-mm-2"
    )
    assert sandbox.company("/customer-terms")[odd]["name"] == "Due on the 15th"
    assert [t["Name"] for t in sandbox.company("/terms")["terms"]].count("Due on the 15th") == 1  # created once, reused

    connector.set_credit_hold(odd, True, Note("61+ days overdue", "h-1"), "key-hold-1")
    assert connector.customer_on_hold(odd)
    assert sandbox.company("/customer-terms")[odd]["name"] == CREDIT_HOLD_TERM
    assert "[arpilot credit hold since 2026-11-23" in sandbox.company("/notes")["customers"][odd]
    connector.set_credit_hold(odd, False, Note("balance cleared", "h-2"), "key-hold-2")
    assert not connector.customer_on_hold(odd)
    assert sandbox.company("/customer-terms")[odd]["name"] == "Due on the 15th"
    # The books say when the hold came off and why, in place of the marker.
    assert sandbox.company("/notes")["customers"][odd] == (
        "[arpilot credit hold released 2026-11-23 (on hold since 2026-11-23); h-2] balance cleared"
    )


def test_customer_with_apostrophe_and_backslash_is_found_by_name(sandbox: Sandbox) -> None:
    connector = connector_for(sandbox)
    from connectors.quickbooks import queries

    found = connector.client.query(queries.by_name("Customer", "DisplayName", ODD_NAME))["QueryResponse"]["Customer"]
    assert [c["DisplayName"] for c in found] == [ODD_NAME]


def test_a_429_storm_is_waited_out(sandbox: Sandbox, sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("POST", "/limits", json={"requests_per_minute": 1})
    clock = FakeClock()
    throttled: list[float] = []
    connector = connector_for(sandbox, clock, throttle_wait=0.01, max_throttle_retries=1000)
    real_pause = connector.client._limiter.pause

    def pause(seconds: float) -> None:  # the sandbox's minute is real time: let it pass quickly
        throttled.append(seconds)
        sandbox.admin("POST", "/clock", json={"advance_seconds": 61})
        real_pause(seconds)

    connector.client._limiter.pause = pause  # type: ignore[method-assign]
    result = sync_connection(sessions, connection_id, connector, sandbox.now())
    assert result.upserted == {"customer": 3, "invoice": 7, "payment": 1, "credit_memo": 0}
    assert throttled, "the sandbox never throttled"
    assert sandbox.admin("GET", "/requests").json()["throttled_total"] == len(throttled)


def test_get_invoices_reads_many_in_one_query_and_leaves_out_the_unknown(sandbox: Sandbox) -> None:
    ids = sandbox.company("/ids")["invoices"]
    connector = connector_for(sandbox)
    wanted = [ids["inv-1002"], ids["inv-1003"], "999999", ids["inv-1002"]]
    found = connector.get_invoices(wanted)
    assert sorted(found) == sorted([ids["inv-1002"], ids["inv-1003"]])
    single = connector.get_invoice(ids["inv-1003"])
    assert found[ids["inv-1003"]] == single  # the same record a single read gives, pay link and all
    assert connector.get_invoices([]) == {}
