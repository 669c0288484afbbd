"""decide(snapshot, rules, now) -> planned actions: the whole collections policy as a pure function.

For each customer, once: gather the facts (profiles.gather), classify them (the payment profile),
then apply the practice, one rule a function:
- grace: a good customer's ladder waits their usual days late (`_Run.grace`);
- stage due: each open invoice's next step, from what was already done (ladder.LadderSchedule.step_due);
- pauses: a disputed, promised or planned invoice waits; a broken promise or plan resumes the
  ladder (`due_steps.DueSteps.steps`, with the pause states gather worked out);
- habits: the customer's own history holds an overdue email back or brings one forward
  (`due_steps.DueSteps`);
- consolidation: one email per customer for its due invoices, at most one per frequency window
  (`_Run.consolidated`, `_Run.email_allowed`);
- credit hold on and off (`_Run.hold_on`, `_Run.hold_off`) and mid-month terms (`_Run.mid_month_terms`);
- account plans' instalment reminders (`account_plans.InstalmentReminders`; their pauses come with
  the others from gather);
- late fees, when the rule is on (`late_fees.LateFeePlanner`, which walks every open invoice itself:
  the screen leaves out invoices whose stage is not due, not those a fee may be due on).

Hot path: the screen (ladder.Screen) lets gather leave out the open invoices whose last step is
recent enough that no stage can be due, so only the rest are walked again here; objects only for
the invoices that act today. decide has no side effects: it reads the snapshot and returns actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from connectors.contract import Customer, amount_text
from integration.policy.account_plans import InstalmentReminders
from integration.policy.actions import ESCALATION_OPTIONS, ActionKind, PlannedAction, key_digest
from integration.policy.aging import local_today
from integration.policy.credits import Available, available_credit, settle
from integration.policy.due_steps import DueSteps
from integration.policy.ladder import (
    REMINDER_1,
    STAGE_INDEX,
    LadderSchedule,
    LastStep,
    Step,
    record_step,
)
from integration.policy.late_fees import LateFeePlanner
from integration.policy.profiles import CustomerFacts, PaymentProfile, classify, gather
from integration.policy.quiet_hours import next_send_time, send_zone
from integration.policy.reasons import STAGE_WORDS, habit_phrase, invoices_phrase, lateness, plural, sentence
from integration.policy.recipients import addresses, quoted, stage_roles
from integration.policy.rules import Rules
from integration.policy.snapshot import CustomerOverride, History, HoldEvent, Snapshot
from integration.policy.statements import statement_actions

EMAIL_CHANNELS = ("email", "accounting_system_email")
_NO_PAYLOAD: MappingProxyType[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Past:
    """What arpilot already did, indexed for lookups."""

    done: dict[str, LastStep]  # invoice id -> where it stands on the ladder
    last_email: dict[str, int]  # customer id -> ordinal of the latest reminder email
    holds: dict[str, HoldEvent]  # customer id -> the latest credit hold event
    moved: frozenset[str]  # customers arpilot moved to mid-month terms

    @classmethod
    def read(cls, history: History) -> Past:
        """One pass over the reminders (a large book's history holds hundreds of thousands)."""
        done: dict[str, LastStep] = {}
        last_email: dict[str, int] = {}
        # One LastStep per day and stage, shared by every invoice stepped then: a few hundred small
        # objects the screen reads for each open invoice stay in the CPU's cache, and are built once.
        steps: dict[tuple[dt.date, str], LastStep] = {}
        for sent in history.reminders:
            step = steps.get((sent.date, sent.stage))
            if step is None:
                step = steps[sent.date, sent.stage] = LastStep(sent.date.toordinal(), STAGE_INDEX[sent.stage])
            record_step(done, sent.invoice_ids, step)
            if sent.channel in EMAIL_CHANNELS and last_email.get(sent.customer_id, 0) < step.day:
                last_email[sent.customer_id] = step.day
        holds = {event.customer_id: event for event in sorted(history.holds, key=lambda e: e.date)}
        moved = frozenset(move.customer_id for move in history.term_moves)
        return cls(done, last_email, holds, moved)


def decide(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> list[PlannedAction]:
    """The actions due at `now` (the company's local day), ordered by customer, then kind, invoices and key."""
    today = local_today(now, snapshot.company.timezone)
    schedule, past, credit = LadderSchedule(rules), Past.read(snapshot.history), available_credit(snapshot.credits)
    # An owner's grace override below zero could bring a stage forward, and settle weighs every
    # open invoice of a customer with credit: neither kind of customer is screened.
    forward = {c for c, o in snapshot.overrides.items() if o.grace_days is not None and o.grace_days < 0}
    screen = schedule.screen(past.done, frozenset(forward | credit.keys()))
    ledger = gather(snapshot, rules, today, screen)
    run = _Run(snapshot, rules, now, today, ledger.last_applied, schedule, past, credit)
    actions: list[PlannedAction] = []
    # sort_key leads with the customer id and customers are taken in order, so sorting each
    # customer's actions alone gives the order of sorting them all, with fewer keys and compares.
    for customer_id in sorted(ledger.facts):
        found = run.customer(ledger.facts[customer_id])
        found.sort(key=PlannedAction.sort_key)
        actions.extend(found)
    statements = statement_actions(snapshot, rules, today)
    if statements:  # off by default: then decide's output is exactly what it was without the rule
        actions = sorted(actions + statements, key=PlannedAction.sort_key)
    return actions


class _Run:
    """One decide call: the inputs every customer shares, and texts worked out once per run."""

    def __init__(
        self,
        snapshot: Snapshot,
        rules: Rules,
        now: dt.datetime,
        today: dt.date,
        last_applied: dict[str, int],
        schedule: LadderSchedule,
        past: Past,
        credit: dict[str, dict[str, Available]],
    ) -> None:
        self.snapshot, self.rules, self.now, self.today = snapshot, rules, now, today
        self.today_ord = today.toordinal()
        self.today_iso = today.isoformat()
        self.last_applied = last_applied
        self.schedule, self.stages, self.past, self.credit = schedule, schedule.stages, past, credit
        self.due = DueSteps(rules, schedule, past.done, last_applied, self.today_ord)
        self._send_times: dict[str, dt.datetime | None] = {}  # by time zone
        self._iso: dict[int, str] = {}  # ordinal -> ISO date, for keys and notes
        self._habit: tuple[PaymentProfile, str] | None = None  # the last customer's habit phrase
        self.late_fees = LateFeePlanner(snapshot, rules.late_fees, today) if rules.late_fees.enabled else None
        self.instalments = InstalmentReminders(snapshot, rules, today) if snapshot.account_plans else None

    def iso(self, ordinal: int) -> str:
        found = self._iso.get(ordinal)
        if found is None:
            found = self._iso[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return found

    def habit(self, customer: Customer, profile: PaymentProfile) -> str:
        """habit_phrase, worked out once per customer however many actions quote it."""
        if self._habit is None or self._habit[0] is not profile:
            self._habit = (profile, habit_phrase(customer.name, profile))
        return self._habit[1]

    # --- per customer ----------------------------------------------------------------------

    def customer(self, entry: CustomerFacts) -> list[PlannedAction]:
        customer = entry.customer
        customer_id = customer.provider_id
        override = self.snapshot.overrides.get(customer_id)
        if customer.deleted or (override is not None and override.excluded):
            return []
        on_hold = customer_id in self.snapshot.on_hold
        if not entry.open_count and not on_hold and entry.month_end_late < self.rules.mid_month.min_occurrences:
            return []  # nothing open, nothing to release, cannot qualify for mid-month: skip the profile
        credit = self.credit.get(customer_id)
        actions, mention = settle(entry, credit, self.today_ord) if credit else ([], {})
        profile = classify(entry, self.rules, self.today)
        paused = override is not None and override.paused
        if on_hold:
            actions += _present(self.hold_off(entry))
        elif not paused:
            actions += _present(self.hold_on(entry, profile))
        if not paused:
            if self.late_fees is not None:
                actions += self.late_fees.charges(customer, override, credit)
            actions += _present(self.mid_month_terms(customer, profile))
            if self.instalments is not None and not (override is not None and override.opted_out):
                actions += self.instalments.due(customer, self.not_before(customer_id, override))
            if entry.open or entry.early:
                steps = self.due.steps(entry, self.grace(profile, override))
                if steps:
                    actions += self.ladder_actions(customer, profile, override, steps, mention)
        return actions

    def grace(self, profile: PaymentProfile, override: CustomerOverride | None) -> int:
        """Days the stages after the due date wait: for a customer of the good classes, their median
        days late (never below zero, capped); the owner's override replaces it."""
        if override is not None and override.grace_days is not None:
            return override.grace_days
        grace = self.rules.grace
        if not grace.enabled or profile.classification not in grace.profile_classes:
            return 0
        return min(max(profile.median_days_late or 0, 0), grace.max_days)

    # --- reminders, call tasks, notes, re-sends, escalation --------------------------------
    # Payloads are wrapped in MappingProxyType here, so PlannedAction keeps them without a copy.

    def ladder_actions(
        self,
        customer: Customer,
        profile: PaymentProfile,
        override: CustomerOverride | None,
        steps: list[Step],
        mention: dict[str, dict[str, str]],
    ) -> list[PlannedAction]:
        """Call stages become call tasks (with the invoice re-sent where the stage says so); email
        stages become one reminder, or call tasks when the customer cannot or will not get email."""
        stages = self.stages
        steps.sort(key=lambda s: (-s.stage, -s.days, s.invoice.provider_id))  # the most urgent first
        calls = [s for s in steps if stages[s.stage].channel == "call"]
        emails = [s for s in steps if stages[s.stage].channel in EMAIL_CHANNELS]
        actions: list[PlannedAction] = []
        if calls:
            actions += self.call_stage(customer, profile, calls, "the ladder asks for a call at this stage")
            resent = [s for s in calls if stages[s.stage].resend_invoice]
            if resent:
                actions += self.resends(customer, override, resent, mention)
        if not emails:
            return actions
        if override is not None and override.opted_out:
            if self.rules.opt_out.call_instead:
                actions += self.call_stage(
                    customer, profile, emails, f"{customer.name} opted out of reminder emails, so call instead"
                )
            return actions
        if not self.email_allowed(customer.provider_id, emails):
            return actions  # the frequency cap: these invoices wait for the next allowed day
        return actions + self.email(customer, profile, override, self.consolidated(emails), mention)

    def email_allowed(self, customer_id: str, emails: list[Step]) -> bool:
        """At most one reminder email per customer per `min_days_between_emails`, except that an
        invoice's first overdue reminder waits for nothing but a day without another email: a late
        payer hears the day after the due date, however recently they were written to."""
        last_email = self.past.last_email.get(customer_id)
        if any(step.stage == REMINDER_1 for step in emails):
            return last_email is None or last_email < self.today_ord
        return last_email is None or self.today_ord - last_email >= self.rules.frequency.min_days_between_emails

    def consolidated(self, emails: list[Step]) -> list[Step]:
        """The invoices today's email carries: all of the customer's due invoices, in one email at the
        most urgent one's stage; without consolidation only the most urgent, the rest wait their turn."""
        return emails if self.rules.frequency.consolidate else emails[:1]

    def email(
        self,
        customer: Customer,
        profile: PaymentProfile,
        override: CustomerOverride | None,
        emails: list[Step],
        mention: dict[str, dict[str, str]],
    ) -> list[PlannedAction]:
        """The reminder email, to the contacts the stages name (a call task when there is no valid
        address), with the call task and escalation its stage asks for."""
        stages = self.stages
        top = stages[emails[0].stage]
        roles = stage_roles(stages[s.stage] for s in emails)
        recipients, invalid = addresses(customer, [s.invoice for s in emails], roles)
        left_out = f"left out {quoted(invalid)}: not an email address" if invalid else ""
        if not recipients:
            missing = (
                f"{customer.name} has no valid email address on file ({left_out})"
                if invalid
                else (f"{customer.name} has no email address on file")
            )
            return self.call_stage(customer, profile, emails, f"{missing}, so call instead")
        customer_id = customer.provider_id
        ids = tuple([s.invoice.provider_id for s in emails])
        anchor = self.iso(max([s.anchor for s in emails]))
        reason = sentence(
            invoices_phrase([(s.invoice.number, s.days) for s in emails]),
            self.habit(customer, profile),
            _stage_phrase(top.name, emails),
            left_out,
        )
        actions = [
            PlannedAction(
                ActionKind.SEND_REMINDER,
                customer_id,
                ids,
                top.name,
                recipients,
                reason,
                key_digest(ActionKind.SEND_REMINDER, customer_id, _joined(ids), top.name, anchor),
                self.not_before(customer_id, override),
                MappingProxyType(
                    {
                        "channel": top.channel,
                        "template": top.template,
                        "classification": profile.classification,
                        "invoice_stages": {s.invoice.provider_id: stages[s.stage].name for s in emails},
                        "days_overdue": {s.invoice.provider_id: s.days for s in emails},
                        **(
                            {"credit": mention} if mention else {}
                        ),  # credit left to mention: "less your unapplied credit"
                        **({"letter": True} if top.letter else {}),  # also a printable letter to post
                    }
                ),
            )
        ]
        # The email's note is written by the executor once the email is delivered, saying when.
        if top.call_task:
            actions.append(self.call_task(customer, profile, emails, top.name, anchor, reason, advances=False))
        escalating = [s for s in emails if stages[s.stage].escalate]
        if escalating:
            actions.append(self.escalation(customer, profile, escalating))
        return actions

    def resends(
        self,
        customer: Customer,
        override: CustomerOverride | None,
        steps: list[Step],
        mention: dict[str, dict[str, str]],
    ) -> list[PlannedAction]:
        """A call stage's one customer-facing message: the accounting system re-sends each invoice, with
        the credit the policy left for it (its send-time re-check counts only that and what is new)."""
        if override is not None and override.opted_out:
            return []
        customer_id = customer.provider_id
        to = addresses(customer, [s.invoice for s in steps], ["billing"])[0][:1]
        not_before = self.not_before(customer_id, override)
        payload = MappingProxyType({"credit": mention}) if mention else _NO_PAYLOAD
        actions = []
        for step in steps:
            stage, invoice_id = self.stages[step.stage].name, step.invoice.provider_id
            reason = sentence(
                f"Invoice {step.invoice.number} is {lateness(step.days)}",
                "the accounting system re-sends it with the " + STAGE_WORDS[stage],
            )
            actions.append(
                PlannedAction(
                    ActionKind.RESEND_INVOICE,
                    customer_id,
                    (invoice_id,),
                    stage,
                    to,
                    reason,
                    key_digest(ActionKind.RESEND_INVOICE, customer_id, invoice_id, stage, self.iso(step.anchor)),
                    not_before,
                    payload,
                )
            )
        return actions

    def call_stage(
        self, customer: Customer, profile: PaymentProfile, steps: list[Step], why: str
    ) -> list[PlannedAction]:
        """A call task that stands in for a ladder step (it advances the ladder), with its notes."""
        top = self.stages[steps[0].stage].name
        anchor = self.iso(max([s.anchor for s in steps]))
        reason = sentence(
            invoices_phrase([(s.invoice.number, s.days) for s in steps]),
            self.habit(customer, profile),
            f"{STAGE_WORDS[top]}: {why}",
        )
        task = self.call_task(customer, profile, steps, top, anchor, reason, advances=True)
        return [task, *self.notes(customer.provider_id, steps, f"{STAGE_WORDS[top]}: call task for the owner")]

    def call_task(
        self,
        customer: Customer,
        profile: PaymentProfile,
        steps: list[Step],
        stage: str,
        anchor: str,
        reason: str,
        *,
        advances: bool,
    ) -> PlannedAction:
        ids = tuple([s.invoice.provider_id for s in steps])
        points = [f"Invoice {s.invoice.number}: {s.invoice.balance} open, {lateness(s.days)}" for s in steps]
        points.append(self.habit(customer, profile) + ".")
        points.append(
            "Ask when payment will be made and note the date as a promise to pay; offer a payment plan if needed."
        )
        payload: dict[str, object] = {
            "talking_points": points,
            "phone": customer.phone,
            "classification": profile.classification,
        }
        if advances:
            payload["invoice_stages"] = {s.invoice.provider_id: self.stages[s.stage].name for s in steps}
        return PlannedAction(
            ActionKind.CREATE_CALL_TASK,
            customer.provider_id,
            ids,
            stage,
            (),
            reason,
            key_digest(ActionKind.CREATE_CALL_TASK, customer.provider_id, _joined(ids), stage, anchor),
            None,
            MappingProxyType(payload),
        )

    def notes(self, customer_id: str, steps: list[Step], what: str) -> list[PlannedAction]:
        said = f"arpilot: {what} on {self.today_iso} ("
        notes = []
        for step in steps:
            stage, invoice = self.stages[step.stage].name, step.invoice
            notes.append(
                PlannedAction(
                    ActionKind.ADD_NOTE,
                    customer_id,
                    (invoice.provider_id,),
                    stage,
                    (),
                    f"Record on invoice {invoice.number} that the {STAGE_WORDS[stage]} was done.",
                    key_digest(ActionKind.ADD_NOTE, customer_id, invoice.provider_id, stage, self.iso(step.anchor)),
                    None,
                    MappingProxyType({"text": f"{said}{lateness(step.days)})."}),
                )
            )
        return notes

    def escalation(self, customer: Customer, profile: PaymentProfile, steps: list[Step]) -> PlannedAction:
        ids = tuple([s.invoice.provider_id for s in steps])
        anchor = self.iso(max([s.anchor for s in steps]))
        reason = sentence(
            invoices_phrase([(s.invoice.number, s.days) for s in steps]),
            self.habit(customer, profile),
            "the final notice went out, so choose a next step: "
            "collection agency, attorney letter, payment plan or write-off",
        )
        return PlannedAction(
            ActionKind.RECOMMEND_ESCALATION,
            customer.provider_id,
            ids,
            "final_notice",
            (),
            reason,
            key_digest(ActionKind.RECOMMEND_ESCALATION, customer.provider_id, _joined(ids), "final_notice", anchor),
            None,
            MappingProxyType(
                {
                    "options": list(ESCALATION_OPTIONS),
                    "balance": {s.invoice.provider_id: str(s.invoice.balance.amount) for s in steps},
                }
            ),
        )

    def not_before(self, customer_id: str, override: CustomerOverride | None) -> dt.datetime | None:
        """Quiet hours: the next send time in the customer's zone, None when now is inside the window."""
        schedule = self.rules.schedule
        zone = send_zone(
            schedule,
            self.snapshot.company.timezone,
            owner_zone=override.timezone if override else None,
            address_zone=self.snapshot.customer_zones.get(customer_id),
        )
        if zone not in self._send_times:
            self._send_times[zone] = next_send_time(self.now, zone, schedule)
        return self._send_times[zone]

    # --- credit hold and mid-month terms ---------------------------------------------------

    def hold_off(self, entry: CustomerFacts) -> PlannedAction | None:
        """Release a credit hold arpilot placed once nothing is overdue (the owner's own holds stay)."""
        customer, customer_id = entry.customer, entry.customer.provider_id
        ours = self.past.holds.get(customer_id)
        if entry.overdue or not self.rules.credit_hold.auto_release or ours is None or not ours.on:
            return None
        return PlannedAction(
            ActionKind.CREDIT_HOLD_OFF,
            customer_id,
            (),
            None,
            (),
            sentence(f"{customer.name} has no overdue balance any more", "the credit hold arpilot placed is released"),
            key_digest(ActionKind.CREDIT_HOLD_OFF, customer_id, "", None, ours.date.isoformat()),
            None,
            MappingProxyType(
                {"note": f"arpilot: credit hold released on {self.today_iso}; the overdue balance is paid."}
            ),
        )

    def hold_on(self, entry: CustomerFacts, profile: PaymentProfile) -> PlannedAction | None:
        """Hold a customer's credit until the overdue balance is paid: customers of the named classes
        once an invoice is `days_overdue` late, everyone at `all_customers_days_overdue`, and only when
        the overdue balance reaches `min_overdue_amount` in some currency."""
        hold = self.rules.credit_hold
        overdue = entry.overdue  # sums of positive balances only (gather), so every amount is > 0
        if not hold.enabled or not overdue:
            return None
        if hold.min_overdue_amount > 0 and all(amount < hold.min_overdue_amount for amount in overdue.values()):
            return None
        oldest = entry.oldest_overdue
        if oldest < hold.all_customers_days_overdue and not (
            profile.classification in hold.profile_classes and oldest >= hold.days_overdue
        ):
            return None
        customer, customer_id = entry.customer, entry.customer.provider_id
        owed = " and ".join([amount_text(amount, currency) for currency, amount in sorted(overdue.items())])
        reason = sentence(
            f"{customer.name} owes {owed} past due, the oldest invoice {plural(oldest, 'day')} late",
            self.habit(customer, profile),
            "credit hold until the overdue balance is paid",
        )
        return PlannedAction(
            ActionKind.CREDIT_HOLD_ON,
            customer_id,
            (),
            None,
            (),
            reason,
            key_digest(ActionKind.CREDIT_HOLD_ON, customer_id, "", None, self.iso(self.today_ord - oldest)),
            None,
            MappingProxyType(
                {
                    "note": f"arpilot: credit hold placed on {self.today_iso}: {owed} past due.",
                    "classification": profile.classification,
                    "oldest_overdue_days": oldest,
                }
            ),
        )

    def mid_month_terms(self, customer: Customer, profile: PaymentProfile) -> PlannedAction | None:
        """Move a good customer whose late payments cluster at month-end onto terms due mid-month,
        once (not when already on them, nor when arpilot moved them before)."""
        mid, customer_id = self.rules.mid_month, customer.provider_id
        if (
            not mid.enabled
            or not profile.month_end_clustered
            or profile.classification not in mid.profile_classes
            or customer_id in self.snapshot.mid_month
            or customer_id in self.past.moved
        ):
            return None
        reason = sentence(
            f"{customer.name} paid late {plural(profile.month_end_late_payments, 'time')} in the history window "
            "when an invoice fell due at month-end",
            self.habit(customer, profile),
            f"move them to terms due on day {mid.day_of_month} of the month",
        )
        return PlannedAction(
            ActionKind.SET_MID_MONTH_TERMS,
            customer_id,
            (),
            None,
            (),
            reason,
            key_digest(ActionKind.SET_MID_MONTH_TERMS, customer_id, "", None, ""),
            None,
            MappingProxyType({"day_of_month": mid.day_of_month}),
        )


def _present(action: PlannedAction | None) -> list[PlannedAction]:
    return [] if action is None else [action]


def _joined(invoice_ids: tuple[str, ...]) -> str:
    """Invoice ids as the key spells them: sorted and comma-joined."""
    return invoice_ids[0] if len(invoice_ids) == 1 else ",".join(sorted(invoice_ids))


def _stage_phrase(top: str, steps: list[Step]) -> str:
    words = STAGE_WORDS[top]
    if len(steps) > 1:
        words += f", one email for {plural(len(steps), 'invoice')}"
    why = next((s.why for s in steps if s.why), "")
    return f"{words} ({why})" if why else words
