"""Text from the books made safe to show: control and bidi characters dropped, joiners and whitespace
kept; one line, cut where asked."""

from __future__ import annotations

import pytest

from reminders.text import one_line, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Acme\x00 Plumbing", "Acme Plumbing"),  # NUL
        ("Evil \u202eoC", "Evil oC"),  # a right-to-left override would reorder what follows
        ("\ud800lone", "lone"),  # a lone surrogate cannot be encoded at all
        ("مخبز\u200dالنخيل", "مخبز\u200dالنخيل"),  # the zero-width joiner joins Arabic (and emoji)
        ("Line one\nLine two", "Line one\nLine two"),  # whitespace is kept
    ],
)
def test_printable_drops_what_breaks_or_reorders_text(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_one_line_folds_whitespace_and_cuts() -> None:
    assert one_line("  Evil Co\r\nBcc:\tx@evil.example  ") == "Evil Co Bcc: x@evil.example"
    assert one_line("Enormous " * 50, 200) == ("Enormous " * 23)[:200]
    assert one_line("\x00\u202e") == ""
