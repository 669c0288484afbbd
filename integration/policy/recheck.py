"""Whether a planned action still holds at the moment it would be performed: the owner's word now.

decide judged the action against the rules, pauses and overrides of its snapshot; between then and
the moment the executor reaches the action (an email queued until quiet hours end, a cycle later)
the owner may have logged a promise, paused or excluded the customer, turned a stage off or moved
the send window. This is the executor's re-decision, pure like decide and built from the same rule
functions (pause_state, next_send_time), so the two cannot disagree about what a rule means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from integration.policy.actions import ActionKind
from integration.policy.pauses import PauseState
from integration.policy.quiet_hours import next_send_time, send_zone
from integration.policy.reasons import STAGE_WORDS
from integration.policy.rules import Rules
from integration.policy.snapshot import CustomerOverride

# What reaches the customer: these respect quiet hours, opt-outs and one message a day.
CUSTOMER_FACING = frozenset(
    {ActionKind.SEND_REMINDER, ActionKind.RESEND_INVOICE, ActionKind.SEND_STATEMENT, ActionKind.INSTALMENT_REMINDER}
)
# The steps for invoices (the ladder's, and late fees): a paused invoice takes no part in them.
LADDER_KINDS = frozenset(
    {
        ActionKind.SEND_REMINDER,
        ActionKind.RESEND_INVOICE,
        ActionKind.ADD_NOTE,
        ActionKind.CREATE_CALL_TASK,
        ActionKind.RECOMMEND_ESCALATION,
        ActionKind.CHARGE_LATE_FEE,
    }
)


@dataclass(frozen=True, slots=True)
class Pending:
    """The facts of one planned action the re-check needs (from its ledger row)."""

    kind: ActionKind
    stage: str | None
    channel: str | None  # a reminder's channel when it was planned
    invoice_ids: Sequence[str]
    approved: bool = False  # the owner approved it (see `needs_approval`)


@dataclass(frozen=True, slots=True)
class OwnerWord:
    """The owner's word on the action's customer and invoices as it stands now."""

    override: CustomerOverride | None = None
    pauses: Mapping[str, PauseState] = field(default_factory=dict)  # by invoice id
    messaged_today: bool = False  # the customer already got a message today (company-local day)
    closed: frozenset[str] = frozenset()  # invoice ids the latest sync found paid, voided or deleted
    address_zone: str | None = None  # the customer's own clock, where their billing address settles it


@dataclass(frozen=True, slots=True)
class Verdict:
    """Go ahead (all fields empty), skip with a reason, wait until an instant, or ask the owner.
    `left_out`: invoices the action must leave out (paused since), by id with the reason."""

    skip: str | None = None
    wait_until: dt.datetime | None = None
    ask_owner: bool = False
    left_out: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


GO = Verdict()


def needs_approval(kind: ActionKind, stage: str | None, rules: Rules) -> bool:
    """Steps that threaten or restrict wait for the owner unless the rules say go ahead."""
    approval = rules.approval
    if kind is ActionKind.SEND_REMINDER and stage == "final_notice":
        return approval.final_notice
    if kind is ActionKind.CREDIT_HOLD_ON:
        return approval.credit_hold
    if kind is ActionKind.RECOMMEND_ESCALATION:
        return approval.escalation
    if kind is ActionKind.CHARGE_LATE_FEE:
        return rules.late_fees.approve_first
    return False


def recheck(pending: Pending, word: OwnerWord, rules: Rules, company_zone: str, now: dt.datetime) -> Verdict:
    """The verdict on `pending` at `now` under the rules and the owner's word as they stand."""
    kind, override = pending.kind, word.override
    if override is not None and override.excluded:
        return Verdict(skip="the owner excluded this customer from arpilot after this was planned")
    if override is not None and override.paused and kind is not ActionKind.CREDIT_HOLD_OFF:
        return Verdict(skip="the owner paused this customer after this was planned")
    if kind is ActionKind.CHARGE_LATE_FEE and override is not None and override.opted_out:
        return Verdict(skip="the customer opted out after this was planned: no late fee")
    stopped = _rule_stopped(pending, rules)
    if stopped:
        return Verdict(skip=stopped)
    left_out: Mapping[str, str] = MappingProxyType({})
    if kind in LADDER_KINDS and pending.invoice_ids and set(pending.invoice_ids) <= word.closed:
        # Mostly for steps waiting in the Approve list: a paid invoice's final notice is no question.
        return Verdict(skip="the invoices were paid or closed since this was planned")
    if kind in LADDER_KINDS:
        left_out = MappingProxyType(
            {i: word.pauses[i].why for i in pending.invoice_ids if i in word.pauses and word.pauses[i].active}
        )
        if pending.invoice_ids and len(left_out) == len(pending.invoice_ids):
            return Verdict(
                skip="; ".join(f"invoice {why}" for why in dict.fromkeys(left_out.values())) + " since this was planned"
            )
    if kind in CUSTOMER_FACING:
        if override is not None and override.opted_out:
            return Verdict(skip="the customer opted out of reminder emails after this was planned")
        zone = send_zone(
            rules.schedule,
            company_zone,
            owner_zone=override.timezone if override else None,
            address_zone=word.address_zone,
        )
        if word.messaged_today:
            return Verdict(wait_until=_next_day_window(now, zone, rules), left_out=left_out)
        opens = next_send_time(now, zone, rules.schedule)
        if opens is not None:
            return Verdict(wait_until=opens, left_out=left_out)
    if needs_approval(kind, pending.stage, rules) and not pending.approved:
        return Verdict(ask_owner=True, left_out=left_out)
    return Verdict(left_out=left_out) if left_out else GO


def _rule_stopped(pending: Pending, rules: Rules) -> str:
    """Why the rules as they stand no longer ask for this step ('' when they still do)."""
    kind = pending.kind
    if kind is ActionKind.CREDIT_HOLD_ON and not rules.credit_hold.enabled:
        return "credit hold was turned off in the rules after this was planned"
    if kind is ActionKind.SET_MID_MONTH_TERMS and not rules.mid_month.enabled:
        return "mid-month billing was turned off in the rules after this was planned"
    if kind is ActionKind.INSTALMENT_REMINDER and not (rules.pauses.payment_plan and rules.plans.reminder_days_before):
        return "instalment reminders were turned off after this was planned"
    if kind is ActionKind.CHARGE_LATE_FEE and not rules.late_fees.enabled:
        return "late fees were turned off in the rules after this was planned"
    if kind is ActionKind.SEND_STATEMENT and not rules.statements.enabled:
        return "monthly statements were turned off in the rules after this was planned"
    if kind in CUSTOMER_FACING and pending.stage is not None:
        stage = rules.ladder.stage(pending.stage)
        words = STAGE_WORDS[stage.name]
        if not stage.enabled:
            return f"the {words} stage was turned off in the rules after this was planned"
        if kind is ActionKind.SEND_REMINDER and pending.channel is not None and stage.channel != pending.channel:
            return (
                f"the {words} stage's channel was changed to {stage.channel.replace('_', ' ')} after this was planned"
            )
    return ""


def _next_day_window(now: dt.datetime, zone: str, rules: Rules) -> dt.datetime:
    """When the send window opens on a later local day than `now`'s: one message a day."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    return next_send_time(midnight, zone, rules.schedule) or midnight
