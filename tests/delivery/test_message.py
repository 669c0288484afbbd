from __future__ import annotations

import pytest

from reminders.delivery import Address, Attachment, EmailMessage, InvalidMessage
from tests.delivery.samples import make_message


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"key": ""}, "key must be a non-empty string"),
        ({"key": "a\nb"}, "key must be one line"),
        ({"key": "k" * 201}, "key must be one line"),
        ({"to": ()}, "at least one recipient"),
        ({"to": ("ap@acme.example",)}, "to entries must be Address"),
        ({"cc": (Address("AP@acme.example"),)}, "appears more than once"),
        ({"subject": "  "}, "subject must not be empty"),
        ({"subject": "Hi\r\nBcc: victim@example.com"}, "subject must be one line"),
        ({"text": ""}, "text must not be empty"),
        ({"html": ""}, "html must be None or non-empty"),
        ({"categories": tuple(f"c{n}" for n in range(11))}, "at most 10 categories"),
        ({"categories": ("a", "a")}, "categories must be unique"),
        ({"categories": ("x" * 256,)}, "category must be 1 to 255"),
        ({"custom_args": {"action_id": 42}}, "custom_args must map names to strings"),
        ({"custom_args": {"blob": "x" * 10_001}}, "more than 10000"),
        ({"sender": "reminders@harborpine.example"}, "sender must be an Address"),
        ({"attachments": (b"%PDF-",)}, "attachments entries must be Attachment"),
        ({"attachments": (Attachment("s.pdf", b"x" * 8_000_000), Attachment("t.pdf", b"x" * 8_000_000))}, "more than"),
    ],
)
def test_bad_messages_are_refused_naming_the_problem(overrides: dict, complaint: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidMessage, match=complaint):
        make_message(**overrides)


@pytest.mark.parametrize(
    "address",
    ["", "plainaddress", "a@b", "a b@example.com", "a@example.com\r\nBcc: x@y.z", "<a@example.com>", "a@@example.com"],
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidMessage, match="not an email address"):
        Address(address)


def test_a_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="line break"):
        Address("ap@acme.example", "Acme\nBcc: x@y.z")


def test_message_is_frozen_including_its_custom_args() -> None:
    message = make_message(to=[Address("ap@acme.example")], categories=["reminder"])
    assert isinstance(message.to, tuple) and isinstance(message.categories, tuple)
    with pytest.raises(TypeError):
        message.custom_args["action_id"] = "99"  # type: ignore[index]
    with pytest.raises(AttributeError):
        message.subject = "changed"  # type: ignore[misc]
    assert isinstance(message, EmailMessage)


@pytest.mark.parametrize(
    ("filename", "content", "complaint"),
    [
        ("", b"%PDF-", "filename must be 1 to 255"),
        ("a\r\nb.pdf", b"%PDF-", "filename must be one line"),
        ("x" * 256 + ".pdf", b"%PDF-", "filename must be 1 to 255"),
        ("s.pdf", b"", "is empty"),
    ],
)
def test_bad_attachments_are_refused(filename: str, content: bytes, complaint: str) -> None:
    with pytest.raises(InvalidMessage, match=complaint):
        Attachment(filename, content)
