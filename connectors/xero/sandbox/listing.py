"""GET listings as Xero answers them: If-Modified-Since, where, order, paging, the pagination block.

Pure over the rows it is given: the caller passes records, the function that turns a record into
its where/order facts, and the renderer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.xero.sandbox import errors, msdate
from connectors.xero.sandbox.where import WhereError, matcher, sort_rows

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class ListRequest:
    where: str | None = None
    order: str | None = None
    page: int | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    modified_since: dt.datetime | None = None

    @classmethod
    def from_request(cls, args: Mapping[str, str], headers: Mapping[str, str], *, force_paging: bool = False) -> ListRequest:
        page = _positive_int(args, "page")
        size = _positive_int(args, "pageSize")
        since_text = headers.get("If-Modified-Since")
        try:
            since = msdate.parse_if_modified_since(since_text) if since_text else None
        except ValueError as exc:
            raise errors.ValidationFailed([f"If-Modified-Since is not a date-time: {since_text!r}"]) from exc
        if page is None and force_paging:
            page = 1
        return cls(where=args.get("where") or None, order=args.get("order") or None, page=page,
                   page_size=min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), modified_since=since)


def _positive_int(args: Mapping[str, str], name: str) -> int | None:
    text = args.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < 1:
        raise errors.ValidationFailed([f"{name} must be a whole number of at least 1, got {text!r}"])
    return int(text)


def select(records: Sequence[dict[str, Any]], facts: Callable[[dict[str, Any]], dict[str, Any]],
           fields: Sequence[str], query: ListRequest) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The records the request selects (in order, one page if paged) and the pagination block."""
    rows = [(record, facts(record)) for record in records]
    try:
        if query.modified_since is not None:
            rows = [(r, f) for r, f in rows if f["UpdatedDateUTC"] >= query.modified_since]
        if query.where:
            test = matcher(query.where, fields)
            rows = [(r, f) for r, f in rows if test(f)]
        if query.order:
            by_fact = {id(f): r for r, f in rows}
            rows = [(by_fact[id(f)], f) for f in sort_rows([f for _, f in rows], query.order, fields)]
    except WhereError as exc:
        raise errors.QueryParseFailed(str(exc)) from exc
    selected = [r for r, _ in rows]
    if query.page is None:
        return selected, None
    start = (query.page - 1) * query.page_size
    count = len(selected)
    pagination = {"page": query.page, "pageSize": query.page_size,
                  "pageCount": -(-count // query.page_size), "itemCount": count}
    return selected[start:start + query.page_size], pagination
