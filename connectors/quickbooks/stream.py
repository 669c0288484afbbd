"""Streaming one entity's changes out of QuickBooks, page by page, with a resumable cursor.

- No cursor: a full pass of paged queries (1000 rows, STARTPOSITION) ordered by
  MetaData.LastUpdatedTime. Each page moves the window's lower bound to the last row's time, so a
  record deleted or changed during the pass never shifts an unread record onto an already-read
  position (plain offset paging would skip it); a group of rows sharing one timestamp that is
  larger than a page is walked with STARTPOSITION inside the group.
- A cursor less than 30 days old: one ChangeDataCapture call (deletions included).
- Older (CDC refuses more than 30 days): the same paged queries from the cursor's time on.
- After a finished pass the cursor is a point in time: the `time` of the pass's first response,
  capped at the sync's start, so nothing that changed while the pass ran is skipped next time.
  Mid-pass cursors carry the window and position, so a crash resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.contract import Page, SyncRequest, Transient, read_each
from connectors.quickbooks import mapping, queries
from connectors.quickbooks.client import QboClient

CDC_WINDOW = dt.timedelta(days=30)
CDC_MARGIN = dt.timedelta(hours=1)  # stay clear of the edge of Intuit's window
CDC_MAX_OBJECTS = 1000  # a CDC response this full may be truncated


@dataclass(frozen=True, slots=True)
class QueryPass:
    since: str | None  # lower bound on MetaData.LastUpdatedTime (QuickBooks' own text); None: all
    position: int  # STARTPOSITION inside the rows at or after `since`
    anchor: str | None  # the point the cursor becomes when the pass ends


@dataclass(frozen=True, slots=True)
class Point:
    at: str  # QuickBooks time text, with offset


Cursor = QueryPass | Point


def encode(cursor: Cursor) -> str:
    if isinstance(cursor, Point):
        return json.dumps({"at": cursor.at}, separators=(",", ":"))
    return json.dumps({"since": cursor.since, "pos": cursor.position, "anchor": cursor.anchor}, separators=(",", ":"))


def decode(text: str | None) -> Cursor | None:
    if not text:
        return None
    try:
        data = json.loads(text)
        if "at" in data:
            mapping.parse_instant(data["at"])
            return Point(str(data["at"]))
        return QueryPass(data["since"], int(data["pos"]), data["anchor"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a QuickBooks sync cursor: {text!r}") from exc


def _capped(server_time: Any, started_at: dt.datetime) -> str:
    """The response time, or the sync's start if that is earlier (then expressed in UTC)."""
    try:
        at = mapping.parse_instant(str(server_time))
    except ValueError:
        raise Transient(f"QuickBooks response time is not a timestamp: {server_time!r}") from None
    return str(server_time) if at <= started_at else started_at.astimezone(dt.UTC).isoformat()


def _updated_text(raw: dict[str, Any]) -> str | None:
    meta = raw.get("MetaData")
    return str(meta["LastUpdatedTime"]) if isinstance(meta, dict) and meta.get("LastUpdatedTime") else None


def changes(client: QboClient, request: SyncRequest, home_currency: str) -> Iterator[Page]:
    if request.entity not in mapping.MAPPERS:
        raise ValueError(f"QuickBooks sync knows {sorted(mapping.MAPPERS)}, not {request.entity!r}")
    if request.started_at.tzinfo is None:
        raise ValueError("SyncRequest.started_at must be timezone-aware")
    cursor = decode(request.cursor)
    if cursor is None:
        cursor = QueryPass(None, 1, None)
    elif isinstance(cursor, Point):
        if request.started_at - mapping.parse_instant(cursor.at) < CDC_WINDOW - CDC_MARGIN:
            page = _cdc_page(client, request, cursor, home_currency)
            yield page
            if page.done:
                return
            cursor = decode(page.cursor)
            assert isinstance(cursor, QueryPass)
        else:
            cursor = QueryPass(cursor.at, 1, None)
    yield from _query_pass(client, request, cursor, home_currency)


def _cdc_page(client: QboClient, request: SyncRequest, point: Point, home_currency: str) -> Page:
    qbo_entity, mapper = mapping.MAPPERS[request.entity]
    response = client.change_data_capture([qbo_entity], point.at)
    rows: list[dict[str, Any]] = []
    for block in response["CDCResponse"]:
        for query_response in block.get("QueryResponse") or []:
            rows.extend(query_response.get(qbo_entity) or [])
    deleted = tuple(str(row["Id"]) for row in rows if mapping.is_deleted(row))
    records, rejected = read_each(
        request.entity, [row for row in rows if not mapping.is_deleted(row)], lambda row: [mapper(row, home_currency)]
    )
    anchor = _capped(response["time"], request.started_at)
    if len(rows) >= CDC_MAX_OBJECTS:
        # Possibly truncated: keep what came, then page through queries from the same point.
        # Known gap: deletions beyond the first 1000 objects of such a burst are not seen (queries omit them).
        follow = QueryPass(point.at, 1, anchor)
        return Page(request.entity, records, encode(follow), deleted_ids=deleted, done=False, rejected=tuple(rejected))
    return Page(
        request.entity, records, encode(Point(anchor)), deleted_ids=deleted, done=True, rejected=tuple(rejected)
    )


def _query_pass(client: QboClient, request: SyncRequest, cursor: QueryPass, home_currency: str) -> Iterator[Page]:
    qbo_entity, mapper = mapping.MAPPERS[request.entity]
    since, position, anchor = cursor.since, cursor.position, cursor.anchor
    while True:
        response = client.query(queries.updated_since(qbo_entity, since, position, request.page_size))
        anchor = anchor or _capped(response.get("time"), request.started_at)
        rows = response["QueryResponse"].get(qbo_entity) or []
        records, rejected = read_each(request.entity, rows, lambda row: [mapper(row, home_currency)])
        if len(rows) < request.page_size:
            yield Page(request.entity, records, encode(Point(anchor)), done=True, rejected=tuple(rejected))
            return
        last = _updated_text(rows[-1])
        if last is None:
            raise Transient(f"QuickBooks {qbo_entity} {rows[-1].get('Id')} has no MetaData.LastUpdatedTime")
        if last == since:
            position += len(rows)  # still inside one timestamp's group
        else:
            since, position = last, 1  # re-reads the rows at `last`; the mirror upserts them
        yield Page(request.entity, records, encode(QueryPass(since, position, anchor)), rejected=tuple(rejected))
