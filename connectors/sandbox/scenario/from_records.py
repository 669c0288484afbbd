"""A scenario from a company's normalized connector records (connectors/contract.py), so any books
that went through a connector's mapping (a provider's published examples today, a synced mirror
tomorrow) can be replayed by the backtest.

Pure: records in, a `Converted` out. What the scenario cannot hold is never dropped without a word:
each record, or part of one, left out is `Rejected` (connectors/contract.py, as a sync reports a
record it cannot read), naming it and saying why. The scenario itself goes through the scenario
file's own checks (`parse_scenario`): what comes out loads as any `arpilot scenario` file does.

How records become scenario facts:
- an invoice's total becomes one line; its payments and credit allocations make its balance again,
  so a balance in the books that the records do not explain (payments not among them) is
  reported, as rejected, and the replay goes by the records;
- voided invoices stay, voided; drafts stay as drafts (nobody owes them); a deleted record is rejected;
- a customer's currency is the one its invoices are in (a provider's customer currency is only the
  default for new invoices); an invoice, payment or credit in another currency than its
  customer's others is rejected, since a scenario customer holds one currency;
- a payment's unapplied part (QuickBooks UnappliedAmt) becomes the customer's credit, as
  `Payment.unapplied_credit` says; a QuickBooks credit memo becomes a credit note;
- a credit's allocations carry no date in the records: they are dated on the credit's own date. A
  credit's amount is what is left of it plus the allocations the scenario holds, so what the
  customer can still apply stays right even when some allocations are rejected;
- payment terms are kept for the sandboxes when they are net days (others seed as due on receipt):
  the replay reads each invoice's own due date, never the terms.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.contract import (
    Credit,
    CreditKind,
    Customer,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentTerms,
    PostalAddress,
    Record,
    Rejected,
    TermsKind,
)
from connectors.sandbox.scenario.model import (
    CONTACT_ROLES,
    Scenario,
    ScenarioAllocation,
    ScenarioCompany,
    ScenarioContact,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
    parse_scenario,
    within_day_range,
)

# A scenario knows a provider's credit memo as what it is to the customer: a credit note.
_CREDIT_KINDS = {CreditKind.CREDIT_MEMO: "credit_note"}


@dataclass(frozen=True)
class Records:
    """One company's normalized records as a connector returns them."""

    customers: Sequence[Customer]
    invoices: Sequence[Invoice]
    payments: Sequence[Payment] = ()
    credits: Sequence[Credit] = ()
    terms: Mapping[str, PaymentTerms] = field(default_factory=dict)  # by provider id
    disputed: Collection[str] = frozenset()  # invoice ids the owner paused for a dispute (not a record field)

    @classmethod
    def of(cls, records: Iterable[Record], disputed: Collection[str] = frozenset()) -> Records:
        """Sorted by kind from one stream of records, as a connector's pages bring them."""
        found = list(records)
        return cls(
            customers=[r for r in found if isinstance(r, Customer)],
            invoices=[r for r in found if isinstance(r, Invoice)],
            payments=[r for r in found if isinstance(r, Payment)],
            credits=[r for r in found if isinstance(r, Credit)],
            terms={r.provider_id: r for r in found if isinstance(r, PaymentTerms) and r.provider_id},
            disputed=disputed,
        )


@dataclass(frozen=True)
class Converted:
    scenario: Scenario
    rejected: tuple[Rejected, ...]  # what the scenario does not hold of the records, and why


def scenario_from_records(company: ScenarioCompany, as_of: dt.date, records: Records) -> Converted:
    """The scenario of `records` on `as_of`, and all it leaves out, in the order the records came."""
    rejected: list[Rejected] = []
    currencies = _customer_currencies(records)
    customers = _customers(records, currencies, rejected)
    invoices = _invoices(records, customers, rejected)
    settled: dict[str, Decimal] = {}  # invoice id -> what the payments and credits held here pay of it
    payments, unapplied = _payments(records, customers, invoices, settled, rejected)
    credits = _credits([*unapplied, *records.credits], customers, invoices, settled, rejected)
    _unexplained_balances(records.invoices, invoices, settled, rejected)
    scenario = Scenario(
        company=company,
        as_of=as_of,
        customers=tuple(customers.values()),
        invoices=tuple(invoices.values()),
        payments=tuple(payments),
        credits=tuple(credits),
    )
    # The file format's checks, once more: what comes out loads as any scenario file does.
    return Converted(parse_scenario(scenario.to_json()), tuple(rejected))


def _customer_currencies(records: Records) -> dict[str, str]:
    """Each customer's currency: the one most of its invoices are in, else its record's default."""
    counts: dict[str, Counter[str]] = {}
    for invoice in records.invoices:
        counts.setdefault(invoice.customer_id, Counter())[invoice.total.currency] += 1
    chosen = {c.provider_id: c.currency for c in records.customers}
    for customer_id, seen in counts.items():
        default = chosen.get(customer_id)
        # Ties go to the customer's own default, then to the alphabet, so the choice never depends on order.
        chosen[customer_id] = max(seen, key=lambda code: (seen[code], code == default, code))
    return chosen


def _customers(
    records: Records, currencies: Mapping[str, str], rejected: list[Rejected]
) -> dict[str, ScenarioCustomer]:
    parents = {c.provider_id: c.parent_id for c in records.customers if not c.deleted}
    # A job is kept only when its whole line of parents is: drop the orphans until none is left.
    while orphans := [i for i, parent in parents.items() if parent is not None and parent not in parents]:
        for orphan in orphans:
            del parents[orphan]
    found: dict[str, ScenarioCustomer] = {}
    for customer in records.customers:
        if customer.deleted:
            rejected.append(Rejected("customer", customer.provider_id, "deleted in the books"))
            continue
        if customer.provider_id in found:
            rejected.append(Rejected("customer", customer.provider_id, "listed twice: the first is kept"))
            continue
        if customer.provider_id not in parents:
            rejected.append(
                Rejected(
                    "customer",
                    customer.provider_id,
                    f"its parent customer {customer.parent_id} is not among the records kept",
                )
            )
            continue
        address = customer.billing_address or PostalAddress()
        found[customer.provider_id] = ScenarioCustomer(
            id=customer.provider_id,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            currency=currencies[customer.provider_id],
            terms_days=_net_days(records.terms.get(customer.terms_id or "")),
            contacts=_contacts(customer, rejected),
            parent_id=customer.parent_id,
            bill_with_parent=customer.bill_with_parent,
            country=customer.country,
            region=customer.region,
            street=address.lines,
            city=address.city,
            postal_code=address.postal_code,
        )
    return found


def _net_days(terms: PaymentTerms | None) -> int:
    if terms is None or terms.kind is not TermsKind.NET_DAYS or terms.days is None:
        return 0
    return min(max(terms.days, 0), 999)


def _contacts(customer: Customer, rejected: list[Rejected]) -> tuple[ScenarioContact, ...]:
    kept = []
    for contact in customer.contacts:
        if not contact.email:
            rejected.append(
                Rejected("contact", customer.provider_id, f"{contact.name or 'a contact'} has no email address")
            )
        elif contact.role not in CONTACT_ROLES:
            rejected.append(
                Rejected("contact", customer.provider_id, f"{contact.email}: unknown role {contact.role!r}")
            )
        else:
            kept.append(ScenarioContact(contact.name or customer.name, contact.email, contact.role))
    return tuple(kept)


def _invoices(
    records: Records, customers: Mapping[str, ScenarioCustomer], rejected: list[Rejected]
) -> dict[str, ScenarioInvoice]:
    found: dict[str, ScenarioInvoice] = {}
    for invoice in records.invoices:
        reason = _invoice_refusal(invoice, customers, found)
        if reason is not None:
            rejected.append(Rejected("invoice", invoice.provider_id, reason))
            continue
        found[invoice.provider_id] = ScenarioInvoice(
            id=invoice.provider_id,
            number=invoice.number or invoice.provider_id,
            customer_id=invoice.customer_id,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            currency=invoice.total.currency,
            lines=(ScenarioLine("invoice total", invoice.total.amount),),
            voided=invoice.status is InvoiceStatus.VOIDED,
            disputed=invoice.provider_id in records.disputed,
            status="draft" if invoice.status is InvoiceStatus.DRAFT else "approved",
        )
    return found


def _invoice_refusal(
    invoice: Invoice, customers: Mapping[str, ScenarioCustomer], found: Mapping[str, ScenarioInvoice]
) -> str | None:
    """Why the scenario cannot hold this invoice, or None when it can."""
    customer = customers.get(invoice.customer_id)
    if invoice.status is InvoiceStatus.DELETED:
        return "deleted in the books"
    if invoice.provider_id in found:
        return "listed twice: the first is kept"
    if customer is None:
        return f"its customer {invoice.customer_id} is not among the records kept"
    if invoice.total.currency != customer.currency:
        return f"in {invoice.total.currency}, while the customer's other invoices are in {customer.currency}"
    if invoice.total.amount <= 0:
        return f"a total of {invoice.total}: nothing was ever owed on it"
    if not all(within_day_range(day) for day in (invoice.issue_date, invoice.due_date) if day is not None):
        return "dated outside the days arpilot reasons about"
    if invoice.due_date is not None and invoice.due_date < invoice.issue_date:
        return f"due ({invoice.due_date}) before it was issued ({invoice.issue_date})"
    return None


def _payments(
    records: Records,
    customers: Mapping[str, ScenarioCustomer],
    invoices: Mapping[str, ScenarioInvoice],
    settled: dict[str, Decimal],
    rejected: list[Rejected],
) -> tuple[list[ScenarioPayment], list[Credit]]:
    """The payments as the scenario holds them, and the unapplied parts, as credits still to convert."""
    found: list[ScenarioPayment] = []
    unapplied: list[Credit] = []
    seen: set[str] = set()
    for payment in records.payments:
        reason = _owner_refusal(payment.customer_id, payment.amount.currency, customers)
        if payment.deleted:
            reason = "deleted in the books"
        elif payment.provider_id in seen:
            reason = "listed twice: the first is kept"
        elif not within_day_range(payment.date):
            reason = "dated outside the days arpilot reasons about"
        if reason is not None:
            rejected.append(Rejected("payment", payment.provider_id, reason))
            continue
        seen.add(payment.provider_id)
        applied = []
        for application in payment.applied_to:
            amount = application.amount.amount
            refusal = _application_refusal(application.invoice_id, amount, payment.customer_id, invoices, settled)
            if refusal is None:
                applied.append((application.invoice_id, amount))
                settled[application.invoice_id] = settled.get(application.invoice_id, Decimal(0)) + amount
            else:
                rejected.append(Rejected("application", payment.provider_id, refusal))
        if applied:
            found.append(
                ScenarioPayment(
                    payment.provider_id, payment.customer_id, payment.date, payment.amount.currency, tuple(applied)
                )
            )
        credit = payment.unapplied_credit()
        if credit is not None:
            unapplied.append(credit)
    return found, unapplied


def _owner_refusal(customer_id: str, currency: str, customers: Mapping[str, ScenarioCustomer]) -> str | None:
    customer = customers.get(customer_id)
    if customer is None:
        return f"its customer {customer_id} is not among the records kept"
    if currency != customer.currency:
        return f"in {currency}, while the customer's invoices are in {customer.currency}"
    return None


def _application_refusal(
    invoice_id: str,
    amount: Decimal,
    customer_id: str,
    invoices: Mapping[str, ScenarioInvoice],
    settled: Mapping[str, Decimal],
) -> str | None:
    """Why a payment's or credit's part cannot be applied to `invoice_id` here, or None."""
    invoice = invoices.get(invoice_id)
    if invoice is None:
        return f"pays invoice {invoice_id}, which is not among the records kept"
    if invoice.customer_id != customer_id:
        return f"pays invoice {invoice_id} of another customer ({invoice.customer_id})"
    if not invoice.owed:
        return f"pays invoice {invoice_id}, which nobody owes (voided or a draft)"
    if amount <= 0:
        return f"applies {amount} to invoice {invoice_id}: nothing"
    if settled.get(invoice_id, Decimal(0)) + amount > invoice.total:
        return f"pays {amount} more to invoice {invoice_id} than is left of its total of {invoice.total}"
    return None


def _credits(
    credits: Iterable[Credit],
    customers: Mapping[str, ScenarioCustomer],
    invoices: Mapping[str, ScenarioInvoice],
    settled: dict[str, Decimal],
    rejected: list[Rejected],
) -> list[ScenarioCredit]:
    found: list[ScenarioCredit] = []
    seen: set[str] = set()
    for credit in credits:
        reason = _owner_refusal(credit.customer_id, credit.total.currency, customers)
        if credit.deleted:
            reason = "deleted in the books"
        elif credit.provider_id in seen:
            reason = "listed twice: the first is kept"
        elif not within_day_range(credit.date):
            reason = "dated outside the days arpilot reasons about"
        if reason is not None:
            rejected.append(Rejected("credit", credit.provider_id, reason))
            continue
        allocations = []
        for allocation in credit.allocations:
            invoice_id, part = allocation.invoice_id, allocation.amount.amount
            refusal = _application_refusal(invoice_id, part, credit.customer_id, invoices, settled)
            if refusal is None:
                allocations.append(ScenarioAllocation(invoice_id, part, credit.date))
                settled[invoice_id] = settled.get(invoice_id, Decimal(0)) + part
            else:
                rejected.append(Rejected("allocation", credit.provider_id, refusal))
        amount = credit.remaining.amount + sum((a.amount for a in allocations), Decimal(0))
        if amount <= 0:
            rejected.append(
                Rejected("credit", credit.provider_id, "nothing left to apply and nothing applied that is held here")
            )
            continue
        seen.add(credit.provider_id)
        # An unapplied payment's total is the whole payment: only its unapplied part was ever credit.
        whole = credit.remaining.amount if credit.kind is CreditKind.UNAPPLIED_PAYMENT else credit.total.amount
        if amount != whole:
            rejected.append(
                Rejected(
                    "credit",
                    credit.provider_id,
                    f"kept as {amount} {credit.total.currency} (what is left plus the allocations held), "
                    f"not its total of {credit.total}",
                )
            )
        found.append(
            ScenarioCredit(
                id=credit.provider_id,
                kind=_CREDIT_KINDS.get(credit.kind, credit.kind.value),
                number=credit.number,
                customer_id=credit.customer_id,
                date=credit.date,
                currency=credit.total.currency,
                amount=amount,
                allocations=tuple(allocations),
            )
        )
    return found


def _unexplained_balances(
    records: Iterable[Invoice],
    invoices: Mapping[str, ScenarioInvoice],
    settled: Mapping[str, Decimal],
    rejected: list[Rejected],
) -> None:
    """Name each invoice whose balance in the books is not what the records held here leave of it:
    the replay can only know the payments it holds."""
    for record in records:
        held = invoices.get(record.provider_id)
        if held is None or not held.owed:
            continue
        left = held.total - settled.get(held.id, Decimal(0))
        if left != record.balance.amount:
            rejected.append(
                Rejected(
                    "invoice",
                    held.id,
                    f"the books say {record.balance} is owed, the payments and credit held here leave "
                    f"{left} {held.currency}: the replay goes by the latter",
                )
            )
