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

from connectors.contract import SUPPORTED_CURRENCIES, PostalAddress
from connectors.postal import postal_address

FORMAT = "arpilot-scenario/1"
CONTACT_ROLES = ("billing", "accounts_payable", "owner")
# A credit note (Xero credit note, QuickBooks credit memo), money received ahead of or beyond the
# invoices (Xero overpayment/prepayment, a QuickBooks payment's unapplied part), or a payment left
# unapplied (QuickBooks UnappliedAmt, a Xero overpayment).
CREDIT_KINDS = ("credit_note", "overpayment", "prepayment", "unapplied_payment")


# The days arpilot reasons about: a scenario's dates, the policy's today, a backtest's span. Far
# outside them, date arithmetic (terms, months of history, a week's grace) leaves the calendar.
EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
DAY_RANGE = f"a day from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"


def within_day_range(day: dt.date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


# An invoice's approval state: only an approved one is owed (Xero's SUBMITTED and DRAFT are not).
INVOICE_STATUSES = ("approved", "submitted", "draft")
# A sale is the customer's debt; a bill (Xero ACCPAY) is the business's own and is never chased.
INVOICE_TYPES = ("sale", "bill")


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded; the message names the offending field."""


class _Addressed:
    """A company or customer with an address: its street lines, city and postal code beside the
    country and region its time zone comes from."""

    street: tuple[str, ...]
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None

    @property
    def postal_address(self) -> PostalAddress | None:
        return postal_address(
            self.street, city=self.city, region=self.region, postal_code=self.postal_code, country=self.country
        )


@dataclass(frozen=True)
class ScenarioCompany(_Addressed):
    name: str
    timezone: str
    currency: str
    locale: str = "en_US"
    country: str = "US"
    email: str = "billing@example.com"
    region: str | None = None  # state or province of the company's address ("CO"): QuickBooks' zone comes from it
    street: tuple[str, ...] = ()
    city: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class ScenarioContact:
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class ScenarioCustomer(_Addressed):
    id: str
    name: str
    email: str | None
    phone: str | None
    currency: str
    terms_days: int
    habit: str = ""  # what the generator meant this customer to look like; informational only
    contacts: tuple[ScenarioContact, ...] = ()
    parent_id: str | None = None  # a job or sub-customer of this customer (QuickBooks)
    bill_with_parent: bool = False  # the job is billed through its parent's account
    country: str | None = None  # the billing address's country and state: the customer's own time zone
    region: str | None = None
    street: tuple[str, ...] = ()  # the rest of the billing address: where letters go
    city: str | None = None
    postal_code: str | None = None


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
    status: str = "approved"
    type: str = "sale"

    @property
    def owed(self) -> bool:
        """Whether the invoice is the customer's debt at all: an approved sale that is not voided."""
        return self.type == "sale" and self.status == "approved" and not self.voided

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
class ScenarioAllocation:
    invoice_id: str
    amount: Decimal
    date: dt.date


@dataclass(frozen=True)
class ScenarioCredit:
    """Credit a customer holds; `allocations` are the parts already applied to invoices."""

    id: str
    kind: str
    number: str
    customer_id: str
    date: dt.date
    currency: str
    amount: Decimal
    allocations: tuple[ScenarioAllocation, ...] = ()

    @property
    def remaining(self) -> Decimal:
        return self.amount - sum((a.amount for a in self.allocations), Decimal("0"))


@dataclass(frozen=True)
class Scenario:
    company: ScenarioCompany
    as_of: dt.date
    customers: tuple[ScenarioCustomer, ...]
    invoices: tuple[ScenarioInvoice, ...]
    payments: tuple[ScenarioPayment, ...]
    credits: tuple[ScenarioCredit, ...] = ()
    _paid: dict[str, Decimal] = field(default_factory=dict, compare=False, repr=False)
    _customers: dict[str, ScenarioCustomer] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        paid: dict[str, Decimal] = {}
        for payment in self.payments:
            for invoice_id, amount in payment.applied:
                paid[invoice_id] = paid.get(invoice_id, Decimal("0")) + amount
        for credit in self.credits:
            for allocation in credit.allocations:
                paid[allocation.invoice_id] = paid.get(allocation.invoice_id, Decimal("0")) + allocation.amount
        object.__setattr__(self, "_paid", paid)
        # Seeding looks a customer up per invoice: a scan would be quadratic in a 100,000-invoice company.
        object.__setattr__(self, "_customers", {customer.id: customer for customer in self.customers})

    def balance_of(self, invoice: ScenarioInvoice) -> Decimal:
        if not invoice.owed:
            return Decimal("0")
        return invoice.total - self._paid.get(invoice.id, Decimal("0"))

    def customer(self, customer_id: str) -> ScenarioCustomer:
        return self._customers[customer_id]

    def bill_to(self, customer: ScenarioCustomer) -> str | None:
        """Where the customer's invoices are emailed: a job billed with its parent uses the parent's address."""
        if customer.email is None and customer.bill_with_parent and customer.parent_id is not None:
            return self.bill_to(self._customers[customer.parent_id])
        return customer.email

    def depth(self, customer: ScenarioCustomer) -> int:
        """0 for a top-level customer, 1 for its job, and so on (the scenario's check refuses loops)."""
        depth = 0
        while customer.parent_id is not None and customer.parent_id in self._customers and depth < len(self._customers):
            customer, depth = self._customers[customer.parent_id], depth + 1
        return depth

    def to_json(self) -> dict[str, Any]:
        credits = (
            {
                "credits": [
                    {
                        "id": c.id,
                        "kind": c.kind,
                        "number": c.number,
                        "customer_id": c.customer_id,
                        "date": c.date.isoformat(),
                        "currency": c.currency,
                        "amount": str(c.amount),
                        "allocations": [
                            {"invoice_id": a.invoice_id, "amount": str(a.amount), "date": a.date.isoformat()}
                            for a in c.allocations
                        ],
                    }
                    for c in self.credits
                ]
            }
            if self.credits
            else {}
        )
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
                **_address_json(self.company),
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
                    **({"parent_id": c.parent_id, "bill_with_parent": c.bill_with_parent} if c.parent_id else {}),
                    **{k: v for k, v in (("country", c.country), ("region", c.region)) if v},
                    **_address_json(c),
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
                    "lines": [{"description": line.description, "amount": str(line.amount)} for line in i.lines],
                    "voided": i.voided,
                    "disputed": i.disputed,
                    # Written only when not the default, so existing scenario files read back unchanged.
                    **({"status": i.status} if i.status != INVOICE_STATUSES[0] else {}),
                    **({"type": i.type} if i.type != INVOICE_TYPES[0] else {}),
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
            **credits,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)


def _address_json(holder: _Addressed) -> dict[str, Any]:
    """The address fields beyond country and region, written only when present (older files have none)."""
    return {
        k: v
        for k, v in (("street", list(holder.street)), ("city", holder.city), ("postal_code", holder.postal_code))
        if v
    }


class _Reader:
    """Reads one JSON object with typed getters that report the path of a bad field."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{path or 'scenario'} must be a JSON object")
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, *, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{self._where(key)} must be a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def date(self, key: str) -> dt.date:
        value = self.data.get(key)
        try:
            day = dt.date.fromisoformat(value)  # type: ignore[arg-type]  # a non-string is the TypeError below
        except (TypeError, ValueError):
            raise ScenarioError(f"{self._where(key)} must be a date like 2026-01-31, got {value!r}") from None
        if not within_day_range(day):
            raise ScenarioError(f"{self._where(key)} must be {DAY_RANGE}, got {value}")
        return day

    def optional_date(self, key: str) -> dt.date | None:
        return None if self.data.get(key) is None else self.date(key)

    def decimal(self, key: str) -> Decimal:
        value = self.data.get(key)
        if isinstance(value, (float, bool)):
            raise ScenarioError(f'{self._where(key)} must be a decimal string such as "125.00", not a float')
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ScenarioError(f"{self._where(key)} must be a decimal amount, got {value!r}") from None
        if not amount.is_finite() or amount <= 0:
            raise ScenarioError(f"{self._where(key)} must be greater than zero, got {value!r}")
        return amount

    def whole(self, key: str, minimum: int, maximum: int) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise ScenarioError(f"{self._where(key)} must be a whole number from {minimum} to {maximum}")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._where(key)} must be true or false")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, choices[0])
        if value not in choices:
            raise ScenarioError(f"{self._where(key)} must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def currency(self, key: str) -> str:
        value = self.text(key)
        if value not in SUPPORTED_CURRENCIES:
            raise ScenarioError(f"{self._where(key)}: unsupported currency {value!r}")
        return value

    def lines(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(line, str) and line.strip() for line in value):
            raise ScenarioError(f"{self._where(key)} must be a list of non-empty strings")
        return tuple(value)

    def items(self, key: str) -> Iterable[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ScenarioError(f"{self._where(key)} must be a list")
        return [_Reader(item, f"{self._where(key)}[{index}]") for index, item in enumerate(value)]


def _company(reader: _Reader) -> ScenarioCompany:
    timezone = reader.text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"company.timezone: unknown time zone {timezone!r}") from None
    return ScenarioCompany(
        name=reader.text("name"),
        timezone=timezone,
        currency=reader.currency("currency"),
        locale=reader.text("locale", default="en_US"),
        country=reader.text("country", default="US"),
        email=reader.text("email", default="billing@example.com"),
        region=reader.optional_text("region"),
        street=reader.lines("street"),
        city=reader.optional_text("city"),
        postal_code=reader.optional_text("postal_code"),
    )


def _customer(reader: _Reader) -> ScenarioCustomer:
    contacts = []
    for contact in reader.items("contacts"):
        role = contact.text("role")
        if role not in CONTACT_ROLES:
            raise ScenarioError(f"{contact.path}.role must be one of {', '.join(CONTACT_ROLES)}")
        contacts.append(ScenarioContact(contact.text("name"), contact.text("email"), role))
    return ScenarioCustomer(
        id=reader.text("id"),
        name=reader.text("name"),
        email=reader.optional_text("email"),
        phone=reader.optional_text("phone"),
        currency=reader.currency("currency"),
        terms_days=reader.whole("terms_days", 0, 999),
        habit=reader.data.get("habit") or "",
        contacts=tuple(contacts),
        parent_id=reader.optional_text("parent_id"),
        bill_with_parent=reader.flag("bill_with_parent"),
        country=reader.optional_text("country"),
        region=reader.optional_text("region"),
        street=reader.lines("street"),
        city=reader.optional_text("city"),
        postal_code=reader.optional_text("postal_code"),
    )


def _invoice(reader: _Reader) -> ScenarioInvoice:
    lines = tuple(ScenarioLine(line.text("description"), line.decimal("amount")) for line in reader.items("lines"))
    if not lines:
        raise ScenarioError(f"{reader.path}.lines must hold at least one line")
    issue_date = reader.date("issue_date")
    due_date = reader.optional_date("due_date")
    if due_date is not None and issue_date is not None and due_date < issue_date:
        raise ScenarioError(f"{reader.path}.due_date is before its issue_date")
    return ScenarioInvoice(
        id=reader.text("id"),
        number=reader.text("number"),
        customer_id=reader.text("customer_id"),
        issue_date=issue_date,
        due_date=due_date,
        currency=reader.currency("currency"),
        lines=lines,
        voided=reader.flag("voided"),
        disputed=reader.flag("disputed"),
        status=reader.choice("status", INVOICE_STATUSES),
        type=reader.choice("type", INVOICE_TYPES),
    )


def _payment(reader: _Reader) -> ScenarioPayment:
    applied = tuple((item.text("invoice_id"), item.decimal("amount")) for item in reader.items("applied"))
    if not applied:
        raise ScenarioError(f"{reader.path}.applied must name at least one invoice")
    return ScenarioPayment(
        id=reader.text("id"),
        customer_id=reader.text("customer_id"),
        date=reader.date("date"),
        currency=reader.currency("currency"),
        applied=applied,
    )


def _credit(reader: _Reader) -> ScenarioCredit:
    kind = reader.text("kind")
    if kind not in CREDIT_KINDS:
        raise ScenarioError(f"{reader.path}.kind must be one of {', '.join(CREDIT_KINDS)}")
    issued = reader.date("date")
    allocations = tuple(
        ScenarioAllocation(item.text("invoice_id"), item.decimal("amount"), item.optional_date("date") or issued)
        for item in reader.items("allocations")
    )
    return ScenarioCredit(
        id=reader.text("id"),
        kind=kind,
        number=reader.data.get("number") or "",
        customer_id=reader.text("customer_id"),
        date=issued,
        currency=reader.currency("currency"),
        amount=reader.decimal("amount"),
        allocations=allocations,
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
        as_of=root.date("as_of"),
        customers=tuple(_customer(r) for r in root.items("customers")),
        invoices=tuple(_invoice(r) for r in root.items("invoices")),
        payments=tuple(_payment(r) for r in root.items("payments")),
        credits=tuple(_credit(r) for r in root.items("credits")),
    )
    _check_references(scenario)
    return scenario


def _check_references(scenario: Scenario) -> None:
    _unique((c.id for c in scenario.customers), "customers")
    _unique((i.id for i in scenario.invoices), "invoices")
    _unique((p.id for p in scenario.payments), "payments")
    customers = {c.id: c for c in scenario.customers}
    invoices = {i.id: i for i in scenario.invoices}
    for index, customer in enumerate(scenario.customers):
        if customer.parent_id is not None and customer.parent_id not in customers:
            raise ScenarioError(f"customers[{index}].parent_id names no customer: {customer.parent_id!r}")
        if customer.bill_with_parent and customer.parent_id is None:
            raise ScenarioError(f"customers[{index}].bill_with_parent needs a parent_id")
        if _has_loop(customer, customers):
            raise ScenarioError(f"customers[{index}].parent_id makes a loop")
    for index, invoice in enumerate(scenario.invoices):
        billed = customers.get(invoice.customer_id)
        if billed is None:
            raise ScenarioError(f"invoices[{index}].customer_id names no customer: {invoice.customer_id!r}")
        if billed.currency != invoice.currency:
            raise ScenarioError(f"invoices[{index}].currency differs from its customer's currency")
    for index, payment in enumerate(scenario.payments):
        for position, (invoice_id, _) in enumerate(payment.applied):
            paid = invoices.get(invoice_id)
            where = f"payments[{index}].applied[{position}]"
            if paid is None:
                raise ScenarioError(f"{where}.invoice_id names no invoice: {invoice_id!r}")
            if paid.customer_id != payment.customer_id or paid.currency != payment.currency:
                raise ScenarioError(f"{where} applies to another customer's or currency's invoice")
            if paid.type != "sale" or paid.status != "approved":
                raise ScenarioError(f"{where} applies to an invoice nobody owes yet (a bill or an unapproved one)")
    _unique((c.id for c in scenario.credits), "credits")
    for index, credit in enumerate(scenario.credits):
        holder = customers.get(credit.customer_id)
        if holder is None or holder.currency != credit.currency:
            raise ScenarioError(f"credits[{index}] names no customer of its currency: {credit.customer_id!r}")
        for position, allocation in enumerate(credit.allocations):
            allocated = invoices.get(allocation.invoice_id)
            if allocated is None or allocated.customer_id != credit.customer_id:
                raise ScenarioError(
                    f"credits[{index}].allocations[{position}].invoice_id names no invoice of its customer"
                )
        if credit.remaining < 0:
            raise ScenarioError(f"credits[{index}] allocates more than its amount")
    for index, invoice in enumerate(scenario.invoices):
        if scenario.balance_of(invoice) < 0:
            raise ScenarioError(f"invoices[{index}] is paid more than its total")


def _has_loop(customer: ScenarioCustomer, customers: Mapping[str, ScenarioCustomer]) -> bool:
    seen = {customer.id}
    while customer.parent_id is not None and customer.parent_id in customers:
        if customer.parent_id in seen:
            return True
        seen.add(customer.parent_id)
        customer = customers[customer.parent_id]
    return False


def load_scenario(path: str | Path) -> Scenario:
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 (byte {exc.start} cannot be read)") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply to be a scenario") from None
    return parse_scenario(data)
