"""The connector contract: the normalized records, typed errors and Connector protocol every connector returns.

Above this module nothing knows a provider's JSON. Every record is immutable, money is an exact
Decimal with its currency, due dates are company-local calendar dates and instants are UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Protocol, TypeVar, runtime_checkable

from babel.numbers import get_currency_precision, list_currencies

# Every ISO 4217 code (Babel carries CLDR's list) except the X-codes that name no money a customer
# owes: precious metals, bond-market units, SDRs, "testing" and "no currency". QuickBooks and Xero
# allow any real currency, so arpilot does too; a code outside this set is refused at the boundary
# with a clear error instead of being guessed at.
_NOT_MONEY = frozenset(
    ("XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XFO", "XFU", "XPD", "XPT", "XRE", "XSU", "XTS", "XUA", "XXX")
)
SUPPORTED_CURRENCIES = frozenset(list_currencies()) - _NOT_MONEY

T = TypeVar("T")


class UnsupportedCurrency(ValueError):
    """A currency code that arpilot does not handle."""


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Floats are refused: they cannot represent cents exactly."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, (Decimal, int)):
            raise TypeError(f"Money amount must be a Decimal or int, not {type(self.amount).__name__}")
        if isinstance(self.amount, int):
            object.__setattr__(self, "amount", Decimal(self.amount))
        if not self.amount.is_finite():
            raise ValueError(f"Money amount must be finite, got {self.amount}")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise UnsupportedCurrency(f"unsupported currency code {self.currency!r}")

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str) -> Money:
        """Build from a provider's decimal string (never via float)."""
        if isinstance(value, float):
            raise TypeError("Money.parse refuses floats; pass the provider's decimal text")
        return cls(Decimal(str(value)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return amount_text(self.amount, self.currency)


def amount_text(amount: Decimal, currency: str) -> str:
    """`1234.50 USD`, `1235 JPY`, `12.345 BHD`: the amount with its currency's minor-unit digits."""
    return f"{amount:.{minor_digits(currency)}f} {currency}"


@functools.cache
def minor_digits(currency: str) -> int:
    """The currency's minor-unit digits: 2 for USD, 0 for JPY, 3 for BHD."""
    # A CLDR lookup each time cost the policy's reasons more than the formatting itself.
    return int(get_currency_precision(currency))


class Provider(str, Enum):
    QUICKBOOKS = "quickbooks"
    XERO = "xero"


# Xero keeps every amount to two decimal places whatever the currency (its `unitdp=4` opts unit
# prices into four, never line amounts or totals), so a dinar's third place is lost there; QuickBooks
# keeps the currency's own.
_BOOKED_PLACES = {Provider.XERO.value: 2}


def booked_places(provider: str) -> int | None:
    """The most decimal places the provider's books keep on an amount; None: the currency's own."""
    return _BOOKED_PLACES.get(provider)


class InvoiceStatus(str, Enum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"
    DRAFT = "draft"


class TermsKind(str, Enum):
    NET_DAYS = "net_days"  # due N days after the invoice date
    DAY_OF_MONTH = "day_of_month"  # due on a fixed day of the (next) month


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    provider_id: str | None
    name: str
    kind: TermsKind
    days: int | None = None  # NET_DAYS
    day_of_month: int | None = None  # DAY_OF_MONTH
    next_month_if_within_days: int | None = None  # DAY_OF_MONTH: QBO DueNextMonthDays


@dataclass(frozen=True, slots=True)
class Contact:
    email: str | None
    name: str | None = None
    role: str = "billing"  # billing, accounts_payable, owner


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """Where post reaches a customer or the company, as the books spell it: street lines (QuickBooks
    Line1..Line5, Xero AddressLine1..4), then the place. Built by connectors/postal.py, which keeps
    out blank lines and text no database can store."""

    lines: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None  # state, province or county (QuickBooks CountrySubDivisionCode)
    postal_code: str | None = None
    country: str | None = None
    attention: str | None = None  # who the post is for (Xero AttentionTo)

    @property
    def postable(self) -> bool:
        """Whether a letter can reach it: a street line and a place (a city or postal code, or a
        second line, as QuickBooks' free-form addresses keep the place in a line of their own)."""
        return len(self.lines) + bool(self.city or self.postal_code) >= 2


@dataclass(frozen=True, slots=True)
class Customer:
    provider_id: str
    name: str
    email: str | None
    phone: str | None
    currency: str
    terms_id: str | None
    active: bool
    updated_at: dt.datetime
    contacts: tuple[Contact, ...] = ()
    notes: str = ""
    deleted: bool = False
    # QuickBooks sub-customers and jobs: the parent's id, and whether the job is billed with it
    # (then the parent's account is the one collected). Xero has no such structure.
    parent_id: str | None = None
    bill_with_parent: bool = False
    full_name: str | None = None  # QuickBooks FullyQualifiedName, "Parent:Job"
    # The billing address's country and state or province, as the books spell them: the customer's
    # own time zone comes from them (connectors/regions.py).
    country: str | None = None
    region: str | None = None
    # Where letters go (QuickBooks BillAddr, else ShipAddr; Xero's POBOX address, else STREET).
    billing_address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    provider_id: str
    number: str
    customer_id: str
    issue_date: dt.date
    due_date: dt.date | None
    total: Money
    balance: Money
    status: InvoiceStatus
    updated_at: dt.datetime
    pay_link: str | None = None
    email: str | None = None
    sync_token: str | None = None

    def __post_init__(self) -> None:
        if self.total.currency != self.balance.currency:
            raise ValueError("invoice total and balance must share a currency")


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    invoice_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Payment:
    provider_id: str
    customer_id: str
    date: dt.date
    amount: Money
    applied_to: tuple[PaymentApplication, ...]
    updated_at: dt.datetime
    deleted: bool = False
    # Received but applied to no invoice yet (QuickBooks UnappliedAmt): credit the customer holds.
    unapplied: Money | None = None

    def unapplied_credit(self) -> Credit | None:
        """The unapplied part as the customer's credit (None when every cent is applied)."""
        if self.deleted or self.unapplied is None or self.unapplied.amount <= 0:
            return None
        return Credit(
            self.provider_id,
            CreditKind.UNAPPLIED_PAYMENT,
            self.customer_id,
            self.provider_id,
            self.date,
            self.amount,
            self.unapplied,
            self.updated_at,
        )


class CreditKind(str, Enum):
    CREDIT_NOTE = "credit_note"  # Xero ACCRECCREDIT
    CREDIT_MEMO = "credit_memo"  # QuickBooks CreditMemo
    OVERPAYMENT = "overpayment"  # Xero RECEIVE-OVERPAYMENT
    PREPAYMENT = "prepayment"  # Xero RECEIVE-PREPAYMENT
    UNAPPLIED_PAYMENT = "unapplied_payment"  # QuickBooks Payment.UnappliedAmt (made from a Payment)


@dataclass(frozen=True, slots=True)
class Credit:
    """Money a customer may set against what they owe. `remaining` is what the provider says is
    still unallocated (Xero RemainingCredit, QuickBooks CreditMemo.Balance); it is zero once the
    credit is used up, voided or deleted, and `allocations` are the parts already applied."""

    provider_id: str
    kind: CreditKind
    customer_id: str
    number: str
    date: dt.date
    total: Money
    remaining: Money
    updated_at: dt.datetime
    allocations: tuple[PaymentApplication, ...] = ()
    deleted: bool = False

    def __post_init__(self) -> None:
        if self.total.currency != self.remaining.currency:
            raise ValueError("credit total and remaining must share a currency")

    @property
    def label(self) -> str:
        """How the owner finds it in the books: "credit note CN-0001"."""
        words = self.kind.value.replace("_", " ")
        return f"{words} {self.number}" if self.number else words


Record = Customer | Invoice | Payment | PaymentTerms | Credit


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the provider sent that arpilot cannot read (say, in a currency it does not handle).
    The sync goes on without it and the owner is told which record and why."""

    entity: str
    provider_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Page:
    """One page of changes for one entity, with the cursor to store once the page is saved."""

    entity: str
    records: Sequence[Record]
    cursor: str
    deleted_ids: tuple[str, ...] = ()
    done: bool = False
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """Text to add to an invoice or customer inside the accounting system."""

    text: str
    action_id: str
    on: dt.date | None = None  # the date written in front of the note; None: the connector's today


@dataclass(frozen=True, slots=True)
class LateFee:
    """A late fee to write into the books as its own charge to the customer, apart from the overdue
    invoice it is for. `number` is the fee's own document number (it finds an earlier write again);
    `account` is where the provider books it: the QuickBooks item (name or id), the Xero account code."""

    customer_id: str
    invoice_id: str
    invoice_number: str
    amount: Money
    on: dt.date
    number: str
    account: str
    note: Note  # the internal note on the fee: the action that charged it

    def __post_init__(self) -> None:
        if self.amount.amount <= 0:
            raise ValueError(f"a late fee must be more than zero, got {self.amount}")

    @property
    def description(self) -> str:
        """The line the customer reads on the fee."""
        return f"Late fee on invoice {self.invoice_number}"


# --- typed errors: the only exceptions that cross the connector boundary --------------------


class ConnectorError(Exception):
    """Base of every error a connector raises; its message carries the provider's text, no secrets."""


class AuthExpired(ConnectorError):
    """The grant is revoked or the refresh failed: the owner must reconnect."""


class RateLimited(ConnectorError):
    """The provider throttled us; retry after `retry_after` seconds (`daily` means stop for today)."""

    def __init__(self, message: str, retry_after: float, daily: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.daily = daily


class Conflict(ConnectorError):
    """The record changed under us (QuickBooks stale SyncToken, 5010)."""


class NotFound(ConnectorError):
    """The record does not exist at the provider (deleted, or never existed)."""


class Transient(ConnectorError):
    """A 5xx, a timeout or a malformed body: safe to retry with backoff."""


class ProviderValidationError(ConnectorError):
    """The provider refused the request as invalid; retrying will not help."""


class UnreadableRecord(ConnectorError):
    """One record the provider sent cannot be mapped; other records are unaffected, so a sync
    rejects it (see `Rejected`) instead of stopping."""

    record_id: str | None = None


def read_each(
    entity: str, items: Iterable[T], read: Callable[[T], Sequence[Record]]
) -> tuple[list[Record], list[Rejected]]:
    """`read` applied to each raw item on its own: an unreadable item is rejected, never the page."""
    records: list[Record] = []
    rejected: list[Rejected] = []
    for item in items:
        try:
            records.extend(read(item))
        except UnreadableRecord as exc:
            rejected.append(Rejected(entity, exc.record_id, str(exc)))
    return records, rejected


@dataclass(frozen=True, slots=True)
class SyncRequest:
    entity: str
    cursor: str | None
    page_size: int = 1000
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


# Refresh-and-retry rounds one API call may spend on 401s. A 401 right after a refresh that worked
# is not proof the grant is gone (the provider may not have the new token everywhere yet, or another
# worker rotated it meanwhile): one more refresh and retry before the connection is given up
# ("needs reconnect"). A refresh that fails (invalid_grant) ends it at once.
REFRESHES_PER_CALL = 2


@runtime_checkable
class AccessTokenSource(Protocol):
    """Where a connector gets its bearer token; refreshing is the source's job, never the SDK's."""

    def access_token(self) -> str:
        """The current access token (refreshed first if it is known to be expired)."""
        ...

    def refreshed(self, stale_access_token: str) -> str:
        """A token newer than `stale_access_token` (one refresh, shared by concurrent callers);
        AuthExpired if the grant is gone."""
        ...


@runtime_checkable
class Connector(Protocol):
    """What arpilot needs from an accounting system. Every method raises only ConnectorError kinds."""

    provider: Provider
    credit_entities: tuple[str, ...]  # the entities `changes` serves customers' credit under

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        """Yield pages of records changed since request.cursor (None: everything), oldest first."""
        ...

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Read one invoice as it is now at the provider."""
        ...

    def get_invoices(
        self, invoice_ids: Sequence[str], *, pay_links: Collection[str] | None = None
    ) -> dict[str, Invoice]:
        """Read many invoices as they are now, in as few calls as the provider allows; ids not found are absent.
        `pay_links`: the ids whose pay link is wanted (None: all); a provider that needs a call per
        link (Xero) may leave the others' `pay_link` None."""
        ...

    def get_customer(self, customer_id: str) -> Customer:
        """Read one customer as it is now at the provider."""
        ...

    def get_credits(self, customer_id: str) -> list[Credit]:
        """The customer's credit with something left to apply, as it is now (the send-time re-check)."""
        ...

    def company_timezone(self) -> str:
        """The company's IANA time zone as its books state it (Xero's Organisation.Timezone), or
        as its address implies (QuickBooks, which keeps no zone: connectors/regions.company_zone)."""
        ...

    def add_invoice_note(self, invoice_id: str, note: Note, idempotency_key: str) -> str:
        """Append a note to the invoice (QBO PrivateNote, Xero History); returns a reference."""
        ...

    def add_invoice_notes(self, notes: Sequence[tuple[str, Note, str]]) -> dict[str, str | ConnectorError]:
        """Append many (invoice_id, note, idempotency_key) notes in as few calls as possible; result by action_id."""
        ...

    def find_invoice_note(self, invoice_id: str, action_id: str) -> bool:
        """Whether a note carrying action_id is already on the invoice (crash recovery)."""
        ...

    def send_invoice(self, invoice_id: str, idempotency_key: str, to: str | None = None) -> str:
        """Have the provider email the invoice to the customer; returns a reference."""
        ...

    def set_mid_month_terms(self, customer_id: str, day: int, idempotency_key: str) -> str:
        """Put the customer on terms due on `day` of the month; returns the terms reference."""
        ...

    def set_credit_hold(self, customer_id: str, on: bool, note: Note, idempotency_key: str) -> str:
        """Put the customer on credit hold or release them, visibly inside the provider."""
        ...

    def customer_on_hold(self, customer_id: str) -> bool:
        """Whether the customer is on credit hold at the provider now."""
        ...

    def company_name(self) -> str:
        """The company's name as the provider shows it to its owner (QBO CompanyInfo, Xero Organisation)."""
        ...

    def company_address(self) -> PostalAddress | None:
        """The company's own postal address, the sender on its letters (QuickBooks CompanyInfo
        CompanyAddr, else LegalAddr; Xero Organisation's POBOX address, else STREET); None when
        its books keep none."""
        ...

    def charge_late_fee(self, fee: LateFee, idempotency_key: str) -> Invoice:
        """Write the fee as its own invoice to the customer; returns it as the provider saved it.
        A repeat with the same key writes nothing new; ProviderValidationError when the books refuse
        the fee's item or account."""
        ...

    def find_late_fee(self, number: str) -> Invoice | None:
        """The fee invoice numbered `number`, if an earlier try wrote it (crash recovery)."""
        ...

    def reverse_late_fee(self, fee_invoice_id: str, note: Note, idempotency_key: str) -> str:
        """Void the fee invoice, with the owner's note on it where the provider keeps one."""
        ...


@runtime_checkable
class PaymentReader(Protocol):
    """A connector whose webhooks name payments rather than the invoices they pay (QuickBooks'
    Payment entity); Xero's name the invoice itself, so it needs no such read."""

    def get_payment(self, payment_id: str) -> Payment:
        """Read one payment as it is now at the provider (NotFound when deleted)."""
        ...
