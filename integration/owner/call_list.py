"""Today's calls: the open call tasks, most valuable first.

A call's expected value is what it may bring in, weighed by how badly it is needed:

    expected value = amount overdue × days late × the customer's risk

where the amount overdue is what is still owed on the task's invoices that are past due (in the
customer's currency), days late are the oldest of them, and the risk comes from the customer's
payment history, as the policy classed it when it asked for the call (`policy/profiles.py:
classify`): RISK_BY_CLASS below. A customer who always pays weighs half, one who never answers
double. Amounts in different currencies are compared as they stand, never converted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus, amount_text
from integration.owner.call_outcomes import ACTIVITY_KIND as CALL_OUTCOME
from integration.owner.call_outcomes import CallOutcome
from integration.owner.company_filter import of_company
from integration.owner.customer_names import CustomerNames, customers_of
from integration.owner.usual_payment import usual_payment_of_customers
from integration.policy.actions import ActionKind
from integration.policy.aging import local_today
from integration.store.models import Action, ActionStatus, ActivityEntry, MirroredInvoice, Organization
from integration.store.scoping import scoped, still_connected

CALL_LIST_DAYS = 30  # a call task older than this with no outcome has been overtaken by later stages
HISTORY_LIMIT = 8
OWED_BATCH = 900  # invoice ids per query, under SQLite's bound-parameter limit
RISK_BY_CLASS = {
    "reliable": Decimal("0.5"),
    "good_but_slipping": Decimal("0.75"),
    "new": Decimal(1),
    "slow_but_steady": Decimal("1.25"),
    "habitually_late": Decimal("1.5"),
    "unresponsive": Decimal(2),
}
UNKNOWN_RISK = Decimal(1)  # a task decided before the policy recorded the class
FORMULA = (
    "Ordered by expected value: amount overdue × days late × the customer's risk "
    "(from 0.5 for a reliable payer to 2 for one who does not answer)."
)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    when: dt.datetime
    message: str


@dataclass(frozen=True, slots=True)
class CallTask:
    action_id: int
    customer_name: str
    phone: str | None
    stage: str
    reason: str
    talking_points: tuple[str, ...]
    invoices: tuple[str, ...]  # "invoice 1001, 450.00 USD": what is open now
    history: tuple[HistoryLine, ...]
    created_at: dt.datetime
    attempts: int  # earlier outcomes that left the call open ("no answer")
    customer_row: int | None  # the mirrored customer's id, for the customer's settings page
    connection_id: int = 0
    customer_id: str = ""  # the provider's
    overdue: Decimal = Decimal(0)  # past due on the task's invoices, in `currency`
    currency: str = ""
    days_late: int = 0  # the oldest past-due invoice's
    classification: str | None = None  # the customer's payment profile when the call was asked for
    oldest_invoice: str = ""  # the provider's id of the task's longest-overdue open invoice
    pays_around: dt.date | None = None  # when the customer usually pays it (None: too little history)

    @property
    def risk(self) -> Decimal:
        return RISK_BY_CLASS.get(self.classification or "", UNKNOWN_RISK)

    @property
    def expected_value(self) -> Decimal:
        return self.overdue * self.days_late * self.risk


def by_expected_value(calls: Iterable[CallTask]) -> list[CallTask]:
    """Most valuable first; equal values keep the older task first."""
    return sorted(calls, key=lambda c: (-c.expected_value, c.created_at, c.action_id))


def _past_due(invoices: Sequence[MirroredInvoice], today: dt.date) -> tuple[Decimal, str, int]:
    """(amount past due, its currency, days the oldest is late) of one customer's open invoices."""
    currency = invoices[0].currency  # a customer is billed in one currency; another's invoices are left out
    late = [i for i in invoices if i.currency == currency and (i.due_date or i.issue_date) < today]
    days = max(((today - (i.due_date or i.issue_date)).days for i in late), default=0)
    return sum((i.balance for i in late), Decimal(0)), currency, days


def open_call_tasks(
    session: Session,
    organization_id: int,
    now: dt.datetime,
    names: CustomerNames | None = None,
    connection_id: int | None = None,
) -> list[CallTask]:
    """Call tasks from the last CALL_LIST_DAYS with no settling outcome and something still owed, by
    expected value (the module's docstring), each with its customer's history; only
    `connection_id`'s when given."""
    return with_history(session, organization_id, weighed_calls(session, organization_id, now, names, connection_id))


def with_history(session: Session, organization_id: int, calls: Sequence[CallTask]) -> list[CallTask]:
    """The calls, each with its customer's latest HISTORY_LIMIT activity lines (one query for all)."""
    histories = _histories(session, organization_id, {(c.connection_id, c.customer_id) for c in calls})
    return [replace(c, history=histories.get((c.connection_id, c.customer_id), ())) for c in calls]


UsualPayment = dict[tuple[int, str], dict[str, dt.date | None]]  # (company, customer) -> invoice -> day


def usual_payment_of_calls(
    session: Session, organization_id: int, calls: Sequence[CallTask], now: dt.datetime
) -> UsualPayment:
    """When each call's customer usually pays each of their open invoices: one read per company of
    those customers' books."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for call in calls:
        wanted[call.connection_id].add(call.customer_id)
    return {
        (connection_id, customer_id): dates
        for connection_id, customers in wanted.items()
        for customer_id, dates in usual_payment_of_customers(
            session, organization_id, connection_id, now, customers
        ).items()
    }


def with_usual_payment(calls: Sequence[CallTask], around: UsualPayment) -> list[CallTask]:
    """The calls, each with the day its customer usually pays its longest-overdue invoice: what the
    owner can hold the customer to on the phone ("you usually pay us around the 14th")."""
    return [
        replace(c, pays_around=around.get((c.connection_id, c.customer_id), {}).get(c.oldest_invoice)) for c in calls
    ]


def weighed_calls(
    session: Session,
    organization_id: int,
    now: dt.datetime,
    names: CustomerNames | None = None,
    connection_id: int | None = None,
) -> list[CallTask]:
    """`open_call_tasks` without their histories: a page that shows the first few reads only theirs."""
    names = names or CustomerNames(session, organization_id)
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    today = local_today(now, organization.timezone)
    query = of_company(
        still_connected(scoped(Action, organization_id), Action), Action.connection_id, connection_id
    ).where(
        Action.kind == ActionKind.CREATE_CALL_TASK.value,
        Action.status == ActionStatus.DONE,
        Action.created_at >= now - dt.timedelta(days=CALL_LIST_DAYS),
    )
    tasks = session.scalars(query.order_by(Action.created_at, Action.id)).all()
    if not tasks:
        return []
    outcomes: dict[int, list[ActivityEntry]] = {}
    for entry in session.scalars(
        scoped(ActivityEntry, organization_id)
        .where(ActivityEntry.kind == CALL_OUTCOME, ActivityEntry.action_id.in_([t.id for t in tasks]))
        .order_by(ActivityEntry.id)
    ):
        outcomes.setdefault(entry.action_id or 0, []).append(entry)
    tasks = [
        t for t in tasks if not any(CallOutcome(e.details["outcome"]).settles_task for e in outcomes.get(t.id, ()))
    ]
    owed = _owed(session, organization_id, tasks)
    names.load(customers_of(tasks))
    calls = []
    for task in tasks:
        keys = {(task.connection_id, i) for i in task.payload.get("invoice_ids") or ()}
        invoices = sorted((owed[key] for key in keys & owed.keys()), key=lambda i: (i.number, i.id))
        if not invoices:
            continue  # paid (or gone) since the task was made
        customer_id = task.payload["customer_id"]
        details = task.payload.get("payload") or {}
        overdue, currency, days_late = _past_due(invoices, today)
        oldest = min(invoices, key=lambda i: (i.due_date or i.issue_date, i.number))
        calls.append(
            CallTask(
                action_id=task.id,
                customer_name=names.name(task.connection_id, customer_id),
                phone=details.get("phone") or names.phone(task.connection_id, customer_id),
                stage=(task.payload.get("stage") or "").replace("_", " "),
                reason=task.reason,
                talking_points=tuple(details.get("talking_points") or ()),
                invoices=tuple(f"invoice {i.number}, {amount_text(i.balance, i.currency)}" for i in invoices),
                history=(),
                created_at=task.created_at,
                attempts=len(outcomes.get(task.id, ())),
                customer_row=names.row_id(task.connection_id, customer_id),
                connection_id=task.connection_id,
                customer_id=customer_id,
                overdue=overdue,
                currency=currency,
                days_late=days_late,
                classification=details.get("classification"),
                oldest_invoice=oldest.provider_id,
            )
        )
    return by_expected_value(calls)


def _owed(session: Session, organization_id: int, tasks: Sequence[Action]) -> dict[tuple[int, str], MirroredInvoice]:
    """The tasks' invoices still open with something owed, by (connection, provider id)."""
    wanted = {(t.connection_id, i) for t in tasks for i in t.payload.get("invoice_ids") or ()}
    # By ids within the companies, then paired up here: PostgreSQL planned a (company, id) pair list
    # of a few hundred as a scan, 150 ms at 20,000 invoices; plain lists use the unique index.
    ids = sorted({i for _, i in wanted})
    companies = sorted({c for c, _ in wanted})
    found = {}
    for start in range(0, len(ids), OWED_BATCH):
        for row in session.scalars(
            scoped(MirroredInvoice, organization_id).where(
                MirroredInvoice.connection_id.in_(companies),
                MirroredInvoice.provider_id.in_(ids[start : start + OWED_BATCH]),
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.balance > 0,
            )
        ):
            if (row.connection_id, row.provider_id) in wanted:
                found[(row.connection_id, row.provider_id)] = row
    return found


def _histories(
    session: Session, organization_id: int, customers: set[tuple[int, str]]
) -> dict[tuple[int, str], tuple[HistoryLine, ...]]:
    """Each customer's HISTORY_LIMIT latest activity lines, newest first, in one query for all."""
    if not customers:
        return {}
    newest_first = (
        func.row_number()
        .over(
            partition_by=(ActivityEntry.connection_id, ActivityEntry.customer_provider_id),
            order_by=(ActivityEntry.created_at.desc(), ActivityEntry.id.desc()),
        )
        .label("newest_first")
    )
    ranked = (
        scoped(ActivityEntry, organization_id)
        .with_only_columns(
            ActivityEntry.connection_id,
            ActivityEntry.customer_provider_id,
            ActivityEntry.created_at,
            ActivityEntry.message,
            newest_first,
        )
        .where(tuple_(ActivityEntry.connection_id, ActivityEntry.customer_provider_id).in_(customers))
        .subquery()
    )
    found: dict[tuple[int, str], list[HistoryLine]] = defaultdict(list)
    for row in session.execute(
        select(ranked).where(ranked.c.newest_first <= HISTORY_LIMIT).order_by(ranked.c.newest_first)
    ):
        found[(row.connection_id, row.customer_provider_id)].append(HistoryLine(row.created_at, row.message))
    return {key: tuple(lines) for key, lines in found.items()}
