"""Reading inbound mail: whatever a sender wrote is read or kept with the reason, never raised."""

from __future__ import annotations

import pytest

from integration.inbound.classify import automatic_reason, says_paid
from integration.inbound.mail import MAX_TEXT_CHARS, UnreadableForm, parse_raw, parse_sendgrid_form
from integration.inbound.tokens import read_token, reply_address

INBOUND = "replies@inbound.example.com"


def test_a_token_survives_a_round_trip_and_case_folding_but_not_tampering() -> None:
    address = reply_address(INBOUND, 1234, "secret")
    assert address.startswith("replies+r1234-") and address.endswith("@inbound.example.com")
    assert read_token([address.upper()], INBOUND, "secret").action_id == 1234
    assert read_token([address.replace("r1234", "r1235")], INBOUND, "secret").problem == "unknown reply token"
    assert read_token([address], INBOUND, "another secret").action_id is None
    assert read_token(["replies@inbound.example.com"], INBOUND, "secret").problem == "no reply token"
    assert read_token(["someone@else.example"], INBOUND, "secret").problem == "no reply token"


def _eml(headers: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (headers + f"Content-Type: {content_type}\r\n\r\n").encode() + body


def test_a_non_utf8_charset_is_decoded_as_declared() -> None:
    mail = parse_raw(
        _eml(
            "From: a@b.example\r\nTo: x@y.example\r\nSubject: Paiement\r\n",
            "Déjà payé".encode("latin-1"),
            "text/plain; charset=iso-8859-1",
        )
    )
    assert mail.text == "Déjà payé" and mail.problems == ()


def test_an_unknown_charset_is_read_with_replacement_characters_and_said_so() -> None:
    mail = parse_raw(_eml("From: a@b.example\r\nSubject: x\r\n", b"paid \xff\xfe", "text/plain; charset=x-klingon"))
    assert mail.text.startswith("paid") and any("x-klingon" in p for p in mail.problems)


def test_malformed_mime_is_read_as_far_as_it_goes() -> None:
    raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\nno boundary ever comes\r\n"
    mail = parse_raw(raw)
    assert mail.sender == "a@b.example" and mail.problems and mail.raw == raw
    assert parse_raw(b"\x00\x01 not an email at all").sender == ""


def test_a_huge_body_is_cut_for_display_and_kept_whole() -> None:
    raw = _eml("From: a@b.example\r\nSubject: big\r\n", b"x" * (MAX_TEXT_CHARS + 10))
    mail = parse_raw(raw)
    assert len(mail.text) == MAX_TEXT_CHARS and mail.raw == raw and "kept" in mail.problems[-1]


def test_an_html_only_reply_becomes_text() -> None:
    mail = parse_raw(
        _eml("From: a@b.example\r\n", b"<p>We <b>paid</b> it</p><script>x()</script>", "text/html; charset=utf-8")
    )
    assert mail.text == "We paid it"


def test_the_fresh_text_stops_at_the_quoted_reminder() -> None:
    mail = parse_raw(_eml("From: a@b.example\r\n", b"Thanks\r\n\r\nOn Mon, 23 Nov 2026 Sam wrote:\r\n> paid already?"))
    assert mail.fresh_text == "Thanks"


@pytest.mark.parametrize(
    ("headers", "subject", "sender"),
    [
        ({"auto-submitted": "auto-replied"}, "Re: invoice", "ap@acme.example"),
        ({"x-autoreply": "yes"}, "Re: invoice", "ap@acme.example"),
        ({"precedence": "auto_reply"}, "Re: invoice", "ap@acme.example"),
        ({"precedence": "bulk"}, "Re: invoice", "ap@acme.example"),
        ({}, "Out of Office: Re: invoice 1002", "ap@acme.example"),
        ({}, "Automatic reply: Payment reminder", "ap@acme.example"),
        ({}, "Undeliverable: Payment reminder", "postmaster@acme.example"),
    ],
)
def test_automatic_replies_are_recognised(headers: dict[str, str], subject: str, sender: str) -> None:
    assert automatic_reason(headers, subject, sender)


def test_a_person_is_not_taken_for_a_machine() -> None:
    assert automatic_reason({"auto-submitted": "no"}, "Re: Payment reminder", "ap@acme.example") is None
    assert automatic_reason({}, "Re: the office move", "ap@acme.example") is None


@pytest.mark.parametrize(
    "text",
    [
        "We paid on Friday",
        "We have already paid this.",
        "Payment was sent last week",
        "I sent the check on Monday",
        "See the remittance attached",
    ],
)
def test_paid_replies_are_recognised(text: str) -> None:
    assert says_paid("Re: reminder", text)


@pytest.mark.parametrize("text", ["The invoice is wrong", "We will pay next week", "Who do we pay?"])
def test_other_replies_are_not_taken_for_paid(text: str) -> None:
    assert not says_paid("Re: reminder", text)


def _form(fields: dict[str, bytes], boundary: str = "XyZ") -> tuple[bytes, str]:
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
            for name, value in fields.items()
        )
        + f"--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_sendgrid_fields_are_decoded_in_the_charsets_it_names() -> None:
    body, content_type = _form(
        {
            "from": b"Acme <ap@acme.example>",
            "to": b"replies+r1-abc@inbound.example.com",
            "subject": b"Re: facture",
            "text": "Déjà payé".encode("windows-1252"),
            "headers": b"Auto-Submitted: no\nMessage-ID: <m1@acme>\n",
            "charsets": b'{"text": "windows-1252", "subject": "UTF-8"}',
            "envelope": b'{"to": ["replies+r1-abc@inbound.example.com"], "from": "ap@acme.example"}',
        }
    )
    mail = parse_sendgrid_form(body, content_type)
    assert (mail.sender, mail.subject, mail.text, mail.message_id) == (
        "ap@acme.example",
        "Re: facture",
        "Déjà payé",
        "<m1@acme>",
    )
    assert "replies+r1-abc@inbound.example.com" in mail.recipients and mail.raw == body


def test_sendgrid_raw_mode_reads_the_email_field() -> None:
    body, content_type = _form(
        {
            "email": _eml("From: ap@acme.example\r\nSubject: hi\r\n", b"paid"),
            "envelope": b'{"to": ["replies@inbound.example.com"]}',
        }
    )
    mail = parse_sendgrid_form(body, content_type)
    assert (mail.sender, mail.text) == ("ap@acme.example", "paid") and "replies@inbound.example.com" in mail.recipients


def test_a_body_that_is_no_form_is_refused_by_name() -> None:
    with pytest.raises(UnreadableForm, match="multipart/form-data"):
        parse_sendgrid_form(b"{}", "application/json")
    with pytest.raises(UnreadableForm, match="no fields"):
        parse_sendgrid_form(b"garbage", "multipart/form-data; boundary=nothing")
