"""A reminder as a letter to post: the company's address top left, the customer's address where a
windowed envelope shows it, the date, the reminder's own text, a signature.

Paper and window follow the company's country: US and Canadian companies fold US Letter into a
#10 window envelope (window 4 1/2" x 1 1/8", 7/8" from the left, 1/2" from the bottom: with the
tri-folded sheet's play taken off, the address block sits 2 1/8" down and 7/8" in); everyone else
folds A4 into a DL envelope and places the address by DIN 5008 form B (field 20 mm from the left,
45 mm down, 85 x 45 mm; the recipient's lines in its lower 27.3 mm). Pure: sizes in millimetres.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

INCH = 25.4
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO"})  # where US Letter is the paper
MAX_ADDRESS_LINES = 5
MAX_LINE_CHARS = 200  # a name longer than this is cut before layout cuts it to the window's width
_DROPPED = frozenset({"Cc", "Cf", "Cs"})  # control, format (bidi overrides), lone surrogates
_JOINER = "\u200d"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float  # from the top of the page
    width: float
    height: float

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.width <= self.x + self.width
            and other.y + other.height <= self.y + self.height
        )


@dataclass(frozen=True, slots=True)
class Paper:
    name: str  # fpdf2's format name
    width: float
    height: float
    window: Rect  # what the envelope's window shows of the folded page
    address: Rect  # where the recipient's lines go, inside the window


US_LETTER = Paper(
    name="letter",
    width=8.5 * INCH,
    height=11 * INCH,
    window=Rect(0.875 * INCH, 2.0 * INCH, 4.5 * INCH, 1.125 * INCH),
    address=Rect(0.875 * INCH, 2.125 * INCH, 4.0 * INCH, 0.875 * INCH),
)
A4_DL = Paper(
    name="A4",
    width=210,
    height=297,
    window=Rect(20, 45, 85, 45),
    address=Rect(20, 62.7, 80, 27.3),
)


def paper_for(country: str | None) -> Paper:
    """US Letter and a #10 window for the Americas' letter-paper countries, A4 and DL elsewhere."""
    return US_LETTER if (country or "").upper() in LETTER_COUNTRIES else A4_DL


def printable(text: str) -> str:
    """The text with control and format characters (NUL, bidi overrides) and lone surrogates dropped,
    so nothing a provider stored can break the PDF or reorder what follows; whitespace is kept, and
    the zero-width joiner, which joins Arabic and emoji."""
    return "".join(ch for ch in text if ch.isspace() or ch == _JOINER or unicodedata.category(ch) not in _DROPPED)


def address_lines(name: str, lines: tuple[str, ...]) -> tuple[str, ...]:
    """The recipient's name and address, blank lines dropped, at most MAX_ADDRESS_LINES (the window
    holds no more), each at most MAX_LINE_CHARS."""
    cleaned = [" ".join(printable(line).split())[:MAX_LINE_CHARS] for line in (name, *lines)]
    return tuple(line for line in cleaned if line)[:MAX_ADDRESS_LINES]


@dataclass(frozen=True, slots=True)
class PrintedLetter:
    paper: Paper
    sender: tuple[str, ...]  # the company's name and address, top left
    recipient: tuple[str, ...]  # from address_lines
    date: dt.date
    subject: str
    body: str  # the reminder's plain text, the same words the email carries
    signature: str


def build_letter(
    *,
    country: str | None,
    company_name: str,
    company_address: tuple[str, ...],
    customer_name: str,
    customer_address: tuple[str, ...],
    date: dt.date,
    subject: str,
    body: str,
    signature: str,
) -> PrintedLetter:
    return PrintedLetter(
        paper=paper_for(country),
        sender=address_lines(company_name, company_address),
        recipient=address_lines(customer_name, customer_address),
        date=date,
        subject=" ".join(printable(subject).split()),
        body=printable(body),
        signature=" ".join(printable(signature).split()),
    )
