"""The policy's snapshot of one connection, built from the mirror, the owner's word and the ledger.

The mirror gives the books (customers, open invoices, and the paid history inside the profile
window); invoice pauses and customer overrides give the owner's word; done actions in the ledger
give the history the ladder is derived from. Reading only, no provider calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Mapped, Session

from connectors.contract import (
    Contact,
    Credit,
    CreditKind,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
    booked_places,
)
from connectors.regions import customer_zones
from integration.owner.overrides import stored_plan
from integration.policy.accounts import as_accounts, billing_accounts
from integration.policy.actions import ActionKind, PlannedAction
from integration.policy.aging import local_today
from integration.policy.history import record
from integration.policy.snapshot import (
    AccountPlan as PlanRecord,
)
from integration.policy.snapshot import (
    Company,
    History,
    Snapshot,
)
from integration.policy.snapshot import (
    CustomerOverride as OverrideRecord,
)
from integration.policy.snapshot import (
    InvoicePause as PauseRecord,
)
from integration.store.models import (
    AccountPlan,
    Action,
    ActionStatus,
    Connection,
    CustomerOverride,
    InboundReply,
    InvoicePause,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)
from integration.store.postal import stored_address

PROFILE_WINDOW = dt.timedelta(days=366)
# Planned and in-flight actions count as done: the executor will perform (or has performed) them,
# and counting them keeps the next decide from planning the same step again for other invoices.
COUNTS_AS_DONE = (ActionStatus.DONE, ActionStatus.IN_FLIGHT, ActionStatus.PLANNED, ActionStatus.AWAITING_APPROVAL)


def company_of(organization: Organization, connection: Connection) -> Company:
    return Company(
        name=connection.display_name or organization.name,
        timezone=connection.timezone or organization.timezone,
        currency=organization.base_currency,
        locale=organization.locale,
        booked_places=booked_places(connection.provider),
    )


def home_country(connection: Connection) -> str | None:
    """The company's country as its books' address states it."""
    address = stored_address(connection.company_address)
    return address.country if address is not None else None


def customer_record(row: MirroredCustomer) -> Customer:
    return Customer(
        provider_id=row.provider_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        currency=row.currency,
        terms_id=row.terms_id,
        active=row.active,
        updated_at=row.provider_updated_at,
        contacts=tuple(Contact(c.get("email"), c.get("name"), c.get("role", "billing")) for c in row.contacts or ()),
        parent_id=row.parent_provider_id,
        bill_with_parent=row.bill_with_parent,
        full_name=row.full_name,
        country=row.country,
        region=row.region,
    )


def invoice_record(row: MirroredInvoice) -> Invoice:
    return Invoice(
        provider_id=row.provider_id,
        number=row.number,
        customer_id=row.customer_provider_id,
        issue_date=row.issue_date,
        due_date=row.due_date,
        total=Money(row.total, row.currency),
        balance=Money(row.balance, row.currency),
        status=InvoiceStatus(row.status),
        updated_at=row.provider_updated_at,
        pay_link=row.pay_link,
        email=row.email,
        sync_token=row.sync_token,
    )


def payment_record(row: MirroredPayment) -> Payment:
    return Payment(
        provider_id=row.provider_id,
        customer_id=row.customer_provider_id,
        date=row.date,
        amount=Money(row.amount, row.currency),
        applied_to=tuple(
            PaymentApplication(a["invoice_id"], Money(Decimal(a["amount"]), row.currency)) for a in row.applied_to
        ),
        updated_at=row.provider_updated_at,
        unapplied=Money(row.unapplied, row.currency) if row.unapplied else None,
    )


def credit_record(row: MirroredCredit) -> Credit:
    return Credit(
        provider_id=row.provider_id,
        kind=CreditKind(row.kind),
        customer_id=row.customer_provider_id,
        number=row.number,
        date=row.date,
        total=Money(row.total, row.currency),
        remaining=Money(row.remaining, row.currency),
        updated_at=row.provider_updated_at,
        deleted=row.deleted,
        allocations=tuple(
            PaymentApplication(a["invoice_id"], Money(Decimal(a["amount"]), row.currency)) for a in row.allocations
        ),
    )


def credits_of(session: Session, connection_id: int, customer_ids: Iterable[str] | None = None) -> list[Credit]:
    """The credit with something left to apply, of every customer or of the ones named."""
    credits = select(MirroredCredit).where(
        MirroredCredit.connection_id == connection_id, MirroredCredit.deleted.is_(False), MirroredCredit.remaining > 0
    )
    payments = select(MirroredPayment).where(
        MirroredPayment.connection_id == connection_id,
        MirroredPayment.deleted.is_(False),
        MirroredPayment.unapplied > 0,
    )
    if customer_ids is not None:
        wanted = list(customer_ids)
        credits = credits.where(MirroredCredit.customer_provider_id.in_(wanted))
        payments = payments.where(MirroredPayment.customer_provider_id.in_(wanted))
    found = [
        credit_record(row) for row in session.scalars(credits.order_by(MirroredCredit.date, MirroredCredit.provider_id))
    ]
    unapplied = [
        payment_record(row).unapplied_credit()
        for row in session.scalars(payments.order_by(MirroredPayment.date, MirroredPayment.provider_id))
    ]
    return found + [credit for credit in unapplied if credit is not None]


def planned_from_row(row: Action) -> PlannedAction:
    """The PlannedAction a ledger row was planned from (the row keeps its `as_dict()`)."""
    data = row.payload
    return PlannedAction(
        kind=ActionKind(row.kind),
        customer_id=data["customer_id"],
        invoice_ids=tuple(data["invoice_ids"]),
        stage=data["stage"],
        recipients=tuple(data["recipients"]),
        reason=row.reason,
        idempotency_key=data["idempotency_key"],
        payload=data.get("payload", {}),
    )


def history_of(
    session: Session, connection_id: int, timezone: str, customer_ids: Collection[str] | None = None
) -> History:
    """What arpilot did on the connection (for those customers alone when `customer_ids` is given)."""
    statement = select(Action).where(Action.connection_id == connection_id, Action.status.in_(COUNTS_AS_DONE))
    if customer_ids is not None:
        statement = statement.where(Action.payload["customer_id"].as_string().in_(list(customer_ids)))
    rows = session.scalars(statement.order_by(Action.id))
    history = History()
    for row in rows:
        when = row.completed_at or row.updated_at
        action = planned_from_row(row)
        if action.kind is ActionKind.CHARGE_LATE_FEE:
            # What the executor and the owner added to the row: the fee's invoice, and its reversal.
            facts: dict[str, Any] = {k: row.payload[k] for k in ("fee_invoice_id", "reversed") if k in row.payload}
            action = dataclasses.replace(action, payload={**action.payload, **facts})
        history = record(history, [action], local_today(when, timezone))
    return history


def pause_records(rows: Iterable[InvoicePause]) -> dict[str, PauseRecord]:
    return {
        row.invoice_provider_id: PauseRecord(
            invoice_id=row.invoice_provider_id,
            disputed=row.disputed,
            promise_to_pay=row.promise_to_pay,
            plan=stored_plan(row.plan),
            plan_paid_before=row.plan_paid_before,
            says_paid=row.says_paid,
        )
        for row in rows
    }


def plan_records(rows: Iterable[AccountPlan], customers: Iterable[Customer]) -> tuple[PlanRecord, ...]:
    """The stored account plans, each on the account its customer is collected through."""
    account = billing_accounts(customers)
    return tuple(
        PlanRecord(
            plan_id=str(row.id),
            customer_id=account.get(row.customer_provider_id, row.customer_provider_id),
            invoice_ids=tuple(row.invoice_ids),
            instalments=stored_plan(row.instalments),
            paid_before=row.paid_before,
        )
        for row in rows
    )


def override_records(rows: Iterable[CustomerOverride]) -> dict[str, OverrideRecord]:
    return {
        row.customer_provider_id: OverrideRecord(
            customer_id=row.customer_provider_id,
            paused=row.paused,
            excluded=row.excluded,
            grace_days=row.grace_days,
            opted_out=row.opted_out,
            timezone=row.timezone,
        )
        for row in rows
    }


def with_reply_pauses(
    session: Session, connection_id: int, now: dt.datetime, overrides: dict[str, OverrideRecord]
) -> dict[str, OverrideRecord]:
    """A customer who replied (a person, not an auto-reply) is paused until the reply's pause ends:
    to the policy that is the owner's pause, so the policy needs no notion of replies."""
    replied = session.scalars(
        select(InboundReply.customer_provider_id)
        .where(InboundReply.connection_id == connection_id, InboundReply.paused_until > now)
        .distinct()
    )
    for customer_id in replied:
        if customer_id is not None:
            overrides[customer_id] = dataclasses.replace(
                overrides.get(customer_id) or OverrideRecord(customer_id), paused=True
            )
    return overrides


def load_snapshot(
    session: Session,
    connection_id: int,
    now: dt.datetime,
    customer_ids: Collection[str] | None = None,
    *,
    ledger: bool = True,
) -> Snapshot:
    """The snapshot decide needs for `connection_id` at `now`; with `customer_ids`, those customers'
    part of it alone (decide judges each customer on their own records), as one customer's page or
    the day's call list reads it. `ledger=False` leaves out what arpilot did (an empty history): the
    books alone, enough for payment habits and not for deciding."""
    connection = session.get(Connection, connection_id)
    if connection is None:
        raise LookupError(f"connection {connection_id} does not exist")
    organization = session.get(Organization, connection.organization_id)
    assert organization is not None
    company = company_of(organization, connection)
    since = local_today(now, company.timezone) - PROFILE_WINDOW

    def theirs(column: Mapped[str]) -> tuple[ColumnElement[bool], ...]:
        """The condition keeping the chosen customers' rows; none for the whole connection."""
        return () if customer_ids is None else (column.in_(list(customer_ids)),)

    customers = session.scalars(
        select(MirroredCustomer).where(
            MirroredCustomer.connection_id == connection_id,
            MirroredCustomer.deleted.is_(False),
            *theirs(MirroredCustomer.provider_id),
        )
    ).all()
    known = {c.provider_id for c in customers}
    invoices = [
        row
        for row in session.scalars(
            select(MirroredInvoice).where(
                MirroredInvoice.connection_id == connection_id,
                or_(MirroredInvoice.status == InvoiceStatus.OPEN.value, MirroredInvoice.issue_date >= since),
                *theirs(MirroredInvoice.customer_provider_id),
            )
        )
        if row.customer_provider_id in known  # an invoice whose customer was deleted is not collectable
    ]
    payments = session.scalars(
        select(MirroredPayment).where(
            MirroredPayment.connection_id == connection_id,
            MirroredPayment.deleted.is_(False),
            MirroredPayment.date >= since,
            *theirs(MirroredPayment.customer_provider_id),
        )
    )
    history = history_of(session, connection_id, company.timezone, customer_ids) if ledger else History()
    on_hold = _currently_on_hold(history)
    records = tuple(customer_record(c) for c in customers)
    account_invoices, account_payments = as_accounts(
        records,
        (invoice_record(i) for i in invoices),
        (payment_record(p) for p in payments if p.customer_provider_id in known),
    )
    return Snapshot(
        company=company,
        customers=records,
        customer_zones=customer_zones(records, home_country(connection)),
        invoices=account_invoices,
        payments=account_payments,
        pauses=pause_records(
            session.scalars(
                select(InvoicePause).where(
                    InvoicePause.connection_id == connection_id,
                    *(
                        ()
                        if customer_ids is None
                        else (InvoicePause.invoice_provider_id.in_([i.provider_id for i in invoices]),)
                    ),
                )
            )
        ),
        overrides=with_reply_pauses(
            session,
            connection_id,
            now,
            override_records(
                session.scalars(
                    select(CustomerOverride).where(
                        CustomerOverride.connection_id == connection_id,
                        *theirs(CustomerOverride.customer_provider_id),
                    )
                )
            ),
        ),
        on_hold=on_hold,
        mid_month=frozenset(move.customer_id for move in history.term_moves),
        history=history,
        credits=tuple(c for c in credits_of(session, connection_id, customer_ids) if c.customer_id in known),
        account_plans=plan_records(
            session.scalars(
                select(AccountPlan).where(
                    AccountPlan.connection_id == connection_id, *theirs(AccountPlan.customer_provider_id)
                )
            ),
            records,
        ),
    )


def _currently_on_hold(history: History) -> frozenset[str]:
    state: dict[str, bool] = {}
    for event in sorted(history.holds, key=lambda e: e.date):
        state[event.customer_id] = event.on
    return frozenset(customer for customer, on in state.items() if on)
