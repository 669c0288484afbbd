"""Text from the books made safe to put in front of a person: in a PDF, an email header, a subject.

A provider stores whatever was typed or imported: NUL bytes, bidi overrides (a right-to-left
override turns the rest of a subject around), lone surrogates, line breaks (in a header, an
injection). `printable` drops what can break or reorder a document; `one_line` also folds the text
onto one line and cuts it.
"""

from __future__ import annotations

import unicodedata

_DROPPED = frozenset({"Cc", "Cf", "Cs"})  # control, format (bidi overrides), lone surrogates
_JOINER = "\u200d"
HEADER_NAME_LIMIT = 200  # a name in an email header or greeting; longer ones are pasted text, not names


def printable(text: str) -> str:
    """The text with control and format characters (NUL, bidi overrides) and lone surrogates dropped;
    whitespace is kept, and the zero-width joiner, which joins Arabic and emoji."""
    return "".join(ch for ch in text if ch.isspace() or ch == _JOINER or unicodedata.category(ch) not in _DROPPED)


def one_line(text: str, limit: int | None = None) -> str:
    """`printable(text)` on one line, runs of whitespace as one space, cut to `limit` characters."""
    return " ".join(printable(text).split())[:limit]
