"""The organisation's collection rules: a frozen, validated model with a JSON round-trip.

Defaults encode the collections practice described in ARCHITECTURE.md (the ladder, grace for good
customers, mid-month billing, credit hold, pauses, quiet hours, frequency caps, opt-outs). Every
class checks itself when built, so a `Rules` object in hand is always valid; `Rules.from_json`
fills missing keys from the defaults, refuses unknown keys, and reports the first bad value as a
`RuleError` whose `.field` is the dotted path of the offending rule (`ladder.stages[2].offset_days`).

Percentages are whole numbers and money thresholds are Decimal text, so the JSON is exact.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

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
# A threshold beyond any small business's invoice is a typo, not a rule; no currency has more places.
MAX_AMOUNT = Decimal("1000000000")
MAX_DECIMAL_PLACES = 4
MAX_MESSAGE = 200
TIMEZONE_SOURCES: tuple[str, ...] = ("customer", "company")
LATE_FEE_KINDS: tuple[str, ...] = ("fixed", "monthly_rate")
MAX_RATE_PCT = Decimal("10")  # a month's interest above this is usury in most places, or a typo
SENDER_CHECK_ADDRESS = "sender@arpilot.invalid"  # stands in for the sending address when a From name is checked


class RuleError(ValueError):
    """An invalid rule. `.field` is the dotted path of the rule, and the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        # Messages quote the bad value; a megabyte pasted into a form must not come back as one.
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message

    def under(self, prefix: str) -> RuleError:
        return RuleError(_join(prefix, self.field), self.detail)


def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise RuleError(name, f"must be from {low} to {high}, got {value}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise RuleError(name, f"must be one of {', '.join(choices)}, got {value!r}")


def _check_choices(name: str, values: tuple[str, ...], choices: tuple[str, ...]) -> None:
    for index, value in enumerate(values):
        _check_choice(f"{name}[{index}]", value, choices)
    if len(set(values)) != len(values):
        raise RuleError(name, "must not name the same value twice")


def _check_amount(name: str, amount: Decimal, high: Decimal = MAX_AMOUNT) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or not 0 <= amount <= high:
        raise RuleError(name, f"must be an amount from 0 to {high}, got {amount}")
    if amount.as_tuple().exponent < -MAX_DECIMAL_PLACES:  # type: ignore[operator]
        raise RuleError(name, f"must have at most {MAX_DECIMAL_PLACES} decimal places, got {amount}")


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

    def __post_init__(self) -> None:
        _check_choice("name", self.name, STAGES)
        if not self.template:
            object.__setattr__(self, "template", self.name)
        _check_choice("template", self.template, KNOWN_TEMPLATES)
        _check_choice("channel", self.channel, CHANNELS)
        if not self.recipients:
            raise RuleError("recipients", "must name at least the billing contact")
        _check_choices("recipients", self.recipients, CONTACT_ROLES)
        if self.recipients[0] != "billing":
            raise RuleError("recipients[0]", "the billing contact must come first")
        _check_range("offset_days", self.offset_days, *offset_range(self.name))
        if self.resend_invoice and self.channel != "call":
            # One message per customer per stage: arpilot's email or the accounting system's own
            # send of the invoice (channel accounting_system_email), never both on the same day.
            raise RuleError(
                "resend_invoice",
                "a stage sends the customer one message: choose arpilot's email or the "
                "accounting system's own send as its channel, not both (re-send only goes with a call)",
            )

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
        for index in range(2, len(self.stages)):
            before, stage = self.stages[index - 1], self.stages[index]
            if stage.offset_days <= before.offset_days:
                raise RuleError(
                    f"stages[{index}].offset_days",
                    f"{stage.name} must come after {before.name} ({before.offset_days} days), got {stage.offset_days}",
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
    # days away (integration.policy.prediction); 0 turns the wait off.
    habit_wait_days: int = 21

    def __post_init__(self) -> None:
        _check_choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
        _check_range("max_days", self.max_days, 0, 60)
        _check_range("habit_wait_days", self.habit_wait_days, 0, 45)


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
        _check_range("day_of_month", self.day_of_month, 1, 28)
        _check_choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
        _check_range("month_end_days", self.month_end_days, 1, 15)
        _check_range("min_occurrences", self.min_occurrences, 1, 50)
        _check_range("min_share_pct", self.min_share_pct, 0, 100)


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
        _check_range("days_overdue", self.days_overdue, 1, 365)
        _check_choices("profile_classes", self.profile_classes, PROFILE_CLASSES)
        _check_range("all_customers_days_overdue", self.all_customers_days_overdue, self.days_overdue, 730)
        _check_amount("min_overdue_amount", self.min_overdue_amount)


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
        _check_range("promise_grace_days", self.promise_grace_days, 0, 30)
        _check_range("broken_promise_stages_up", self.broken_promise_stages_up, 0, 3)
        _check_range("max_days_ahead", self.max_days_ahead, 1, 1095)
        _check_range("reply_pause_days", self.reply_pause_days, 0, 90)

    def latest_date(self, today: dt.date) -> dt.date:
        """The last day a promise or an instalment may fall on."""
        return today + dt.timedelta(days=self.max_days_ahead)


@dataclass(frozen=True)
class Schedule:
    """When anything may be sent: local hours [send_from_hour, send_until_hour) on business days."""

    send_from_hour: int = 8
    send_until_hour: int = 18
    business_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1
    timezone_source: str = "customer"  # the customer's zone when known, else the company's
    holidays: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        _check_range("send_from_hour", self.send_from_hour, 0, 23)
        _check_range("send_until_hour", self.send_until_hour, self.send_from_hour + 1, 24)
        if not self.business_days:
            raise RuleError("business_days", "must name at least one weekday")
        for index, day in enumerate(self.business_days):
            _check_range(f"business_days[{index}]", day, 1, 7)
        if len(set(self.business_days)) != len(self.business_days):
            raise RuleError("business_days", "must not name the same weekday twice")
        _check_choice("timezone_source", self.timezone_source, TIMEZONE_SOURCES)


@dataclass(frozen=True)
class Frequency:
    """At most one reminder email per customer per `min_days_between_emails`."""

    min_days_between_emails: int = 5
    consolidate: bool = True  # several due invoices of one customer go out in one email

    def __post_init__(self) -> None:
        _check_range("min_days_between_emails", self.min_days_between_emails, 1, 60)


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
        _check_range("history_days", self.history_days, 30, 1830)
        _check_range("min_paid_invoices", self.min_paid_invoices, 1, 100)
        _check_range("on_time_tolerance_days", self.on_time_tolerance_days, 0, 30)
        _check_range("unresponsive_overdue_days", self.unresponsive_overdue_days, 1, 365)
        _check_range("unresponsive_silence_days", self.unresponsive_silence_days, 1, 365)
        _check_range("reliable_min_on_time_pct", self.reliable_min_on_time_pct, 0, 100)
        _check_range("reliable_max_p80_days_late", self.reliable_max_p80_days_late, 0, 365)
        _check_range("good_max_median_days_late", self.good_max_median_days_late, 0, 365)
        _check_range("good_min_on_time_pct", self.good_min_on_time_pct, 0, 100)
        _check_range("slipping_overdue_days", self.slipping_overdue_days, 1, 365)
        _check_range("slow_max_p80_days_late", self.slow_max_p80_days_late, 0, 365)


@dataclass(frozen=True)
class Sender:
    """Who reminders come from. An empty from_name means the company's name."""

    from_name: str = ""
    reply_to: str | None = None
    signature: str = ""

    def __post_init__(self) -> None:
        if len(self.from_name) > 100:
            raise RuleError("from_name", "must be one line of at most 100 characters")
        # The checks every reminder's sender applies (reminders.delivery.Address): what passes
        # here can always be sent, what fails would fail every reminder.
        try:
            Address(SENDER_CHECK_ADDRESS, self.from_name or None)
        except InvalidMessage:
            raise RuleError("from_name", "must be one line (no line breaks)") from None
        if self.reply_to is not None:
            try:
                Address(self.reply_to)
            except InvalidMessage:
                raise RuleError(
                    "reply_to", f"must be an email address, one address only, got {self.reply_to!r}"
                ) from None
        if len(self.signature) > 2000:
            raise RuleError("signature", "must be at most 2000 characters")


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
        _check_choice("kind", self.kind, LATE_FEE_KINDS)
        _check_amount("amount", self.amount)
        _check_amount("rate_pct", self.rate_pct, MAX_RATE_PCT)
        _check_range("grace_days", self.grace_days, 0, 365)
        _check_amount("cap", self.cap)
        _check_range("min_days_between", self.min_days_between, 28, 365)
        if self.enabled and (self.amount if self.kind == "fixed" else self.rate_pct) == 0:
            raise RuleError("amount" if self.kind == "fixed" else "rate_pct", "must be more than 0 to charge a fee")
        if not 1 <= len(self.quickbooks_item.strip()) <= 100:
            raise RuleError("quickbooks_item", "must name the QuickBooks item for late fees (1 to 100 characters)")
        if len(self.xero_account_code) > 10 or (self.xero_account_code and not self.xero_account_code.isalnum()):
            raise RuleError(
                "xero_account_code",
                f"must be a Xero account code of letters and digits, got {self.xero_account_code!r}",
            )


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

    def __post_init__(self) -> None:
        _check_choice("mode", self.mode, MODES)

    @classmethod
    def default(cls) -> Rules:
        return cls()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rules:
        return _build(cls, data, "", cls())

    def to_json(self) -> dict[str, Any]:
        dumped: dict[str, Any] = _dump(self)
        return dumped


# --- the JSON mapping, driven by the dataclass fields -------------------------------------------

T = TypeVar("T")


def _build(cls: type[T], data: Any, path: str, default: T) -> T:
    if not isinstance(data, Mapping):
        raise RuleError(path or "rules", "must be a JSON object")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            # A key that is empty or blank would name no field at all: quote it.
            raise RuleError(_join(path, str(key) if str(key).strip() else repr(key)), "is not a known rule")
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _value(hints[f.name], data[f.name], _join(path, f.name), getattr(default, f.name))
        if f.name in data
        else getattr(default, f.name)
        for f in fields(cls)  # type: ignore[arg-type]
    }
    try:
        return cls(**values)
    except RuleError as exc:
        raise exc.under(path) from None


def _value(kind: Any, raw: Any, path: str, default: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        if not isinstance(raw, list):
            raise RuleError(path, "must be a list")
        item = args[0]
        if isinstance(item, type) and is_dataclass(item):
            # Stages: each entry fills its gaps from the default stage at the same position.
            if len(raw) != len(default):
                raise RuleError(path, f"must list exactly {len(default)} entries, got {len(raw)}")
            return tuple(_build(item, entry, f"{path}[{i}]", default[i]) for i, entry in enumerate(raw))
        return tuple(_value(item, entry, f"{path}[{i}]", None) for i, entry in enumerate(raw))
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, raw, path, default)
    if is_dataclass(kind):
        return _build(kind, raw, path, default)  # type: ignore[arg-type]
    if kind is bool:
        if not isinstance(raw, bool):
            raise RuleError(path, f"must be true or false, got {raw!r}")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise RuleError(path, f"must be a whole number, got {raw!r}")
        return raw
    if kind is str:
        if not isinstance(raw, str):
            raise RuleError(path, f"must be text, got {raw!r}")
        return raw
    if kind is Decimal:
        if isinstance(raw, (bool, float)) or not isinstance(raw, (str, int)):
            raise RuleError(path, f'must be a decimal amount as text such as "500.00", got {raw!r}')
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            raise RuleError(path, f"must be a decimal amount, got {raw!r}") from None
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise RuleError(path, f"must be a date like 2026-12-25, got {raw!r}") from None
    raise TypeError(f"no JSON mapping for {kind!r}")  # a programming error, not bad input


def _dump(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _dump(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
