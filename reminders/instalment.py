"""The gentle reminder before an account plan's instalment: the amount, the date, the plan's invoices.

It shares the reminders' layout (base.txt and base.html: the invoices, ways to pay, the customer's
page, the signature) and the variables every stage is filled with (`content.stage_variables`, which
does not read the context's stage); its own words are in templates/instalment.txt and .html.
"""

from __future__ import annotations

import datetime as dt

from connectors.contract import Money
from reminders import formatting
from reminders.content import ReminderContext, RenderedEmail, stage_variables
from reminders.environment import render, render_block

TEMPLATE = "instalment"


def render_instalment(context: ReminderContext, amount: Money, due: dt.date) -> RenderedEmail:
    """`amount`: what is left to pay by `due` under the plan; `context.invoices`: the plan's open invoices."""
    locale = formatting.parse_locale(context.locale)
    variables = {
        **stage_variables(context),
        "instalment_amount": formatting.money(amount, locale),
        "instalment_date": formatting.date(due, locale),
    }
    subject = render_block(f"{TEMPLATE}.txt", "subject", variables)
    return RenderedEmail(
        subject=subject,
        text=render(f"{TEMPLATE}.txt", variables),
        html=render(f"{TEMPLATE}.html", {**variables, "subject": subject}),
    )
