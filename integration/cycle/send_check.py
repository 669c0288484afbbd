"""The executor's re-decision at the moment of sending: the owner's word read afresh from the database.

The pure judgement is `integration.policy.recheck`; this gathers its inputs for one ledger row (the
rules, the customer's override, the invoices' pauses and whether the customer already heard from
arpilot today) and applies the verdict to the row: skip, wait, or wait for the owner's approval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from connectors.regions import address_zone
from integration.cycle.gather import override_records, pause_records, with_reply_pauses
from integration.owner.stored_rules import load_rules
from integration.policy.actions import ActionKind
from integration.policy.aging import local_today
from integration.policy.pauses import PauseState, pause_state
from integration.policy.recheck import CUSTOMER_FACING, OwnerWord, Pending, Verdict, recheck
from integration.policy.rules import Pauses
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    CustomerOverride,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
)

_FACING = tuple(kind.value for kind in CUSTOMER_FACING)


@dataclass(frozen=True)
class SendCheck:
    """`SendCheck(...)(session, row, now)`: the verdict on one planned row as things stand at `now`."""

    organization_id: int
    connection_id: int
    company_zone: str

    def __call__(self, session: Session, row: Action, now: dt.datetime) -> Verdict:
        rules = load_rules(session, self.organization_id, self.connection_id)
        kind = ActionKind(row.kind)
        customer_id = row.payload["customer_id"]
        invoice_ids = list(row.payload.get("invoice_ids") or ())
        # A customer's reply pauses them as the owner's pause does, also for what was already planned.
        override = with_reply_pauses(
            session,
            self.connection_id,
            now,
            override_records(
                session.scalars(
                    select(CustomerOverride).where(
                        CustomerOverride.connection_id == self.connection_id,
                        CustomerOverride.customer_provider_id == customer_id,
                    )
                )
            ),
        ).get(customer_id)
        word = OwnerWord(
            override,
            self._pause_states(session, invoice_ids, rules.pauses, now),
            kind in CUSTOMER_FACING and self._messaged_today(session, row, now),
            self._closed(session, invoice_ids),
            self._address_zone(session, customer_id),
        )
        pending = Pending(
            kind,
            row.payload.get("stage"),
            (row.payload.get("payload") or {}).get("channel"),
            invoice_ids,
            approved=bool(row.payload.get("approval")),
        )
        return recheck(pending, word, rules, self.company_zone, now)

    def _pause_states(
        self, session: Session, invoice_ids: list[str], rules: Pauses, now: dt.datetime
    ) -> dict[str, PauseState]:
        if not invoice_ids:
            return {}
        pauses = pause_records(
            session.scalars(
                select(InvoicePause).where(
                    InvoicePause.connection_id == self.connection_id,
                    InvoicePause.invoice_provider_id.in_(invoice_ids),
                )
            )
        )
        if not pauses:
            return {}
        paid = {
            i.provider_id: i.total - i.balance
            for i in session.scalars(
                select(MirroredInvoice).where(
                    MirroredInvoice.connection_id == self.connection_id,
                    MirroredInvoice.provider_id.in_(list(pauses)),
                )
            )
        }
        today = local_today(now, self.company_zone).toordinal()
        return {i: pause_state(p, paid.get(i, Decimal(0)), today, rules) for i, p in pauses.items()}

    def _address_zone(self, session: Session, customer_id: str) -> str | None:
        place = session.execute(
            select(MirroredCustomer.country, MirroredCustomer.region).where(
                MirroredCustomer.connection_id == self.connection_id, MirroredCustomer.provider_id == customer_id
            )
        ).first()
        return address_zone(*place) if place is not None else None

    def _closed(self, session: Session, invoice_ids: list[str]) -> frozenset[str]:
        if not invoice_ids:
            return frozenset()
        return frozenset(
            session.scalars(
                select(MirroredInvoice.provider_id).where(
                    MirroredInvoice.connection_id == self.connection_id,
                    MirroredInvoice.provider_id.in_(invoice_ids),
                    or_(MirroredInvoice.status != InvoiceStatus.OPEN.value, MirroredInvoice.balance <= 0),
                )
            )
        )

    def _messaged_today(self, session: Session, row: Action, now: dt.datetime) -> bool:
        """Whether another customer-facing action reached (or is reaching) this customer today."""
        zone = ZoneInfo(self.company_zone)
        midnight = dt.datetime.combine(local_today(now, self.company_zone), dt.time(), tzinfo=zone).astimezone(dt.UTC)
        # Today's customer-facing steps of this connection only: a handful, however long the history.
        others = session.scalars(
            select(Action.payload).where(
                Action.connection_id == self.connection_id,
                Action.kind.in_(_FACING),
                Action.id != row.id,
                or_(
                    Action.status == ActionStatus.IN_FLIGHT,
                    and_(Action.status == ActionStatus.DONE, Action.completed_at >= midnight),
                ),
            )
        )
        customer_id = row.payload["customer_id"]
        return any(payload.get("customer_id") == customer_id for payload in others)


def apply_verdict(session: Session, row: Action, verdict: Verdict) -> bool:
    """Apply what is not a skip to the row; True when the row goes ahead now (skips are the caller's)."""
    if verdict.wait_until is not None:
        row.not_before = verdict.wait_until
        return False
    if verdict.ask_owner:
        if row.status is not ActionStatus.AWAITING_APPROVAL:
            row.status = ActionStatus.AWAITING_APPROVAL
            session.add(
                ActivityEntry(
                    organization_id=row.organization_id,
                    connection_id=row.connection_id,
                    action_id=row.id,
                    level="info",
                    kind="action_awaiting_approval",
                    message=f"Waiting for your approval: {row.reason}",
                    customer_provider_id=row.payload.get("customer_id"),
                    details={
                        "kind": row.kind,
                        "invoice_ids": row.payload.get("invoice_ids") or [],
                        "stage": row.payload.get("stage"),
                    },
                )
            )
        return False
    if verdict.left_out:
        row.payload = {**row.payload, "left_out": dict(verdict.left_out)}
    return True
