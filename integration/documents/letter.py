"""A reminder as a letter to post: the company's address top left, the customer's address where a
windowed envelope shows it, the date, the reminder's own text, a signature.

The address blocks are laid out as the post of the address's country expects (`postal_lines`), and
fitted to the window: at most MAX_ADDRESS_LINES, the name and the place whole, the street lines
between folded together when there are too many (`address_lines`).

Paper and window follow the company's country: US and Canadian companies fold US Letter into a
#10 window envelope (window 4 1/2" x 1 1/8", 7/8" from the left, 1/2" from the bottom: with the
tri-folded sheet's play taken off, the address block sits 2 1/8" down and 7/8" in); everyone else
folds A4 into a DL envelope and places the address by DIN 5008 form B (field 20 mm from the left,
45 mm down, 85 x 45 mm; the recipient's lines in its lower 27.3 mm). Pure: sizes in millimetres.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel import Locale

from connectors.contract import PostalAddress
from connectors.regions import country_code
from reminders.text import one_line, printable

INCH = 25.4
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO"})  # where US Letter is the paper
MAX_ADDRESS_LINES = 5
MAX_LINE_CHARS = 200  # a name longer than this is cut before layout cuts it to the window's width
# Where the postal code comes before the city ("10115 Berlin"); elsewhere the city leads, the way
# the United States, Canada and Australia write "Boulder CO 80302" (and Britain "London SW1A 1AA").
POSTCODE_FIRST = frozenset(
    {"AT", "BE", "BG", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IS", "IT", "LI", "LT",
     "LU", "LV", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
)  # fmt: skip


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


def postal_lines(address: PostalAddress, other_country: str | None, locale: Locale) -> tuple[str, ...]:
    """The address under the name, as its country's post reads it: who it is for, the street lines,
    the place ("City Region PostalCode", or "PostalCode City" where POSTCODE_FIRST), and the
    country's name in capitals, in the writer's language, when it is not `other_country` (the
    other party's ISO code): a letter abroad names the country it goes to."""
    code = country_code(address.country)
    order = (
        (address.postal_code, address.city, address.region)
        if code in POSTCODE_FIRST
        else (address.city, address.region, address.postal_code)
    )
    place = " ".join(part for part in order if part)
    abroad = address.country is not None and (code is None or code != (other_country or "").upper())
    country = (locale.territories.get(code) if code else None) or address.country or ""
    return tuple(
        line
        for line in (
            f"Attn: {address.attention}" if address.attention else "",
            *address.lines,
            place,
            country.upper() if abroad else "",
        )
        if line
    )


def address_lines(name: str, lines: tuple[str, ...]) -> tuple[str, ...]:
    """The name and address, blank lines dropped, each at most MAX_LINE_CHARS, on at most
    MAX_ADDRESS_LINES (the window holds no more): the name and the last two lines (the place and
    the country, or the street and the place) stay whole, and the lines between are folded into
    the room left, joined with commas, so nothing the post sorts by is lost."""
    cleaned = [one_line(line, MAX_LINE_CHARS) for line in (name, *lines)]
    kept = [line for line in cleaned if line]
    if len(kept) <= MAX_ADDRESS_LINES:
        return tuple(kept)
    room = MAX_ADDRESS_LINES - 3
    middle = kept[1:-2]
    folded = ", ".join(middle[room - 1 :])[:MAX_LINE_CHARS]
    return (kept[0], *middle[: room - 1], folded, *kept[-2:])


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
        subject=one_line(subject),
        body=printable(body),
        signature=one_line(signature),
    )
