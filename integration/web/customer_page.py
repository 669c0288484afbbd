"""The customer's page, opened from the link in every reminder: no sign-in, the link is the key.

`GET /c/<token>` shows the customer's open invoices with their aging and pay links, and the credit
policy to accept; `GET /c/<token>/invoices/<id>` one invoice with the three things a customer can
tell the owner about it (a date they will pay by, already paid, a dispute). A forged, expired or
revoked link, and any invoice not theirs, gets the same plain 404 that says nothing about why.
Requests are limited per address (`request_limits`, the `customer-page` group) and per link (here).
A customer has no session, so the forms carry a key derived from the link (`tokens.form_key`) in
place of the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from integration.customer.acceptance import (
    AcceptanceError,
    accept,
    current_policy,
    latest_acceptance,
    needs_acceptance,
    parse_signer,
)
from integration.customer.actions import (
    CustomerInputError,
    NotYourInvoice,
    Said,
    Statement,
    page_deps,
    parse_dispute,
    parse_paid,
    parse_promise,
    record_statement,
)
from integration.customer.plan_proposal import PlanOffer, parse_proposal, record_proposal
from integration.customer.reads import Account, find_invoice, listing, load_page, open_account
from integration.customer.tokens import LinkRefused, PageKey, form_key, forms_match, limit_key, read_link
from integration.owner.account_plans import stored_account_plan
from integration.owner.stored_rules import load_rules
from integration.store.db import transaction
from integration.web import request_limits
from integration.web.common import now, runtime
from integration.web.inputs import whole_number

bp = Blueprint("customer_page", __name__, url_prefix="/c")

# Per link, whatever the address: one customer reading and answering needs a few requests a minute.
LINK_LIMIT_KEY = "ARPILOT_CUSTOMER_LINK_LIMIT"
LINK_LIMIT = request_limits.Limit(30, 60)


@bp.before_request
def _limit_per_link() -> ResponseReturnValue | None:
    token = (request.view_args or {}).get("token")
    if not token:
        return None
    limit = current_app.config.get(LINK_LIMIT_KEY, LINK_LIMIT)
    return request_limits.refused(f"customer-link:{limit_key(token)}", limit, False, "requests", "This link")


def _closed() -> ResponseReturnValue:
    return render_template("customer_page/closed.html"), 404


def _key(token: str) -> PageKey | None:
    settings = runtime().settings
    try:
        return read_link(token, settings.secret_key, now(), dt.timedelta(days=settings.customer_link_days)).key
    except LinkRefused:
        return None


@bp.get("/<token>")
def show(token: str) -> ResponseReturnValue:
    return _page(token)


@bp.get("/<token>/invoices/<int:invoice_id>")
def invoice(token: str, invoice_id: int) -> ResponseReturnValue:
    return _invoice_page(token, invoice_id)


def _invoice_page(
    token: str,
    invoice_id: int,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[tuple[str, str], str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """One invoice and its forms; `typed` and `errors` redraw a refused form with what was typed beside the error."""
    key = _key(token)
    if key is None:
        return _closed()
    settings = runtime().settings
    with runtime().sessions() as session:
        account = open_account(session, key)
        if account is None:
            return _closed()
        shown = load_page(session, account, now())
    found = next((i for i in shown.invoices if i.row_id == invoice_id), None)
    if found is None:
        return _closed()
    return render_template(
        "customer_page/invoice.html",
        token=token,
        page=shown,
        invoice=found,
        form_key=form_key(token, settings.secret_key),
        with_session=current_app.config["SESSION_COOKIE_NAME"] in request.cookies,
        typed=typed or {},
        errors=errors or {},
    ), status


def _page(
    token: str,
    *,
    typed: dict[str, Any] | None = None,
    errors: dict[tuple[str, str], str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The page; `typed` and `errors` redraw a refused acceptance with what was typed beside the error."""
    key = _key(token)
    if key is None:
        return _closed()
    at = now()
    settings = runtime().settings
    with runtime().sessions() as session:
        account = open_account(session, key)
        if account is None:
            return _closed()
        shown = load_page(session, account, at)
        policy = current_policy(session, account.organization)
        latest = latest_acceptance(session, account.organization.id, account.connection.id, key.customer_id)
        recorded = _recorded_invoice(session, account)
        offer = PlanOffer.of(load_rules(session, account.organization.id).plans, account.today(at))
        plan = stored_account_plan(session, account.customer)
    ask = policy is not None and needs_acceptance(
        latest, policy.version, at, dt.timedelta(days=settings.policy_acceptance_days)
    )
    return render_template(
        "customer_page/page.html",
        token=token,
        page=shown,
        form_key=form_key(token, settings.secret_key),
        with_session=current_app.config["SESSION_COOKIE_NAME"] in request.cookies,
        listing=listing(shown.invoices, whole_number(request.args.get("page", "")) or 1),
        policy=policy,
        # Markup: written by the reminders environment, which autoescapes every value.
        policy_body=Markup(policy.document.body_html) if policy else None,
        acceptance=latest,
        ask_acceptance=ask,
        recorded=recorded,
        typed=typed or {},
        errors=errors or {},
        zone=ZoneInfo(account.timezone),
        offer=offer,
        plan=plan,
        today=account.today(at),
    ), status


def _recorded_invoice(session: Any, account: Account) -> tuple[str, str] | None:
    """(what, invoice number) after a recorded statement: the thank-you the page shows."""
    said, named = request.args.get("recorded"), request.args.get("invoice", "")
    if said in ("policy", "plan"):
        return (said, "")
    if said not in {s.value for s in Said} or not named.isdigit():
        return None
    found = find_invoice(session, account, int(named))
    return (said, found.number) if found is not None else None


def _checked_form(token: str) -> PageKey | None:
    """The link's key when the form came from this link's page; None otherwise (answered like a bad link)."""
    key = _key(token)
    if key is None or not forms_match(token, runtime().settings.secret_key, request.form.get("form_key", "")):
        return None
    return key


@bp.post("/<token>/invoices/<int:invoice_id>/<said>")
def tell(token: str, invoice_id: int, said: str) -> ResponseReturnValue:
    key = _checked_form(token)
    if key is None or said not in {s.value for s in Said}:
        return _closed()
    form = request.form
    typed = {field: form.get(field, "") for field in ("paid_on", "amount", "reference", "reason", "promised_on")}
    with runtime().sessions() as session:
        account = open_account(session, key)
        found = find_invoice(session, account, invoice_id) if account is not None else None
        if account is None or found is None:
            return _closed()
        today = account.today(now())
        latest = load_page(session, account, now()).promise_limit
        currency = found.currency
    try:
        statement = _statement(Said(said), typed, today, latest, currency)
        record_statement(page_deps(runtime(), now), key, invoice_id, statement, request.remote_addr)
    except CustomerInputError as exc:
        return _invoice_page(token, invoice_id, typed=typed, errors={(said, exc.field): exc.message}, status=400)
    except NotYourInvoice:
        return _closed()
    return redirect(url_for(".show", token=token, recorded=said, invoice=invoice_id) + "#thanks", 303)


def _statement(said: Said, typed: dict[str, str], today: dt.date, latest: dt.date, currency: str) -> Statement:
    if said is Said.PAID:
        return parse_paid(typed["paid_on"], typed["amount"], typed["reference"], today, currency)
    if said is Said.DISPUTE:
        return parse_dispute(typed["reason"])
    return parse_promise(typed["promised_on"], today, latest)


@bp.post("/<token>/plan")
def propose_plan(token: str) -> ResponseReturnValue:
    """The customer's payment plan over their open invoices, within the owner's limits (`plan_proposal`)."""
    key = _checked_form(token)
    if key is None:
        return _closed()
    typed = {"said": "plan", "count": request.form.get("count", ""), "first": request.form.get("first", "")}
    with runtime().sessions() as session:
        account = open_account(session, key)
        if account is None:
            return _closed()
        today = account.today(now())
        offer = PlanOffer.of(load_rules(session, account.organization.id).plans, today)
    if offer.max_instalments == 0:
        return _closed()
    try:
        record_proposal(page_deps(runtime(), now), key, parse_proposal(typed["count"], typed["first"], today, offer))
    except CustomerInputError as exc:
        return _page(token, typed=typed, errors={("plan", exc.field): exc.message}, status=400)
    except LookupError:
        return _closed()
    return redirect(url_for(".show", token=token, recorded="plan") + "#thanks", 303)


@bp.post("/<token>/policy")
def accept_policy(token: str) -> ResponseReturnValue:
    key = _checked_form(token)
    if key is None:
        return _closed()
    typed = {"name": request.form.get("name", ""), "title": request.form.get("title", "")}
    try:
        name, title = parse_signer(typed["name"], typed["title"])
        with transaction(runtime().sessions) as session:
            account = open_account(session, key)
            if account is None:
                return _closed()
            policy = current_policy(session, account.organization)
            if policy is None:
                return _closed()
            if request.form.get("version") != policy.version:
                raise AcceptanceError(
                    "version", "The credit policy changed while the page was open. Please read it again below."
                )
            accept(session, account, policy.version, name, title, request.remote_addr, now())
    except AcceptanceError as exc:
        return _page(token, typed={"said": "policy", **typed}, errors={("policy", exc.field): exc.message}, status=400)
    return redirect(url_for(".show", token=token, recorded="policy") + "#thanks", 303)
