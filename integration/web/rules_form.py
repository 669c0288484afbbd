"""The settings form: the collection rules as the owner sees them, grouped the way an owner thinks.

Pure translation, no I/O. Each input is named by the dotted path of its rule
(`ladder.stages[2].offset_days`), so a `RuleError`, which names that path, lands beside the input
it concerns. `form_values(rules)` fills the form from saved rules; `parse_form(form, mode)` turns
what the owner typed back into rules, or into error messages by input with the typed values kept
as they were, so a bad submit loses nothing.

Two inputs are shown differently from how the rules store them: the courtesy stage is set in days
*before* the due date (stored as a negative offset), and the email channel is one choice for every
email stage, while each stage only says whether it emails or asks for a call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from integration.policy.rules import (
    CONTACT_ROLES,
    KNOWN_TEMPLATES,
    PROFILE_CLASSES,
    STAGES,
    RuleError,
    Rules,
    Sender,
    Stage,
    offset_range,
)

EMAIL_CHANNEL = "email_channel"  # the one input that is not a rule of its own
OBSERVE = "observe"  # the observe-mode checkbox

STAGE_TITLES = {
    "check_in": "Check-in",
    "courtesy": "Courtesy heads-up",
    "reminder_1": "Reminder 1",
    "reminder_2": "Reminder 2",
    "past_due_30": "Past due 30",
    "past_due_60": "Past due 60",
    "final_notice": "Final notice",
}
CLASS_TITLES = {
    "reliable": "Reliable payers",
    "good_but_slipping": "Good customers who are slipping",
    "slow_but_steady": "Slow but steady payers",
    "habitually_late": "Habitually late payers",
    "unresponsive": "Unresponsive customers",
    "new": "New customers (little history)",
}
ROLE_TITLES = {
    "billing": "Billing contact",
    "accounts_payable": "Accounts payable contact",
    "owner": "Customer's owner",
}
WEEKDAYS = (
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
)
EMAIL_CHANNEL_CHOICES = (
    ("email", "arpilot's email (SendGrid)"),
    ("accounting_system_email", "The accounting system's own invoice email"),
)
_CLASSES = tuple((name, CLASS_TITLES[name]) for name in PROFILE_CLASSES)


class FormData(Protocol):
    """What a submitted form offers (werkzeug's MultiDict)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...
    def __contains__(self, key: object) -> bool: ...


@dataclass(frozen=True)
class Field:
    """One input. `kind` says how it is drawn and read: number, check (one checkbox), choice (a
    select), choices (checkboxes), text, lines (a textarea), dates (a textarea, a date a line),
    email, amount, days_before (a negative offset shown as days before), channel (a stage's
    select between email, by the form's one email channel, and a call)."""

    path: str
    label: str
    kind: str
    hint: str = ""
    choices: tuple[tuple[Any, str], ...] = ()
    low: int | None = None
    high: int | None = None

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", self.path).strip("-")


@dataclass(frozen=True)
class Group:
    """A fieldset: the stage of the ladder it sets (for its preview), or none."""

    legend: str
    fields: tuple[Field, ...]
    stage: str | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    groups: tuple[Group, ...]


def _stage_group(index: int, name: str) -> Group:
    path = f"ladder.stages[{index}]"
    low, high = offset_range(name)
    if name == "check_in":
        timing = Field(f"{path}.offset_days", "Days after invoice date", "number", low=low, high=high)
    elif name == "courtesy":
        timing = Field(f"{path}.offset_days", "Days before due", "days_before", low=-high, high=-low)
    else:
        timing = Field(f"{path}.offset_days", "Days after due", "number", low=low, high=high)
    return Group(
        STAGE_TITLES[name],
        (
            Field(f"{path}.enabled", "Send this stage", "check"),
            timing,
            Field(
                f"{path}.channel",
                "How",
                "channel",
                choices=(("email", "Email the customer"), ("call", "Phone call task for you instead")),
            ),
            Field(
                f"{path}.template",
                "Email wording",
                "choice",
                "Which stage's words the email uses.",
                choices=tuple((t, STAGE_TITLES[t]) for t in KNOWN_TEMPLATES),
            ),
            Field(
                f"{path}.recipients",
                "Also email",
                "choices",
                "The billing contact always gets it.",
                choices=tuple((role, ROLE_TITLES[role]) for role in CONTACT_ROLES[1:]),
            ),
            Field(f"{path}.call_task", "Also ask me to phone", "check"),
            Field(
                f"{path}.resend_invoice", "Re-send the invoice from the accounting system (with a call only)", "check"
            ),
            Field(
                f"{path}.escalate",
                "Also suggest next steps (agency, attorney letter, payment plan, write-off)",
                "check",
            ),
        ),
        stage=name,
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        "timeline",
        "Reminder timeline",
        "The ladder every overdue invoice climbs, one step at a time. Each step happens once per invoice.",
        tuple(_stage_group(i, name) for i, name in enumerate(STAGES)),
    ),
    Section(
        "grace",
        "Good-customer grace",
        "A good customer who slips once is reminded from their usual payment day, not the due date.",
        (
            Group(
                "",
                (
                    Field("grace.enabled", "Give good customers grace", "check"),
                    Field("grace.profile_classes", "Who counts as a good customer", "choices", choices=_CLASSES),
                    Field("grace.max_days", "Most days of grace", "number", low=0, high=60),
                    Field(
                        "grace.habit_wait_days",
                        "Wait for a customer's usual payment day, up to this many days (0: never wait)",
                        "number",
                        low=0,
                        high=45,
                    ),
                ),
            ),
        ),
    ),
    Section(
        "mid_month",
        "Mid-month billing",
        "Good customers who keep paying late when invoices fall due at month-end move to terms due mid-month.",
        (
            Group(
                "",
                (
                    Field("mid_month.enabled", "Move month-end late payers to mid-month terms", "check"),
                    Field("mid_month.day_of_month", "Due day of the month", "number", low=1, high=28),
                    Field("mid_month.profile_classes", "Customers who may be moved", "choices", choices=_CLASSES),
                    Field(
                        "mid_month.month_end_days",
                        "Month-end means the last days",
                        "number",
                        "A due date in this many last days of its month counts as month-end.",
                        low=1,
                        high=15,
                    ),
                    Field("mid_month.min_occurrences", "Late month-end payments needed", "number", low=1, high=50),
                    Field(
                        "mid_month.min_share_pct", "Share of late payments at month-end (%)", "number", low=0, high=100
                    ),
                ),
            ),
        ),
    ),
    Section(
        "credit_hold",
        "Credit hold",
        "No new credit for customers past these limits, released automatically when the balance clears.",
        (
            Group(
                "",
                (
                    Field("credit_hold.enabled", "Put customers on credit hold", "check"),
                    Field(
                        "credit_hold.days_overdue", "Hold these customers after days overdue", "number", low=1, high=365
                    ),
                    Field("credit_hold.profile_classes", "Customers held at that point", "choices", choices=_CLASSES),
                    Field(
                        "credit_hold.all_customers_days_overdue",
                        "Hold every customer after days overdue",
                        "number",
                        low=1,
                        high=730,
                    ),
                    Field(
                        "credit_hold.min_overdue_amount",
                        "Only when the overdue balance reaches",
                        "amount",
                        "An amount such as 500.00; 0 holds at any amount.",
                    ),
                    Field("credit_hold.auto_release", "Release the hold when the overdue balance is paid", "check"),
                ),
            ),
        ),
    ),
    Section(
        "pauses",
        "Disputes, promises and payment plans",
        "What stops the reminders for one invoice. Set them per invoice under Customers and invoices.",
        (
            Group(
                "",
                (
                    Field("pauses.dispute", "A dispute pauses reminders", "check"),
                    Field("pauses.promise_to_pay", "A promise to pay pauses reminders", "check"),
                    Field("pauses.payment_plan", "A payment plan pauses reminders", "check"),
                    Field("pauses.promise_grace_days", "Days of slack after a promised date", "number", low=0, high=30),
                    Field(
                        "pauses.broken_promise_stages_up",
                        "Stages to move up after a broken promise",
                        "number",
                        low=0,
                        high=3,
                    ),
                    Field(
                        "pauses.max_days_ahead",
                        "Latest promise or instalment, days ahead",
                        "number",
                        "A promised date or an instalment further ahead is refused.",
                        low=1,
                        high=1095,
                    ),
                    Field(
                        "pauses.reply_pause_days",
                        "Days a customer's reply pauses their reminders",
                        "number",
                        "0: a reply pauses nothing. Automatic replies (out of office) never pause.",
                        low=0,
                        high=90,
                    ),
                ),
            ),
        ),
    ),
    Section(
        "limits",
        "Quiet hours and limits",
        "When anything may be sent, and how often one customer hears from you.",
        (
            Group(
                "",
                (
                    Field(
                        "schedule.send_from_hour", "Send from hour", "number", "Local time, 0 to 23.", low=0, high=23
                    ),
                    Field(
                        "schedule.send_until_hour",
                        "Send until hour",
                        "number",
                        "Nothing is sent from this hour on.",
                        low=1,
                        high=24,
                    ),
                    Field("schedule.business_days", "Sending days", "choices", choices=WEEKDAYS),
                    Field(
                        "schedule.timezone_source",
                        "Local time of",
                        "choice",
                        choices=(("customer", "The customer, when known"), ("company", "My company")),
                    ),
                    Field("schedule.holidays", "Holidays", "dates", "One date per line, like 2026-12-25."),
                    Field(
                        "frequency.min_days_between_emails",
                        "Days between emails to one customer",
                        "number",
                        low=1,
                        high=60,
                    ),
                    Field("frequency.consolidate", "One email per customer for several invoices", "check"),
                    Field("opt_out.call_instead", "Ask me to phone customers who opted out of emails", "check"),
                ),
            ),
        ),
    ),
    Section(
        "sender",
        "Sender identity",
        "Who the reminders come from and where replies go.",
        (
            Group(
                "",
                (
                    Field("sender.from_name", "From name", "text", "Empty: your company's name."),
                    Field("sender.reply_to", "Reply-to address", "email", "Empty: arpilot's sending address."),
                    Field("sender.signature", "Signature", "lines", "Empty: your name and company."),
                ),
            ),
        ),
    ),
    Section(
        "approval",
        "Ask me first",
        "Steps that threaten or restrict wait in your Approve list on the dashboard; untick to let them go ahead.",
        (
            Group(
                "",
                (
                    Field("approval.final_notice", "Final notice (you choose the referral date)", "check"),
                    Field("approval.credit_hold", "Putting a customer on credit hold", "check"),
                    Field(
                        "approval.escalation", "Escalation (agency, attorney letter, payment plan, write-off)", "check"
                    ),
                ),
            ),
        ),
    ),
    Section(
        "channel",
        "Email channel",
        "Who sends the reminder emails.",
        (
            Group(
                "",
                (
                    Field(
                        EMAIL_CHANNEL,
                        "Send reminder emails with",
                        "choice",
                        "The accounting system's own email sends the invoice as it would by hand; "
                        "arpilot's email sends the stage's wording shown in the preview.",
                        choices=EMAIL_CHANNEL_CHOICES,
                    ),
                ),
            ),
        ),
    ),
    Section(
        "profiles",
        "How customers are classified",
        "The thresholds behind reliable, slipping, slow, late, unresponsive and new.",
        (
            Group(
                "",
                (
                    Field("profiles.history_days", "Days of history considered", "number", low=30, high=1830),
                    Field(
                        "profiles.min_paid_invoices",
                        "Paid invoices before a customer is not new",
                        "number",
                        low=1,
                        high=100,
                    ),
                    Field(
                        "profiles.on_time_tolerance_days",
                        "Days late that still count as on time",
                        "number",
                        low=0,
                        high=30,
                    ),
                    Field(
                        "profiles.unresponsive_overdue_days",
                        "Unresponsive: an invoice this many days late",
                        "number",
                        low=1,
                        high=365,
                    ),
                    Field(
                        "profiles.unresponsive_silence_days",
                        "Unresponsive: no payment for days",
                        "number",
                        low=1,
                        high=365,
                    ),
                    Field(
                        "profiles.reliable_min_on_time_pct",
                        "Reliable: paid on time at least (%)",
                        "number",
                        low=0,
                        high=100,
                    ),
                    Field(
                        "profiles.reliable_max_p80_days_late",
                        "Reliable: 80% of payments at most days late",
                        "number",
                        low=0,
                        high=365,
                    ),
                    Field(
                        "profiles.good_max_median_days_late",
                        "Good: typical payment at most days late",
                        "number",
                        low=0,
                        high=365,
                    ),
                    Field(
                        "profiles.good_min_on_time_pct", "Good: paid on time at least (%)", "number", low=0, high=100
                    ),
                    Field(
                        "profiles.slipping_overdue_days",
                        "Slipping: an invoice this many days late",
                        "number",
                        low=1,
                        high=365,
                    ),
                    Field(
                        "profiles.slow_max_p80_days_late",
                        "Slow but steady: 80% of payments at most days late",
                        "number",
                        low=0,
                        high=365,
                    ),
                ),
            ),
        ),
    ),
)

FIELDS: dict[str, Field] = {f.path: f for s in SECTIONS for g in s.groups for f in g.fields}


@dataclass(frozen=True)
class Parsed:
    """What the owner typed (`values`, by input name, to draw the form again) and either the rules
    it makes or the errors by input name (`""`: not about one input)."""

    values: dict[str, Any]
    rules: Rules | None
    errors: dict[str, str]


# --- saved rules -> form -----------------------------------------------------------------------


def form_values(rules: Rules) -> dict[str, Any]:
    data = rules.to_json()
    values: dict[str, Any] = {OBSERVE: rules.mode == "observe"}
    for path, field in FIELDS.items():
        if path == EMAIL_CHANNEL:
            continue
        value = _get(data, path)
        if field.kind == "days_before":
            value = str(-value)
        elif field.kind in ("number", "amount"):
            value = str(value)
        elif field.kind == "choices":
            value = [str(v) for v in value if not (path.endswith(".recipients") and v == "billing")]
        elif field.kind == "dates":
            value = "\n".join(value)
        elif field.kind == "email":
            value = value or ""
        elif field.kind == "channel":
            value = "call" if value == "call" else "email"
        values[path] = value
    emailing = [s.channel for s in rules.ladder.stages if s.channel != "call"]
    values[EMAIL_CHANNEL] = emailing[0] if emailing else "email"
    return values


def mixed_email_channels(rules: Rules) -> bool:
    """Stages saved with different email channels (the form sets one for all)."""
    return len({s.channel for s in rules.ladder.stages if s.channel != "call"}) > 1


# --- form -> rules -----------------------------------------------------------------------------


def parse_form(form: FormData, mode: str) -> Parsed:
    """The rules the form describes, keeping `mode` (switching to live has its own confirmation)."""
    values: dict[str, Any] = {OBSERVE: OBSERVE in form}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    channel = form.get(EMAIL_CHANNEL, "email")
    values[EMAIL_CHANNEL] = channel
    for path, field in FIELDS.items():
        if path == EMAIL_CHANNEL:
            continue
        typed = _typed(form, field)
        values[path] = typed
        try:
            value = _read(field, typed)
        except RuleError as exc:
            errors[path] = _sentence(exc.detail)
            continue
        if field.kind == "channel" and value != "call":
            value = channel
        _put(data, path, value)
    if channel not in dict(EMAIL_CHANNEL_CHOICES):
        errors[EMAIL_CHANNEL] = "Choose one of the listed ways to send."
    # Each part checked alone, so one mistake does not hide another part's.
    for key, part in data.items():
        try:
            Rules.from_json({key: part})
        except RuleError as exc:
            field, message = error_for(exc)
            errors.setdefault(field, message)
    if errors:
        return Parsed(values, None, errors)
    try:
        rules = Rules.from_json({**data, "mode": mode})
    except RuleError as exc:
        field, message = error_for(exc)
        return Parsed(values, None, {field: message})
    return Parsed(values, rules, {})


def _typed(form: FormData, field: Field) -> Any:
    if field.kind == "check":
        return field.path in form
    if field.kind == "choices":
        return form.getlist(field.path)
    return _text(field, form.get(field.path, ""))


def _text(field: Field, text: str) -> str:
    # Browsers send textarea line breaks as CRLF; the rules keep plain newlines.
    return text.replace("\r\n", "\n") if field.kind in ("lines", "dates") else text.strip()


def _read(field: Field, typed: Any) -> Any:
    """The JSON value of one input, or a RuleError for text that is not even of the right kind."""
    if field.kind in ("number", "days_before"):
        if not re.fullmatch(r"-?\d{1,6}", typed):
            raise RuleError(
                field.path,
                "enter a whole number" + (f" from {field.low} to {field.high}" if field.low is not None else ""),
            )
        return -int(typed) if field.kind == "days_before" else int(typed)
    if field.kind == "choices":
        if field.path.endswith(".recipients"):
            return ["billing", *[role for role in CONTACT_ROLES[1:] if role in typed]]
        known = [str(value) for value, _ in field.choices]
        unknown = [v for v in typed if v not in known]
        if unknown:
            raise RuleError(field.path, f"{unknown[0]!r} is not one of the choices")
        picked = [value for value, _ in field.choices if str(value) in typed]  # the page's order, each once
        return picked
    if field.kind == "dates":
        return [line.strip() for line in typed.splitlines() if line.strip()]
    if field.kind == "email":
        return typed or None
    return typed


def _input_for(rule_path: str) -> str:
    """The input a rule's error belongs beside: the longest input path the rule path starts with."""
    best = ""
    for path in FIELDS:
        if (rule_path == path or rule_path.startswith(path + ".") or rule_path.startswith(path + "[")) and len(
            path
        ) > len(best):
            best = path
    return best


def _message(exc: RuleError) -> str:
    field = FIELDS.get(_input_for(exc.field))
    if field is not None and field.kind == "days_before":
        return f"Enter a number of days from {field.low} to {field.high}."
    detail = exc.detail
    for name in sorted(STAGES, key=len, reverse=True):
        detail = re.sub(rf"\b{name}\b", STAGE_TITLES[name], detail)
    return _sentence(detail)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def _steps(path: str) -> list[tuple[str, int | None]]:
    steps = []
    for segment in path.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(f"not a rule path: {path!r}")  # a programming error in FIELDS
        steps.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    return steps


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for name, index in _steps(path):
        value = value[name] if index is None else value[name][index]
    return value


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at `path` in nested JSON, making objects and (stage) lists on the way."""
    steps = _steps(path)
    node: Any = data
    for position, (name, index) in enumerate(steps):
        last = position == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            items = node.setdefault(name, [])
            while len(items) <= index:
                items.append({})
            if last:
                items[index] = value
            else:
                node = items[index]


# --- one stage's email, as typed (the live preview) ----------------------------------------------


@dataclass(frozen=True)
class TypedStage:
    sender: Sender
    stage: Stage
    channel: str  # email, accounting_system_email or call


def preview_inputs(name: str) -> tuple[str, ...]:
    """The inputs stage `name`'s email depends on."""
    path = f"ladder.stages[{STAGES.index(name)}]"
    return (
        "sender.from_name",
        "sender.reply_to",
        "sender.signature",
        EMAIL_CHANNEL,
        f"{path}.offset_days",
        f"{path}.template",
        f"{path}.channel",
    )


def typed_stage(inputs: Mapping[str, str], name: str) -> TypedStage:
    """The sender and the stage `name` from `inputs` (see `preview_inputs`), for previewing its
    email before anything is saved. A RuleError's field is the input's name (see `error_for`)."""
    path = f"ladder.stages[{STAGES.index(name)}]"

    def read(key: str) -> Any:  # a RuleError here already names the input
        return _read(FIELDS[key], _text(FIELDS[key], inputs.get(key, "")))

    from_name, reply_to, signature = read("sender.from_name"), read("sender.reply_to"), read("sender.signature")
    offset, template = read(f"{path}.offset_days"), read(f"{path}.template")
    try:
        sender = Sender(from_name, reply_to, signature)
    except RuleError as exc:
        raise exc.under("sender") from None
    try:
        stage = Stage(name, offset, template=template)
    except RuleError as exc:
        raise exc.under(path) from None
    channel = inputs.get(f"{path}.channel", "email")
    return TypedStage(sender, stage, "call" if channel == "call" else inputs.get(EMAIL_CHANNEL, "email"))


def error_for(exc: RuleError) -> tuple[str, str]:
    """The input a RuleError belongs beside and the message to show there."""
    return _input_for(exc.field), _message(exc)
