"""GET listings as Xero answers them: If-Modified-Since, where, order, paging, the pagination block.

Pure over the rows it is given: the caller passes a `Listing` (its records with their where/order
facts, oldest change first, built once per state of the organisation) and its own filter. A page
costs one pass of cheap tests over the records changed since If-Modified-Since (the pagination
block counts them all) and rendering the page, never every record's facts or a full sort.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from werkzeug.datastructures import Headers

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
    def from_request(
        cls, args: Mapping[str, str], headers: Mapping[str, str] | Headers, *, force_paging: bool = False
    ) -> ListRequest:
        page = _positive_int(args, "page")
        size = _positive_int(args, "pageSize")
        since_text = headers.get("If-Modified-Since")
        try:
            since = msdate.parse_if_modified_since(since_text) if since_text else None
        except ValueError as exc:
            raise errors.ValidationFailed([f"If-Modified-Since is not a date-time: {since_text!r}"]) from exc
        if page is None and force_paging:
            page = 1
        return cls(
            where=args.get("where") or None,
            order=args.get("order") or None,
            page=page,
            page_size=min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
            modified_since=since,
        )


class Facts(Mapping[str, Any]):
    """One record's where/order facts, each computed when first read: a paged listing tests every
    record against If-Modified-Since and the filter, which read one or two facts, and computing all
    of them (amounts, status, the contact) made every page cost what the whole organisation holds."""

    __slots__ = ("_getters", "_record", "_values")

    def __init__(self, getters: Mapping[str, Callable[[dict[str, Any]], Any]], record: dict[str, Any]) -> None:
        self._getters, self._record = getters, record
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            value = self._values[name] = self._getters[name](self._record)  # KeyError: not a fact
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._getters)

    def __len__(self) -> int:
        return len(self._getters)


@dataclass(frozen=True)
class Listing:
    """Records of one kind with their facts, in UpdatedDateUTC order (ties in the order the records
    were added), each row `(position added, record, facts)`; `updated` is bisected for If-Modified-Since."""

    updated: list[dt.datetime]
    rows: list[tuple[int, dict[str, Any], Mapping[str, Any]]]
    _filtered: dict[tuple[str, tuple[str, ...]], Listing] = field(default_factory=dict, compare=False, repr=False)
    _sorted: dict[str, list[tuple[dt.datetime, tuple[int, dict[str, Any], Mapping[str, Any]]]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, records: Iterable[dict[str, Any]], facts: Callable[[dict[str, Any]], Mapping[str, Any]]) -> Listing:
        rows = sorted(
            ((n, record, facts(record)) for n, record in enumerate(records)), key=lambda row: row[2]["UpdatedDateUTC"]
        )
        return cls([row[2]["UpdatedDateUTC"] for row in rows], rows)

    def where(self, text: str, fields: Sequence[str]) -> Listing:
        """The rows `text` selects, in the same order; remembered, as a sync asks the same of every page.
        Raises WhereError for a filter outside the grammar or the fields."""
        key = (text, tuple(fields))
        if key not in self._filtered:
            test = matcher(text, fields)
            rows = [row for row in self.rows if test(row[2])]
            self._filtered[key] = Listing([row[2]["UpdatedDateUTC"] for row in rows], rows)
        return self._filtered[key]

    def sorted_by(
        self, order: str, fields: Sequence[str]
    ) -> list[tuple[dt.datetime, tuple[int, dict[str, Any], Mapping[str, Any]]]]:
        """The rows in `order` (ties as the records were added), each with its UpdatedDateUTC;
        remembered, as a sync asks the same order of every page. Raises WhereError for an unknown field."""
        if order not in self._sorted:
            added = sorted(self.rows, key=lambda row: row[0])
            by_fact = {id(row[2]): row for row in added}
            rows = [by_fact[id(f)] for f in sort_rows([row[2] for row in added], order, fields)]
            self._sorted[order] = [(row[2]["UpdatedDateUTC"], row) for row in rows]
        return self._sorted[order]


def _positive_int(args: Mapping[str, str], name: str) -> int | None:
    text = args.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < 1:
        raise errors.ValidationFailed([f"{name} must be a whole number of at least 1, got {text!r}"])
    return int(text)


def _by_update(order: str) -> bool:
    """Whether `order` is the listing's own order, oldest change first."""
    words = order.split()
    return words[:1] == ["UpdatedDateUTC"] and (len(words) == 1 or (len(words) == 2 and words[1].upper() == "ASC"))


def select(
    listing: Listing, keep: Callable[[dict[str, Any]], bool], fields: Sequence[str], query: ListRequest
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The records `keep` and the request select (in order, one page if paged) and the pagination block."""
    try:
        if query.where:
            listing = listing.where(query.where, fields)
        since = query.modified_since
        if query.order and not _by_update(query.order):
            ordered = listing.sorted_by(query.order, fields)
            rows = [row for at, row in ordered if (since is None or at >= since) and keep(row[1])]
        else:
            start = 0 if since is None else bisect_left(listing.updated, since)
            rows = [row for row in islice(listing.rows, start, None) if keep(row[1])]
            if not query.order:
                rows.sort(key=lambda row: row[0])  # the order records were added in, as Xero lists them
    except WhereError as exc:
        raise errors.QueryParseFailed(str(exc)) from exc
    if query.page is None:
        return [row[1] for row in rows], None
    start = (query.page - 1) * query.page_size
    count = len(rows)
    pagination = {
        "page": query.page,
        "pageSize": query.page_size,
        "pageCount": -(-count // query.page_size),
        "itemCount": count,
    }
    return [row[1] for row in rows[start : start + query.page_size]], pagination
