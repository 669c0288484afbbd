"""The scenario file format (JSON, `"format": "arpilot-scenario/1"`), its records and its checks.

A scenario is what a company's books hold on one day: customers, invoices and the payments applied
to them. It knows no provider: each sandbox maps it onto its own ids and shapes. Every field is
checked on load and an error names the path of the first bad field (`invoices[3].due_date`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SUPPORTED_CURRENCIES

FORMAT = "arpilot-scenario/1"
CONTACT_ROLES = ("billing", "accounts_payable", "owner")


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded; the message names the offending field."""


@dataclass(frozen=True)
class ScenarioCompany:
    name: str
    timezone: str
    currency: str
    locale: str = "en_US"
    country: str = "US"
    email: str = "billing@example.com"
    region: str | None = None  # state or province of the company's address ("CO"): QuickBooks' zone comes from it


@dataclass(frozen=True)
class ScenarioContact:
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class ScenarioCustomer:
    id: str
    name: str
    email: str | None
    phone: str | None
    currency: str
    terms_days: int
    habit: str = ""  # what the generator meant this customer to look like; informational only
    contacts: tuple[ScenarioContact, ...] = ()
    country: str | None = None  # the billing address's country and state: the customer's own time zone
    region: str | None = None


@dataclass(frozen=True)
class ScenarioLine:
    description: str
    amount: Decimal


@dataclass(frozen=True)
class ScenarioInvoice:
    id: str
    number: str
    customer_id: str
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    lines: tuple[ScenarioLine, ...]
    voided: bool = False
    disputed: bool = False

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass(frozen=True)
class ScenarioPayment:
    id: str
    customer_id: str
    date: dt.date
    currency: str
    applied: tuple[tuple[str, Decimal], ...]  # (invoice id, amount)

    @property
    def amount(self) -> Decimal:
        return sum((amount for _, amount in self.applied), Decimal("0"))


@dataclass(frozen=True)
class Scenario:
    company: ScenarioCompany
    as_of: dt.date
    customers: tuple[ScenarioCustomer, ...]
    invoices: tuple[ScenarioInvoice, ...]
    payments: tuple[ScenarioPayment, ...]
    _paid: dict[str, Decimal] = field(default_factory=dict, compare=False, repr=False)
    _customers: dict[str, ScenarioCustomer] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        paid: dict[str, Decimal] = {}
        for payment in self.payments:
            for invoice_id, amount in payment.applied:
                paid[invoice_id] = paid.get(invoice_id, Decimal("0")) + amount
        object.__setattr__(self, "_paid", paid)
        # Seeding looks a customer up per invoice: a scan would be quadratic in a 100,000-invoice company.
        object.__setattr__(self, "_customers", {customer.id: customer for customer in self.customers})

    def balance_of(self, invoice: ScenarioInvoice) -> Decimal:
        if invoice.voided:
            return Decimal("0")
        return invoice.total - self._paid.get(invoice.id, Decimal("0"))

    def customer(self, customer_id: str) -> ScenarioCustomer:
        return self._customers[customer_id]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "as_of": self.as_of.isoformat(),
            "company": {
                "name": self.company.name,
                "timezone": self.company.timezone,
                "currency": self.company.currency,
                "locale": self.company.locale,
                "country": self.company.country,
                "email": self.company.email,
                **({"region": self.company.region} if self.company.region else {}),
            },
            "customers": [
                {
                    "id": c.id,
                    "name": c.name,
                    "email": c.email,
                    "phone": c.phone,
                    "currency": c.currency,
                    "terms_days": c.terms_days,
                    "habit": c.habit,
                    "contacts": [{"name": p.name, "email": p.email, "role": p.role} for p in c.contacts],
                    **{k: v for k, v in (("country", c.country), ("region", c.region)) if v},
                }
                for c in self.customers
            ],
            "invoices": [
                {
                    "id": i.id,
                    "number": i.number,
                    "customer_id": i.customer_id,
                    "issue_date": i.issue_date.isoformat(),
                    "due_date": i.due_date.isoformat() if i.due_date else None,
                    "currency": i.currency,
                    "lines": [{"description": l.description, "amount": str(l.amount)} for l in i.lines],
                    "voided": i.voided,
                    "disputed": i.disputed,
                }
                for i in self.invoices
            ],
            "payments": [
                {
                    "id": p.id,
                    "customer_id": p.customer_id,
                    "date": p.date.isoformat(),
                    "currency": p.currency,
                    "applied": [{"invoice_id": inv, "amount": str(amt)} for inv, amt in p.applied],
                }
                for p in self.payments
            ],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)


class _Reader:
    """Reads one JSON object with typed getters that report the path of a bad field."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{path or 'scenario'} must be a JSON object")
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def str(self, key: str, *, optional: bool = False, default: str | None = None) -> Any:
        value = self.data.get(key, default)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{self._where(key)} must be a non-empty string")
        return value

    def date(self, key: str, *, optional: bool = False) -> dt.date | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ScenarioError(f"{self._where(key)} must be a date like 2026-01-31, got {value!r}") from None

    def decimal(self, key: str) -> Decimal:
        value = self.data.get(key)
        if isinstance(value, float) or isinstance(value, bool):
            raise ScenarioError(f"{self._where(key)} must be a decimal string such as \"125.00\", not a float")
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ScenarioError(f"{self._where(key)} must be a decimal amount, got {value!r}") from None
        if not amount.is_finite() or amount <= 0:
            raise ScenarioError(f"{self._where(key)} must be greater than zero, got {value!r}")
        return amount

    def int(self, key: str, minimum: int, maximum: int) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise ScenarioError(f"{self._where(key)} must be a whole number from {minimum} to {maximum}")
        return value

    def bool(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._where(key)} must be true or false")
        return value

    def currency(self, key: str) -> str:
        value = self.str(key)
        if value not in SUPPORTED_CURRENCIES:
            raise ScenarioError(f"{self._where(key)}: unsupported currency {value!r}")
        return value

    def items(self, key: str) -> Iterable[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ScenarioError(f"{self._where(key)} must be a list")
        return [_Reader(item, f"{self._where(key)}[{index}]") for index, item in enumerate(value)]


def _company(reader: _Reader) -> ScenarioCompany:
    timezone = reader.str("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"company.timezone: unknown time zone {timezone!r}") from None
    return ScenarioCompany(
        name=reader.str("name"),
        timezone=timezone,
        currency=reader.currency("currency"),
        locale=reader.str("locale", default="en_US"),
        country=reader.str("country", default="US"),
        email=reader.str("email", default="billing@example.com"),
        region=reader.str("region", optional=True),
    )


def _customer(reader: _Reader) -> ScenarioCustomer:
    contacts = []
    for contact in reader.items("contacts"):
        role = contact.str("role")
        if role not in CONTACT_ROLES:
            raise ScenarioError(f"{contact.path}.role must be one of {', '.join(CONTACT_ROLES)}")
        contacts.append(ScenarioContact(contact.str("name"), contact.str("email"), role))
    return ScenarioCustomer(
        id=reader.str("id"),
        name=reader.str("name"),
        email=reader.str("email", optional=True),
        phone=reader.str("phone", optional=True),
        currency=reader.currency("currency"),
        terms_days=reader.int("terms_days", 0, 999),
        habit=reader.data.get("habit") or "",
        contacts=tuple(contacts),
        country=reader.str("country", optional=True),
        region=reader.str("region", optional=True),
    )


def _invoice(reader: _Reader) -> ScenarioInvoice:
    lines = tuple(ScenarioLine(line.str("description"), line.decimal("amount")) for line in reader.items("lines"))
    if not lines:
        raise ScenarioError(f"{reader.path}.lines must hold at least one line")
    issue_date = reader.date("issue_date")
    due_date = reader.date("due_date", optional=True)
    if due_date is not None and issue_date is not None and due_date < issue_date:
        raise ScenarioError(f"{reader.path}.due_date is before its issue_date")
    return ScenarioInvoice(
        id=reader.str("id"),
        number=reader.str("number"),
        customer_id=reader.str("customer_id"),
        issue_date=issue_date,  # type: ignore[arg-type]
        due_date=due_date,
        currency=reader.currency("currency"),
        lines=lines,
        voided=reader.bool("voided"),
        disputed=reader.bool("disputed"),
    )


def _payment(reader: _Reader) -> ScenarioPayment:
    applied = tuple((item.str("invoice_id"), item.decimal("amount")) for item in reader.items("applied"))
    if not applied:
        raise ScenarioError(f"{reader.path}.applied must name at least one invoice")
    return ScenarioPayment(
        id=reader.str("id"),
        customer_id=reader.str("customer_id"),
        date=reader.date("date"),  # type: ignore[arg-type]
        currency=reader.currency("currency"),
        applied=applied,
    )


def _unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ScenarioError(f"{what}: duplicate id {value!r}")
        seen.add(value)


def parse_scenario(data: Any) -> Scenario:
    root = _Reader(data, "")
    if data.get("format") != FORMAT:
        raise ScenarioError(f"format must be {FORMAT!r}")
    scenario = Scenario(
        company=_company(_Reader(data.get("company"), "company")),
        as_of=root.date("as_of"),  # type: ignore[arg-type]
        customers=tuple(_customer(r) for r in root.items("customers")),
        invoices=tuple(_invoice(r) for r in root.items("invoices")),
        payments=tuple(_payment(r) for r in root.items("payments")),
    )
    _check_references(scenario)
    return scenario


def _check_references(scenario: Scenario) -> None:
    _unique((c.id for c in scenario.customers), "customers")
    _unique((i.id for i in scenario.invoices), "invoices")
    _unique((p.id for p in scenario.payments), "payments")
    customers = {c.id: c for c in scenario.customers}
    invoices = {i.id: i for i in scenario.invoices}
    for index, invoice in enumerate(scenario.invoices):
        customer = customers.get(invoice.customer_id)
        if customer is None:
            raise ScenarioError(f"invoices[{index}].customer_id names no customer: {invoice.customer_id!r}")
        if customer.currency != invoice.currency:
            raise ScenarioError(f"invoices[{index}].currency differs from its customer's currency")
    for index, payment in enumerate(scenario.payments):
        for position, (invoice_id, _) in enumerate(payment.applied):
            invoice = invoices.get(invoice_id)
            where = f"payments[{index}].applied[{position}]"
            if invoice is None:
                raise ScenarioError(f"{where}.invoice_id names no invoice: {invoice_id!r}")
            if invoice.customer_id != payment.customer_id or invoice.currency != payment.currency:
                raise ScenarioError(f"{where} applies to another customer's or currency's invoice")
    for index, invoice in enumerate(scenario.invoices):
        if scenario.balance_of(invoice) < 0:
            raise ScenarioError(f"invoices[{index}] is paid more than its total")


def load_scenario(path: str | Path) -> Scenario:
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_scenario(data)
