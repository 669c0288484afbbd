"""The statement as an email: what the customer reads around the PDF, from hostile names too."""

from __future__ import annotations

import dataclasses

import pytest

from integration.documents.statement import build_statement
from integration.documents.statement_email import statement_filename, statement_message
from integration.policy.rules import Sender
from reminders.delivery import InvalidMessage
from tests.documents.books import COMPANY, INVOICES, NOW, customer


def _message(company: str, name: str):  # type: ignore[no-untyped-def]
    statement = build_statement(dataclasses.replace(COMPANY, name=company), customer(name), INVOICES, (), (), NOW)
    return statement_message(
        statement,
        b"%PDF-1.4",
        key="statement:1:c1:2026-06-10",
        recipients=("ap@zoe.example",),
        invalid=(),
        sender=Sender(),
        from_address="billing@arpilot.example",
        reply_to=None,
    )


def test_names_in_other_scripts_and_emoji_are_kept() -> None:
    message = _message("Müller & Söhne 🎉", "株式会社テスト")
    assert message.subject == "Statement of account from Müller & Söhne 🎉"
    assert message.to[0].name == "株式会社テスト" and message.text.startswith("Hello 株式会社テスト,")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("\u202eevil\u202c Corp", "evil Corp"),  # a bidi override would turn the rest of a subject around
        ("Nul\x00Byte\x07 Ltd", "NulByte Ltd"),
        ("Line\r\nBcc: x@example.com", "Line Bcc: x@example.com"),
    ],
)
def test_control_and_bidi_characters_are_dropped_from_the_headers_and_the_text(written: str, read: str) -> None:
    message = _message(written, written)
    assert message.subject == f"Statement of account from {read}"
    assert message.sender.name == read and message.to[0].name == read
    assert message.text.startswith(f"Hello {read},") and f"with {read} as of" in message.text


def test_a_5000_character_name_is_cut_in_the_headers() -> None:
    message = _message("Ω" * 5000, "W" * 5000)
    assert len(message.subject) <= 200 and message.sender.name == "Ω" * 100
    assert message.to[0].name is not None and len(message.to[0].name) <= 200
    long_named = build_statement(COMPANY, customer("W" * 5000), (), (), (), NOW)
    assert statement_filename(long_named) == "statement-" + "w" * 60 + "-2026-06-10.pdf"


def test_no_address_is_a_clear_error() -> None:
    statement = build_statement(COMPANY, customer(), INVOICES, (), (), NOW)
    with pytest.raises(InvalidMessage, match="no valid email address to send to \\(none on file\\)"):
        statement_message(
            statement,
            b"%PDF",
            key="k",
            recipients=(),
            invalid=(),
            sender=Sender(),
            from_address="a@b.example",
            reply_to=None,
        )
