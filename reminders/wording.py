"""The owner's wording of a stage: subject, opening and closing paragraphs, with merge fields.

The owner writes plain text with `{{ field }}` merge fields; it is rendered in Jinja's sandboxed
environment (no attribute tricks reach Python), strictly (an unknown field is an error, never a
blank). For the HTML email the owner's literal words are escaped token by token and the merge
fields are autoescaped, so neither the owner's text nor a customer's name can become markup. The
invoice table, ways to pay and signature stay arpilot's layout: every email keeps the facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from reminders.environment import environment

# The merge fields an owner may use, with what each holds (listed beside the editor).
MERGE_FIELDS: dict[str, str] = {
    "customer_name": "the customer's name, e.g. Acme Widgets",
    "company_name": "your company's name",
    "sender_name": "the From name (your company's name unless set)",
    "invoice_label": '"invoice 1042" or "invoices 1042 and 1047"',
    "invoice_count": "how many invoices the email lists",
    "total_due": "the total balance, e.g. $1,490.25",
    "overdue_label": 'the overdue invoices only, e.g. "invoice 1042" (empty when none is overdue yet)',
    "total_overdue": "the overdue balance only, e.g. $1,200.00",
    "upcoming_label": 'the invoices not yet due, e.g. "invoice 1047" (empty when all are overdue)',
    "total_upcoming": "the balance not yet due",
    "oldest_days_overdue": "days past due of the oldest invoice (negative before it is due)",
    "reply_to": "the address replies go to",
    "reply_way": 'how to answer: "reply to this email", or in a stage\'s letter "write to" and the address',
    "credit_hold": "true while the account is on credit hold: {% if credit_hold %}...{% endif %}",
    "referral_date": "final notice only: the date the account is referred to collections",
}
STAGE_ONLY_FIELDS = {"referral_date": "final_notice"}
PARTS = ("subject", "opening", "closing")
# Source lengths: the stock final notice's subject holds two wordings (with and without a referral date).
LIMITS = {"subject": 400, "opening": 5000, "closing": 5000}
_BLOCK = r"\{%\s*block\s+PART\s*%\}(.*?)\{%\s*endblock\s*%\}"


@dataclass(frozen=True)
class Wording:
    subject: str
    opening: str
    closing: str


class WordingError(ValueError):
    """The owner's wording cannot be used: `errors` maps each part to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{part}: {message}" for part, message in errors.items()))
        self.errors = dict(errors)


@functools.cache
def _sandbox(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=False)


def stock_wording(stage: str) -> Wording:
    """The stock words of `stage`, read from its plain-text template so the two never drift."""
    loader = environment().loader
    assert loader is not None  # environment() always has the package loader
    source, _, _ = loader.get_source(environment(), f"{stage}.txt")

    def block(part: str) -> str:
        found = re.search(_BLOCK.replace("PART", part), source, re.DOTALL)
        return found.group(1).strip() if found else ""

    return Wording(" ".join(block("subject").split()), block("opening"), block("closing"))


def fields_for(stage: str) -> dict[str, str]:
    return {name: about for name, about in MERGE_FIELDS.items() if STAGE_ONLY_FIELDS.get(name, stage) == stage}


def check_wording(stage: str, wording: Wording, sample: Mapping[str, Any]) -> None:
    """Raise WordingError naming each part that is too long, does not parse, uses a field this
    stage does not have, or fails on the sample customer (`sample`: a stage's variables)."""
    allowed = fields_for(stage)
    errors: dict[str, str] = {}
    for part in PARTS:
        source = getattr(wording, part)
        if part != "closing" and not source.strip():
            errors[part] = "must not be empty"
        elif len(source) > LIMITS[part]:
            errors[part] = f"must be at most {LIMITS[part]} characters"
        elif part == "subject" and ("\n" in source.strip() or "\r" in source):
            errors[part] = "must be one line"
        else:
            problem = _problem(source, allowed, sample)
            if problem:
                errors[part] = problem
    if errors:
        raise WordingError(errors)


def _problem(source: str, allowed: Mapping[str, str], sample: Mapping[str, Any]) -> str | None:
    try:
        parsed = _sandbox(False).parse(source)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(allowed))
    if unknown:
        shown = ", ".join("{{ " + name + " }}" for name in unknown)
        return f"unknown merge field {shown}; the fields are {', '.join(allowed)}"
    try:
        render_text(source, sample)
    except TemplateError as exc:  # SecurityError and UndefinedError are TemplateErrors
        return f"cannot be filled in: {exc}"
    return None


def render_text(source: str, variables: Mapping[str, Any]) -> str:
    return _sandbox(False).from_string(source).render(variables).strip()


def render_html(source: str, variables: Mapping[str, Any]) -> Markup:
    """Paragraphs of HTML: literal words escaped here, merge fields by autoescape."""
    escaped = "".join(
        escape(value, quote=False) if kind == "data" else value for _, kind, value in _sandbox(True).lex(source)
    )
    rendered = _sandbox(True).from_string(escaped).render(variables).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", rendered) if p.strip()]
    return Markup("\n".join("<p>" + "<br>\n".join(p.splitlines()) + "</p>" for p in paragraphs))
