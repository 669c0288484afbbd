"""What the policy decides: planned actions, each with a plain reason and a deterministic key.

The key hashes only connection-independent facts (kind, customer, sorted invoice ids, stage and
the anchor date the decision rests on), so deciding the same facts again, on the same day or a
later one, yields the same key and the ledger plans nothing new.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ESCALATION_OPTIONS: tuple[str, ...] = ("collection_agency", "attorney_letter", "payment_plan", "write_off")


class ActionKind(str, enum.Enum):
    SEND_REMINDER = "send_reminder"
    CREATE_CALL_TASK = "create_call_task"
    ADD_NOTE = "add_note"
    RESEND_INVOICE = "resend_invoice"
    SET_MID_MONTH_TERMS = "set_mid_month_terms"
    CREDIT_HOLD_ON = "credit_hold_on"
    CREDIT_HOLD_OFF = "credit_hold_off"
    RECOMMEND_ESCALATION = "recommend_escalation"
    APPLY_CREDIT = "apply_credit"  # an owner task: the customer's unapplied credit covers what is overdue
    CHARGE_LATE_FEE = "charge_late_fee"  # written into the books as its own charge (rules.late_fees)
    SEND_STATEMENT = "send_statement"  # the monthly statement of account, its PDF attached (rules.statements)
    INSTALMENT_REMINDER = "instalment_reminder"  # a gentle email before an account plan's instalment


# Order of kinds within one customer: the email first, then what accompanies it, then account moves.
KIND_ORDER = {kind: index for index, kind in enumerate(ActionKind)}


# The kinds' texts, looked up by member: `kind.value` goes through a Python-level descriptor.
KIND_TEXT = {kind: kind.value for kind in ActionKind}


def idempotency_key(
    kind: ActionKind, customer_id: str, invoice_ids: Iterable[str], stage: str | None, anchor: dt.date | None
) -> str:
    return key_digest(kind, customer_id, ",".join(sorted(invoice_ids)), stage, anchor.isoformat() if anchor else "")


def key_digest(kind: ActionKind, customer_id: str, invoice_ids: str, stage: str | None, anchor: str) -> str:
    """The key from its parts already as text: invoice ids sorted and comma-joined, the anchor as
    an ISO date or empty. decide calls this directly with texts it builds once per run."""
    text = f"{KIND_TEXT[kind]}\x1f{customer_id}\x1f{invoice_ids}\x1f{stage or ''}\x1f{anchor}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True, eq=False, slots=True)
class PlannedAction:
    kind: ActionKind
    customer_id: str
    invoice_ids: tuple[str, ...]
    stage: str | None
    recipients: tuple[str, ...]
    reason: str
    idempotency_key: str
    not_before: dt.datetime | None = None  # UTC; set when quiet hours defer the action
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy, so that the caller's dict cannot change the action; a caller that
        # passes a MappingProxyType it built itself (decide) hands over its only reference.
        if not isinstance(self.payload, MappingProxyType):
            object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlannedAction):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(self.idempotency_key)

    def sort_key(self) -> tuple[str, int, tuple[str, ...], str]:
        return (self.customer_id, KIND_ORDER[self.kind], self.invoice_ids, self.idempotency_key)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the ledger row's payload, `arpilot preview --json`)."""
        return {
            "kind": self.kind.value,
            "customer_id": self.customer_id,
            "invoice_ids": list(self.invoice_ids),
            "stage": self.stage,
            "recipients": list(self.recipients),
            "reason": self.reason,
            "idempotency_key": self.idempotency_key,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "payload": dict(self.payload),
        }
