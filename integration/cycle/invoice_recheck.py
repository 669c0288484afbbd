"""The send-time re-check of an action's invoices, read from the provider just before it acts:
those paid, closed, changed or no longer overdue since planning are left out (all of them: the action is skipped),
credit applied since is taken into account, and an instalment paid since is not reminded of."""

from __future__ import annotations

from decimal import Decimal

from connectors.contract import Invoice, InvoiceStatus, Money
from integration.cycle.attempt import Attempt, Skip, save_payload
from integration.cycle.credit_recheck import effective_credit, uncovered
from integration.policy.rules import STAGES
from integration.store.models import Action


def still_owed(at: Attempt, row: Action) -> list[Invoice]:
    """The action's invoices as they are now, keeping those still owed exactly as decided."""
    planned = {i: Decimal(b) for i, b in row.payload.get("balances", {}).items()}
    overdue = (row.payload.get("payload") or {}).get("days_overdue") or {}
    today = at.effects.local_now().date()
    owed: list[Invoice] = []
    gone: list[str] = []
    left_out = row.payload.get("left_out") or {}
    gone.extend(f"invoice {why}" for why in dict.fromkeys(left_out.values()))
    for invoice_id, invoice in at.reads.take(
        row.id, [i for i in row.payload["invoice_ids"] if i not in left_out]
    ).items():
        if invoice is None:
            gone.append(f"invoice {invoice_id} no longer exists")
            continue
        if invoice.status is not InvoiceStatus.OPEN or invoice.balance.amount <= 0:
            gone.append(f"invoice {invoice.number} was paid or closed after this was decided")
        elif invoice_id in planned and invoice.balance.amount != planned[invoice_id]:
            gone.append(f"invoice {invoice.number}'s balance changed after this was decided")
        elif overdue.get(invoice_id, 0) > 0 and invoice.due_date is not None and invoice.due_date >= today:
            # The owner extended its terms since: an overdue step must not reach an invoice that is not.
            gone.append(f"invoice {invoice.number} is no longer overdue: it is due {invoice.due_date.isoformat()}")
        else:
            owed.append(invoice)
    if not owed:
        raise Skip("; ".join(gone))
    return owed


def restage(at: Attempt, row: Action, invoices: list[Invoice]) -> None:
    """A consolidated email goes out at the firmest stage among the invoices it still carries: with the
    overdue one paid since planning, the one not yet due is checked in on, not sent a second reminder.
    Kept as the row's stage, so the note in the books names the step that was taken."""
    stages = (row.payload.get("payload") or {}).get("invoice_stages") or {}
    left = [stages[i.provider_id] for i in invoices if i.provider_id in stages]
    firmest = max(left, key=STAGES.index, default=row.payload["stage"])
    if firmest != row.payload["stage"]:
        save_payload(at.sessions, row, stage=firmest)


def net_of_credit(at: Attempt, row: Action, invoices: list[Invoice]) -> tuple[list[Invoice], dict[str, Money]]:
    """Credit is re-checked too: one applied or created since planning may now cover these invoices."""
    planned = (row.payload.get("payload") or {}).get("credit") or {}
    kept, credit, why = uncovered(
        invoices, effective_credit(planned, at.reads.credits.take(row.payload["customer_id"]))
    )
    if not kept:
        raise Skip(why)
    return kept, credit


def instalment_owed(at: Attempt, row: Action) -> list[Invoice]:
    """An account plan's instalment reminder goes only while the instalment is still owed: what was
    paid on the plan's invoices since it was planned is taken off (kept in the payload for the email)."""
    planned = {i: Decimal(b) for i, b in row.payload.get("balances", {}).items()}
    now = {i: inv for i, inv in at.reads.take(row.id, row.payload["invoice_ids"]).items() if inv is not None}
    paid_since = sum(planned.values(), Decimal(0)) - sum(
        (inv.balance.amount for i, inv in now.items() if i in planned), Decimal(0)
    )
    owed = Decimal(row.payload["payload"]["amount"]) - paid_since
    still_open = [inv for inv in now.values() if inv.status is InvoiceStatus.OPEN and inv.balance.amount > 0]
    if owed <= 0 or not still_open:
        raise Skip("the instalment was paid after this was planned")
    save_payload(at.sessions, row, instalment_owed=str(owed))
    return still_open
