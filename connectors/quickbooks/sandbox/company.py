"""One sandbox company (realm): its entities in memory, how they render, read, query and CDC.

Stored entities hold only what a client wrote plus bookkeeping (`Id`, `SyncToken` as int, and
`_created`/`_updated` instants, `_voided`). Everything QuickBooks derives (TotalAmt, Balance,
LinkedTxn, Customer.Balance, MetaData strings, InvoiceLink) is computed when rendering, so it can
never drift from the payments that produce it. Writes live in `writes.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from connectors.contract import PostalAddress
from connectors.quickbooks.sandbox import errors
from connectors.quickbooks.sandbox.evaluate import (
    QueryError,
    checked_conditions,
    field_value,
    literal_key,
    order_key,
    parse_instant,
    run_query,
)
from connectors.quickbooks.sandbox.query import Order, Query, QuerySyntaxError, parse_query
from connectors.quickbooks.sandbox.schema import COMPANY_INFO, ENTITIES, READABLE, EntitySpec
from connectors.sandbox.clock import SandboxClock

ZERO = Decimal("0")
CDC_WINDOW = dt.timedelta(days=30)
CDC_MAX_PER_ENTITY = 1000
# Fields a query can walk a sorted index of: read off every stored record, never derived.
INDEXED_ORDERS = ("Id", "MetaData.LastUpdatedTime", "MetaData.CreateTime")
T = TypeVar("T")

ChangeListener = Callable[["Company", str, str, str, dt.datetime], None]  # company, entity, id, operation, at


@dataclass(frozen=True)
class SentEmail:
    invoice_id: str
    doc_number: str
    to: str
    at: str

    def to_json(self) -> dict[str, str]:
        return {"invoice_id": self.invoice_id, "doc_number": self.doc_number, "to": self.to, "at": self.at}


def render_physical_address(address: PostalAddress) -> dict[str, str]:
    """A PhysicalAddress as QuickBooks writes one (IntuitBaseTypes.xsd): Line1..5 (more lines folded
    into the fifth), its empty parts left out."""
    lines = (*address.lines[:4], ", ".join(address.lines[4:]))
    fields = (
        *((f"Line{n}", line) for n, line in enumerate(lines, start=1)),
        ("City", address.city),
        ("CountrySubDivisionCode", address.region),
        ("PostalCode", address.postal_code),
        ("Country", address.country),
    )
    return {name: value for name, value in fields if value}


@dataclass
class Company:
    realm_id: str
    name: str
    timezone: str
    currency: str
    email: str
    clock: SandboxClock
    link_base: str = "http://127.0.0.1"
    country: str = "US"
    address: PostalAddress | None = None  # CompanyAddr, LegalAddr and CustomerCommunicationAddr
    locale: str = "en_US"
    opened: dt.datetime | None = None  # when the books were started: CompanyInfo's CreateTime
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {n: {} for n in ENTITIES})
    deleted: dict[str, dict[str, dt.datetime]] = field(default_factory=lambda: {n: {} for n in ENTITIES})
    sent_emails: list[SentEmail] = field(default_factory=list)
    scenario_ids: dict[str, dict[str, str]] = field(default_factory=dict)
    listeners: list[ChangeListener] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: dict[str, int] = field(default_factory=lambda: {n: 1 for n in ENTITIES})
    # invoice id -> {payment id: amount applied}; rebuilt for a payment whenever it changes
    applied: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    # credit memo id -> {payment id: amount of it applied}, the same way
    credited: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    revision: int = 0  # bumped by every write (`changed`), which outdates the indexes below
    _indexes: dict[Hashable, tuple[tuple[int, int], Any]] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return self.now().astimezone(self.tz).date()

    def stamp(self, instant: dt.datetime, *, millis: bool = False) -> str:
        """An instant as QuickBooks shows it: the company's offset, e.g. 2026-11-23T05:24:45-07:00."""
        local = instant.astimezone(self.tz)
        text = local.isoformat(timespec="milliseconds" if millis else "seconds")
        return text

    def response_time(self) -> str:
        return self.stamp(self.now(), millis=True)

    # -- ids and changes -------------------------------------------------------------------------
    def new_id(self, entity: str) -> str:
        value = self._next_id[entity]
        self._next_id[entity] = value + 1
        return str(value)

    def changed(self, entity: str, entity_id: str, operation: str) -> None:
        self.revision += 1
        at = self.now()
        for listener in self.listeners:
            listener(self, entity, entity_id, operation, at)

    def _indexed(self, name: Hashable, entity: str, build: Callable[[], T]) -> T:
        """`build()`'s result, kept until the next write (or a record of `entity` added or removed)."""
        stamp = (self.revision, len(self.entities[entity]))
        cached = self._indexes.get(name)
        if cached is None or cached[0] != stamp:
            cached = self._indexes[name] = (stamp, build())
        return cached[1]

    # -- reading ---------------------------------------------------------------------------------
    def stored(self, entity: str, entity_id: str) -> dict[str, Any]:
        record = self.entities[entity].get(str(entity_id))
        if record is None:
            raise errors.not_found(entity, str(entity_id))
        return record

    def read(self, entity: str, entity_id: str, *, include: frozenset[str] = frozenset()) -> dict[str, Any]:
        if entity == COMPANY_INFO.name:
            # Intuit documents the read as `companyinfo/<realm id>`, though the record's Id is "1".
            if entity_id != self.realm_id:
                raise errors.not_found(entity, entity_id)
            return self.company_info()
        return self.render(entity, self.stored(entity, entity_id), include=include)

    def query(self, text: str, *, include: frozenset[str] = frozenset()) -> dict[str, Any]:
        try:
            parsed = parse_query(text)
        except QuerySyntaxError as exc:
            raise errors.query_error(str(exc)) from exc
        spec = READABLE.get(parsed.entity)
        if spec is None:
            raise errors.query_error(f"Invalid context declaration : {parsed.entity}")
        try:
            if spec is COMPANY_INFO:
                return run_query(parsed, spec, [self.company_info()], self.tz)
            rendered: dict[int, dict[str, Any]] = {}

            def render(record: dict[str, Any]) -> dict[str, Any]:
                out = rendered.get(id(record))
                if out is None:
                    out = rendered[id(record)] = self.render(spec.name, record, include=include)
                return out

            def value(record: dict[str, Any], path: str, kind: str) -> Any:
                return (
                    field_value(render(record), path, kind)
                    if path in spec.derived
                    else _stored_value(record, path, kind)
                )

            rows, in_order = self._candidates(parsed, spec)
            return run_query(parsed, spec, rows, self.tz, value=value, render=render, in_order=in_order)
        except QueryError as exc:
            raise errors.query_error(str(exc)) from exc

    def _candidates(self, query: Query, spec: EntitySpec) -> tuple[Iterable[dict[str, Any]], bool]:
        """The stored records a query scans, and whether they come in its order: ordered by Id (the
        default) or a MetaData time, ascending, it walks a sorted index (from the lower bound its own
        WHERE sets on that time), so the scan ends with the page."""
        orders = query.order_by or (Order("Id"),)
        records = self.entities[spec.name]
        path = orders[0].field
        if query.count or len(orders) != 1 or orders[0].descending or path not in INDEXED_ORDERS:
            return records.values(), False
        checked_conditions(query, spec)  # a bad field is reported as the full scan would report it
        kind = spec.filterable[path]
        keys, ordered = self._indexed(
            ("order", spec.name, path), spec.name, lambda: self._sorted(spec.name, path, kind)
        )
        start = 0
        for condition in query.where:
            # Only instants compare the way they sort: ids sort as numbers but compare as text.
            if condition.field == path and kind == "datetime" and condition.op in (">=", ">", "="):
                # A bad literal is left to the scan, which reports it in the order the conditions come.
                with contextlib.suppress(QueryError):
                    start = max(start, bisect_left(keys, (literal_key(condition, kind, self.tz),)))
        return islice(ordered, start, None), True

    def _sorted(self, entity: str, path: str, kind: str) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        """An entity's records in `path` order (ties by Id, as a query orders them) and their sort keys."""
        pairs = sorted(
            ((order_key(r, path, kind, self.tz, _stored_value), order_key(r, "Id", "id", self.tz)), r)
            for r in self.entities[entity].values()
        )
        return [key for key, _ in pairs], [record for _, record in pairs]

    def cdc(self, entity_names: list[str], changed_since: str) -> list[dict[str, Any]]:
        """The `QueryResponse` list of a ChangeDataCapture answer, one element per entity asked."""
        try:
            since = parse_instant(changed_since, self.tz)
        except ValueError as exc:
            raise errors.invalid("changedSince", f"is not a date or date-time: {changed_since!r}") from exc
        if since < self.now() - CDC_WINDOW:
            raise errors.QboFault(
                errors.INVALID_PROPERTY,
                "Request has invalid or unsupported property",
                f"Operation cdc with changedSince date {changed_since} which is older than "
                "fixed days is not supported.",
                element="changedSince",
            )
        answer: list[dict[str, Any]] = []
        for name in entity_names:
            spec = ENTITIES.get(name)
            if spec is None:
                raise errors.invalid("entities", f"names an entity the sandbox does not serve: {name}")
            changed: list[tuple[dt.datetime, dict[str, Any] | str]] = [
                (r["_updated"], r) for r in self.entities[name].values() if r["_updated"] >= since
            ]
            changed += [(at, entity_id) for entity_id, at in self.deleted[name].items() if at >= since]
            changed.sort(key=lambda pair: pair[0])
            # Only the answered objects are rendered: a burst of changes is cut at the limit first.
            rows = [
                self.render(name, row)
                if isinstance(row, dict)
                else {"Id": row, "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime": self.stamp(at)}}
                for at, row in changed[:CDC_MAX_PER_ENTITY]
            ]
            answer.append({name: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
        return answer

    # -- rendering -------------------------------------------------------------------------------
    def render(self, entity: str, record: dict[str, Any], *, include: frozenset[str] = frozenset()) -> dict[str, Any]:
        # A shallow copy: rendered rows are serialized at once and never mutated, and deep copies
        # made queries over a few thousand invoices several times slower.
        out = {k: v for k, v in record.items() if not k.startswith("_") and k not in ("Id", "SyncToken")}
        out = {"Id": record["Id"], "SyncToken": str(record["SyncToken"]), "domain": "QBO", "sparse": False, **out}
        out["MetaData"] = {
            "CreateTime": self.stamp(record["_created"]),
            "LastUpdatedTime": self.stamp(record["_updated"]),
        }
        renderer = _RENDERERS.get(entity)
        if renderer is not None:
            renderer(self, record, out, include)
        return out

    def company_info(self) -> dict[str, Any]:
        """The company's CompanyInfo as QuickBooks renders it (Finance.xsd; empty optional parts left out)."""
        opened = self.opened or self.now()
        address = {"Id": "1", **render_physical_address(self.address or PostalAddress(country=self.country))}
        email = {"Address": self.email}
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "CompanyName": self.name,
            "LegalName": self.name,
            "CompanyAddr": address,
            "CustomerCommunicationAddr": address,
            "LegalAddr": address,
            "CustomerCommunicationEmailAddr": email,
            "Email": email,
            "CompanyStartDate": opened.astimezone(self.tz).date().isoformat(),
            "FiscalYearStartMonth": "January",
            "Country": self.country,
            "SupportedLanguages": self.locale.split("_")[0],
            "MetaData": {"CreateTime": self.stamp(opened), "LastUpdatedTime": self.stamp(opened)},
        }

    def invoice_total(self, record: dict[str, Any]) -> Decimal:
        if record.get("_voided"):
            return ZERO
        return sum(
            (
                Decimal(line.get("Amount", 0))
                for line in record.get("Line", [])
                if line.get("DetailType") != "SubTotalLineDetail"
            ),
            ZERO,
        )

    def invoice_balance(self, record: dict[str, Any]) -> Decimal:
        if record.get("_voided"):
            return ZERO
        return self.invoice_total(record) - sum(self.applied.get(record["Id"], {}).values(), ZERO)

    def credit_remaining(self, record: dict[str, Any]) -> Decimal:
        """A credit memo's credit not yet applied by a payment line (RemainingCredit, Balance)."""
        return self.invoice_total(record) - sum(self.credited.get(record["Id"], {}).values(), ZERO)

    def unapplied(self, record: dict[str, Any]) -> Decimal:
        """A payment's UnappliedAmt: its total less what it pays on invoices, plus the credit it uses."""
        paid = credit = ZERO
        for line in record.get("Line", []):
            kinds = {link.get("TxnType") for link in line.get("LinkedTxn", [])}
            if "CreditMemo" in kinds:
                credit += Decimal(line.get("Amount", 0))
            else:
                paid += Decimal(line.get("Amount", 0))
        return Decimal(record.get("TotalAmt", 0)) - paid + credit

    def customer_balance(self, customer_id: str) -> Decimal:
        """What the customer owes net of their open credit memos and unapplied payments, as QuickBooks counts it."""
        owed = ZERO
        for entity, amount in (
            ("Invoice", self.invoice_balance),
            ("CreditMemo", self.credit_remaining),
            ("Payment", self.unapplied),
        ):
            by_customer = self._indexed(("by customer", entity), entity, partial(self._by_customer, entity))
            total = sum((amount(r) for r in by_customer.get(customer_id, ())), ZERO)
            owed += total if entity == "Invoice" else -total
        return owed

    def customer_chain(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The customer's ancestors from the top, then the customer (QuickBooks allows 5 levels)."""
        chain = [record]
        while len(chain) <= 5:
            parent = self.entities["Customer"].get(str((chain[0].get("ParentRef") or {}).get("value")))
            if parent is None or parent in chain:
                break
            chain.insert(0, parent)
        return chain

    def jobs_of(self, customer_id: str) -> list[str]:
        """The ids of every job and sub-customer below the customer, at any depth."""
        children = self._indexed("jobs by parent", "Customer", self._jobs_by_parent)
        found, frontier = [], list(children.get(customer_id, ()))
        while frontier:
            child = frontier.pop()
            if child not in found and child != customer_id:
                found.append(child)
                frontier.extend(children.get(child, ()))
        return found

    def _jobs_by_parent(self) -> dict[str, list[str]]:
        by_parent: dict[str, list[str]] = {}
        for record in self.entities["Customer"].values():
            parent = (record.get("ParentRef") or {}).get("value")
            if parent is not None:
                by_parent.setdefault(str(parent), []).append(record["Id"])
        return by_parent

    def _by_customer(self, entity: str) -> dict[str | None, list[dict[str, Any]]]:
        # A scan of every invoice per customer made a page of customers quadratic in the company.
        by_customer: dict[str | None, list[dict[str, Any]]] = {}  # None: records without a CustomerRef
        for record in self.entities[entity].values():
            by_customer.setdefault((record.get("CustomerRef") or {}).get("value"), []).append(record)
        return by_customer

    def invoice_link(self, invoice_id: str) -> str:
        return f"{self.link_base}/app/pay/{self.realm_id}/{invoice_id}"

    def spec(self, entity: str) -> EntitySpec:
        return ENTITIES[entity]


def _render_invoice(company: Company, record: dict[str, Any], out: dict[str, Any], include: frozenset[str]) -> None:
    total = company.invoice_total(record)
    out["TotalAmt"] = total
    out["Balance"] = company.invoice_balance(record)
    out["HomeBalance"] = out["Balance"]
    out["Line"] = list(out.get("Line", [])) + [
        {"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    ]
    out["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"} for pid in company.applied.get(record["Id"], {})]
    out.setdefault("CurrencyRef", {"value": company.currency})
    email = (record.get("BillEmail") or {}).get("Address")
    online = record.get("AllowOnlineCreditCardPayment") or record.get("AllowOnlineACHPayment")
    if "invoicelink" in include and online and email and not record.get("_voided"):
        out["InvoiceLink"] = company.invoice_link(record["Id"])


def _render_customer(company: Company, record: dict[str, Any], out: dict[str, Any], include: frozenset[str]) -> None:
    out["Balance"] = company.customer_balance(record["Id"])
    chain = company.customer_chain(record)
    # Intuit's Customer contract (IntuitNamesTypes.xsd): Job marks a job or sub-customer, Level its
    # depth under RootCustomerRef, FullyQualifiedName "Parent:Job", BalanceWithJobs its own and its jobs'.
    out["BalanceWithJobs"] = sum((company.customer_balance(c) for c in company.jobs_of(record["Id"])), out["Balance"])
    out["FullyQualifiedName"] = ":".join(r.get("DisplayName", "") for r in chain)
    out["Job"] = len(chain) > 1
    out["BillWithParent"] = len(chain) > 1 and record.get("BillWithParent") is True
    if len(chain) > 1:
        out["Level"] = len(chain) - 1
        out["RootCustomerRef"] = {"value": chain[0]["Id"], "name": chain[0].get("DisplayName", "")}
    out.setdefault("Active", True)
    out.setdefault("CurrencyRef", {"value": company.currency})


def _render_term(company: Company, record: dict[str, Any], out: dict[str, Any], include: frozenset[str]) -> None:
    out["Type"] = "STANDARD" if record.get("DueDays") is not None else "DATE_DRIVEN"
    out.setdefault("Active", True)


def _render_payment(company: Company, record: dict[str, Any], out: dict[str, Any], include: frozenset[str]) -> None:
    out["UnappliedAmt"] = company.unapplied(record)
    out.setdefault("CurrencyRef", {"value": company.currency})


def _render_credit_memo(company: Company, record: dict[str, Any], out: dict[str, Any], include: frozenset[str]) -> None:
    out["TotalAmt"] = company.invoice_total(record)
    out["RemainingCredit"] = out["Balance"] = company.credit_remaining(record)
    out["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"} for pid in company.credited.get(record["Id"], {})]
    out.setdefault("CurrencyRef", {"value": company.currency})


def _stored_value(record: dict[str, Any], path: str, kind: str) -> Any:
    """A field that is not derived, read off the stored record; MetaData to the second, as rendered."""
    if path.startswith("MetaData."):
        instant: dt.datetime = record["_created" if path == "MetaData.CreateTime" else "_updated"]
        return instant.replace(microsecond=0)
    return field_value(record, path, kind)


_RENDERERS = {
    "Invoice": _render_invoice,
    "Customer": _render_customer,
    "Term": _render_term,
    "Payment": _render_payment,
    "CreditMemo": _render_credit_memo,
}
