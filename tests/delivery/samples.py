"""A realistic reminder message and a SendGrid-shaped API key for the delivery tests."""

from __future__ import annotations

from reminders.delivery import Address, EmailMessage

API_KEY = "SG.test-key-0123456789.abcdefghijklmnopqrstuvwxyz-SECRET"


def make_message(key: str = "action-42", **overrides) -> EmailMessage:  # type: ignore[no-untyped-def]
    fields = dict(
        key=key,
        to=(Address("ap@acme.example", "Acme Accounts Payable"),),
        cc=(Address("owner@acme.example", "Dana Owner"),),
        sender=Address("reminders@harborpine.example", "Harbor & Pine Landscaping"),
        reply_to=Address("accounts@harborpine.example", "Harbor & Pine Accounts"),
        subject="Invoice 1001 is 12 days past due",
        text="Hello,\n\nInvoice 1001 for $450.00 was due on 1 October.\n",
        html="<p>Hello,</p><p>Invoice 1001 for <b>$450.00</b> was due on 1 October.</p>",
        categories=("reminder", "reminder_1"),
        custom_args={"action_id": "42", "organization_id": "7"},
    )
    fields.update(overrides)
    return EmailMessage(**fields)  # type: ignore[arg-type]
