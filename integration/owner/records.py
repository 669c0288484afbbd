"""What arpilot recorded, read back for the owner: the activity feed and one customer's collection record.

The feed is the action ledger and the activity log side by side, newest first: an action appears
when it was planned (with its reason and where it stands now) and each of its outcomes appears as
an activity entry. Pages are fetched with LIMIT, one row past the page to know whether there is a
next one, so a long history never loads whole.

Every query here starts from `integration.store.scoping.scoped`: a customer or invoice of another
organization is simply not found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.customer.acceptance import latest_acceptance
from integration.store.models import (
    AccountPlan,
    Action,
    ActivityEntry,
    InboundReply,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    PolicyAcceptance,
)
from integration.store.scoping import scoped

FEED_PAGE_SIZE = 50
MAX_FEED_PAGE = 10_000  # offsets past this are refused rather than scanned

# Action kinds by what the owner calls them in a collection record.
EMAIL_KINDS = ("send_reminder", "resend_invoice", "send_statement", "instalment_reminder")
CALL_KINDS = ("create_call_task",)


class RecordNotFound(LookupError):
    """No such customer or invoice in this organization (another organization's looks the same)."""


class BadFilter(ValueError):
    """A filter parameter that cannot be used: the message to show beside `field`, and the HTTP
    status (404 for a customer or invoice this organization does not have, 400 for nonsense)."""

    def __init__(self, message: str, field: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class FeedFilter:
    customer_id: int | None = None  # MirroredCustomer.id
    invoice_number: str | None = None
    page: int = 1


@dataclass(frozen=True)
class FeedRow:
    source: str  # "action" (a ledger row: planned, with its current result) or "entry" (an outcome or event)
    id: int
    at: dt.datetime
    kind: str
    level: str
    text: str  # the action's reason, or the entry's message
    result: str  # the action's status and reference or error; the entry's level
    customer_provider_id: str | None
    invoice_provider_id: str | None
    connection_id: int | None
    action_id: int | None


@dataclass(frozen=True)
class FeedPage:
    rows: list[FeedRow]
    page: int
    has_next: bool
    customers: dict[tuple[int, str], MirroredCustomer]  # (connection id, provider id) -> customer
    invoices: dict[tuple[int, str], str]  # (connection id, provider id) -> invoice number


@dataclass(frozen=True)
class CustomerRecord:
    """Everything arpilot knows about collecting from one customer."""

    customer: MirroredCustomer
    invoices: list[MirroredInvoice]
    payments: list[MirroredPayment]
    pauses: list[InvoicePause]  # disputes, promises to pay, payment plans
    emails: list[Action]
    calls: list[Action]
    other_actions: list[Action]  # notes, credit hold, mid-month terms, escalations
    activity: list[ActivityEntry]
    replies: list[InboundReply] = field(default_factory=list)  # what the customer wrote back
    acceptance: PolicyAcceptance | None = None  # the latest acceptance of the credit policy, on their page
    plan: AccountPlan | None = None  # the payment plan over several of their invoices

    @property
    def invoice_numbers(self) -> dict[str, str]:
        """provider id -> invoice number, to name invoices the way the owner and their customer do."""
        return {invoice.provider_id: invoice.number for invoice in self.invoices}

    @property
    def open_balance(self) -> dict[str, Decimal]:
        """What the customer owes now, per currency: open invoices only (a draft carries a balance
        nobody owes yet)."""
        totals: dict[str, Decimal] = {}
        for invoice in self.invoices:
            if invoice.status == InvoiceStatus.OPEN.value:
                totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.balance
        return totals


# --- the scope of one customer or invoice ---------------------------------------------------------


def find_customer(session: Session, organization_id: int, customer_id: int) -> MirroredCustomer:
    customer = session.scalar(scoped(MirroredCustomer, organization_id).where(MirroredCustomer.id == customer_id))
    if customer is None:
        raise RecordNotFound(f"customer {customer_id}")
    return customer


def _customer_invoice_ids(customer: MirroredCustomer) -> Select[tuple[str]]:
    return select(MirroredInvoice.provider_id).where(
        MirroredInvoice.connection_id == customer.connection_id,
        MirroredInvoice.customer_provider_id == customer.provider_id,
    )


# Each condition below is "id IN (a union of index lookups)" rather than an OR across columns, so
# both databases find a customer's or an invoice's few rows by index, statistics or not, and only
# then sort them.


def _actions_of_customer(customer: MirroredCustomer) -> ColumnElement[bool]:
    # Actions name one invoice or, for a consolidated step, the customer (see ledger.plan).
    return Action.id.in_(
        union_all(
            select(Action.id).where(
                Action.connection_id == customer.connection_id,
                Action.target_type == "customer",
                Action.target_id == customer.provider_id,
            ),
            select(Action.id).where(
                Action.connection_id == customer.connection_id,
                Action.target_type == "invoice",
                Action.target_id.in_(_customer_invoice_ids(customer)),
            ),
        )
    )


def _entries_of_customer(customer: MirroredCustomer) -> ColumnElement[bool]:
    return ActivityEntry.id.in_(
        union_all(
            select(ActivityEntry.id).where(
                ActivityEntry.connection_id == customer.connection_id,
                ActivityEntry.customer_provider_id == customer.provider_id,
            ),
            select(ActivityEntry.id).where(
                ActivityEntry.connection_id == customer.connection_id,
                ActivityEntry.invoice_provider_id.in_(_customer_invoice_ids(customer)),
            ),
        )
    )


def _payload_names_invoice(session: Session, invoice_id: str) -> ColumnElement[bool]:
    """The action's payload lists invoice_id among its invoices (a consolidated reminder covers several)."""
    if session.get_bind().dialect.name == "postgresql":
        items = func.json_array_elements_text(Action.payload["invoice_ids"]).table_valued("value")
    else:
        items = func.json_each(Action.payload, "$.invoice_ids").table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value == invoice_id))


def _invoice_conditions(
    session: Session, organization_id: int, number: str
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(actions, entries) about the organization's invoices numbered `number` (one per connection at most)."""
    invoices = session.execute(
        scoped(MirroredInvoice, organization_id)
        .with_only_columns(
            MirroredInvoice.connection_id, MirroredInvoice.provider_id, MirroredInvoice.customer_provider_id
        )
        .where(MirroredInvoice.number == number)
    ).all()
    if not invoices:
        raise BadFilter(f"No invoice numbered {number}.", "invoice", 404)
    action_ids: list[Select[tuple[int]]] = []
    entry_ids: list[Select[tuple[int]]] = []
    for connection_id, provider_id, customer_provider_id in invoices:
        about = union_all(
            select(Action.id).where(
                Action.connection_id == connection_id, Action.target_type == "invoice", Action.target_id == provider_id
            ),
            # A consolidated step names the invoice's customer and lists the invoice among several.
            select(Action.id).where(
                Action.connection_id == connection_id,
                Action.target_type == "customer",
                Action.target_id == customer_provider_id,
                _payload_names_invoice(session, provider_id),
            ),
        ).subquery()
        action_ids.append(select(about.c.id))
        entry_ids.extend(
            (
                select(ActivityEntry.id).where(
                    ActivityEntry.connection_id == connection_id, ActivityEntry.invoice_provider_id == provider_id
                ),
                select(ActivityEntry.id).where(ActivityEntry.action_id.in_(select(about.c.id))),
            )
        )
    return Action.id.in_(_either(action_ids)), ActivityEntry.id.in_(_either(entry_ids))


def _either(selects: list[Select[tuple[int]]]) -> Select[tuple[int]] | CompoundSelect:
    return selects[0] if len(selects) == 1 else union_all(*selects)


# --- the feed -------------------------------------------------------------------------------------


def _result_text() -> ColumnElement[str]:
    # "done: email:abc123", "failed: the reason", "planned"
    status = cast(Action.status, String)
    warned = literal("done_with_warning: ") + Action.warning  # NULL unless done with a warning
    return func.coalesce(warned, status + literal(": ") + func.coalesce(Action.external_ref, Action.last_error), status)


def activity_feed(session: Session, organization_id: int, wanted: FeedFilter) -> FeedPage:
    if not 1 <= wanted.page <= MAX_FEED_PAGE:
        raise BadFilter(f"Page must be between 1 and {MAX_FEED_PAGE}.", "page")
    action_scope: list[ColumnElement[bool]] = []
    entry_scope: list[ColumnElement[bool]] = []
    if wanted.customer_id is not None:
        try:
            customer = find_customer(session, organization_id, wanted.customer_id)
        except RecordNotFound:
            raise BadFilter("No such customer.", "customer", 404) from None
        action_scope.append(_actions_of_customer(customer))
        entry_scope.append(_entries_of_customer(customer))
    if wanted.invoice_number:
        about_actions, about_entries = _invoice_conditions(session, organization_id, wanted.invoice_number)
        action_scope.append(about_actions)
        entry_scope.append(about_entries)

    # Each side is cut to the rows that can reach this page before they meet, so the database walks
    # each table's newest rows (by index) instead of sorting an organization's whole history.
    depth = wanted.page * FEED_PAGE_SIZE + 1
    actions = (
        scoped(Action, organization_id)
        .with_only_columns(
            literal("action").label("source"),
            Action.id.label("id"),
            Action.created_at.label("at"),
            Action.kind.label("kind"),
            literal("info").label("level"),
            Action.reason.label("text"),
            _result_text().label("result"),
            Action.payload["customer_id"].as_string().label("customer_provider_id"),
            case((Action.target_type == "invoice", Action.target_id), else_=null()).label("invoice_provider_id"),
            Action.connection_id.label("connection_id"),
            Action.id.label("action_id"),
        )
        .where(*action_scope)
        .order_by(Action.created_at.desc(), Action.id.desc())
        .limit(depth)
        .subquery()
    )
    entries = (
        scoped(ActivityEntry, organization_id)
        .with_only_columns(
            literal("entry").label("source"),
            ActivityEntry.id.label("id"),
            ActivityEntry.created_at.label("at"),
            ActivityEntry.kind.label("kind"),
            ActivityEntry.level.label("level"),
            ActivityEntry.message.label("text"),
            ActivityEntry.level.label("result"),
            ActivityEntry.customer_provider_id.label("customer_provider_id"),
            ActivityEntry.invoice_provider_id.label("invoice_provider_id"),
            ActivityEntry.connection_id.label("connection_id"),
            ActivityEntry.action_id.label("action_id"),
        )
        .where(*entry_scope)
        .order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc())
        .limit(depth)
        .subquery()
    )
    feed = union_all(select(actions), select(entries)).subquery()
    rows = session.execute(
        select(feed)
        .order_by(feed.c.at.desc(), feed.c.source, feed.c.id.desc())
        .offset((wanted.page - 1) * FEED_PAGE_SIZE)
        .limit(FEED_PAGE_SIZE + 1)
    ).all()
    shown = [FeedRow(**row._asdict()) for row in rows[:FEED_PAGE_SIZE]]
    return FeedPage(
        rows=shown,
        page=wanted.page,
        has_next=len(rows) > FEED_PAGE_SIZE,
        customers=_customers_named(session, organization_id, shown),
        invoices=_invoices_numbered(session, organization_id, shown),
    )


def _customers_named(
    session: Session, organization_id: int, rows: list[FeedRow]
) -> dict[tuple[int, str], MirroredCustomer]:
    wanted = {(r.connection_id, r.customer_provider_id) for r in rows if r.connection_id and r.customer_provider_id}
    if not wanted:
        return {}
    found = session.scalars(
        scoped(MirroredCustomer, organization_id).where(
            tuple_(MirroredCustomer.connection_id, MirroredCustomer.provider_id).in_(wanted)
        )
    )
    return {(c.connection_id, c.provider_id): c for c in found}


def _invoices_numbered(session: Session, organization_id: int, rows: list[FeedRow]) -> dict[tuple[int, str], str]:
    wanted = {(r.connection_id, r.invoice_provider_id) for r in rows if r.connection_id and r.invoice_provider_id}
    if not wanted:
        return {}
    found = session.execute(
        scoped(MirroredInvoice, organization_id)
        .with_only_columns(MirroredInvoice.connection_id, MirroredInvoice.provider_id, MirroredInvoice.number)
        .where(tuple_(MirroredInvoice.connection_id, MirroredInvoice.provider_id).in_(wanted))
    )
    return {(connection_id, provider_id): number for connection_id, provider_id, number in found}


# --- one customer's record ------------------------------------------------------------------------


def customer_record(session: Session, organization_id: int, customer_id: int) -> CustomerRecord:
    """Every invoice, payment, promise, email, call, note and log entry of one customer, oldest first."""
    customer = find_customer(session, organization_id, customer_id)
    invoices = list(
        session.scalars(
            scoped(MirroredInvoice, organization_id)
            .where(
                MirroredInvoice.connection_id == customer.connection_id,
                MirroredInvoice.customer_provider_id == customer.provider_id,
            )
            .order_by(MirroredInvoice.issue_date, MirroredInvoice.number)
        )
    )
    payments = list(
        session.scalars(
            scoped(MirroredPayment, organization_id)
            .where(
                MirroredPayment.connection_id == customer.connection_id,
                MirroredPayment.customer_provider_id == customer.provider_id,
            )
            .order_by(MirroredPayment.date, MirroredPayment.id)
        )
    )
    pauses = list(
        session.scalars(
            scoped(InvoicePause, organization_id)
            .where(
                InvoicePause.connection_id == customer.connection_id,
                InvoicePause.invoice_provider_id.in_(_customer_invoice_ids(customer)),
            )
            .order_by(InvoicePause.id)
        )
    )
    actions = list(
        session.scalars(
            scoped(Action, organization_id).where(_actions_of_customer(customer)).order_by(Action.created_at, Action.id)
        )
    )
    activity = list(
        session.scalars(
            scoped(ActivityEntry, organization_id)
            .where(_entries_of_customer(customer))
            .order_by(ActivityEntry.created_at, ActivityEntry.id)
        )
    )
    return CustomerRecord(
        customer=customer,
        invoices=invoices,
        payments=payments,
        pauses=pauses,
        emails=[a for a in actions if a.kind in EMAIL_KINDS],
        calls=[a for a in actions if a.kind in CALL_KINDS],
        other_actions=[a for a in actions if a.kind not in EMAIL_KINDS + CALL_KINDS],
        activity=activity,
        replies=list(
            session.scalars(
                scoped(InboundReply, organization_id)
                .where(
                    InboundReply.connection_id == customer.connection_id,
                    InboundReply.customer_provider_id == customer.provider_id,
                )
                .order_by(InboundReply.received_at, InboundReply.id)
            )
        ),
        acceptance=latest_acceptance(session, organization_id, customer.connection_id, customer.provider_id),
        plan=session.scalars(
            scoped(AccountPlan, organization_id).where(
                AccountPlan.connection_id == customer.connection_id,
                AccountPlan.customer_provider_id == customer.provider_id,
            )
        ).one_or_none(),
    )


def customer_choices(session: Session, organization_id: int, limit: int) -> list[tuple[int, str]]:
    """(id, name) of the organization's customers by name, for the filter; at most `limit`."""
    rows = session.execute(
        scoped(MirroredCustomer, organization_id)
        .with_only_columns(MirroredCustomer.id, MirroredCustomer.name)
        .where(MirroredCustomer.deleted.is_(False))
        .order_by(MirroredCustomer.name, MirroredCustomer.id)
        .limit(limit)
    ).all()
    return [(customer_id, name) for customer_id, name in rows]
