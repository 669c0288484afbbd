"""An organization's own wording of each stage's email: checked before it is saved, removed to reset."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from integration.store.models import MessageTemplate
from integration.store.scoping import scoped
from reminders.content import stage_variables
from reminders.preview import sample_context
from reminders.wording import Wording, check_wording


def load_wordings(session: Session, organization_id: int) -> dict[str, Wording]:
    """stage -> the owner's wording; a stage missing here goes out in the stock wording."""
    return {
        row.stage: Wording(row.subject, row.opening, row.closing)
        for row in session.scalars(scoped(MessageTemplate, organization_id))
    }


def save_wording(session: Session, organization_id: int, stage: str, wording: Wording) -> None:
    """Raises WordingError (by part) and saves nothing when a part cannot be used."""
    check_wording(stage, wording, stage_variables(sample_context(stage)))
    row = session.scalar(scoped(MessageTemplate, organization_id).where(MessageTemplate.stage == stage))
    if row is None:
        session.add(
            MessageTemplate(
                organization_id=organization_id,
                stage=stage,
                subject=wording.subject,
                opening=wording.opening,
                closing=wording.closing,
            )
        )
    else:
        row.subject, row.opening, row.closing = wording.subject, wording.opening, wording.closing
    session.flush()


def reset_wording(session: Session, organization_id: int, stage: str) -> None:
    session.execute(
        delete(MessageTemplate).where(
            MessageTemplate.organization_id == organization_id, MessageTemplate.stage == stage
        )
    )
