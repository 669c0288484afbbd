"""Letters to post (/letters): each letter a reminder stage asked for, to download as a PDF and
mark posted."""

from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue

from integration.documents.pdf import letter_pdf
from integration.owner.letters import find_letter, letters_to_post, mark_posted, printed_letter
from integration.owner.records import RecordNotFound
from integration.store.db import transaction
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.nav import add_nav_item
from reminders.formatting import parse_locale

bp = Blueprint("letters", __name__)


def init_app(app: Flask) -> None:
    add_nav_item(app, "letters.index", "Letters")


@bp.get("/letters")
@owner_required
def index() -> ResponseReturnValue:
    with runtime().sessions() as db:
        rows = letters_to_post(db, g.organization_id)
    return render_template("letters/index.html", rows=rows)


@bp.get("/letters/<int:letter_id>.pdf")
@owner_required
def download(letter_id: int) -> ResponseReturnValue:
    with runtime().sessions() as db:
        try:
            letter = find_letter(db, g.organization_id, letter_id)
        except RecordNotFound:
            abort(404)
        printed, locale = printed_letter(db, g.organization_id, letter)
    return send_file(
        io.BytesIO(letter_pdf(printed, parse_locale(locale))),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"letter-{letter_id}.pdf",
        max_age=0,
    )


@bp.post("/letters/<int:letter_id>/posted")
@owner_required
def posted(letter_id: int) -> ResponseReturnValue:
    try:
        with transaction(runtime().sessions) as db:
            letter = mark_posted(db, g.organization_id, letter_id, now())
            name = letter.customer_name
    except RecordNotFound:
        abort(404)
    flash(f"The letter to {name} is marked posted.")
    return redirect(url_for(".index"))
