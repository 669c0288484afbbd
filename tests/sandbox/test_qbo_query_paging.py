"""A company's query answers are those of the plain evaluation over every rendered row, whichever
way the company finds them (a sorted index walked from the WHERE's lower bound, rows rendered only
to test derived fields), before and after writes that give many rows one LastUpdatedTime."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.errors import QboFault
from connectors.quickbooks.sandbox.evaluate import run_query
from connectors.quickbooks.sandbox.query import parse_query
from connectors.quickbooks.sandbox.schema import COMPANY_INFO, READABLE
from connectors.quickbooks.sandbox.writes import save
from connectors.sandbox.scenario.generator import generate_demo_company


def reference(company: Company, text: str) -> dict[str, Any]:
    parsed = parse_query(text)
    spec = READABLE[parsed.entity]
    rows = (
        [company.company_info()]
        if spec is COMPANY_INFO
        else [company.render(spec.name, r) for r in company.entities[spec.name].values()]
    )
    return run_query(parsed, spec, rows, company.tz)


def queries(since: str) -> list[str]:
    meta = "MetaData.LastUpdatedTime"
    return [
        *(
            f"SELECT * FROM Invoice WHERE {meta} >= '{since}' ORDERBY {meta} STARTPOSITION {p} MAXRESULTS 7"
            for p in (1, 3, 6, 200, 10_000)
        ),
        f"SELECT * FROM Invoice WHERE {meta} > '{since}' ORDERBY {meta} MAXRESULTS 1000",
        f"SELECT * FROM Invoice WHERE {meta} = '{since}' ORDERBY {meta}",
        f"SELECT * FROM Invoice ORDERBY {meta} STARTPOSITION 40 MAXRESULTS 30",
        f"SELECT * FROM Invoice WHERE Balance > '0' ORDERBY {meta} STARTPOSITION 5 MAXRESULTS 20",
        f"SELECT * FROM Invoice WHERE {meta} >= '{since}' AND {meta} < '2099-01-01' ORDERBY {meta}",
        "SELECT * FROM Invoice WHERE Id >= '40' STARTPOSITION 2 MAXRESULTS 10",
        "SELECT * FROM Invoice WHERE Id IN ('3', '12', '7')",
        "SELECT * FROM Invoice ORDERBY MetaData.CreateTime STARTPOSITION 11 MAXRESULTS 9",
        "SELECT * FROM Invoice ORDERBY DueDate DESC, MetaData.LastUpdatedTime MAXRESULTS 15",
        f"SELECT * FROM Invoice ORDERBY {meta} DESC MAXRESULTS 15",
        "SELECT COUNT(*) FROM Invoice WHERE Balance > '0'",
        f"SELECT * FROM Customer WHERE {meta} >= '{since}' ORDERBY {meta} MAXRESULTS 1000",
        "SELECT * FROM Customer WHERE Balance > '0' ORDERBY MetaData.CreateTime",
        "SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION 3 MAXRESULTS 5",
        f"SELECT * FROM Payment WHERE {meta} >= '{since}' ORDERBY {meta} STARTPOSITION 2 MAXRESULTS 1000",
        "SELECT * FROM Term",
        "SELECT * FROM CompanyInfo",
    ]


@pytest.fixture
def company() -> Company:
    sandbox = create_app(QboSandboxConfig()).extensions["qbo_sandbox"]
    return sandbox.load_scenario(generate_demo_company(seed=7))


def _middle_update(company: Company) -> str:
    times = sorted(r["_updated"] for r in company.entities["Invoice"].values())
    return company.stamp(times[len(times) // 2])


def test_pages_match_the_plain_evaluation(company: Company) -> None:
    for text in queries(_middle_update(company)):
        assert company.query(text) == reference(company, text), text


def test_after_writes_sharing_one_second_the_index_follows(company: Company) -> None:
    company.query("SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime")  # the index, before the writes
    company.clock.set(company.now().replace(microsecond=0) + dt.timedelta(seconds=1))
    company.clock.freeze()
    open_invoices = [r for r in company.entities["Invoice"].values() if company.invoice_balance(r) > 0][:12]
    for invoice in open_invoices:  # twelve payments, twelve invoices changed in the same second
        amount = company.invoice_balance(invoice)
        save(
            company,
            "Payment",
            {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": amount,
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
        )
    now = company.stamp(company.now())
    for text in queries(now) + queries(_middle_update(company)):
        assert company.query(text) == reference(company, text), text
    page = company.query(
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{now}' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 6 MAXRESULTS 4"
    )
    assert [row["Id"] for row in page["Invoice"]] == sorted((r["Id"] for r in open_invoices), key=int)[5:9]


def test_a_bad_literal_is_reported_as_the_full_scan_reports_it(company: Company) -> None:
    text = (
        "SELECT * FROM Invoice WHERE Balance > 'abc' AND MetaData.LastUpdatedTime >= 'not a time' "
        "ORDERBY MetaData.LastUpdatedTime"
    )
    with pytest.raises(QboFault) as raised:
        company.query(text)
    assert "'abc'" in str(raised.value.fault()) and "not a time" not in str(raised.value.fault())
