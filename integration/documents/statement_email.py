"""A statement as the email a customer receives: a short note with the totals, the PDF attached.

Pure: the caller supplies the statement, its PDF, who it goes to and who it comes from. The key
names the customer and the statement's date, so the same day's statement is one email however
often it is asked for (the outbox keeps one file per key).
"""

from __future__ import annotations

import re
import unicodedata

from integration.documents.statement import Statement
from integration.policy.recipients import quoted
from integration.policy.rules import Sender
from reminders import formatting
from reminders.delivery import Address, Attachment, EmailMessage, InvalidMessage
from reminders.text import HEADER_NAME_LIMIT, one_line


def statement_key(connection_id: int, statement: Statement) -> str:
    return f"statement:{connection_id}:{statement.customer.provider_id}:{statement.as_of.isoformat()}"


def statement_filename(statement: Statement) -> str:
    """`statement-<customer>-<date>.pdf`, the name reduced to ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", statement.customer.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60].strip("-")
    return f"statement-{slug or 'customer'}-{statement.as_of.isoformat()}.pdf"


def statement_message(
    statement: Statement,
    pdf: bytes,
    *,
    key: str,
    recipients: tuple[str, ...],
    invalid: tuple[str, ...],
    sender: Sender,
    from_address: str,
    reply_to: str | None,
) -> EmailMessage:
    if not recipients:
        raise InvalidMessage(f"no valid email address to send to ({quoted(invalid) or 'none on file'})")
    locale = formatting.parse_locale(statement.company.locale)
    company = one_line(statement.company.name, HEADER_NAME_LIMIT)
    from_name = sender.from_name or company[:100] or None
    name = one_line(statement.customer.name, HEADER_NAME_LIMIT) or None
    owed = [f"{formatting.money(t.open, locale)}" for t in statement.totals if not t.open.is_zero()]
    lines = [
        f"Hello{' ' + name if name else ''},",
        "",
        f"Attached is your statement of account with {company} as of {formatting.date(statement.as_of, locale)}.",
        f"Total due: {formatting.english_list(owed)}." if owed else "Nothing is due on your account.",
        "",
        sender.signature or f"Thank you,\n{from_name or company}",
    ]
    return EmailMessage(
        key=key,
        to=tuple(Address(r, name) for r in recipients),
        sender=Address(from_address, from_name),
        reply_to=Address(reply_to, from_name) if reply_to else None,
        subject=f"Statement of account from {company}"[:200],
        text="\n".join(lines) + "\n",
        categories=("arpilot", "statement"),
        attachments=(Attachment(statement_filename(statement), pdf),),
    )
