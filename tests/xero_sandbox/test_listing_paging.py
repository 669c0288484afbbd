"""A listing page is what the plain evaluation (every record's facts, If-Modified-Since, where,
order, then the page) gives, though the organisation keeps its records in change order with facts
computed when read and remembered until the next write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from connectors.sandbox.scenario.generator import generate_demo_company
from connectors.xero.sandbox import XeroSandboxConfig, create_app
from connectors.xero.sandbox.listing import ListRequest, select
from connectors.xero.sandbox.org import CONTACT_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS, Organisation
from connectors.xero.sandbox.where import matcher, sort_rows
from connectors.xero.sandbox.writes import record_payments

KINDS = {"invoices": INVOICE_FIELDS, "contacts": CONTACT_FIELDS, "payments": PAYMENT_FIELDS}


def plain(
    org: Organisation, kind: str, keep: Callable[[dict[str, Any]], bool], query: ListRequest
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    records = {"invoices": org.invoices, "contacts": org.contacts, "payments": org.payments}[kind]
    facts = {"invoices": org.invoice_facts, "contacts": org.contact_facts, "payments": org.payment_facts}[kind]
    rows: list[tuple[dict[str, Any], Mapping[str, Any]]] = [(r, dict(facts(r))) for r in records.values() if keep(r)]
    if query.modified_since is not None:
        rows = [(r, f) for r, f in rows if f["UpdatedDateUTC"] >= query.modified_since]
    if query.where:
        test = matcher(query.where, KINDS[kind])
        rows = [(r, f) for r, f in rows if test(f)]
    if query.order:
        by_fact = {id(f): r for r, f in rows}
        rows = [(by_fact[id(f)], f) for f in sort_rows([f for _, f in rows], query.order, KINDS[kind])]
    if query.page is None:
        return [r for r, _ in rows], None
    start = (query.page - 1) * query.page_size
    return [r for r, _ in rows[start : start + query.page_size]], {
        "page": query.page,
        "pageSize": query.page_size,
        "pageCount": -(-len(rows) // query.page_size),
        "itemCount": len(rows),
    }


def requests_for(since: dt.datetime) -> list[tuple[str, ListRequest]]:
    by_update = "UpdatedDateUTC ASC"
    return [
        *(
            (
                "invoices",
                ListRequest(where='Type=="ACCREC"', order=by_update, page=page, page_size=7, modified_since=since),
            )
            for page in (1, 2, 3, 500)
        ),
        ("invoices", ListRequest(order="UpdatedDateUTC", page=2, page_size=50)),
        (
            "invoices",
            ListRequest(where='Status=="AUTHORISED" AND AmountDue > 100', order="DueDate DESC, InvoiceNumber"),
        ),
        ("invoices", ListRequest(order="UpdatedDateUTC DESC", page=1, page_size=25)),
        ("invoices", ListRequest(modified_since=since)),
        ("invoices", ListRequest(where='Status=="PAID"', page=3, page_size=10)),
        ("contacts", ListRequest(order=by_update, page=1, page_size=10, modified_since=since)),
        ("contacts", ListRequest(order="Name")),
        (
            "payments",
            ListRequest(
                where='PaymentType=="ACCRECPAYMENT"', order=by_update, page=2, page_size=9, modified_since=since
            ),
        ),
        ("payments", ListRequest()),
    ]


@pytest.fixture
def org() -> Organisation:
    sandbox = create_app(XeroSandboxConfig()).extensions["xero_sandbox"]
    return sandbox.load_scenario(generate_demo_company(seed=7), "paging")


def _middle_update(org: Organisation) -> dt.datetime:
    times = sorted(org.invoice_updated(r) for r in org.invoices.values())
    return times[len(times) // 2]


def _check_all(org: Organisation, since: dt.datetime) -> None:
    some_contacts = set(list(org.contacts)[::3])
    for keep in (lambda r: True, lambda r: r.get("_contact", r.get("ContactID")) in some_contacts):
        for kind, query in requests_for(since):
            assert select(org.listing(kind), keep, KINDS[kind], query) == plain(org, kind, keep, query), (kind, query)


def test_pages_match_the_plain_evaluation(org: Organisation) -> None:
    _check_all(org, _middle_update(org))


def test_after_payments_sharing_one_instant_the_listing_follows(org: Organisation) -> None:
    select(org.listing("invoices"), lambda r: True, INVOICE_FIELDS, ListRequest(order="UpdatedDateUTC"))
    org.clock.freeze()
    due = [r for r in org.invoices.values() if r["Status"] == "AUTHORISED" and org.amount_due(r) > 0][:12]
    record_payments(
        org,
        [
            {"Invoice": {"InvoiceID": r["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": str(org.amount_due(r))}
            for r in due
        ],
    )
    _check_all(org, org.now())
    _check_all(org, _middle_update(org))
    paid, _ = select(
        org.listing("invoices"),
        lambda r: True,
        INVOICE_FIELDS,
        ListRequest(order="UpdatedDateUTC ASC", modified_since=org.now()),
    )
    assert [r["InvoiceID"] for r in paid] == [r["InvoiceID"] for r in org.invoices.values() if r in due]
