"""Letters to post (/letters): each letter a reminder stage asked for, to download as a PDF and
mark posted."""

from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue

from integration.cycle.providers import connector_factory
from integration.documents.pdf import letter_pdf
from integration.owner.letters import (
    NoPostalAddress,
    find_letter,
    letters_to_post,
    mark_posted,
    note_posted,
    printed_letter,
)
from integration.owner.records import RecordNotFound
from integration.owner.stored_rules import load_rules
from integration.policy.aging import local_today
from integration.store.db import transaction
from integration.store.models import Organization
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
        try:
            printed, locale = printed_letter(db, g.organization_id, letter)
        except NoPostalAddress as exc:  # no letter with an empty window: the owner is told what to add
            flash(f"The letter to {letter.customer_name} cannot be printed. {exc}", "error")
            return redirect(url_for(".index"))
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
    rt = runtime()
    try:
        with transaction(rt.sessions) as db:
            done = mark_posted(db, g.organization_id, letter_id, now())
            letter = find_letter(db, g.organization_id, letter_id)
            live = load_rules(db, g.organization_id, letter.connection_id).mode == "live"
            today = local_today(now(), db.get_one(Organization, g.organization_id).timezone)
    except RecordNotFound:
        abort(404)
    error = None
    if done.entry_id is not None and live:  # observe mode writes nothing in the books
        connector_for = connector_factory(rt.settings, rt.sessions)
        error = note_posted(rt.sessions, g.organization_id, done.entry_id, connector_for, today)
    said = f"The letter to {done.customer_name} is marked posted"
    if error:
        flash(f"{said}, but the note could not be written in the accounting system: {error}", "error")
    else:
        flash(f"{said}.")
    return redirect(url_for(".index"))
