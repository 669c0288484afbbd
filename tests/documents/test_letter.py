"""A letter's address block lies inside its envelope's window: by the builder's geometry, and where
the rendered PDF actually draws the recipient's lines."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest

from connectors.contract import PostalAddress
from integration.documents.letter import (
    A4_DL,
    INCH,
    MAX_ADDRESS_LINES,
    US_LETTER,
    Paper,
    address_lines,
    build_letter,
    paper_for,
    postal_lines,
)
from integration.documents.pdf import letter_pdf
from reminders.formatting import parse_locale

MM_PER_POINT = 25.4 / 72


def test_papers_follow_the_companys_country() -> None:
    assert paper_for("US") is US_LETTER and paper_for("ca") is US_LETTER
    assert paper_for("DE") is A4_DL and paper_for("GB") is A4_DL and paper_for(None) is A4_DL


def test_the_windows_are_where_the_standards_put_them() -> None:
    # #10: 7/8" from the left, the window's bottom 1/2" above the envelope's (4 1/8" high), the
    # folded sheet riding up to 1/4" in it; DIN 5008 form B: 20 mm in, 45 mm down, 85 x 45 mm.
    assert US_LETTER.window.x == pytest.approx(0.875 * INCH)
    assert US_LETTER.window.y + US_LETTER.window.height <= (4.125 - 0.5 + 0.25) * INCH
    assert (A4_DL.window.x, A4_DL.window.y, A4_DL.window.width, A4_DL.window.height) == (20, 45, 85, 45)
    for paper in (US_LETTER, A4_DL):
        assert paper.window.contains(paper.address)


def drawn_lines(data: bytes, paper: Paper) -> list[tuple[str, float, float]]:
    """Each text run the PDF draws: its text, x and baseline from the top, in millimetres."""
    runs: list[tuple[str, float, float]] = []
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            runs.append((text.strip(), x * MM_PER_POINT, paper.height - y * MM_PER_POINT))

    page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("country", ["US", "DE"])
def test_every_recipient_line_is_drawn_inside_the_window(country: str) -> None:
    recipient = (
        "Zoë's Bakery " + "W" * 300,
        "Attn: Accounts Payable",
        "22 Elm St",
        "Suite 4",
        "Boulder, CO 80302",
        "USA",
    )
    letter = build_letter(
        country=country,
        company_name="Acme Supply",
        company_address=("1 Main St",),
        customer_name=recipient[0],
        customer_address=recipient[1:],
        date=dt.date(2026, 6, 10),
        subject="Overdue",
        body="Hello.",
        signature="Ann",
    )
    # The window holds five lines: the street lines are folded together, the place and country kept.
    assert len(letter.recipient) == MAX_ADDRESS_LINES
    assert letter.recipient[1:] == ("Attn: Accounts Payable", "22 Elm St, Suite 4", "Boulder, CO 80302", "USA")
    paper = letter.paper
    runs = drawn_lines(letter_pdf(letter, parse_locale("en_US")), paper)
    inside = [(text, x, y) for text, x, y in runs if any(text.startswith(line[:10]) for line in letter.recipient)]
    assert len(inside) == MAX_ADDRESS_LINES
    font_height = 10 * MM_PER_POINT
    for text, x, baseline in inside:
        assert paper.window.x <= x, text
        assert paper.window.y <= baseline - font_height and baseline <= paper.window.y + paper.window.height, text
        assert x + 0 <= paper.window.x + paper.window.width
    assert "…" in inside[0][0]  # the long name is cut to the window's width, not wrapped out of it


def test_address_lines_drop_blanks_and_control_characters() -> None:
    assert address_lines("Acme\x00 Corp", ("", "  ", "1 Main\tSt")) == ("Acme Corp", "1 Main St")


def test_too_many_lines_are_folded_never_dropping_the_place_or_the_country() -> None:
    lines = ("Attn: Ann", "Line 1", "Line 2", "Line 3", "Line 4", "Line 5", "Half Moon Bay CA 94213", "UNITED STATES")
    assert address_lines("Bill's Windsurf Shop", lines) == (
        "Bill's Windsurf Shop",
        "Attn: Ann",
        "Line 1, Line 2, Line 3, Line 4, Line 5",
        "Half Moon Bay CA 94213",
        "UNITED STATES",
    )
    assert address_lines("A", ("1", "2", "3", "4")) == ("A", "1", "2", "3", "4")  # five fit as they are


EN = parse_locale("en_US")


@pytest.mark.parametrize(
    ("address", "home", "expected"),
    [
        (
            PostalAddress(("22 Elm St", "Suite 4"), "Boulder", "CO", "80302", "USA", attention="Ann Lee"),
            "US",
            ("Attn: Ann Lee", "22 Elm St", "Suite 4", "Boulder CO 80302"),  # at home: no country line
        ),
        (
            PostalAddress(("1 Rideau St",), "Ottawa", "ON", "K1N 8S7", "Canada"),
            "CA",
            ("1 Rideau St", "Ottawa ON K1N 8S7"),
        ),
        (PostalAddress(("1 George St",), "Sydney", "NSW", "2000", "AU"), "AU", ("1 George St", "Sydney NSW 2000")),
        (
            PostalAddress(("Am Sandtorkai 37",), "Hamburg", None, "20457", "Germany"),
            "US",
            ("Am Sandtorkai 37", "20457 Hamburg", "GERMANY"),  # postal code first; abroad: the country named
        ),
        (
            PostalAddress(("Keizersgracht 221",), "Amsterdam", None, "1016 DV", "NL"),
            "NL",
            ("Keizersgracht 221", "1016 DV Amsterdam"),
        ),
        (
            PostalAddress(("10 Downing St",), "London", None, "SW1A 2AA", "UK"),
            "US",
            ("10 Downing St", "London SW1A 2AA", "UNITED KINGDOM"),
        ),
        (
            PostalAddress(("1 Castle Rd",), "Cair Paravel", None, None, "Narnia"),
            "US",
            ("1 Castle Rd", "Cair Paravel", "NARNIA"),
        ),
        (
            PostalAddress(("12 Ocean Dr.",), "Half Moon Bay", "CA", "94213"),
            "US",
            ("12 Ocean Dr.", "Half Moon Bay CA 94213"),
        ),
    ],
)
def test_postal_lines_follow_the_countrys_order_and_name_it_abroad(
    address: PostalAddress, home: str, expected: tuple[str, ...]
) -> None:
    assert postal_lines(address, home, EN) == expected


def test_the_country_is_named_in_the_writers_language() -> None:
    address = PostalAddress(("1 Main St",), "Boulder", "CO", "80302", "US")
    assert postal_lines(address, "DE", parse_locale("de_DE"))[-1] == "VEREINIGTE STAATEN"
