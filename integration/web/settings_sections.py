"""The settings form's layout: every rule as an input, in sections and groups the way an owner
thinks, with the titles the pages show. Data only; `integration.web.rules_form` reads and checks
what the owner typed into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from integration.policy.rules import (
    CONTACT_ROLES,
    KNOWN_TEMPLATES,
    PROFILE_CLASSES,
    STAGES,
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
            Field(f"{path}.letter", "Also make a printable letter for me to post", "check"),
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
                        "Wait for a customer's usual payment day, up to this many days; one who pays "
                        "over a wider spread hears the next step before their window opens (0: neither)",
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
        "late_fees",
        "Late fees",
        "A fee on invoices still unpaid after a grace period, written into your books as an invoice of its own. "
        "Never on disputed, promised or planned invoices, nor on customers you exclude.",
        (
            Group(
                "",
                (
                    Field("late_fees.enabled", "Charge late fees", "check"),
                    Field(
                        "late_fees.kind",
                        "Fee",
                        "choice",
                        choices=(
                            ("fixed", "A fixed fee, once per invoice"),
                            ("monthly_rate", "A monthly rate of the open balance"),
                        ),
                    ),
                    Field(
                        "late_fees.amount",
                        "Fixed fee",
                        "amount",
                        "In your company's currency, such as 25.00; invoices in other currencies get no fee.",
                    ),
                    Field("late_fees.rate_pct", "Monthly rate (%)", "amount", "Such as 1.5; at most 10."),
                    Field("late_fees.grace_days", "Days after the due date before a fee", "number", low=0, high=365),
                    Field(
                        "late_fees.cap",
                        "Most in fees on one invoice",
                        "amount",
                        "In your company's currency; 0: no cap.",
                    ),
                    Field(
                        "late_fees.min_days_between",
                        "Days between monthly charges",
                        "number",
                        "Monthly rate only.",
                        low=28,
                        high=365,
                    ),
                    Field(
                        "late_fees.quickbooks_item",
                        "QuickBooks item",
                        "text",
                        "The name (or id) of the Service item fees are charged on, created in QuickBooks.",
                    ),
                    Field(
                        "late_fees.xero_account_code",
                        "Xero account code",
                        "text",
                        "The revenue account fees are booked to, such as 260 (Other Revenue).",
                    ),
                    Field("late_fees.approve_first", "Ask me before each fee (in the Approve list)", "check"),
                ),
            ),
        ),
    ),
    Section(
        "statements",
        "Monthly statements",
        "A statement of account (open invoices by age, the last days' payments and credits, what is due) "
        "emailed with its PDF to every customer who owes something, once a month.",
        (
            Group(
                "",
                (
                    Field("statements.enabled", "Send monthly statements", "check"),
                    Field(
                        "statements.day_of_month",
                        "Day of the month",
                        "number",
                        "31: the month's last day.",
                        low=1,
                        high=31,
                    ),
                    Field("statements.recent_days", "Days of payments and credits shown", "number", low=7, high=90),
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
            Group(
                "Account plans",
                (
                    Field(
                        "plans.reminder_days_before",
                        "Days before each instalment to remind",
                        "number",
                        "0: no instalment reminders.",
                        low=0,
                        high=30,
                    ),
                    Field(
                        "plans.customer_max_instalments",
                        "Most instalments a customer may propose",
                        "number",
                        "0: customers cannot propose a plan on their page.",
                        low=0,
                        high=24,
                    ),
                    Field(
                        "plans.first_payment_within_days",
                        "A customer's first instalment within days",
                        "number",
                        low=1,
                        high=365,
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
