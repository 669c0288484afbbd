"""Turning done actions back into the snapshot's history, the one way both the cycle's executor
and backtest record what happened.

An action advances the ladder when its payload carries `invoice_stages` (a reminder email, or a
call task standing in for one); it is recorded as one `SentReminder` per stage it carried.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from integration.policy.actions import ActionKind, PlannedAction
from integration.policy.snapshot import History, HoldEvent, LateFeeCharge, SentReminder, TermsMove


def reminders_of(action: PlannedAction, day: dt.date) -> tuple[SentReminder, ...]:
    stages = action.payload.get("invoice_stages")
    if not stages:
        return ()
    channel = action.payload.get("channel", "email") if action.kind is ActionKind.SEND_REMINDER else "call"
    by_stage: dict[str, list[str]] = defaultdict(list)
    for invoice_id, stage in stages.items():
        by_stage[stage].append(invoice_id)
    return tuple(
        SentReminder(action.customer_id, tuple(sorted(ids)), stage, day, channel)
        for stage, ids in sorted(by_stage.items())
    )


def record(history: History, actions: Iterable[PlannedAction], day: dt.date) -> History:
    """The history after `actions` were done on `day` (company-local date)."""
    reminders, holds, moves = list(history.reminders), list(history.holds), list(history.term_moves)
    fees = list(history.late_fees)
    for action in actions:
        reminders.extend(reminders_of(action, day))
        if action.kind is ActionKind.CREDIT_HOLD_ON or action.kind is ActionKind.CREDIT_HOLD_OFF:
            holds.append(HoldEvent(action.customer_id, action.kind is ActionKind.CREDIT_HOLD_ON, day))
        elif action.kind is ActionKind.SET_MID_MONTH_TERMS:
            moves.append(TermsMove(action.customer_id, day, int(action.payload["day_of_month"])))
        elif action.kind is ActionKind.CHARGE_LATE_FEE:
            payload = action.payload
            fees.append(
                LateFeeCharge(
                    action.invoice_ids[0],
                    day,
                    Decimal(payload["amount"]),
                    payload.get("fee_invoice_id"),
                    bool(payload.get("reversed")),
                )
            )
    return History(tuple(reminders), tuple(holds), tuple(moves), tuple(fees))
