"""The organisation's collection rules: a frozen, validated model with a JSON round-trip.

Defaults encode the collections practice described in ARCHITECTURE.md (the ladder, grace for good
customers, mid-month billing, credit hold, pauses, quiet hours, frequency caps, opt-outs). Every
class checks itself when built (integration.policy.rule_errors), so a `Rules` object in hand is always
valid; `Rules.from_json` fills missing keys from the defaults, refuses unknown keys, and reports every
bad value it finds (integration.policy.rules_json). A ladder stage set before the one it follows is an
`OutOfOrder`, naming both.

Percentages are whole numbers and money thresholds are Decimal text, so the JSON is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from integration.policy.rule_errors import RuleError, checking
from integration.policy.rules_json import as_json, built
from reminders.delivery.message import Address, InvalidMessage

# The ladder, in order. Each stage's name is also the name of its email template.
STAGES: tuple[str, ...] = (
    "check_in",
    "courtesy",
    "reminder_1",
    "reminder_2",
    "past_due_30",
    "past_due_60",
    "final_notice",
)
KNOWN_TEMPLATES: tuple[str, ...] = STAGES
CHANNELS: tuple[str, ...] = ("email", "accounting_system_email", "call")
CONTACT_ROLES: tuple[str, ...] = ("billing", "accounts_payable", "owner")
PROFILE_CLASSES: tuple[str, ...] = (
    "reliable",
    "good_but_slipping",
    "slow_but_steady",
    "habitually_late",
    "unresponsive",
    "new",
)
MODES: tuple[str, ...] = ("observe", "live")
TIMEZONE_SOURCES: tuple[str, ...] = ("customer", "company")
LATE_FEE_KINDS: tuple[str, ...] = ("fixed", "monthly_rate")
MAX_RATE_PCT = Decimal("10")  # a month's interest above this is usury in most places, or a typo
SENDER_CHECK_ADDRESS = "sender@arpilot.invalid"  # stands in for the sending address when a From name is checked


class OutOfOrder(RuleError):
    """A stage of the ladder set no later than the stage before it."""

    def __init__(self, field: str, stage: str, before: str, before_days: int, value: int) -> None:
        super().__init__(field, f"{stage} must come after {before} ({before_days} days), got {value}")
        self.stage, self.before, self.before_days, self.value = stage, before, before_days, value

    @property
    def concerns(self) -> tuple[str, ...]:
        before = self.field.replace(f"[{STAGES.index(self.stage)}]", f"[{STAGES.index(self.before)}]")
        return (self.field, before)


def offset_range(stage: str) -> tuple[int, int]:
    """The days a stage may be set at: after the issue date (check-in), before the due date
    (courtesy, so zero or less) or after it (the rest)."""
    if stage == "check_in":
        return 0, 60
    if stage == "courtesy":
        return -60, 0
    return 1, 365


@dataclass(frozen=True)
class Stage:
    """One rung of the ladder. `offset_days` counts from the due date (negative: before it),
    except for check_in, which counts from the issue date."""

    name: str
    offset_days: int
    channel: str = "email"
    template: str = ""  # empty means the stage's own template
    recipients: tuple[str, ...] = ("billing",)
    enabled: bool = True
    call_task: bool = False  # also ask the owner to phone
    resend_invoice: bool = False  # call stages only: the accounting system re-sends the invoice as the owner phones
    escalate: bool = False  # also recommend agency, attorney letter, payment plan or write-off
    letter: bool = False  # also a printable letter of the email, for the owner to post

    def __post_init__(self) -> None:
        if self.name not in STAGES:  # the other checks depend on which stage this is
            raise RuleError("name", f"must be one of {', '.join(STAGES)}, got {self.name!r}")
        if not self.template:
            object.__setattr__(self, "template", self.name)
        with checking() as check:
            check.choice("template", self.template, KNOWN_TEMPLATES)
            check.choice("channel", self.channel, CHANNELS)
            if not self.recipients:
                check.add(RuleError("recipients", "must name at least the billing contact"))
            else:
                check.choices("recipients", self.recipients, CONTACT_ROLES)
                if self.recipients[0] != "billing":
                    check.add(RuleError("recipients[0]", "the billing contact must come first"))
            check.range("offset_days", self.offset_days, *offset_range(self.name))
            if self.resend_invoice and self.channel != "call":
                # One message per customer per stage: arpilot's email or the accounting system's own
                # send of the invoice (channel accounting_system_email), never both on the same day.
                check.add(
                    RuleError(
                        "resend_invoice",
                        "a stage sends the customer one message: choose arpilot's email or the "
                        "accounting system's own send as its channel, not both (re-send only goes with a call)",
                    )
                )

    @property
    def by_email(self) -> bool:
        """The customer hears by email (arpilot's or the accounting system's), not by the owner's call."""
        return self.channel != "call"

    @property
    def anchored_on_issue(self) -> bool:
        return self.name == "check_in"


_DEFAULT_STAGES = (
    Stage("check_in", 3),
    Stage("courtesy", -3),
    Stage("reminder_1", 1),
    Stage("reminder_2", 14, call_task=True),
    Stage("past_due_30", 30, recipients=("billing", "accounts_payable"), call_task=True),
    Stage("past_due_60", 60, recipients=("billing", "accounts_payable", "owner"), call_task=True),
    Stage("final_notice", 90, recipients=("billing", "accounts_payable", "owner"), call_task=True, escalate=True),
)


@dataclass(frozen=True)
class Ladder:
    stages: tuple[Stage, ...] = _DEFAULT_STAGES

    def __post_init__(self) -> None:
        if len(self.stages) != len(STAGES):
            raise RuleError("stages", f"must list the {len(STAGES)} stages {', '.join(STAGES)}")
        for index, (stage, name) in enumerate(zip(self.stages, STAGES, strict=True)):
            if stage.name != name:
                raise RuleError(
                    f"stages[{index}].name", f"must be {name!r} (stages in ladder order), got {stage.name!r}"
                )
        # From courtesy on, every stage counts from the due date and must come after the previous one.
        with checking() as check:
            for index in range(2, len(self.stages)):
                before, stage = self.stages[index - 1], self.stages[index]
                if stage.offset_days <= before.offset_days:
                    check.add(
                        OutOfOrder(
                            f"stages[{index}].offset_days",
                            stage.name,
                            before.name,
                            before.offset_days,
                            stage.offset_days,
                        )
                    )

    def stage(self, name: str) -> Stage:
        return self.stages[STAGES.index(name)]


@dataclass(frozen=True)
class Grace:
    """A good customer's ladder starts from their usual days-to-pay after the due date, capped."""

    enabled: bool = True
    profile_classes: tuple[str, ...] = ("reliable", "good_but_slipping")
    max_days: int = 10
    # An overdue reminder waits while the customer's own history says payment is at most this many
    # days away (integration.policy.prediction); a customer whose payments spread too widely for the
    # wait hears the next step before their window for paying opens. 0 turns both off.
    habit_wait_days: int = 21

    def __post_init__(self) -> None:
        with checking() as check:
            check.choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
            check.range("max_days", self.max_days, 0, 60)
            check.range("habit_wait_days", self.habit_wait_days, 0, 45)


@dataclass(frozen=True)
class MidMonth:
    """Move good customers whose late payments cluster at month-end onto terms due mid-month."""

    enabled: bool = True
    day_of_month: int = 15
    profile_classes: tuple[str, ...] = ("reliable", "good_but_slipping")
    month_end_days: int = 10  # a due date in the last N days of its month counts as month-end
    min_occurrences: int = 3  # late month-end payments needed in the history window
    min_share_pct: int = 60  # share of all late payments that fell at month-end

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("day_of_month", self.day_of_month, 1, 28)
            check.choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
            check.range("month_end_days", self.month_end_days, 1, 15)
            check.range("min_occurrences", self.min_occurrences, 1, 50)
            check.range("min_share_pct", self.min_share_pct, 0, 100)


@dataclass(frozen=True)
class CreditHold:
    """Hold customers of the named classes once an invoice is `days_overdue` late, everyone at
    `all_customers_days_overdue`, and only when the overdue balance reaches `min_overdue_amount`."""

    enabled: bool = True
    days_overdue: int = 60
    profile_classes: tuple[str, ...] = ("slow_but_steady", "habitually_late", "unresponsive", "new")
    all_customers_days_overdue: int = 90
    min_overdue_amount: Decimal = Decimal("0")
    auto_release: bool = True

    def __post_init__(self) -> None:
        with checking() as check:
            days_ok = check.range("days_overdue", self.days_overdue, 1, 365)
            check.choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
            # Everyone is held no earlier than the named classes; against a bad first value, its own range.
            everyone_from = self.days_overdue if days_ok else 1
            check.range("all_customers_days_overdue", self.all_customers_days_overdue, everyone_from, 730)
            check.amount("min_overdue_amount", self.min_overdue_amount)


@dataclass(frozen=True)
class Pauses:
    """Disputes, promises to pay and payment plans stop the ladder for that invoice."""

    dispute: bool = True
    promise_to_pay: bool = True
    payment_plan: bool = True
    promise_grace_days: int = 2  # a promise is broken this many days after its date
    broken_promise_stages_up: int = 1
    # How far ahead a promise or an instalment may lie: one on 9999-12-31 would pause the invoice,
    # and lift a credit hold, forever.
    max_days_ahead: int = 365
    reply_pause_days: int = 7  # a customer's reply pauses their reminders this long (0: not at all)

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("promise_grace_days", self.promise_grace_days, 0, 30)
            check.range("broken_promise_stages_up", self.broken_promise_stages_up, 0, 3)
            check.range("max_days_ahead", self.max_days_ahead, 1, 1095)
            check.range("reply_pause_days", self.reply_pause_days, 0, 90)

    def latest_date(self, today: dt.date) -> dt.date:
        """The last day a promise or an instalment may fall on."""
        return today + dt.timedelta(days=self.max_days_ahead)


@dataclass(frozen=True)
class Plans:
    """Account plans: instalments over several invoices of one customer. A customer may propose one on
    their page within these limits (0 instalments: they cannot); the owner's own plans are not limited."""

    reminder_days_before: int = 3  # a gentle reminder this many days before each instalment (0: none)
    customer_max_instalments: int = 3
    first_payment_within_days: int = 14  # a customer's first instalment falls within this many days

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("reminder_days_before", self.reminder_days_before, 0, 30)
            check.range("customer_max_instalments", self.customer_max_instalments, 0, 24)
            check.range("first_payment_within_days", self.first_payment_within_days, 1, 365)


@dataclass(frozen=True)
class Schedule:
    """When anything may be sent: local hours [send_from_hour, send_until_hour) on business days."""

    send_from_hour: int = 8
    send_until_hour: int = 18
    business_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1
    timezone_source: str = "customer"  # the customer's zone when known, else the company's
    holidays: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        with checking() as check:
            from_ok = check.range("send_from_hour", self.send_from_hour, 0, 23)
            # Sending stops after it starts; against a bad start, the day's own range.
            check.range("send_until_hour", self.send_until_hour, self.send_from_hour + 1 if from_ok else 1, 24)
            if not self.business_days:
                check.add(RuleError("business_days", "must name at least one weekday"))
            for index, day in enumerate(self.business_days):
                check.range(f"business_days[{index}]", day, 1, 7)
            if len(set(self.business_days)) != len(self.business_days):
                check.add(RuleError("business_days", "must not name the same weekday twice"))
            check.choice("timezone_source", self.timezone_source, TIMEZONE_SOURCES)


@dataclass(frozen=True)
class Frequency:
    """At most one reminder email per customer per `min_days_between_emails`."""

    min_days_between_emails: int = 5
    consolidate: bool = True  # several due invoices of one customer go out in one email

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("min_days_between_emails", self.min_days_between_emails, 1, 60)


@dataclass(frozen=True)
class OptOut:
    """A customer who opted out of reminder emails gets none; the owner may get a call task instead."""

    call_instead: bool = True


@dataclass(frozen=True)
class Profiles:
    """Thresholds of the customer classification (first match wins, in this order):
    unresponsive (an invoice `unresponsive_overdue_days` late and no payment for
    `unresponsive_silence_days` or fewer than `min_paid_invoices` paid), then
    new, reliable, good_but_slipping, slow_but_steady, habitually_late."""

    history_days: int = 365
    min_paid_invoices: int = 3  # fewer paid invoices in the window: "new"
    on_time_tolerance_days: int = 3  # paid this many days after due still counts as on time
    unresponsive_overdue_days: int = 60  # an invoice this late ...
    unresponsive_silence_days: int = 60  # ... and no payment for this long
    reliable_min_on_time_pct: int = 85
    reliable_max_p80_days_late: int = 5
    good_max_median_days_late: int = 5
    good_min_on_time_pct: int = 50
    slipping_overdue_days: int = 30  # a reliable customer with an invoice this late is slipping
    slow_max_p80_days_late: int = 30

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("history_days", self.history_days, 30, 1830)
            check.range("min_paid_invoices", self.min_paid_invoices, 1, 100)
            check.range("on_time_tolerance_days", self.on_time_tolerance_days, 0, 30)
            check.range("unresponsive_overdue_days", self.unresponsive_overdue_days, 1, 365)
            check.range("unresponsive_silence_days", self.unresponsive_silence_days, 1, 365)
            check.range("reliable_min_on_time_pct", self.reliable_min_on_time_pct, 0, 100)
            check.range("reliable_max_p80_days_late", self.reliable_max_p80_days_late, 0, 365)
            check.range("good_max_median_days_late", self.good_max_median_days_late, 0, 365)
            check.range("good_min_on_time_pct", self.good_min_on_time_pct, 0, 100)
            check.range("slipping_overdue_days", self.slipping_overdue_days, 1, 365)
            check.range("slow_max_p80_days_late", self.slow_max_p80_days_late, 0, 365)


@dataclass(frozen=True)
class Sender:
    """Who reminders come from. An empty from_name means the company's name."""

    from_name: str = ""
    reply_to: str | None = None
    signature: str = ""

    def __post_init__(self) -> None:
        with checking() as check:
            if len(self.from_name) > 100:
                check.add(RuleError("from_name", "must be one line of at most 100 characters"))
            else:
                # The checks every reminder's sender applies (reminders.delivery.Address): what passes
                # here can always be sent, what fails would fail every reminder.
                try:
                    Address(SENDER_CHECK_ADDRESS, self.from_name or None)
                except InvalidMessage:
                    check.add(RuleError("from_name", "must be one line (no line breaks)"))
            if self.reply_to is not None:
                try:
                    Address(self.reply_to)
                except InvalidMessage:
                    check.add(
                        RuleError("reply_to", f"must be an email address, one address only, got {self.reply_to!r}")
                    )
            if len(self.signature) > 2000:
                check.add(RuleError("signature", "must be at most 2000 characters"))


@dataclass(frozen=True)
class Approval:
    """Steps that threaten or restrict wait in the owner's Approve list (True: ask me first;
    False: go ahead). A final notice approved by the owner carries the referral date they chose."""

    final_notice: bool = True
    credit_hold: bool = True
    escalation: bool = True


@dataclass(frozen=True)
class LateFees:
    """A fee on invoices overdue beyond `grace_days`: a fixed amount once per invoice, or a monthly
    rate (percent of the open balance) at most once per `min_days_between`; the fees on one invoice
    never add up to more than `cap` (0: no cap). Amounts are in the invoice's own currency."""

    enabled: bool = False
    kind: str = "fixed"
    amount: Decimal = Decimal("25.00")  # kind fixed
    rate_pct: Decimal = Decimal("1.5")  # kind monthly_rate
    grace_days: int = 15
    cap: Decimal = Decimal("0")
    min_days_between: int = 30  # kind monthly_rate
    quickbooks_item: str = "Late fee"  # the Service item's name or id
    xero_account_code: str = ""
    approve_first: bool = True

    def __post_init__(self) -> None:
        with checking() as check:
            check.choice("kind", self.kind, LATE_FEE_KINDS)
            check.amount("amount", self.amount)
            check.amount("rate_pct", self.rate_pct, MAX_RATE_PCT)
            check.range("grace_days", self.grace_days, 0, 365)
            check.amount("cap", self.cap)
            check.range("min_days_between", self.min_days_between, 28, 365)
            if self.enabled and (self.amount if self.kind == "fixed" else self.rate_pct) == 0:
                check.add(
                    RuleError("amount" if self.kind == "fixed" else "rate_pct", "must be more than 0 to charge a fee")
                )
            if not 1 <= len(self.quickbooks_item.strip()) <= 100:
                check.add(
                    RuleError("quickbooks_item", "must name the QuickBooks item for late fees (1 to 100 characters)")
                )
            if len(self.xero_account_code) > 10 or (self.xero_account_code and not self.xero_account_code.isalnum()):
                check.add(
                    RuleError(
                        "xero_account_code",
                        f"must be a Xero account code of letters and digits, got {self.xero_account_code!r}",
                    )
                )


@dataclass(frozen=True)
class Statements:
    """A monthly statement of account, with its PDF, to every customer who owes something, on
    `day_of_month` (a day the month lacks means its last day); it lists the payments and credits of
    the last `recent_days`."""

    enabled: bool = False
    day_of_month: int = 1
    recent_days: int = 30

    def __post_init__(self) -> None:
        with checking() as check:
            check.range("day_of_month", self.day_of_month, 1, 31)
            check.range("recent_days", self.recent_days, 7, 90)


@dataclass(frozen=True)
class Rules:
    mode: str = "observe"  # observe: plan and show, never act; live: act
    ladder: Ladder = field(default_factory=Ladder)
    grace: Grace = field(default_factory=Grace)
    mid_month: MidMonth = field(default_factory=MidMonth)
    credit_hold: CreditHold = field(default_factory=CreditHold)
    pauses: Pauses = field(default_factory=Pauses)
    schedule: Schedule = field(default_factory=Schedule)
    frequency: Frequency = field(default_factory=Frequency)
    opt_out: OptOut = field(default_factory=OptOut)
    profiles: Profiles = field(default_factory=Profiles)
    sender: Sender = field(default_factory=Sender)
    approval: Approval = field(default_factory=Approval)
    late_fees: LateFees = field(default_factory=LateFees)
    statements: Statements = field(default_factory=Statements)
    plans: Plans = field(default_factory=Plans)

    def __post_init__(self) -> None:
        with checking() as check:
            check.choice("mode", self.mode, MODES)

    @classmethod
    def default(cls) -> Rules:
        return cls()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rules:
        return built(cls, data, cls())

    def to_json(self) -> dict[str, Any]:
        dumped: dict[str, Any] = as_json(self)
        return dumped
