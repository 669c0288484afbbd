"""Sync streams through python-quickbooks' HTTP calls: paging, CDC, the 30-day fallback, resuming."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from connectors.contract import SyncRequest
from connectors.quickbooks import stream
from tests.quickbooks.helpers import COMPANY, customer_json, make_connector

START = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
SERVER_TIME = "2026-11-23T07:59:00.000-08:00"  # 15:59 UTC, before START


def customers(ids: range, stamp: str) -> list[dict]:
    return [customer_json(str(i), MetaData={"LastUpdatedTime": stamp}) for i in ids]


def query_page(rows: list[dict]) -> dict:
    return {"QueryResponse": {"Customer": rows} if rows else {}, "time": SERVER_TIME}


def sent_queries() -> list[str]:
    return [c.request.body.decode() if isinstance(c.request.body, bytes) else c.request.body for c in responses.calls]


@responses.activate
def test_full_pass_pages_by_last_updated_time_and_ends_at_the_capped_response_time() -> None:
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(1, 3), "2026-10-01T00:00:00-07:00")))
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(3, 5), "2026-10-02T00:00:00-07:00")))
    responses.post(f"{COMPANY}/query", json=query_page([]))
    pages = list(make_connector().changes(SyncRequest("customer", None, page_size=2, started_at=START)))
    assert [len(p.records) for p in pages] == [2, 2, 0] and [p.done for p in pages] == [False, False, True]
    assert sent_queries() == [
        "SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2",
        "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '2026-10-01T00:00:00-07:00' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2",
        "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '2026-10-02T00:00:00-07:00' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2",
    ]
    assert stream.decode(pages[-1].cursor) == stream.Point(SERVER_TIME)


@responses.activate
def test_a_timestamp_group_larger_than_a_page_is_walked_by_position() -> None:
    same = "2026-10-01T00:00:00-07:00"
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(1, 3), same)))
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(1, 3), same)))
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(3, 4), same)))
    pages = list(make_connector().changes(SyncRequest("customer", None, page_size=2, started_at=START)))
    assert len(pages) == 3 and "STARTPOSITION 3 MAXRESULTS 2" in sent_queries()[2]


@responses.activate
def test_cursor_is_capped_at_the_sync_start() -> None:
    responses.post(f"{COMPANY}/query", json={"QueryResponse": {}, "time": "2026-11-23T09:00:00-08:00"})  # 17:00 UTC
    [page] = make_connector().changes(SyncRequest("customer", None, started_at=START))
    assert stream.decode(page.cursor) == stream.Point("2026-11-23T16:00:00+00:00")


@responses.activate
def test_recent_cursor_uses_change_data_capture_with_deletions() -> None:
    responses.get(
        f"{COMPANY}/cdc",
        json={
            "CDCResponse": [
                {
                    "QueryResponse": [
                        {
                            "Customer": [
                                customer_json("5"),
                                {"Id": "6", "status": "Deleted", "MetaData": {"LastUpdatedTime": SERVER_TIME}},
                            ]
                        }
                    ]
                }
            ],
            "time": SERVER_TIME,
        },
    )
    since = stream.encode(stream.Point("2026-11-20T00:00:00-08:00"))
    [page] = make_connector().changes(SyncRequest("customer", since, started_at=START))
    assert [r.provider_id for r in page.records] == ["5"] and page.deleted_ids == ("6",) and page.done
    params = parse_qs(urlparse(responses.calls[0].request.url).query)
    assert params["entities"] == ["Customer"] and params["changedSince"] == ["2026-11-20T00:00:00-08:00"]


@responses.activate
def test_cursor_older_than_thirty_days_falls_back_to_queries() -> None:
    responses.post(f"{COMPANY}/query", json=query_page([]))
    since = stream.encode(stream.Point("2026-10-01T00:00:00-07:00"))
    [page] = make_connector().changes(SyncRequest("customer", since, started_at=START))
    assert page.done and sent_queries() == [
        "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '2026-10-01T00:00:00-07:00' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"
    ]


@responses.activate
def test_a_full_cdc_response_continues_with_queries_from_the_same_point() -> None:
    rows = customers(range(1, 1001), "2026-11-21T00:00:00-08:00")
    responses.get(
        f"{COMPANY}/cdc", json={"CDCResponse": [{"QueryResponse": [{"Customer": rows}]}], "time": SERVER_TIME}
    )
    responses.post(f"{COMPANY}/query", json=query_page(customers(range(1001, 1003), "2026-11-22T00:00:00-08:00")))
    since = stream.encode(stream.Point("2026-11-20T00:00:00-08:00"))
    pages = list(make_connector().changes(SyncRequest("customer", since, started_at=START)))
    assert [len(p.records) for p in pages] == [1000, 2] and [p.done for p in pages] == [False, True]
    assert stream.decode(pages[-1].cursor) == stream.Point(SERVER_TIME)


@responses.activate
def test_a_mid_pass_cursor_resumes_where_it_stopped() -> None:
    responses.post(f"{COMPANY}/query", json=query_page([]))
    resume = stream.encode(stream.QueryPass("2026-10-02T00:00:00-07:00", 3, SERVER_TIME))
    [page] = make_connector().changes(SyncRequest("customer", resume, page_size=2, started_at=START))
    assert "STARTPOSITION 3 MAXRESULTS 2" in sent_queries()[0]
    assert stream.decode(page.cursor) == stream.Point(SERVER_TIME)


def test_bad_cursors_and_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="not a QuickBooks sync cursor"):
        stream.decode('{"at": "yesterday"}')
    with pytest.raises(ValueError, match="not a QuickBooks sync cursor"):
        stream.decode("garbage")
    connector = make_connector()
    with pytest.raises(ValueError, match="estimate"):
        list(connector.changes(SyncRequest("estimate", None, started_at=START)))
    with pytest.raises(ValueError, match="timezone"):
        list(connector.changes(SyncRequest("customer", None, started_at=START.replace(tzinfo=None))))
    assert json.loads(stream.encode(stream.Point(SERVER_TIME))) == {"at": SERVER_TIME}
