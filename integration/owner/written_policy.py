"""The customer-facing credit policy, written from the owner's rules: terms, reminder timeline,
credit hold, late fees, and what pauses reminders (with the payment plan a customer may propose).
Printable HTML (with a print stylesheet) and plain text.

The sentences are built here from the rules, so the two formats cannot disagree and every rule the
customer should know about is stated exactly as configured; the templates only lay them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.dates import format_time
from babel.numbers import format_decimal

from connectors.contract import Money
from integration.policy.rules import Rules, Stage
from reminders import formatting
from reminders.environment import render

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_PURPOSE = {
    "check_in": "A note to check that the invoice arrived and that everything is as you expected.",
    "courtesy": "A friendly heads-up that payment is coming due, with every way to pay.",
    "reminder_1": "A polite reminder that payment is past due.",
    "reminder_2": "A second reminder.",
    "past_due_30": "An overdue notice.",
    "past_due_60": "An overdue account notice.",
    "final_notice": (
        "A final notice giving the date on which the account will be referred to a collection agency "
        "unless it is paid or a payment plan is agreed."
    ),
}

_RECIPIENTS = {
    "billing": "your billing contact",
    "accounts_payable": "your accounts payable contact",
    "owner": "the business owner",
}

_ACCOUNT_KINDS = {
    "reliable": "accounts with a good payment record",
    "good_but_slipping": "accounts with a good record that have recently fallen behind",
    "slow_but_steady": "accounts that usually pay late",
    "habitually_late": "accounts that are often paid late",
    "unresponsive": "accounts that have not responded to reminders",
    "new": "new accounts",
}


@dataclass(frozen=True, slots=True)
class TimelineRow:
    when: str
    what: str
    who: str


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    timeline: tuple[TimelineRow, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    title: str
    text: str
    html: str  # a whole printable document
    body_html: str  # the same content without the document around it, for a page that has its own layout


def render_credit_policy(
    rules: Rules,
    company_name: str,
    locale: str,
    *,
    payment_terms: str | None = None,
    currency: str | None = None,
) -> RenderedDocument:
    """`payment_terms` (e.g. "Net 30") and `currency` (for the hold threshold) come from the
    accounting system and the organisation; the rules hold neither."""
    babel_locale = formatting.parse_locale(locale)
    sections = tuple(
        section
        for section in (
            _terms(rules, payment_terms),
            _timeline(rules, babel_locale),
            _credit_hold(rules, babel_locale, currency),
            _late_fees(rules, babel_locale, currency),
            _pauses(rules),
            _contact(rules),
        )
        if section is not None
    )
    title = f"{company_name} credit policy"
    variables = {"title": title, "company_name": company_name, "sections": sections}
    return RenderedDocument(
        title=title,
        text=render("credit_policy.txt", variables),
        html=render("credit_policy.html", variables),
        body_html=render("credit_policy_body.html", variables),
    )


def _terms(rules: Rules, payment_terms: str | None) -> Section:
    paragraphs = [
        f"Payment is due by the due date shown on each invoice{f' (our standard terms are {payment_terms})' if payment_terms else ''}."
    ]
    if rules.mid_month.enabled:
        paragraphs.append(
            "Customers who usually pay at the end of the month may be offered terms due on the "
            f"{_ordinal(rules.mid_month.day_of_month)} of each month instead, to suit their payment run."
        )
    if rules.grace.enabled and rules.grace.max_days and rules.grace.profile_classes:
        paragraphs.append(
            f"For {formatting.english_list(_ACCOUNT_KINDS[k] for k in rules.grace.profile_classes)}, "
            f"reminders start later, by up to {formatting.plural(rules.grace.max_days, 'day')}."
        )
    return Section("Payment terms", tuple(paragraphs))


def _timeline(rules: Rules, locale: Locale) -> Section:
    rows = tuple(
        TimelineRow(_when(stage), _what(stage), formatting.english_list(_RECIPIENTS[r] for r in stage.recipients))
        for stage in rules.ladder.stages
        if stage.enabled
    )
    schedule, frequency = rules.schedule, rules.frequency
    weekdays = sorted(schedule.business_days)
    if len(weekdays) == len(_WEEKDAYS):
        days = "every day"
    elif len(weekdays) > 2 and weekdays == list(range(weekdays[0], weekdays[-1] + 1)):
        days = f"{_WEEKDAYS[weekdays[0] - 1]} to {_WEEKDAYS[weekdays[-1] - 1]}"  # a run: "Monday to Friday"
    else:
        days = "on " + formatting.english_list(_WEEKDAYS[day - 1] for day in weekdays)
    if schedule.send_from_hour == 0 and schedule.send_until_hour == 24:
        hours = "at any time of day"  # midnight to midnight, which the clock would write "12:00 AM and 12:00 AM"
    else:
        whose = "your" if schedule.timezone_source == "customer" else "our"
        hours = (
            f"between {_hour(schedule.send_from_hour, locale)} and {_hour(schedule.send_until_hour, locale)} "
            f"{whose} local time"
        )
    interval = frequency.min_days_between_emails
    paragraphs = [
        f"Reminders are sent {days}, {hours}.",
        f"We send at most one reminder email {'a day' if interval == 1 else f'every {interval} days'}"
        + (", covering all of your open invoices in one message." if frequency.consolidate else "."),
        "The first reminder after an invoice falls due is not held back by that interval, "
        "only never sent on the same day as another.",
    ]
    if rules.grace.habit_wait_days:
        paragraphs.append(
            "The days above follow each account's own payment record: a reminder waits up to "
            f"{formatting.plural(rules.grace.habit_wait_days, 'day')} when the account's history shows "
            "payment usually comes by then, and where an account's payments vary widely, a later reminder "
            "may come sooner, but never sooner than halfway from the previous reminder's day to its own."
        )
    paragraphs.append("Reminders stop as soon as an invoice is paid.")
    return Section("Reminder timeline", tuple(paragraphs), rows)


def _when(stage: Stage) -> str:
    days = abs(stage.offset_days)
    if stage.anchored_on_issue:
        return f"{formatting.plural(days, 'day')} after the invoice date" if days else "On the invoice date"
    if stage.offset_days == 0:
        return "On the due date"
    return f"{formatting.plural(days, 'day')} {'before' if stage.offset_days < 0 else 'after'} the due date"


def _what(stage: Stage) -> str:
    if stage.channel == "call":
        return (
            "A phone call about the balance, with a copy of the invoice."
            if stage.resend_invoice
            else "A phone call about the balance."
        )
    purpose = _PURPOSE[stage.template]
    return f"{purpose} We may also phone you." if stage.call_task else purpose


def _credit_hold(rules: Rules, locale: Locale, currency: str | None) -> Section | None:
    hold = rules.credit_hold
    if not hold.enabled:
        return None
    paragraphs = [
        f"When an invoice reaches {formatting.plural(hold.all_customers_days_overdue, 'day')} overdue, "
        "the account is placed on credit hold: new orders need payment in advance until the overdue balance is paid."
    ]
    if hold.profile_classes and hold.days_overdue < hold.all_customers_days_overdue:
        paragraphs.append(
            f"For {formatting.english_list(_ACCOUNT_KINDS[k] for k in hold.profile_classes)}, "
            f"the hold starts when an invoice reaches {formatting.plural(hold.days_overdue, 'day')} overdue."
        )
    if hold.min_overdue_amount > 0:
        paragraphs.append(
            f"A hold applies only when the overdue balance is at least {_amount(hold.min_overdue_amount, currency, locale)}."
        )
    paragraphs.append(
        "The hold is lifted automatically as soon as the overdue balance is paid."
        if hold.auto_release
        else "Once the overdue balance is paid, we review the account and lift the hold."
    )
    return Section("Credit hold", tuple(paragraphs))


def _late_fees(rules: Rules, locale: Locale, currency: str | None) -> Section | None:
    """The fee rules as the customer reads them; amounts in the organisation's currency."""
    fees = rules.late_fees
    if not fees.enabled:
        return None
    after = f"still unpaid {formatting.plural(fees.grace_days, 'day')} after its due date"
    if fees.kind == "fixed":
        charge = f"A late fee of {_amount(fees.amount, currency, locale)} is added once to an invoice {after}."
    else:
        rate = format_decimal(fees.rate_pct, locale=locale)
        charge = (
            f"Interest of {rate}% a month of the open balance is charged on an invoice {after}, "
            f"and again every {formatting.plural(fees.min_days_between, 'day')} while it stays unpaid."
        )
    paragraphs = [charge, "Each fee comes as an invoice of its own that names the invoice it is for."]
    if fees.cap > 0:
        paragraphs.append(f"The fees on one invoice never add up to more than {_amount(fees.cap, currency, locale)}.")
    paragraphs.append(
        "No fee is charged on an invoice you dispute with us, on one you have promised to pay by a date "
        "we agreed, or on one you are paying under an agreed payment plan."
    )
    return Section("Late fees", tuple(paragraphs))


def _pauses(rules: Rules) -> Section:
    pauses, paragraphs = rules.pauses, []
    if pauses.dispute:
        paragraphs.append(
            "If you dispute an invoice, tell us: reminders about it stop while we resolve the question together."
        )
    if pauses.promise_to_pay:
        resumed = (
            "they resume where they left off"
            if pauses.broken_promise_stages_up == 0
            else f"they resume {formatting.plural(pauses.broken_promise_stages_up, 'stage')} further along the timeline"
        )
        late = (
            f"{formatting.plural(pauses.promise_grace_days, 'day')} after that date"
            if pauses.promise_grace_days
            else "by that date"
        )
        paragraphs.append(
            f"If you tell us the date you will pay, reminders pause until then. If the payment has not arrived {late}, "
            f"{resumed}."
        )
    if pauses.payment_plan:
        paragraphs.append("If we agree a payment plan, reminders pause while the instalments are paid as agreed.")
    proposal = _customer_proposal(rules)
    if proposal:
        paragraphs.append(proposal)
    if rules.opt_out.call_instead:
        paragraphs.append("You can ask us to stop reminder emails; we will then contact you by phone instead.")
    else:
        paragraphs.append("You can ask us to stop reminder emails at any time.")
    return Section("Disputes, promises and payment plans", tuple(paragraphs))


def _customer_proposal(rules: Rules) -> str:
    """The plan a customer may propose on their page, within the owner's limits ('' when they may not:
    the text, and so the policy's version, stays as it was for owners who never allowed it)."""
    plans = rules.plans
    if plans.customer_max_instalments == 0:
        return ""
    within = formatting.plural(plans.first_payment_within_days, "day")
    payments = (
        f"one payment, within {within}"
        if plans.customer_max_instalments == 1
        else f"up to {formatting.plural(plans.customer_max_instalments, 'instalment')}, the first within {within}"
    )
    return f"You may propose a payment plan for your open invoices yourself, on your account page: {payments}."


def _contact(rules: Rules) -> Section | None:
    if not rules.sender.reply_to:
        return None
    return Section("Questions", (f"Write to {rules.sender.reply_to} with any question about your account.",))


def _amount(value: Decimal, currency: str | None, locale: Locale) -> str:
    if currency:
        return formatting.money(Money(value, currency), locale)  # refuses an unsupported currency
    return format_decimal(value, format="#,##0.00", locale=locale)


def _hour(hour: int, locale: Locale) -> str:
    if hour % 24 == 0:
        return "midnight"  # the clock's "12:00 AM" leaves a reader unsure which end of the day is meant
    return format_time(dt.time(hour), format="short", locale=locale)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
