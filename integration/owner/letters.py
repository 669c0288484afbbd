"""The letters to post: a reminder stage with `letter` on leaves one per delivered email. The owner
prints each (a PDF drawn on demand) and marks it posted, which the activity log records as it
records an email."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import ConnectorError, Note, PostalAddress
from connectors.regions import country_code
from integration.config import ConfigError
from integration.cycle.attempt import NOTE_PREFIX
from integration.cycle.book_writes import write_invoice_notes
from integration.cycle.gather import company_of
from integration.documents.letter import PrintedLetter, build_letter, postal_lines
from integration.owner.call_outcomes import ConnectorFor
from integration.owner.records import RecordNotFound
from integration.policy.aging import local_today
from integration.store.connections import PROVIDER_NAMES
from integration.store.db import transaction
from integration.store.models import Action, ActivityEntry, Connection, Letter, MirroredCustomer, Organization
from integration.store.postal import stored_address
from integration.store.scoping import scoped
from oauth.redact import redact
from reminders.formatting import parse_locale

LIST_LIMIT = 200


class NoPostalAddress(Exception):
    """The customer's books hold no address a letter can reach; the message tells the owner where to add one."""


@dataclass(frozen=True)
class LetterRow:
    id: int
    customer_id: int | None  # the mirror's id, for the customer's page
    customer_name: str
    subject: str
    created_at: dt.datetime
    posted_at: dt.datetime | None
    no_address: str | None = None  # why it cannot be printed yet: the customer has no postal address


def _no_address(provider: str) -> str:
    return f"No postal address in the books: add one in {PROVIDER_NAMES.get(provider, provider)}."


def letters_to_post(session: Session, organization_id: int) -> list[LetterRow]:
    """Letters not yet posted first (oldest first: the longest waiting), then the posted ones, newest first."""
    found = session.execute(
        scoped(Letter, organization_id)
        .add_columns(MirroredCustomer.id, MirroredCustomer.billing_address, Connection.provider)
        .join(Connection, Connection.id == Letter.connection_id)
        .outerjoin(
            MirroredCustomer,
            (MirroredCustomer.connection_id == Letter.connection_id)
            & (MirroredCustomer.provider_id == Letter.customer_provider_id),
        )
        .order_by(Letter.posted_at.is_not(None), Letter.posted_at.desc(), Letter.created_at, Letter.id)
        .limit(LIST_LIMIT)
    ).all()
    return [
        LetterRow(
            letter.id,
            customer_id,
            letter.customer_name,
            letter.subject,
            letter.created_at,
            letter.posted_at,
            None if _postable(stored_address(address)) else _no_address(provider),
        )
        for letter, customer_id, address, provider in found
    ]


def _postable(address: PostalAddress | None) -> TypeGuard[PostalAddress]:
    return address is not None and address.postable


def find_letter(session: Session, organization_id: int, letter_id: int) -> Letter:
    letter = session.scalar(scoped(Letter, organization_id).where(Letter.id == letter_id))
    if letter is None:
        raise RecordNotFound(f"no letter {letter_id}")  # another organization's looks the same
    return letter


def printed_letter(session: Session, organization_id: int, letter: Letter) -> tuple[PrintedLetter, str]:
    """The letter to draw, and the company's locale (dates and paper follow it): the customer's
    billing address in the window, the company's own as the sender. NoPostalAddress when the
    customer's books hold none a letter can reach."""
    organization = session.get_one(Organization, organization_id)
    connection = session.get_one(Connection, letter.connection_id)
    company = company_of(organization, connection)
    customer = session.scalar(
        select(MirroredCustomer).where(
            MirroredCustomer.connection_id == letter.connection_id,
            MirroredCustomer.provider_id == letter.customer_provider_id,
        )
    )
    to = stored_address(customer.billing_address) if customer else None
    if not _postable(to):
        raise NoPostalAddress(_no_address(connection.provider))
    sender = stored_address(connection.company_address)
    locale = parse_locale(company.locale)
    home = (country_code(sender.country) if sender else None) or locale.territory
    printed = build_letter(
        country=locale.territory,
        company_name=company.name,
        # Each side names its country when the other is abroad: the customer's, and the company's for a reply.
        company_address=postal_lines(sender, country_code(to.country) or home, locale) if sender else (),
        customer_name=customer.name if customer else letter.customer_name,
        customer_address=postal_lines(to, home, locale),
        date=local_today(letter.created_at, company.timezone),
        subject=letter.subject,
        body=letter.body_text,
        signature="",
    )
    return printed, company.locale


@dataclass(frozen=True)
class Posted:
    customer_name: str
    entry_id: int | None  # the activity entry; None when it was marked posted before


def mark_posted(session: Session, organization_id: int, letter_id: int, now: dt.datetime) -> Posted:
    """Posted once: marking it again changes nothing and logs nothing."""
    letter = find_letter(session, organization_id, letter_id)
    if letter.posted_at is not None:
        return Posted(letter.customer_name, None)
    letter.posted_at = now
    entry = ActivityEntry(
        organization_id=organization_id,
        connection_id=letter.connection_id,
        action_id=letter.action_id,
        kind="letter_posted",
        message=f'Letter "{letter.subject}" posted to {letter.customer_name}.',
        customer_provider_id=letter.customer_provider_id,
        details={"letter_id": letter.id, "note": "not written: observe mode"},
    )
    session.add(entry)
    session.flush()
    return Posted(letter.customer_name, entry.id)


def note_posted(
    sessions: sessionmaker[Session], organization_id: int, entry_id: int, connector_for: ConnectorFor, today: dt.date
) -> str | None:
    """Live mode: the posting noted on the letter's invoices in the books, as a call outcome is,
    keyed by the entry so a retry writes it once. Returns the provider's error, if any (also kept
    on the entry)."""
    with sessions() as session:
        entry = session.get_one(ActivityEntry, entry_id)
        letter = find_letter(session, organization_id, entry.details["letter_id"])
        action = session.get_one(Action, letter.action_id)
        invoice_ids = list(action.payload.get("delivered") or action.payload.get("invoice_ids") or ())
        connection = session.get_one(Connection, letter.connection_id)
        organization = session.get_one(Organization, organization_id)
        text = f'Letter posted: "{letter.subject}"; action {action.id}'
        session.expunge_all()
    error = None
    try:
        write_invoice_notes(
            connector_for(connection, organization),
            invoice_ids,
            Note(text=text, action_id=f"{NOTE_PREFIX}letter-{entry_id}", on=today),
            f"letter-posted:{entry_id}",
        )
    except (ConnectorError, ConfigError) as exc:
        error = redact(str(exc)) or type(exc).__name__
    with transaction(sessions) as session:
        stored = session.get_one(ActivityEntry, entry_id)
        stored.details = {**stored.details, "note": "written" if error is None else "failed", "note_error": error}
        if error is not None:
            stored.level = "warning"
            stored.message += f" The note could not be written at the provider: {error}"
    return error
