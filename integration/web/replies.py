"""`POST /replies/<id>/checked`: the owner closes the check task a "we already paid" reply opened."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue

from integration.inbound.replies import close_check_task
from integration.store.db import transaction
from integration.web.auth import owner_required
from integration.web.common import now, page, runtime

bp = Blueprint("replies", __name__)


@bp.post("/replies/<int:reply_id>/checked")
@owner_required
def checked(reply_id: int) -> ResponseReturnValue:
    with transaction(runtime().sessions) as session:
        closed = close_check_task(session, g.organization_id, reply_id, now())
    if not closed:
        return page("No such check", "This reply has no open check task.", 404)
    flash("Marked as checked.", "ok")
    return redirect(url_for("dashboard") + "#replies-heading")
