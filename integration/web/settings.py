"""The owner's settings page: the collection rules, each stage's email previewed as typed, observe
and live mode, and the prompt to switch off the accounting system's own reminders.

Routes (all under /settings, all owner-only): the rules form (GET, POST to save, POST /preview to
preview a stage without saving), `GET /preview/<stage>` (the email's HTML as a document of its own,
for the preview frame) and `/preview/<stage>.json` (subject and text, for settings.js), `GET /live`
(what live mode would do today) and `POST /live` (switch), `POST /observe`, and
`POST /built-in-reminders/<connection>` (the owner says the accounting system's reminders are off).
Each company's time zone (`POST /timezone/<connection>`) is in `integration.web.company_zone`.
Customer overrides and invoice controls are in `integration.web.customer_settings`, the reply address and
each stage's wording in `integration.web.wording`: blueprints of their own under the same /settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.cycle.gather import load_snapshot
from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.owner.reply_address import (
    BadReplyAddress,
    confirm_reply_address,
    confirmed_reply_address,
    suggested_reply_address,
)
from integration.owner.stored_rules import has_own_rules, load_rules, save_rules
from integration.policy.actions import ActionKind, PlannedAction
from integration.policy.decide import decide
from integration.policy.rule_errors import RuleError
from integration.policy.rules import STAGES, Rules
from integration.store.connections import PROVIDER_NAMES
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.companies import selected_connection_id
from integration.web.company_rules import rules_scope
from integration.web.company_zone import company_zones
from integration.web.nav import add_nav_item
from integration.web.rule_words import error_summary
from integration.web.rules_form import (
    TypedStage,
    error_for,
    form_values,
    mixed_email_channels,
    parse_form,
    preview_inputs,
    typed_stage,
)
from integration.web.settings_sections import FIELDS, OBSERVE, SECTIONS, STAGE_TITLES
from reminders.content import RenderedEmail, render_reminder
from reminders.preview import SAMPLE_TERMS_DAYS, sample_context

bp = Blueprint("settings", __name__, url_prefix="/settings")

# Where each accounting system keeps its own reminders, so the owner can switch them off.
BUILT_IN_REMINDERS = {
    "quickbooks": "In QuickBooks Online: Settings (the gear) > Account and settings > Sales > Reminders: "
    "turn off Automatic invoice reminders, then Save.",
    "xero": "In Xero: your organisation's name > Settings > Invoice settings > Invoice Reminders: "
    'clear "Email customers when an invoice is", then Save.',
}
# The preview document is an email: inline styles are how emails are styled, and nothing else runs.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'"
TODAY_LIMIT = 300  # actions listed on the live confirmation page (all are counted)


def init_app(app: Flask) -> None:
    # The customer, time zone and email pages are settings pages too, on blueprints of their own.
    add_nav_item(app, "settings.rules", "Settings", also=("customer_settings", "company_zone", "wording"))


# --- the rules form ------------------------------------------------------------------------------


@bp.get("")
@owner_required
def rules() -> ResponseReturnValue:
    with runtime().sessions() as db:
        saved = load_rules(db, g.organization_id, selected_connection_id())
    return _rules_page(form_values(saved), {}, saved.mode, mixed=mixed_email_channels(saved))


@bp.post("")
@owner_required
def save() -> ResponseReturnValue:
    scope = selected_connection_id()
    with runtime().sessions() as db:
        mode = load_rules(db, g.organization_id, scope).mode
    asked_observe = OBSERVE in request.form
    parsed = parse_form(request.form, "observe" if asked_observe else mode)
    if parsed.rules is None:
        flash("Nothing was saved: please correct the fields marked below.", "error")
        return _rules_page(parsed.values, parsed.errors, mode), 400
    with transaction(runtime().sessions) as db:
        save_rules(db, g.organization_id, parsed.rules.to_json(), scope)
        if parsed.rules.mode != mode:
            _record_mode(db, parsed.rules.mode, scope)
    if mode == "observe" and not asked_observe:
        flash("Your rules are saved. Live mode is not on yet: review what it would do today, then switch.")
        return redirect(url_for("settings.live"))
    flash(
        "Observe mode is on: arpilot decides and logs, and sends nothing."
        if mode == "live" and asked_observe
        else "Your rules are saved."
    )
    return redirect(url_for("settings.rules"))


@bp.post("/preview")
@owner_required
def preview_typed() -> ResponseReturnValue:
    """The no-JavaScript preview: the page again as typed (nothing saved), with one stage's email."""
    shown = _stage_preview(request.form, request.form.get("preview", ""))
    with runtime().sessions() as db:
        mode = load_rules(db, g.organization_id, selected_connection_id()).mode
    parsed = parse_form(request.form, mode)
    return _rules_page(parsed.values, parsed.errors, mode, shown=shown)


def _rules_page(
    values: dict[str, Any], errors: dict[str, str], mode: str, *, mixed: bool = False, shown: StagePreview | None = None
) -> str:
    with runtime().sessions() as db:
        connections = _connections(db)
        organization = db.get(Organization, g.organization_id)
        assert organization is not None
        zones = company_zones(db, organization)
        scope = rules_scope(db, g.organization_id, selected_connection_id())
    return render_template(
        "settings/rules.html",
        sections=SECTIONS,
        values=values,
        errors=errors,
        summary=error_summary(errors),
        mode=mode,
        mixed=mixed,
        shown=shown,
        prompts=_built_in_prompts(connections),
        provider_names=_provider_names(connections),
        fields=FIELDS,
        sendgrid=runtime().settings.sendgrid_api_key is not None,
        company_zones=zones,
        scope=scope,
    )


# --- the email preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StagePreview:
    stage: str
    title: str
    channel: str
    email: RenderedEmail | None
    frame_url: str  # the HTML email as a document of its own
    error: tuple[str, str] | None = None  # the input to correct, and what is wrong with it


def _stage_preview(form: Any, stage: str) -> StagePreview:
    """`stage`'s email from the preview's inputs as typed in `form`, the saved rules filling any gap."""
    if stage not in STAGES:
        abort(404)
    with runtime().sessions() as db:
        saved = form_values(load_rules(db, g.organization_id, selected_connection_id()))
    inputs = {key: form[key] if key in form else str(saved[key]) for key in preview_inputs(stage)}
    frame_url = f"{url_for('settings.preview_document', stage=stage)}?{urlencode(inputs)}"
    try:
        typed = typed_stage(inputs, stage)
    except RuleError as exc:
        return StagePreview(stage, STAGE_TITLES[stage], "", None, frame_url, error_for(exc))
    return StagePreview(stage, STAGE_TITLES[stage], typed.channel, _render(typed), frame_url)


def _render(typed: TypedStage) -> RenderedEmail:
    with runtime().sessions() as db:
        organization = db.get(Organization, g.organization_id)
        connection = db.scalars(scoped(Connection, g.organization_id).order_by(Connection.id)).first()
    assert organization is not None  # owner_required saw the signed-in user's organization
    company = (connection.display_name if connection else "") or organization.name
    offset = typed.stage.offset_days
    # How late the sample invoice is on the day this stage goes out (check-in counts from issue).
    days = offset - SAMPLE_TERMS_DAYS if typed.stage.anchored_on_issue else offset
    sender = typed.sender
    context = sample_context(
        typed.stage.template,
        company_name=company,
        locale=organization.locale,
        currency=organization.base_currency,
        sender_name=sender.from_name or company,
        signature=sender.signature,
        reply_to=sender.reply_to or DEFAULT_FROM_ADDRESS,
        days_overdue=days,
        ways_to_pay=(),  # the reminders arpilot sends list none besides the pay-online links (ReminderComposer)
    )
    return render_reminder(context)


@bp.get("/preview/<stage>")
@owner_required
def preview_document(stage: str) -> ResponseReturnValue:
    """The stage's HTML email as typed (query: the form's inputs), shown in the preview frame."""
    shown = _stage_preview(request.args, stage)
    if shown.email is None:
        return render_template("settings/preview_error.html", shown=shown), 400
    return email_document(shown.email.html)


def email_document(html: str) -> ResponseReturnValue:
    """An email's HTML as a page of its own for a preview frame: styled inline, nothing runs."""
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/preview/<stage>.json")
@owner_required
def preview_json(stage: str) -> ResponseReturnValue:
    """Subject, text and the frame's address for the stage as typed (settings.js, as the owner types)."""
    shown = _stage_preview(request.args, stage)
    if shown.email is None:
        field, message = shown.error or ("", "")
        return jsonify({"stage": stage, "error": {"field": field, "message": message}}), 400
    return jsonify(
        {
            "stage": stage,
            "channel": shown.channel,
            "subject": shown.email.subject,
            "text": shown.email.text,
            "html_url": shown.frame_url,
        }
    )


# --- observe and live mode -----------------------------------------------------------------------


@dataclass(frozen=True)
class TodayLine:
    customer: str
    what: str
    reason: str
    not_before: dt.datetime | None


@dataclass(frozen=True)
class Today:
    """What one connection's cycle would do today in live mode."""

    connection: Connection
    counts: list[tuple[str, int]]
    lines: list[TodayLine]
    total: int


_KIND_WORDS = {
    ActionKind.SEND_REMINDER: ("email", "emails"),
    ActionKind.CREATE_CALL_TASK: ("call task for you", "call tasks for you"),
    ActionKind.ADD_NOTE: ("note written on an invoice", "notes written on invoices"),
    ActionKind.RESEND_INVOICE: ("invoice re-sent", "invoices re-sent"),
    ActionKind.SET_MID_MONTH_TERMS: ("customer moved to mid-month terms", "customers moved to mid-month terms"),
    ActionKind.CREDIT_HOLD_ON: ("customer put on credit hold", "customers put on credit hold"),
    ActionKind.CREDIT_HOLD_OFF: ("credit hold released", "credit holds released"),
    ActionKind.RECOMMEND_ESCALATION: ("next step for you to choose", "next steps for you to choose"),
    ActionKind.APPLY_CREDIT: ("credit for you to apply", "credits for you to apply"),
}


def _what(action: PlannedAction, provider: str) -> str:
    if action.kind is ActionKind.SEND_REMINDER:
        stage = STAGE_TITLES.get(action.stage or "", "Reminder")
        if action.payload.get("channel") == "accounting_system_email":
            return f"{stage}: {provider} emails the invoice to {', '.join(action.recipients)}"
        return f"{stage} email to {', '.join(action.recipients)}"
    return _KIND_WORDS[action.kind][0].capitalize()


def _today(db: Session, connection: Connection, rules: Rules, at: dt.datetime) -> Today:
    snapshot = load_snapshot(db, connection.id, at)
    actions = decide(snapshot, dataclasses.replace(rules, mode="live"), at)
    names = {c.provider_id: c.name for c in snapshot.customers}
    provider = PROVIDER_NAMES.get(connection.provider, connection.provider)
    counted = Counter(a.kind for a in actions)
    counts = [
        (_KIND_WORDS[kind][0 if n == 1 else 1], n)
        for kind, n in sorted(counted.items(), key=lambda kv: list(ActionKind).index(kv[0]))
    ]
    lines = [
        TodayLine(names.get(a.customer_id, a.customer_id), _what(a, provider), a.reason, a.not_before)
        for a in actions[:TODAY_LIMIT]
    ]
    return Today(connection, counts, lines, len(actions))


@bp.get("/live")
@owner_required
def live() -> ResponseReturnValue:
    return _live_page()


def _live_page(reply_error: str | None = None, typed_reply: str | None = None) -> ResponseReturnValue:
    at = now()
    scope = selected_connection_id()
    with runtime().sessions() as db:
        saved = load_rules(db, g.organization_id, scope)
        connections = _connections(db)
        # The companies these rules govern: the one chosen, or every one without rules of its own.
        governed = [
            c
            for c in connections
            if c.status is ConnectionStatus.ACTIVE
            and (c.id == scope if scope is not None else not has_own_rules(db, g.organization_id, c.id))
        ]
        today = [_today(db, c, saved, at) for c in governed]
        confirmed = confirmed_reply_address(db, g.organization_id)
        suggested = suggested_reply_address(db, g.organization_id)
    return render_template(
        "settings/live.html",
        mode=saved.mode,
        today=today,
        prompts=_built_in_prompts(connections),
        provider_names=_provider_names(connections),
        reply_confirmed=confirmed,
        reply_address=typed_reply if typed_reply is not None else (confirmed or suggested),
        reply_error=reply_error,
    ), 400 if reply_error else 200


@bp.post("/live")
@owner_required
def switch_to_live() -> ResponseReturnValue:
    # Customers' replies must reach someone before anything is sent: the owner confirms the address here.
    typed = request.form.get("reply_address")
    try:
        with transaction(runtime().sessions) as db:
            if typed is not None:
                confirm_reply_address(db, g.organization_id, typed, now())
            elif confirmed_reply_address(db, g.organization_id) is None:
                raise BadReplyAddress("confirm the address customers' replies are forwarded to")
    except BadReplyAddress as exc:
        flash("Live mode is not on yet: please correct the field marked below.", "error")
        return _live_page(str(exc), typed)
    _set_mode("live")
    flash("Live mode is on: from the next cycle arpilot sends reminders and writes notes as shown.")
    return redirect(url_for("settings.rules"))


@bp.post("/observe")
@owner_required
def switch_to_observe() -> ResponseReturnValue:
    _set_mode("observe")
    flash("Observe mode is on: arpilot decides and logs, and sends nothing.")
    return redirect(url_for("settings.rules"))


def _set_mode(mode: str) -> None:
    scope = selected_connection_id()
    with transaction(runtime().sessions) as db:
        saved = load_rules(db, g.organization_id, scope)
        if saved.mode != mode:
            save_rules(db, g.organization_id, {**saved.to_json(), "mode": mode}, scope)
            _record_mode(db, mode, scope)


def _record_mode(db: Session, mode: str, connection_id: int | None) -> None:
    """The switch goes into the activity log: the record shows from when arpilot acted (and for which
    company, when one company's own rules changed)."""
    message = (
        "Live mode switched on by the owner: arpilot sends reminders and writes notes."
        if mode == "live"
        else "Observe mode switched on by the owner: arpilot decides and logs, and sends nothing."
    )
    db.add(
        ActivityEntry(
            organization_id=g.organization_id,
            connection_id=connection_id,
            kind="mode_changed",
            message=message,
            details={"mode": mode},
        )
    )


# --- the accounting system's own reminders -------------------------------------------------------


@dataclass(frozen=True)
class BuiltInPrompt:
    connection_id: int
    provider: str
    where: str


def _connections(db: Session) -> list[Connection]:
    return list(db.scalars(scoped(Connection, g.organization_id).order_by(Connection.id)))


def _provider_names(connections: list[Connection]) -> str:
    names = sorted({PROVIDER_NAMES.get(c.provider, c.provider) for c in connections})
    return " and ".join(names) or "your accounting system"


def _built_in_prompts(connections: list[Connection]) -> list[BuiltInPrompt]:
    return [
        BuiltInPrompt(c.id, PROVIDER_NAMES.get(c.provider, c.provider), BUILT_IN_REMINDERS.get(c.provider, ""))
        for c in connections
        if c.status is not ConnectionStatus.DISCONNECTED and c.built_in_reminders_off_at is None
    ]


@bp.post("/built-in-reminders/<int:connection_id>")
@owner_required
def built_in_reminders_off(connection_id: int) -> ResponseReturnValue:
    with transaction(runtime().sessions) as db:
        connection = db.scalars(
            scoped(Connection, g.organization_id).where(Connection.id == connection_id)
        ).one_or_none()
        if connection is None:
            abort(404)
        connection.built_in_reminders_off_at = now()
    flash("Thanks: customers will hear only from arpilot.")
    back_to = "settings.live" if request.form.get("next") == "live" else "settings.rules"
    return redirect(url_for(back_to))
