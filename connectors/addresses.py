"""Email address lists as the accounting systems store them.

QuickBooks lets one BillEmail or PrimaryEmailAddr hold several addresses separated by commas
(BillEmail.Address takes up to 100 characters); owners also type semicolons. Every address in
such a list is one a customer can be written to, so each is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATOR = re.compile(r"[,;]")


def split_addresses(text: str | None) -> tuple[str, ...]:
    """The addresses in one provider field, in order, each once (case-insensitively), blanks dropped."""
    return _distinct(_SEPARATOR.split(text or ""))


def _distinct(addresses: Iterable[str | None]) -> tuple[str, ...]:
    """Each address once, trimmed, in first-seen order, however its case was typed."""
    seen: set[str] = set()
    kept: list[str] = []
    for address in addresses:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return tuple(kept)
