"""GET /progress: where the signed-in owner's cycles stand, as JSON, for the dashboard to poll
(integration/web/static/dashboard.js). Of the chosen company only when the owner chose one."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from integration.owner.cycle_progress import cycle_progress
from integration.web.auth import owner_required
from integration.web.common import runtime
from integration.web.dashboard import chosen_company

bp = Blueprint("progress", __name__)


@bp.get("/progress")
@owner_required
def progress() -> ResponseReturnValue:
    with runtime().sessions() as db:
        found = cycle_progress(db, g.organization_id, chosen_company(db, g.organization_id))
    response = jsonify(found.to_json())
    response.headers["Cache-Control"] = "no-store"
    return response
