"""The demo's summary of one cycle: what was synced, how old the debts are, what was done and why."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import amount_text
from integration.cycle.gather import load_snapshot
from integration.cycle.run import CycleSummary
from integration.policy.aging import days_overdue, is_open, local_today
from integration.store.models import Action

MOST_OVERDUE = 5


@dataclass(frozen=True)
class DemoReport:
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.data

    def to_text(self) -> str:
        d = self.data
        lines = [
            f"arpilot demo: {d['company']} on {d['as_of']} ({d['status']})",
            f"  invoices synced: {d['invoices_synced']}",
            "  aging (amount per bucket):",
            *[
                f"    {currency}: " + ", ".join(f"{bucket} {amount}" for bucket, amount in buckets.items())
                for currency, buckets in d["aging"].items()
            ],
            "  actions by kind: " + (", ".join(f"{k} {v}" for k, v in sorted(d["actions_by_kind"].items())) or "none"),
            f"  emails sent: {d['emails_sent']}",
            f"  notes written back: {d['notes_written']}",
            f"  customers moved to mid-month terms: {d['moved_to_mid_month']}",
            f"  customers put on credit hold: {d['put_on_hold']}; taken off hold: {d['taken_off_hold']}",
            "  actions skipped: "
            + (", ".join(f"{reason} ({n})" for reason, n in d["skipped_by_reason"].items()) or "none"),
        ]
        if d["nothing_new"]:
            lines.append(
                "  nothing new to do: every action decided today was already planned or done in an earlier run"
            )
        lines.append(f"  the {MOST_OVERDUE} most overdue customers:")
        for customer in d["most_overdue"]:
            lines.append(f"    {customer['name']}: {customer['days_overdue']} days overdue, {customer['overdue']}")
            lines.extend(f"      - {reason}" for reason in customer["reasons"] or ["no action today"])
        return "\n".join(lines)


def build_report(
    sessions: sessionmaker[Session], connection_id: int, summary: CycleSummary, now: dt.datetime
) -> DemoReport:
    with sessions() as session:
        snapshot = load_snapshot(session, connection_id, now)
        actions = list(session.scalars(select(Action).where(Action.connection_id == connection_id).order_by(Action.id)))
    today = local_today(now, snapshot.company.timezone)
    names = {c.provider_id: c.name for c in snapshot.customers}
    overdue: dict[str, tuple[int, Counter[str]]] = {}
    for invoice in snapshot.invoices:
        days = days_overdue(invoice, today)
        if is_open(invoice) and days > 0:
            oldest, amounts = overdue.get(invoice.customer_id, (0, Counter()))
            amounts[invoice.balance.currency] += invoice.balance.amount
            overdue[invoice.customer_id] = (max(oldest, days), amounts)
    worst = sorted(overdue.items(), key=lambda item: (-item[1][0], names.get(item[0], "")))[:MOST_OVERDUE]
    execution = summary.execution
    # This run's effects only: the ledger also holds what earlier runs (`--keep`) did.
    done = execution.get("done_by_kind", {})
    return DemoReport(
        {
            "company": snapshot.company.name,
            "as_of": today.isoformat(),
            "status": summary.status,
            "detail": summary.detail,
            "invoices_synced": summary.synced.get("invoice", 0),
            "aging": summary.aging,
            "actions_by_kind": dict(Counter(a["kind"] for a in summary.decided)),
            "emails_sent": execution.get("emails_sent", 0),
            "notes_written": execution.get("notes_written", 0),
            "moved_to_mid_month": done.get("set_mid_month_terms", 0),
            "put_on_hold": done.get("credit_hold_on", 0),
            "taken_off_hold": done.get("credit_hold_off", 0),
            "skipped_by_reason": execution.get("skipped_reasons", {}),
            "planned_this_run": summary.planned,
            "nothing_new": summary.status == "done" and summary.planned == 0,
            "most_overdue": [
                {
                    "customer_id": customer_id,
                    "name": names.get(customer_id, customer_id),
                    "days_overdue": days,
                    "overdue": ", ".join(amount_text(amount, currency) for currency, amount in sorted(amounts.items())),
                    # One line per decision: notes that only record a step repeat the step's own reason.
                    "reasons": list(
                        dict.fromkeys(
                            a.reason
                            for a in actions
                            if a.payload.get("customer_id") == customer_id and a.kind != "add_note"
                        )
                    ),
                }
                for customer_id, (days, amounts) in worst
            ],
            "actions": [
                {
                    "kind": a.kind,
                    "customer_id": a.payload.get("customer_id"),
                    "invoice_ids": a.payload.get("invoice_ids"),
                    "stage": a.payload.get("stage"),
                    "reason": a.reason,
                    "status": a.status.value,
                }
                for a in actions
            ],
        }
    )
