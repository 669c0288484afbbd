"""decide(snapshot, rules, now) -> planned actions: the whole collections policy as a pure function.

For each customer, once: gather the facts (profiles.gather), classify them, then walk the open
invoices. An invoice's place on the ladder comes from the history of what was already done, never
from a counter: the stage due today is the highest stage its age has reached beyond the last one
done, so a backlog gets the stage for its age, a missed cycle catches up once, and nothing repeats.
A part payment after the last step restarts the clock for the next step (no skip, no repeat); a
broken promise or plan resumes the ladder one stage up at once.

Hot path: date ordinals and plain ints per invoice; gather leaves out (screens) the open invoices
whose last step is recent enough that no stage can be due, so only the rest are walked again here;
objects only for the invoices that act today.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from types import MappingProxyType

from connectors.base import Customer, Invoice, amount_text
from integration.policy.actions import ESCALATION_OPTIONS, ActionKind, PlannedAction, key_digest
from integration.policy.aging import local_today
from integration.policy.credits import Available, available_credit, settle
from integration.policy.pauses import NOT_PAUSED, PauseState
from integration.policy.profiles import CustomerFacts, PaymentProfile, Screen, classify, gather
from integration.policy.quiet_hours import next_send_time, send_zone
from integration.policy.reasons import STAGE_WORDS, habit_phrase, invoices_phrase, lateness, plural, sentence
from integration.policy.recipients import addresses, quoted
from integration.policy.rules import CONTACT_ROLES, STAGES, Rules, Stage
from integration.policy.snapshot import CustomerOverride, History, Snapshot

EMAIL_CHANNELS = ("email", "accounting_system_email")
SEND_REMINDER, CREATE_CALL_TASK, ADD_NOTE = ActionKind.SEND_REMINDER, ActionKind.CREATE_CALL_TASK, ActionKind.ADD_NOTE
RESEND_INVOICE, RECOMMEND_ESCALATION = ActionKind.RESEND_INVOICE, ActionKind.RECOMMEND_ESCALATION
CREDIT_HOLD_ON, CREDIT_HOLD_OFF, SET_MID_MONTH_TERMS = ActionKind.CREDIT_HOLD_ON, ActionKind.CREDIT_HOLD_OFF, ActionKind.SET_MID_MONTH_TERMS
_NO_PAYLOAD: MappingProxyType[str, object] = MappingProxyType({})


class _Ladder:
    """The enabled stages with their offsets, and day thresholds per grace shift (cached)."""

    def __init__(self, rules: Rules) -> None:
        self.stages = rules.ladder.stages
        self.enabled = [i for i, s in enumerate(self.stages) if s.enabled]
        self.post_issue = [i for i in self.enabled if i > 0]  # stages counted from the due date
        self.check_in = 0 in self.enabled
        self._thresholds: dict[int, tuple[list[int], list[float] | None]] = {}

    def thresholds(self, shift: int) -> tuple[list[int], list[float] | None]:
        """The days past due from which each post-issue stage is due, and, when those rise with
        the stage (always, unless an owner's grace override is negative), `next_at`: per last
        stage done, the days past due from which a later stage is due (inf: none is)."""
        found = self._thresholds.get(shift)
        if found is None:
            days = [self.stages[i].offset_days + (shift if self.stages[i].offset_days > 0 else 0) for i in self.post_issue]
            next_at: list[float] | None = None
            if all(a < b for a, b in zip(days, days[1:])):
                next_at = [next((d for i, d in zip(self.post_issue, days) if i > last), math.inf) for last in range(len(STAGES))]
            found = self._thresholds[shift] = (days, next_at)
        return found

    def stage_day(self, index: int, issue: int, due: int, shift: int) -> int:
        offset = self.stages[index].offset_days
        if index == 0:
            return issue + offset
        return due + offset + (shift if offset > 0 else 0)

    def after(self, index: int, steps: int = 1) -> int | None:
        later = [i for i in self.enabled if i > index]
        if not later:
            return None
        return later[min(steps, len(later)) - 1]


_STAGE_BITS = 3  # a stage index fits in 3 bits: see _Past
assert len(STAGES) <= 1 << _STAGE_BITS
_STAGE_MASK = (1 << _STAGE_BITS) - 1


class _Past:
    """The history indexed for lookups: last stage and date per invoice, last email per customer.

    `done` packs, per invoice, the latest day a stage was done and the highest stage done into one
    int, `day << _STAGE_BITS | stage`: one dict entry and no tuple per invoice on the hot path."""

    def __init__(self, history: History) -> None:
        self.done: dict[str, int] = {}
        self.last_email: dict[str, int] = {}
        done, first = self.done, self.done.setdefault
        index = {name: i for i, name in enumerate(STAGES)}
        last_email, get_email = self.last_email, self.last_email.get
        for sent in history.reminders:
            day, level = sent.date.toordinal(), index[sent.stage]
            code = day << _STAGE_BITS | level
            for invoice_id in sent.invoice_ids:
                known = first(invoice_id, code)  # one lookup for an invoice's first entry, the usual case
                if known != code:
                    done[invoice_id] = max(known >> _STAGE_BITS, day) << _STAGE_BITS | max(known & _STAGE_MASK, level)
            if sent.channel in EMAIL_CHANNELS and get_email(sent.customer_id, 0) < day:
                last_email[sent.customer_id] = day
        self.hold: dict[str, tuple[bool, int]] = {}
        for event in sorted(history.holds, key=lambda e: e.date):
            self.hold[event.customer_id] = (event.on, event.date.toordinal())
        self.moved = {move.customer_id for move in history.term_moves}


class _Step:
    """One invoice whose next stage is due today."""

    __slots__ = ("invoice", "index", "anchor", "days", "why")

    def __init__(self, invoice: Invoice, index: int, anchor: int, days: int, why: str) -> None:
        self.invoice, self.index, self.anchor, self.days, self.why = invoice, index, anchor, days, why


def decide(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> list[PlannedAction]:
    today = local_today(now, snapshot.company.timezone)
    ladder, past, credit = _Ladder(rules), _Past(snapshot.history), available_credit(snapshot.credits)
    _, next_at = ladder.thresholds(0)
    screen = None
    if next_at is not None:
        # Grace only delays stages, so what is settled without grace stays settled with it; an
        # owner's grace override below zero could bring a stage forward: those are not screened.
        negative = frozenset(c for c, o in snapshot.overrides.items() if o.grace_days is not None and o.grace_days < 0)
        screen = Screen(past.done, next_at, _STAGE_BITS, negative | credit.keys())  # credit: settle sees every invoice
    ledger = gather(snapshot, rules, today, screen)
    run = _Run(snapshot, rules, now, today, ledger.last_applied, ladder, past, credit)
    actions: list[PlannedAction] = []
    facts, sort_key = ledger.facts, PlannedAction.sort_key
    # sort_key leads with the customer id and customers are taken in order, so sorting each
    # customer's actions alone gives the order of sorting them all, with fewer keys and compares.
    for customer_id in sorted(facts):
        found = run.customer(facts[customer_id])
        if len(found) > 1:
            found.sort(key=sort_key)
        actions.extend(found)
    return actions


class _Run:
    def __init__(self, snapshot: Snapshot, rules: Rules, now: dt.datetime, today: dt.date, last_applied: dict[str, int],
                 ladder: _Ladder, past: _Past, credit: dict[str, dict[str, Available]]) -> None:
        self.snapshot, self.rules, self.now, self.today = snapshot, rules, now, today
        self.today_ord = today.toordinal()
        self.today_iso = today.isoformat()
        self.overrides, self.on_hold = snapshot.overrides, snapshot.on_hold
        self.last_applied = last_applied
        self.ladder, self.past, self.credit = ladder, past, credit
        self._send_times: dict[str, dt.datetime | None] = {}
        self._iso: dict[int, str] = {}  # ordinal -> ISO date, for keys and notes
        self._habit: tuple[PaymentProfile, str] | None = None  # the last customer's habit phrase

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
        override = self.overrides.get(customer_id)
        if customer.deleted or (override is not None and override.excluded):
            return []
        on_hold = customer_id in self.on_hold
        if not entry.open_count and not on_hold and entry.month_end_late < self.rules.mid_month.min_occurrences:
            return []  # nothing open, nothing to release, cannot qualify for mid-month: skip the profile
        actions, mention = settle(entry, credit, self.today_ord) if (credit := self.credit.get(customer_id)) else ([], {})
        profile = classify(entry, self.rules, self.today)
        paused = override is not None and override.paused
        actions += self._account_moves(entry, profile, on_hold, paused)
        if not paused and entry.open:
            steps = self._steps(entry, profile, override)
            if steps:
                actions.extend(self._ladder_actions(customer, profile, override, steps, mention))
        return actions

    def _grace(self, profile: PaymentProfile, override: CustomerOverride | None) -> int:
        if override is not None and override.grace_days is not None:
            return override.grace_days
        grace = self.rules.grace
        if not grace.enabled or profile.classification not in grace.profile_classes:
            return 0
        return min(max(profile.median_days_late or 0, 0), grace.max_days)

    def _steps(self, entry: CustomerFacts, profile: PaymentProfile, override: CustomerOverride | None) -> list[_Step]:
        shift = self._grace(profile, override)
        thresholds, _ = self.ladder.thresholds(shift)
        post_issue, ladder = self.ladder.post_issue, self.ladder
        check_in, check_in_days = ladder.check_in, ladder.stages[0].offset_days
        today = self.today_ord
        done_get, paid_get = self.past.done.get, self.last_applied.get
        pauses = entry.pauses
        up = self.rules.pauses.broken_promise_stages_up
        steps: list[_Step] = []
        for invoice, due in zip(entry.open, entry.due):
            state = NOT_PAUSED
            if pauses:
                state = pauses.get(id(invoice), NOT_PAUSED)
                if state.active:
                    continue
            days = today - due
            invoice_id = invoice.provider_id
            code = done_get(invoice_id)
            position = bisect_right(thresholds, days) - 1
            if position >= 0:
                target = post_issue[position]
            elif check_in and today - invoice.issue_date.toordinal() >= check_in_days:
                target = 0
            else:
                target = -1
            if code is None:
                if target < 0 and state.broken_on is None:
                    continue  # nothing due yet and nothing done
                last, last_on, paid_on = -1, None, None
            else:
                last, last_on = code & _STAGE_MASK, code >> _STAGE_BITS
                paid_on = paid_get(invoice_id)
                if target <= last and (paid_on is None or paid_on <= last_on) and state.broken_on is None:
                    continue  # nothing new since the last step
            step = self._step(invoice, state, target, last, last_on, paid_on, days, due, shift, up)
            if step is not None:
                steps.append(step)
        return steps

    def _step(self, invoice: Invoice, state: PauseState, target: int, last: int, last_on: int | None,
              paid_on: int | None, days: int, due: int, shift: int, up: int) -> _Step | None:
        ladder, today = self.ladder, self.today_ord
        issue = invoice.issue_date.toordinal()
        if state.broken_on is not None and (last_on is None or last_on < state.broken_on):
            bumped = ladder.after(last, up) if up else None
            index = max(target, bumped if bumped is not None else -1)
            if index > last:
                return _Step(invoice, index, state.broken_on, days, f"{state.why}, so the reminders resume")
        if last >= 0 and paid_on is not None and last_on is not None and last_on < paid_on:
            # A part payment after the last step: the next step waits its usual gap from the payment.
            following = ladder.after(last)
            if following is None:
                return None
            gap = ladder.stage_day(following, issue, due, shift) - ladder.stage_day(last, issue, due, shift)
            anchor = paid_on + max(gap, 1)
            if today < anchor:
                return None
            why = f"a part payment on {dt.date.fromordinal(paid_on).isoformat()} restarted the clock"
            return _Step(invoice, following, anchor, days, why)
        if target <= last:
            return None
        return _Step(invoice, target, ladder.stage_day(target, issue, due, shift), days, "")

    # --- reminders, call tasks, notes, re-sends, escalation --------------------------------
    # Payloads are wrapped in MappingProxyType here, so PlannedAction keeps them without a copy.

    def _ladder_actions(self, customer: Customer, profile: PaymentProfile, override: CustomerOverride | None,
                        steps: list[_Step], mention: dict[str, str]) -> list[PlannedAction]:
        stages = self.ladder.stages
        if len(steps) > 1:
            steps.sort(key=lambda s: (-s.index, -s.days, s.invoice.provider_id))
        calls: list[_Step] = []
        emails: list[_Step] = []
        for step in steps:
            channel = stages[step.index].channel
            if channel == "call":
                calls.append(step)
            elif channel in EMAIL_CHANNELS:
                emails.append(step)
        actions: list[PlannedAction] = []
        if calls:
            actions.extend(self._call_stage(customer, profile, calls, "the ladder asks for a call at this stage"))
            if any(stages[s.index].resend_invoice for s in calls):
                actions.extend(self._resends(customer, override, [s for s in calls if stages[s.index].resend_invoice], mention))
        if not emails:
            return actions
        if override is not None and override.opted_out:
            if self.rules.opt_out.call_instead:
                actions.extend(self._call_stage(customer, profile, emails, f"{customer.name} opted out of reminder emails, so call instead"))
            return actions
        customer_id = customer.provider_id
        last_email = self.past.last_email.get(customer_id)
        if last_email is not None and self.today_ord - last_email < self.rules.frequency.min_days_between_emails:
            return actions  # the frequency cap: these invoices wait for the next allowed day
        if not self.rules.frequency.consolidate:
            emails = emails[:1]
        top = stages[emails[0].index]
        wanted = {role for s in emails for role in stages[s.index].recipients}
        roles = [role for role in CONTACT_ROLES if role in wanted]
        recipients, invalid = addresses(customer, [s.invoice for s in emails], roles)
        left_out = f"left out {quoted(invalid)}: not an email address" if invalid else ""
        if not recipients:
            missing = f"{customer.name} has no valid email address on file ({left_out})" if invalid else (
                f"{customer.name} has no email address on file")
            return actions + self._call_stage(customer, profile, emails, f"{missing}, so call instead")
        ids = tuple([s.invoice.provider_id for s in emails])
        anchor = self.iso(max([s.anchor for s in emails]))
        not_before = self._not_before(customer_id, override)
        reason = sentence(
            invoices_phrase([(s.invoice.number, s.days) for s in emails]),
            self.habit(customer, profile),
            _stage_phrase(top.name, emails),
            left_out,
        )
        actions.append(PlannedAction(
            SEND_REMINDER, customer_id, ids, top.name, recipients, reason,
            key_digest(SEND_REMINDER, customer_id, _joined(ids), top.name, anchor), not_before,
            MappingProxyType({
                "channel": top.channel, "template": top.template, "classification": profile.classification,
                "invoice_stages": {s.invoice.provider_id: stages[s.index].name for s in emails},
                "days_overdue": {s.invoice.provider_id: s.days for s in emails},
                **({"credit": mention} if mention else {}),  # credit left to mention: "less your unapplied credit"
            }),
        ))
        # The email's note is written by the executor once the email is delivered, saying when.
        if top.call_task:
            actions.append(self._call_task(customer, profile, emails, top.name, anchor, reason, advances=False))
        escalating = [s for s in emails if stages[s.index].escalate]
        if escalating:
            actions.append(self._escalation(customer, profile, escalating))
        return actions

    def _resends(self, customer: Customer, override: CustomerOverride | None, steps: list[_Step],
                 mention: dict[str, str]) -> list[PlannedAction]:
        """A call stage's one customer-facing message: the accounting system re-sends each invoice, with
        the credit the policy left for it (its send-time re-check counts only that and what is new)."""
        if override is not None and override.opted_out:
            return []
        cid, to, not_before = customer.provider_id, addresses(customer, [s.invoice for s in steps], ["billing"])[0][:1], self._not_before(customer.provider_id, override)
        return [PlannedAction(
            RESEND_INVOICE, cid, (s.invoice.provider_id,), self.ladder.stages[s.index].name, to,
            sentence(f"Invoice {s.invoice.number} is {lateness(s.days)}", "the accounting system re-sends it with the " + STAGE_WORDS[self.ladder.stages[s.index].name]),
            key_digest(RESEND_INVOICE, cid, s.invoice.provider_id, self.ladder.stages[s.index].name, self.iso(s.anchor)), not_before,
            MappingProxyType({"credit": mention}) if mention else _NO_PAYLOAD,
        ) for s in steps]

    def _call_stage(self, customer: Customer, profile: PaymentProfile, steps: list[_Step], why: str) -> list[PlannedAction]:
        """A call task that stands in for a ladder step (it advances the ladder), with its notes."""
        top = self.ladder.stages[steps[0].index].name
        anchor = self.iso(max([s.anchor for s in steps]))
        reason = sentence(invoices_phrase([(s.invoice.number, s.days) for s in steps]), self.habit(customer, profile),
                          f"{STAGE_WORDS[top]}: {why}")
        task = self._call_task(customer, profile, steps, top, anchor, reason, advances=True)
        return [task, *self._notes(customer.provider_id, steps, f"{STAGE_WORDS[top]}: call task for the owner")]

    def _call_task(self, customer: Customer, profile: PaymentProfile, steps: list[_Step], stage: str,
                   anchor: str, reason: str, *, advances: bool) -> PlannedAction:
        ids = tuple([s.invoice.provider_id for s in steps])
        points = [f"Invoice {s.invoice.number}: {s.invoice.balance} open, {lateness(s.days)}" for s in steps]
        points.append(self.habit(customer, profile) + ".")
        points.append("Ask when payment will be made and note the date as a promise to pay; offer a payment plan if needed.")
        payload: dict[str, object] = {"talking_points": points, "phone": customer.phone, "classification": profile.classification}
        if advances:
            payload["invoice_stages"] = {s.invoice.provider_id: self.ladder.stages[s.index].name for s in steps}
        return PlannedAction(
            CREATE_CALL_TASK, customer.provider_id, ids, stage, (), reason,
            key_digest(CREATE_CALL_TASK, customer.provider_id, _joined(ids), stage, anchor), None, MappingProxyType(payload),
        )

    def _notes(self, customer_id: str, steps: list[_Step], what: str) -> list[PlannedAction]:
        stages, iso = self.ladder.stages, self.iso
        said = f"arpilot: {what} on {self.today_iso} ("
        notes = []
        for step in steps:
            stage = stages[step.index].name
            invoice = step.invoice
            invoice_id = invoice.provider_id
            notes.append(PlannedAction(
                ADD_NOTE, customer_id, (invoice_id,), stage, (),
                f"Record on invoice {invoice.number} that the {STAGE_WORDS[stage]} was done.",
                key_digest(ADD_NOTE, customer_id, invoice_id, stage, iso(step.anchor)),
                None, MappingProxyType({"text": f"{said}{lateness(step.days)})."}),
            ))
        return notes

    def _escalation(self, customer: Customer, profile: PaymentProfile, steps: list[_Step]) -> PlannedAction:
        ids = tuple([s.invoice.provider_id for s in steps])
        anchor = self.iso(max([s.anchor for s in steps]))
        reason = sentence(invoices_phrase([(s.invoice.number, s.days) for s in steps]), self.habit(customer, profile),
                          "the final notice went out, so choose a next step: collection agency, attorney letter, payment plan or write-off")
        return PlannedAction(
            RECOMMEND_ESCALATION, customer.provider_id, ids, "final_notice", (), reason,
            key_digest(RECOMMEND_ESCALATION, customer.provider_id, _joined(ids), "final_notice", anchor), None,
            MappingProxyType({"options": list(ESCALATION_OPTIONS),
                              "balance": {s.invoice.provider_id: str(s.invoice.balance.amount) for s in steps}}),
        )

    def _not_before(self, customer_id: str, override: CustomerOverride | None) -> dt.datetime | None:
        schedule = self.rules.schedule
        zone = send_zone(schedule, self.snapshot.company.timezone, owner_zone=override.timezone if override else None,
                         address_zone=self.snapshot.customer_zones.get(customer_id))
        if zone not in self._send_times:
            self._send_times[zone] = next_send_time(self.now, zone, schedule)
        return self._send_times[zone]

    # --- credit hold and mid-month terms ---------------------------------------------------

    def _account_moves(self, entry: CustomerFacts, profile: PaymentProfile, on_hold: bool, paused: bool) -> list[PlannedAction]:
        customer = entry.customer
        customer_id = customer.provider_id
        actions: list[PlannedAction] = []
        hold = self.rules.credit_hold
        overdue = entry.overdue  # sums of positive balances only (gather), so every amount is > 0
        if on_hold:
            ours = self.past.hold.get(customer_id)
            if not overdue and hold.auto_release and ours is not None and ours[0]:
                actions.append(PlannedAction(
                    CREDIT_HOLD_OFF, customer_id, (), None, (),
                    sentence(f"{customer.name} has no overdue balance any more", "the credit hold arpilot placed is released"),
                    key_digest(CREDIT_HOLD_OFF, customer_id, "", None, self.iso(ours[1])),
                    None, MappingProxyType({"note": f"arpilot: credit hold released on {self.today_iso}; the overdue balance is paid."}),
                ))
        elif not paused and hold.enabled and overdue and self._hold_due(entry, profile):
            owed = " and ".join([amount_text(amount, currency) for currency, amount in sorted(overdue.items())])
            oldest = entry.oldest_overdue
            reason = sentence(
                f"{customer.name} owes {owed} past due, the oldest invoice {plural(oldest, 'day')} late",
                self.habit(customer, profile),
                "credit hold until the overdue balance is paid",
            )
            actions.append(PlannedAction(
                CREDIT_HOLD_ON, customer_id, (), None, (), reason,
                key_digest(CREDIT_HOLD_ON, customer_id, "", None, self.iso(self.today_ord - oldest)),
                None, MappingProxyType({"note": f"arpilot: credit hold placed on {self.today_iso}: {owed} past due.",
                                        "classification": profile.classification, "oldest_overdue_days": oldest}),
            ))
        mid = self.rules.mid_month
        if (mid.enabled and not paused and profile.month_end_clustered and profile.classification in mid.profile_classes
                and customer_id not in self.snapshot.mid_month and customer_id not in self.past.moved):
            reason = sentence(
                f"{customer.name} paid late {plural(profile.month_end_late_payments, 'time')} in the history window "
                "when an invoice fell due at month-end",
                self.habit(customer, profile),
                f"move them to terms due on day {mid.day_of_month} of the month",
            )
            actions.append(PlannedAction(
                SET_MID_MONTH_TERMS, customer_id, (), None, (), reason,
                key_digest(SET_MID_MONTH_TERMS, customer_id, "", None, ""),
                None, MappingProxyType({"day_of_month": mid.day_of_month}),
            ))
        return actions

    def _hold_due(self, entry: CustomerFacts, profile: PaymentProfile) -> bool:
        hold = self.rules.credit_hold
        # Every overdue amount is positive, so a zero minimum is always reached.
        if hold.min_overdue_amount > 0 and all(amount < hold.min_overdue_amount for amount in entry.overdue.values()):
            return False
        if entry.oldest_overdue >= hold.all_customers_days_overdue:
            return True
        return profile.classification in hold.profile_classes and entry.oldest_overdue >= hold.days_overdue


def _joined(invoice_ids: tuple[str, ...]) -> str:
    """Invoice ids as the key spells them: sorted and comma-joined."""
    return invoice_ids[0] if len(invoice_ids) == 1 else ",".join(sorted(invoice_ids))


def _stage_phrase(top: str, steps: list[_Step]) -> str:
    words = STAGE_WORDS[top]
    if len(steps) > 1:
        words += f", one email for {plural(len(steps), 'invoice')}"
    why = next((s.why for s in steps if s.why), "")
    return f"{words} ({why})" if why else words

