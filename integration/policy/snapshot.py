"""The frozen input of the policy: one company's books, its owner's pauses and overrides, and the
history of what arpilot has already done.

History is the source of truth for where each invoice stands on the ladder: the policy derives
the last stage from the reminders already sent instead of keeping a counter that could drift. The
cycle builds this from the mirror and the action ledger; backtest builds it from a scenario and
feeds its own decisions back in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.contract import Credit, Customer, Invoice, Payment
from integration.policy.rules import CHANNELS, STAGES


class SnapshotError(ValueError):
    """A snapshot that contradicts itself (an invoice of an unknown customer, a bad time zone)."""


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    timezone: str
    currency: str
    locale: str = "en_US"
    # The most decimal places the company's books keep on an amount (connectors.contract.booked_places);
    # None: each currency's own.
    booked_places: int | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SnapshotError(f"company.timezone: unknown time zone {self.timezone!r}") from None


@dataclass(frozen=True, slots=True)
class Instalment:
    date: dt.date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoicePause:
    """What stops the ladder for one invoice: a dispute, a promise to pay by a date, a payment plan,
    the customer's word that it is paid (until the owner has checked)."""

    invoice_id: str
    disputed: bool = False
    promise_to_pay: dt.date | None = None
    plan: tuple[Instalment, ...] = ()
    plan_paid_before: Decimal = Decimal(0)  # paid on the invoice before the plan: not an instalment
    says_paid: bool = False


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """Instalments over several invoices of one customer (an account plan). An instalment is kept when
    what was paid on the covered invoices since the plan began reaches the instalments due by then."""

    plan_id: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]
    paid_before: Decimal = Decimal(0)  # paid on the covered invoices before the plan: not an instalment


@dataclass(frozen=True, slots=True)
class CustomerOverride:
    """The owner's word on one customer. `grace_days` replaces the computed grace when set."""

    customer_id: str
    paused: bool = False
    excluded: bool = False
    grace_days: int | None = None
    opted_out: bool = False
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class SentReminder:
    """A ladder stage done for some invoices of one customer on one (company-local) date. One
    consolidated email carrying invoices at different stages is recorded as one entry per stage."""

    customer_id: str
    invoice_ids: tuple[str, ...]
    stage: str
    date: dt.date
    channel: str = "email"

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise SnapshotError(f"reminder history: unknown stage {self.stage!r}")
        if self.channel not in CHANNELS:
            raise SnapshotError(f"reminder history: unknown channel {self.channel!r}")


@dataclass(frozen=True, slots=True)
class HoldEvent:
    customer_id: str
    on: bool
    date: dt.date


@dataclass(frozen=True, slots=True)
class TermsMove:
    customer_id: str
    date: dt.date
    day_of_month: int


@dataclass(frozen=True, slots=True)
class LateFeeCharge:
    """A late fee arpilot charged (or planned: it counts from then on) on one invoice. `fee_invoice_id`
    is the provider's record of the fee once written; a fee the owner reversed no longer counts
    towards the cap, but still marks its period as charged."""

    invoice_id: str
    date: dt.date
    amount: Decimal
    fee_invoice_id: str | None = None
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class History:
    reminders: tuple[SentReminder, ...] = ()
    holds: tuple[HoldEvent, ...] = ()
    term_moves: tuple[TermsMove, ...] = ()
    late_fees: tuple[LateFeeCharge, ...] = ()


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping if isinstance(mapping, MappingProxyType) else MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything decide may look at. `invoices` holds open invoices and the paid history (the
    profile window); `payments` the payments applied to them; `credits` what the customers hold
    unapplied (credit notes and memos, overpayments, prepayments, unapplied payments). `on_hold`
    and `mid_month` are the customers' current state at the provider; `history` is what arpilot did."""

    company: Company
    customers: tuple[Customer, ...]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...] = ()
    pauses: Mapping[str, InvoicePause] = field(default_factory=dict)  # by invoice id
    overrides: Mapping[str, CustomerOverride] = field(default_factory=dict)  # by customer id
    on_hold: frozenset[str] = frozenset()
    mid_month: frozenset[str] = frozenset()
    history: History = History()
    credits: tuple[Credit, ...] = ()
    # Each customer's own zone where their billing address settles it (quiet hours in their day).
    customer_zones: Mapping[str, str] = field(default_factory=dict)
    account_plans: tuple[AccountPlan, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pauses", _frozen(self.pauses))
        object.__setattr__(self, "overrides", _frozen(self.overrides))
        object.__setattr__(self, "customer_zones", _frozen(self.customer_zones))
        for zone in set(self.customer_zones.values()):
            Company("", zone, self.company.currency)  # checks the zone
        known = {c.provider_id for c in self.customers}
        if len(known) != len(self.customers):
            raise SnapshotError("customers: the same customer id appears twice")
        for index, invoice in enumerate(self.invoices):
            if invoice.customer_id not in known:
                raise SnapshotError(f"invoices[{index}].customer_id names no customer: {invoice.customer_id!r}")
        for customer_id, override in self.overrides.items():
            if override.customer_id != customer_id:
                raise SnapshotError(f"overrides[{customer_id!r}] is keyed by another customer's id")
            if override.timezone is not None:
                Company("", override.timezone, self.company.currency)  # checks the zone
        for invoice_id, pause in self.pauses.items():
            if pause.invoice_id != invoice_id:
                raise SnapshotError(f"pauses[{invoice_id!r}] is keyed by another invoice's id")
        covered: set[str] = set()
        for plan in self.account_plans:
            if covered.intersection(plan.invoice_ids):
                raise SnapshotError(f"account plan {plan.plan_id!r} covers an invoice another plan covers")
            covered.update(plan.invoice_ids)
