"""Whether a piece of text can be stored at all: what a database refuses must be refused at the door.

PostgreSQL's text types cannot hold the NUL character, and a lone surrogate (what JSON's "\\udcff"
or undecodable bytes turn into) is not UTF-8, so neither can be written. Input carrying either is
malformed wherever it comes from (a form, a query string, a provider's webhook).
"""

from __future__ import annotations


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
