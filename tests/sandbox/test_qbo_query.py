"""The QuickBooks query language: parser (table-driven) and evaluation over rendered rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from quickbooks.utils import build_choose_clause, build_where_clause

from connectors.quickbooks.sandbox.evaluate import QueryError, run_query
from connectors.quickbooks.sandbox.query import Condition, Order, Query, QuerySyntaxError, parse_query
from connectors.quickbooks.sandbox.schema import CUSTOMER, INVOICE

PARSED = [
    ("SELECT * FROM Invoice", Query("Invoice")),
    ("select * from Invoice", Query("Invoice")),
    (
        "SELECT COUNT(*) FROM Invoice WHERE Balance > '0'",
        Query("Invoice", count=True, where=(Condition("Balance", ">", "0"),)),
    ),
    (
        "SELECT * FROM Invoice WHERE Balance > '0' STARTPOSITION 1 MAXRESULTS 1000",
        Query("Invoice", where=(Condition("Balance", ">", "0"),), start_position=1, max_results=1000),
    ),
    (
        "SELECT * FROM Invoice WHERE TotalAmt >= 10.5 AND DueDate < '2026-06-15'",
        Query("Invoice", where=(Condition("TotalAmt", ">=", Decimal("10.5")), Condition("DueDate", "<", "2026-06-15"))),
    ),
    ("SELECT * FROM Customer WHERE Active = false", Query("Customer", where=(Condition("Active", "=", False),))),
    (
        "SELECT * FROM Customer WHERE Active IN (true, false)",
        Query("Customer", where=(Condition("Active", "IN", (True, False)),)),
    ),
    (
        "SELECT * FROM Invoice WHERE Id IN ('1', '2', 3)",
        Query("Invoice", where=(Condition("Id", "IN", ("1", "2", Decimal(3))),)),
    ),
    (
        "SELECT * FROM Customer WHERE DisplayName LIKE 'Acme%'",
        Query("Customer", where=(Condition("DisplayName", "LIKE", "Acme%"),)),
    ),
    ("SELECT * FROM Invoice ORDERBY DueDate DESC", Query("Invoice", order_by=(Order("DueDate", True),))),
    ("SELECT * FROM Invoice ORDER BY DueDate ASC, Id", Query("Invoice", order_by=(Order("DueDate"), Order("Id")))),
    (
        "SELECT * FROM Invoice  ORDERBY Id STARTPOSITION 101 MAXRESULTS 100",
        Query("Invoice", order_by=(Order("Id"),), start_position=101, max_results=100),
    ),
    ("SELECT * FROM Invoice MAXRESULTS 5 STARTPOSITION 6", Query("Invoice", start_position=6, max_results=5)),
    (
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2026-11-01T00:00:00-07:00'",
        Query("Invoice", where=(Condition("MetaData.LastUpdatedTime", ">=", "2026-11-01T00:00:00-07:00"),)),
    ),
    (
        "SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien\\Sons Hardware'",
        Query("Customer", where=(Condition("DisplayName", "=", "O'Brien\\Sons Hardware"),)),
    ),
    (
        "SELECT * FROM Customer WHERE DisplayName = 'back\\\\slash'",
        Query("Customer", where=(Condition("DisplayName", "=", "back\\slash"),)),
    ),
    ("SELECT * FROM Invoice STARTPOSITION 0", Query("Invoice", start_position=1)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t for t, _ in PARSED])
def test_parses(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


ERRORS = [
    ("", "empty"),
    ("DELETE FROM Invoice", "SELECT"),
    ("SELECT Id FROM Invoice", "'*'"),
    ("SELECT * Invoice", "FROM"),
    ("SELECT * FROM", "entity name"),
    ("SELECT * FROM Invoice WHERE", "field name"),
    ("SELECT * FROM Invoice WHERE Balance", "operator"),
    ("SELECT * FROM Invoice WHERE Balance > '0' OR Balance < '5'", "OR is not supported"),
    ("SELECT * FROM Invoice WHERE Balance <> '0'", "not supported"),
    ("SELECT * FROM Customer WHERE DisplayName = 'unterminated", "unterminated"),
    ("SELECT * FROM Customer WHERE DisplayName = 'Foo\\'", "unterminated"),
    ("SELECT * FROM Invoice WHERE Id IN ('1', '2'", "')'"),
    ("SELECT * FROM Customer WHERE DisplayName LIKE 5", "quoted pattern"),
    ("SELECT * FROM Invoice MAXRESULTS 1001", "between 1 and 1000"),
    ("SELECT * FROM Invoice MAXRESULTS 0", "between 1 and 1000"),
    ("SELECT * FROM Invoice STARTPOSITION x", "whole number"),
    ("SELECT * FROM Invoice ORDERBY", "order by"),
    ("SELECT * FROM Invoice ORDER DueDate", "BY"),
    ("SELECT * FROM Invoice GROUP BY CustomerRef", "unexpected 'GROUP'"),
    ("SELECT * FROM Invoice; DROP TABLE x", "unexpected text"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[t or "(empty)" for t, _ in ERRORS])
def test_rejects(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_query(text)


def test_python_quickbooks_clauses_round_trip() -> None:
    """What python-quickbooks writes for filter() and choose() parses back to the same values."""
    where = build_where_clause(DisplayName="O'Brien\\Sons Hardware", Balance=0)
    query = parse_query(f"SELECT * FROM Customer WHERE {where}")
    assert query.where == (
        Condition("DisplayName", "=", "O'Brien\\Sons Hardware"),
        Condition("Balance", "=", Decimal(0)),
    )
    choose = build_choose_clause(["1", "it's"], "Id")  # python-quickbooks writes lower-case "in"
    assert parse_query(f"SELECT * FROM Invoice WHERE {choose}").where == (Condition("Id", "IN", ("1", "it's")),)


TZ = ZoneInfo("America/Denver")
ROWS = [
    {
        "Id": str(n),
        "DocNumber": str(1000 + n),
        "Balance": Decimal(b),
        "TotalAmt": Decimal("100"),
        "DueDate": due,
        "CustomerRef": {"value": c},
        "MetaData": {"LastUpdatedTime": f"2026-11-{n:02d}T10:00:00-07:00"},
    }
    for n, b, due, c in [
        (1, "0", "2026-10-01", "1"),
        (2, "50", "2026-11-01", "2"),
        (3, "100", "2026-09-15", "1"),
        (10, "25.5", "2026-12-01", "2"),
    ]
]


def _ids(text: str, rows: list[dict] = ROWS) -> list[str]:  # type: ignore[type-arg]
    result = run_query(parse_query(text), INVOICE, rows, TZ)
    return [row["Id"] for row in result.get("Invoice", [])]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Balance > '0'", ["2", "3", "10"]),
        ("Balance > 30", ["2", "3"]),
        ("Balance = '25.50'", ["10"]),
        ("DueDate < '2026-10-15'", ["1", "3"]),
        ("CustomerRef = '2'", ["2", "10"]),
        ("CustomerRef IN ('1', '9')", ["1", "3"]),
        ("Id IN (1, 10)", ["1", "10"]),
        ("DocNumber LIKE '100%'", ["1", "2", "3"]),
        ("MetaData.LastUpdatedTime >= '2026-11-03T00:00:00-07:00'", ["3", "10"]),
        ("MetaData.LastUpdatedTime > '2026-11-02'", ["2", "3", "10"]),  # no offset: company-local midnight
        ("Balance > '0' AND CustomerRef = '1'", ["3"]),
    ],
)
def test_filters(where: str, expected: list[str]) -> None:
    assert _ids(f"SELECT * FROM Invoice WHERE {where}") == expected


def test_orders_pages_and_counts() -> None:
    assert _ids("SELECT * FROM Invoice") == ["1", "2", "3", "10"]  # default: numeric Id order
    assert _ids("SELECT * FROM Invoice ORDERBY DueDate DESC") == ["10", "2", "1", "3"]
    assert _ids("SELECT * FROM Invoice ORDER BY Balance STARTPOSITION 2 MAXRESULTS 2") == ["10", "2"]
    assert run_query(parse_query("SELECT COUNT(*) FROM Invoice WHERE Balance > '0'"), INVOICE, ROWS, TZ) == {
        "totalCount": 3
    }
    page = run_query(parse_query("SELECT * FROM Invoice STARTPOSITION 3 MAXRESULTS 5"), INVOICE, ROWS, TZ)
    assert (page["startPosition"], page["maxResults"]) == (3, 2)
    assert run_query(parse_query("SELECT * FROM Invoice STARTPOSITION 5"), INVOICE, ROWS, TZ) == {}


def test_name_lists_answer_active_rows_unless_asked() -> None:
    rows = [{"Id": "1", "DisplayName": "A", "Active": True}, {"Id": "2", "DisplayName": "B", "Active": False}]
    assert [r["Id"] for r in run_query(parse_query("SELECT * FROM Customer"), CUSTOMER, rows, TZ)["Customer"]] == ["1"]
    both = run_query(parse_query("SELECT * FROM Customer WHERE Active IN (true, false)"), CUSTOMER, rows, TZ)
    assert [r["Id"] for r in both["Customer"]] == ["1", "2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT * FROM Invoice WHERE PrivateNote = 'x'", "not queryable"),
        ("SELECT * FROM Invoice ORDERBY PrivateNote", "cannot be used to order"),
        ("SELECT * FROM Invoice WHERE Balance LIKE '1%'", "LIKE cannot be used"),
        ("SELECT * FROM Invoice WHERE Balance > 'lots'", "not a valid number"),
        ("SELECT * FROM Invoice WHERE DueDate < 'soon'", "not a valid date"),
        ("SELECT * FROM Customer WHERE Active > true", "only = or IN"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    spec = CUSTOMER if "Customer" in text else INVOICE
    with pytest.raises(QueryError, match=message):
        run_query(parse_query(text), spec, ROWS, TZ)


def test_literal_instants_without_offset_are_company_local() -> None:
    rows = [{"Id": "1", "MetaData": {"LastUpdatedTime": "2026-11-02T06:30:00+00:00"}}]  # 23:30 on the 1st in Denver
    assert _ids("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime < '2026-11-02T00:00:00'", rows) == ["1"]
    assert dt.datetime(2026, 11, 2, 6, 30, tzinfo=dt.timezone.utc).astimezone(TZ).day == 1
