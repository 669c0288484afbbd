"""A delivered reminder whose stage asks for a letter leaves one for the owner to post: the email's
words, but for how to answer (a letter names the address to write to, where the email says to reply),
kept once per action (a retried or recovered action finds it there)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.store.db import transaction
from integration.store.models import Action, Letter, MirroredCustomer


def wants_letter(row: Action) -> bool:
    return bool((row.payload.get("payload") or {}).get("letter"))


def keep_letter(sessions: sessionmaker[Session], row: Action, sent_at: dt.datetime) -> None:
    """`sent_at`: when the email went out, by the cycle's clock: the date the letter is printed with."""
    with transaction(sessions) as session:
        if session.scalar(select(Letter.id).where(Letter.action_id == row.id)) is not None:
            return
        name = session.scalar(
            select(MirroredCustomer.name).where(
                MirroredCustomer.connection_id == row.connection_id,
                MirroredCustomer.provider_id == row.payload["customer_id"],
            )
        )
        session.add(
            Letter(
                organization_id=row.organization_id,
                connection_id=row.connection_id,
                action_id=row.id,
                customer_provider_id=row.payload["customer_id"],
                customer_name=name or row.payload["customer_id"],
                subject=row.payload.get("subject", ""),
                body_text=row.payload.get("letter_text") or row.payload.get("body_text", ""),
                created_at=sent_at,
            )
        )
