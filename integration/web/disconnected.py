"""Forms about a company that was disconnected since the page was drawn.

Pages that act on a company's records (call outcomes, approvals, customer settings) list only the
companies still connected (integration.store.scoping.still_connected); a form left open in another tab
and posted after the disconnect is refused here, in plain words, with nothing changed (403: the action
is not allowed any more, although the record is the owner's to read).
"""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from integration.store.models import Connection, ConnectionStatus
from integration.store.scoping import scoped
from integration.web.formatting import connection_zone, day_text, request_style


def refuse_if_disconnected(db: Session, organization_id: int, connection_id: int) -> None:
    """Abort with the plain-language refusal when the organization's company `connection_id` is disconnected."""
    connection = db.scalar(scoped(Connection, organization_id).where(Connection.id == connection_id))
    if connection is not None and connection.status is ConnectionStatus.DISCONNECTED:
        abort(403, description=disconnected_words(connection))


def disconnected_words(connection: Connection) -> str:
    # The row is last changed by the disconnect itself: no cycle or setting touches it afterwards.
    on = day_text(connection.updated_at.astimezone(connection_zone(connection.id)).date(), request_style())
    name = f" ({connection.display_name})" if connection.display_name else ""
    return f"This company{name} was disconnected on {on}; reconnect to act on it. Nothing was changed."
