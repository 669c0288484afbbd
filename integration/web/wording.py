"""The owner's email pages under /settings/emails: where replies go, and each stage's wording.

`GET /settings/emails` lists the stages (stock or edited) and the reply address; `POST
/settings/emails/reply-address` confirms it. `GET /settings/emails/<stage>` is the editor with the
merge fields beside it and a preview; `POST` saves (a part that cannot be used is named beside its
field and nothing is saved) or, with `action=test`, sends the wording as typed to the owner's
confirmed address through the configured sender. `POST .../preview.json` previews as typed (the
page's script calls it while the owner types); `POST .../reset` returns to the stock wording.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.owner.reply_address import (
    BadReplyAddress,
    confirm_reply_address,
    confirmed_reply_address,
    suggested_reply_address,
)
from integration.owner.stored_rules import load_rules
from integration.owner.stored_wording import load_wordings, reset_wording, save_wording
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.settings import email_document
from integration.web.settings_sections import STAGE_TITLES
from reminders.content import REMINDER_STAGES, RenderedEmail, render_reminder, stage_variables
from reminders.delivery import Address, DeliveryError, EmailMessage, InvalidMessage, make_sender
from reminders.preview import sample_context
from reminders.wording import PARTS, Wording, WordingError, check_wording, fields_for, stock_wording

bp = Blueprint("wording", __name__, url_prefix="/settings")  # a part of the settings pages


def _stage_or_404(stage: str) -> str:
    if stage not in REMINDER_STAGES:
        abort(404)
    return stage


def _typed() -> Wording:
    return Wording(*(request.form.get(part, "") for part in PARTS))


def _sample(stage: str) -> Any:
    """The sample customer's email context, in this organization's name, sender and reply address."""
    with runtime().sessions() as db:
        organization = db.get(Organization, g.organization_id)
        connection = db.scalars(scoped(Connection, g.organization_id).order_by(Connection.id)).first()
        sender = load_rules(db, g.organization_id).sender
        reply = confirmed_reply_address(db, g.organization_id)
    assert organization is not None
    company = (connection.display_name if connection else "") or organization.name
    return sample_context(
        stage,
        company_name=company,
        locale=organization.locale,
        currency=organization.base_currency,
        sender_name=sender.from_name or company,
        signature=sender.signature,
        reply_to=reply or sender.reply_to or DEFAULT_FROM_ADDRESS,
        ways_to_pay=(),
    )


def _render(stage: str, wording: Wording) -> tuple[RenderedEmail | None, dict[str, str]]:
    context = _sample(stage)
    try:
        check_wording(stage, wording, stage_variables(context))
    except WordingError as exc:
        return None, exc.errors
    return render_reminder(context, wording), {}


@bp.get("/emails")
@owner_required
def emails() -> ResponseReturnValue:
    return _emails_page()


def _emails_page(errors: dict[str, str] | None = None, typed: str | None = None) -> ResponseReturnValue:
    with runtime().sessions() as db:
        edited = load_wordings(db, g.organization_id)
        confirmed = confirmed_reply_address(db, g.organization_id)
        suggested = suggested_reply_address(db, g.organization_id)
    return render_template(
        "settings/emails.html",
        stages=REMINDER_STAGES,
        titles=STAGE_TITLES,
        edited=edited,
        confirmed=confirmed,
        reply_address=typed if typed is not None else suggested,
        errors=errors or {},
        inbound_address=runtime().settings.inbound_address,
    ), 400 if errors else 200


@bp.post("/emails/reply-address")
@owner_required
def save_reply_address() -> ResponseReturnValue:
    typed = request.form.get("reply_address", "")
    try:
        with transaction(runtime().sessions) as db:
            address = confirm_reply_address(db, g.organization_id, typed, now())
    except BadReplyAddress as exc:
        return _emails_page({"reply_address": str(exc)}, typed)
    flash(f"Customers' replies will be forwarded to {address}.")
    return redirect(url_for(".emails"))


@bp.get("/emails/<stage>")
@owner_required
def edit_wording(stage: str) -> ResponseReturnValue:
    return _editor(_stage_or_404(stage))


def _editor(
    stage: str, typed: Wording | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    with runtime().sessions() as db:
        saved = load_wordings(db, g.organization_id).get(stage)
    wording = typed or saved or stock_wording(stage)
    email, found = _render(stage, wording)
    return render_template(
        "settings/wording.html",
        stage=stage,
        title=STAGE_TITLES.get(stage, stage),
        wording=wording,
        edited=saved is not None,
        fields=fields_for(stage),
        errors=errors or found,
        email=email,
    ), status


@bp.post("/emails/<stage>")
@owner_required
def save_stage_wording(stage: str) -> ResponseReturnValue:
    stage, typed = _stage_or_404(stage), _typed()
    if request.form.get("action") == "test":
        return _send_test(stage, typed)
    try:
        with transaction(runtime().sessions) as db:
            save_wording(db, g.organization_id, stage, typed)
    except WordingError as exc:
        flash("Nothing was saved: please correct the fields marked below.", "error")
        return _editor(stage, typed, exc.errors, 400)
    flash(f"The {STAGE_TITLES.get(stage, stage)} email now goes out in your wording.")
    return redirect(url_for(".edit_wording", stage=stage))


def _send_test(stage: str, typed: Wording) -> ResponseReturnValue:
    email, errors = _render(stage, typed)
    with runtime().sessions() as db:
        to = confirmed_reply_address(db, g.organization_id)
    if email is None or to is None:
        flash(
            "Confirm your reply address on the Emails page first: the test goes there."
            if to is None
            else "No test was sent: please correct the fields marked below.",
            "error",
        )
        return _editor(stage, typed, errors, 400)
    try:
        make_sender(runtime().settings).send(
            EmailMessage(
                key=f"wording-test:{g.organization_id}:{stage}:{uuid.uuid4().hex}",
                to=(Address(to),),
                sender=Address(DEFAULT_FROM_ADDRESS, "arpilot"),
                subject=f"[Test] {email.subject}",
                text=email.text,
                html=email.html,
                categories=("arpilot", "wording-test"),
            )
        )
    except (DeliveryError, InvalidMessage) as exc:
        flash(f"The test could not be sent: {exc}", "error")
        return _editor(stage, typed, {}, 502)
    flash(f"A test of this wording (as typed, not saved) was sent to {to}.")
    return _editor(stage, typed)


@bp.post("/emails/<stage>/preview.json")
@owner_required
def preview_wording(stage: str) -> ResponseReturnValue:
    email, errors = _render(_stage_or_404(stage), _typed())
    # A draft with errors is still a preview that worked: 200, with each part's error to show beside it.
    if email is None:
        return jsonify({"stage": stage, "errors": errors})
    return jsonify({"stage": stage, "errors": {}, "subject": email.subject, "text": email.text})


@bp.get("/emails/<stage>/preview")
@owner_required
def preview_wording_document(stage: str) -> ResponseReturnValue:
    """The saved (or stock) wording's HTML email, as a document of its own for the preview frame."""
    stage = _stage_or_404(stage)
    with runtime().sessions() as db:
        wording = load_wordings(db, g.organization_id).get(stage) or stock_wording(stage)
    email, _ = _render(stage, wording)
    if email is None:
        abort(400)
    return email_document(email.html)


@bp.post("/emails/<stage>/reset")
@owner_required
def reset_stage_wording(stage: str) -> ResponseReturnValue:
    stage = _stage_or_404(stage)
    with transaction(runtime().sessions) as db:
        reset_wording(db, g.organization_id, stage)
    flash(f"The {STAGE_TITLES.get(stage, stage)} email is back to the stock wording.")
    return redirect(url_for(".edit_wording", stage=stage))
