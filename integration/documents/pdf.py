"""Statements, letters and the packet summary as PDF bytes, drawn with fpdf2.

fpdf2 is pure Python and maintained, embeds TrueType fonts (subset, so files stay small) and needs
no system library. The font is DejaVu Sans, which covers accented Latin, Greek, Cyrillic, Arabic,
Hebrew and the currency symbols (€, ¥, £, ₹); its two files ship inside this package (fonts/, with
their license), so a PDF needs nothing installed on the machine. Amounts and dates go through
reminders/formatting (Babel, in the company's locale), as the emails' do.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import importlib.resources
from collections.abc import Sequence
from pathlib import Path

from babel import Locale
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from connectors.contract import Money
from integration.documents.letter import INCH, MAX_ADDRESS_LINES, Paper, PrintedLetter, paper_for
from integration.documents.statement import Statement
from reminders import formatting
from reminders.text import one_line

FONT = "DejaVu"
# A zipped install's fonts, extracted once and kept for the life of the process (fpdf2 reads files).
_EXTRACTED = contextlib.ExitStack()
atexit.register(_EXTRACTED.close)
_FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # same document, same bytes
MAX_NAME_CHARS = 200
MARGIN = 20.0
AGING_COLUMNS = 3  # currencies side by side in the aging table
BUCKET_WORDS = {
    "current": "Not yet due",
    "1-30": "1-30 days",
    "31-60": "31-60 days",
    "61-90": "61-90 days",
    "90+": "Over 90 days",
}


@functools.cache
def font_files() -> tuple[Path, Path]:
    """DejaVu Sans and DejaVu Sans Bold, from the package's own fonts/ folder."""
    folder = importlib.resources.files("integration.documents").joinpath("fonts")
    regular, bold = (
        _EXTRACTED.enter_context(importlib.resources.as_file(folder.joinpath(name)))
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
    )
    return regular, bold


class _Document(FPDF):
    """A document whose pages, when `running_title` is set, each end with it and "Page n of N": a
    statement runs to many pages, and a page read alone must still say whose it is."""

    running_title = ""

    def footer(self) -> None:
        if not self.running_title:
            return
        self.set_y(-MARGIN + 5)
        self.set_font(FONT, "", 8)
        page = f"Page {self.page_no()} of {{nb}}"
        self.cell(0, 5, _fitted(self, self.running_title, self.epw - self.get_string_width(page) - 10))
        self.cell(0, 5, page, align="R")


def _document(paper: Paper, title: str, running_title: str = "") -> FPDF:
    pdf = _Document(orientation="portrait", unit="mm", format=paper.name)
    pdf.running_title = running_title
    regular, bold = font_files()
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(title)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_page()
    return pdf


def _one_line(text: str) -> str:
    return one_line(text, MAX_NAME_CHARS)


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """The text cut (with an ellipsis) to fit `width` on one line: a window or a table cell has no room to wrap."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _heading(pdf: FPDF, text: str, size: float = 12) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.cell(0, size * 0.6, _fitted(pdf, text, pdf.epw), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)


def _table(
    pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], amounts: int = 1
) -> None:
    """A plain table; the last `amounts` columns are right-aligned. A cell too narrow wraps, so no
    amount or invoice number is ever cut short, and a table running onto the next page repeats its
    heading there."""
    pdf.set_font(FONT, "", 9)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=tuple("RIGHT" if column >= len(header) - amounts else "LEFT" for column in range(len(header))),
        borders_layout="HORIZONTAL_LINES",
        line_height=4.5,
        headings_style=FontFace(emphasis="BOLD"),
        wrapmode=WrapMode.CHAR,
    ) as table:
        for row in [header, *rows]:
            cells = table.row()
            for text in row:
                cells.cell(text)
    pdf.ln(3)


def _statement_body(pdf: FPDF, statement: Statement, locale: Locale) -> None:
    def money(value: Money) -> str:
        return formatting.money(value, locale)

    def date(value: dt.date | None) -> str:
        return formatting.date(value, locale) if value else "on receipt"

    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 6, f"As of {date(statement.as_of)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _heading(pdf, "Open invoices")
    if statement.open_invoices:
        _table(
            pdf,
            ("Invoice", "Issued", "Due", "Days overdue", "Balance"),
            [
                (
                    _one_line(line.number),
                    date(line.issue_date),
                    date(line.due_date),
                    str(max(line.days_overdue, 0)),
                    money(line.balance),
                )
                for line in statement.open_invoices
            ],
            (0.22, 0.2, 0.2, 0.16, 0.22),
        )
    else:
        pdf.cell(0, 6, "No open invoices.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    _heading(pdf, "Aging")
    # One column per currency, at most AGING_COLUMNS to a table: each amount has room to print whole.
    for start in range(0, len(statement.totals), AGING_COLUMNS):
        shown = statement.totals[start : start + AGING_COLUMNS]
        _table(
            pdf,
            ("", *(t.currency for t in shown)),
            [
                *((words, *(money(dict(t.buckets)[name]) for t in shown)) for name, words in BUCKET_WORDS.items()),
                ("Total due", *(money(t.open) for t in shown)),
            ],
            (1.0,) * (len(shown) + 1),
            amounts=len(shown),
        )
    if not statement.totals:
        pdf.cell(0, 6, "Nothing is due.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    _heading(pdf, f"Payments and credits since {date(statement.since)}")
    if statement.received:
        _table(
            pdf,
            ("Date", "Kind", "Reference", "Amount"),
            [
                (date(line.date), line.kind.capitalize(), _one_line(line.reference), money(line.amount))
                for line in statement.received
            ],
            (0.25, 0.2, 0.3, 0.25),
        )
    else:
        pdf.cell(0, 6, "None in this period.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    _heading(pdf, "Totals")
    for t in statement.totals:
        pdf.cell(0, 6, f"Total due ({t.currency}): {money(t.open)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if not t.credit_available.is_zero():
            pdf.cell(
                0,
                6,
                f"Credit available ({t.currency}): {money(t.credit_available)}",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )


def _statement_head(pdf: FPDF, statement: Statement, title: str) -> None:
    _heading(pdf, _one_line(statement.company.name), 14)
    _heading(pdf, title, 12)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, _one_line(statement.customer.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _locale(statement: Statement) -> Locale:
    return formatting.parse_locale(statement.company.locale)


def _paper(statement: Statement) -> Paper:
    return paper_for(_locale(statement).territory)


def statement_pdf(statement: Statement) -> bytes:
    title = f"Statement for {_one_line(statement.customer.name)}"
    pdf = _document(_paper(statement), title, title)
    _statement_head(pdf, statement, "Statement of account")
    _statement_body(pdf, statement, _locale(statement))
    return bytes(pdf.output())


def summary_pdf(statement: Statement, facts: Sequence[tuple[str, str]]) -> bytes:
    """The collections packet's summary: the account as a statement shows it, then the record's
    figures (emails sent, calls, promises...) as label and value."""
    title = f"Collections summary for {_one_line(statement.customer.name)}"
    pdf = _document(_paper(statement), title, title)
    _statement_head(pdf, statement, "Collections summary")
    _statement_body(pdf, statement, _locale(statement))
    pdf.ln(3)
    _heading(pdf, "The collection record")
    _table(pdf, ("", ""), [(label, _one_line(value)) for label, value in facts], (0.6, 0.4))
    return bytes(pdf.output())


def letter_pdf(letter: PrintedLetter, locale: Locale) -> bytes:
    paper = letter.paper
    pdf = _document(paper, letter.subject or "Letter")
    pdf.set_font(FONT, "", 9)
    pdf.set_xy(paper.address.x, 12)
    for line in letter.sender:
        pdf.set_x(paper.address.x)
        pdf.cell(
            paper.width / 2,
            4,
            _fitted(pdf, line, paper.width / 2 - paper.address.x),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    _address_block(pdf, paper, letter.recipient)
    pdf.set_xy(MARGIN, paper.window.y + paper.window.height + 0.4 * INCH)
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 6, formatting.date(letter.date, locale), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, letter.subject, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, letter.body, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.multi_cell(0, 5, letter.signature, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _address_block(pdf: FPDF, paper: Paper, lines: Sequence[str]) -> None:
    """The recipient's lines, each cut to the window's width, from the top of the address field."""
    box = paper.address
    height = box.height / MAX_ADDRESS_LINES
    pdf.set_font(FONT, "", 10)
    for index, line in enumerate(lines):
        pdf.set_xy(box.x, box.y + index * height)
        pdf.cell(box.width, height, _fitted(pdf, line, box.width - 2 * pdf.c_margin))
