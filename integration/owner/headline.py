"""The dashboard's headline tiles, per currency: owed, overdue and its share, collected in the last
30 days, cash promised in the next 14, and DSO beside last month-end's.

`tiles` is pure; `collected` and `promised` read their inputs (scoped, one company when chosen).
Cash promised is what the owner has been told will come: an invoice promised by a day in the
window counts its whole open balance (a promise logged on the settings page or as a call's
outcome); otherwise the instalments of its payment plan falling in the window count, up to the
open balance; so do the instalments of a plan over a customer's whole account, up to the open
balance of the invoices it covers (one currency: a plan never mixes two).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.owner.company_filter import of_company
from integration.owner.dashboard_figures import TrendPoint
from integration.owner.overrides import stored_plan
from integration.store.models import AccountPlan, Connection, InvoicePause, MirroredInvoice, MirroredPayment
from integration.store.scoping import scoped

ZERO = Decimal(0)
COLLECTED_DAYS = 30
PROMISED_DAYS = 14


@dataclass(frozen=True, slots=True)
class Tiles:
    currency: str
    owed: Decimal
    overdue: Decimal
    collected: Decimal  # paid in the last COLLECTED_DAYS days, today included
    promised: Decimal  # promised from today to PROMISED_DAYS days ahead
    dso: int | None  # today; None with nothing invoiced in the DSO window
    dso_before: int | None  # at the last month-end

    @property
    def overdue_pct(self) -> int:
        """Overdue's share of what is owed, in whole percent."""
        if self.owed <= ZERO:
            return 0
        return int((self.overdue / self.owed * 100).to_integral_value(ROUND_HALF_UP))

    @property
    def dso_change(self) -> int | None:
        """Days more (positive: slower to collect) than at the last month-end."""
        return None if self.dso is None or self.dso_before is None else self.dso - self.dso_before


def tiles(
    aging: Mapping[str, Mapping[str, Decimal]],
    trend: Mapping[str, Sequence[TrendPoint]],
    collected: Mapping[str, Decimal],
    promised: Mapping[str, Decimal],
) -> list[Tiles]:
    """One set of tiles per currency that anything is owed, collected or promised in (sorted)."""
    currencies = sorted({*aging, *collected, *promised})
    found = []
    for currency in currencies:
        buckets = aging.get(currency, {})
        points = trend.get(currency, ())
        found.append(
            Tiles(
                currency,
                owed=sum(buckets.values(), ZERO),
                overdue=sum((amount for name, amount in buckets.items() if name != "current"), ZERO),
                collected=collected.get(currency, ZERO),
                promised=promised.get(currency, ZERO),
                dso=points[-1].dso if points else None,
                dso_before=points[-2].dso if len(points) > 1 else None,
            )
        )
    return found


def collected(
    session: Session, organization_id: int, today: dt.date, connection_id: int | None = None
) -> dict[str, Decimal]:
    """Payments received in the last COLLECTED_DAYS days, per currency."""
    rows = session.execute(
        of_company(scoped(MirroredPayment, organization_id), MirroredPayment.connection_id, connection_id)
        .with_only_columns(MirroredPayment.currency, func.sum(MirroredPayment.amount))
        .where(
            MirroredPayment.deleted.is_(False),
            MirroredPayment.date > today - dt.timedelta(days=COLLECTED_DAYS),
            MirroredPayment.date <= today,
        )
        .group_by(MirroredPayment.currency)
    )
    return {currency: Decimal(total) for currency, total in rows if total}


def promised(
    session: Session, organization_id: int, today: dt.date, connection_id: int | None = None
) -> dict[str, Decimal]:
    """Cash promised from today to PROMISED_DAYS days ahead on open invoices, per currency (see the docstring)."""
    until = today + dt.timedelta(days=PROMISED_DAYS)
    # The owner's word is typed by hand, a row per invoice: few enough to weigh here.
    rows = session.execute(
        of_company(scoped(InvoicePause, organization_id), InvoicePause.connection_id, connection_id)
        .join(
            MirroredInvoice,
            and_(
                MirroredInvoice.connection_id == InvoicePause.connection_id,
                MirroredInvoice.provider_id == InvoicePause.invoice_provider_id,
            ),
        )
        .with_only_columns(
            InvoicePause.promise_to_pay, InvoicePause.plan, MirroredInvoice.balance, MirroredInvoice.currency
        )
        .where(
            MirroredInvoice.status == InvoiceStatus.OPEN.value,
            MirroredInvoice.balance > 0,
        )
    )
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for promise, plan, balance, currency in rows:
        if promise is not None and today <= promise <= until:
            totals[currency] += balance
            continue
        totals[currency] += min(_instalments_due(plan, today, until), balance)
    for currency, due in _account_plans_due(session, organization_id, today, until, connection_id):
        totals[currency] += due
    return {currency: total for currency, total in sorted(totals.items()) if total > ZERO}


def _instalments_due(plan: list[dict[str, str]] | None, today: dt.date, until: dt.date) -> Decimal:
    return sum((step.amount for step in stored_plan(plan) if today <= step.date <= until), ZERO)


def _account_plans_due(
    session: Session, organization_id: int, today: dt.date, until: dt.date, connection_id: int | None
) -> list[tuple[str, Decimal]]:
    """(currency, promised) per account plan: its instalments in the window, up to what its invoices still owe."""
    plans = session.execute(
        of_company(
            select(AccountPlan.connection_id, AccountPlan.invoice_ids, AccountPlan.instalments)
            .join(Connection, Connection.id == AccountPlan.connection_id)
            .where(Connection.organization_id == organization_id),
            AccountPlan.connection_id,
            connection_id,
        )
    ).all()
    found = []
    # One plan per customer at most, typed by hand or proposed on the customer's page: few rows.
    for plan_connection, invoice_ids, instalments in plans:
        due = _instalments_due(instalments, today, until)
        if due <= ZERO:
            continue
        owed = session.execute(
            select(MirroredInvoice.currency, func.sum(MirroredInvoice.balance))
            .where(
                MirroredInvoice.connection_id == plan_connection,
                MirroredInvoice.provider_id.in_(invoice_ids or ()),
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.balance > 0,
            )
            .group_by(MirroredInvoice.currency)
        ).all()
        found += [(currency, min(due, Decimal(balance))) for currency, balance in owed]
    return found
