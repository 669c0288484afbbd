"""Postal addresses as the accounting systems keep them, made safe to store and print.

Both providers keep an address as loose text fields, any of them blank. A blank or whitespace-only
line, a field of the wrong type, a NUL byte or a lone surrogate (which no database stores) must not
cost the customer's record: such a field is dropped or cleaned here, and an address with nothing
left is None. Other control characters stay as the books hold them; a letter drops them when it
prints (integration/documents/letter.py: printable).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connectors.contract import PostalAddress
from connectors.text import storable

MAX_FIELD_CHARS = 500  # the longest address field either provider takes (a street line)


def field_text(value: object) -> str | None:
    """One address field as one clean line: text (or a number, a postal code sent as one), its
    whitespace runs made single spaces, NUL bytes and lone surrogates dropped; None when nothing is
    left or the value is not text at all."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    text = str(value)
    if not storable(text):
        text = "".join(ch for ch in text if ch != "\x00" and not "\ud800" <= ch <= "\udfff")
    return " ".join(text.split())[:MAX_FIELD_CHARS] or None


def postal_address(
    lines: Iterable[object],
    *,
    city: object = None,
    region: object = None,
    postal_code: object = None,
    country: object = None,
    attention: object = None,
) -> PostalAddress | None:
    """The address from a provider's fields, blank lines dropped; None when every field is blank."""
    address = PostalAddress(
        lines=tuple(line for line in map(field_text, lines) if line),
        city=field_text(city),
        region=field_text(region),
        postal_code=field_text(postal_code),
        country=field_text(country),
        attention=field_text(attention),
    )
    return None if address == PostalAddress() else address
