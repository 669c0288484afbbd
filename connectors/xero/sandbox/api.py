"""Accounting API 2.0 under `/api.xro/2.0`: the gate every call passes, the envelope, and the routes.

The gate: Bearer token (401 problem when unknown, expired or revoked), `xero-tenant-id` naming an
organisation the token's grant is connected to (403 otherwise), the scope the endpoint needs
(403), then the limits: 5 concurrent calls per tenant, 60 a minute and 5000 a day per tenant,
10,000 a minute per app (429 with Retry-After and X-Rate-Limit-Problem). Every tenant response
carries X-DayLimit-Remaining, X-MinLimit-Remaining and X-AppMinLimit-Remaining. Writes honour the
`Idempotency-Key` header: within the window a repeat gets the stored response and no second effect.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from connectors.sandbox.idempotency import StoredResponse
from connectors.sandbox.limits import Limit
from connectors.sandbox.tokens import TokenRejected
from connectors.xero.sandbox import credits as credit_kinds
from connectors.xero.sandbox import errors, msdate, sales, writes
from connectors.xero.sandbox.app import XeroSandbox
from connectors.xero.sandbox.listing import ListRequest, select
from connectors.xero.sandbox.org import CONTACT_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS, Organisation

PREFIX = "/api.xro/2.0"
MAX_IDEMPOTENCY_KEY = 128
# The scopes that open each family of endpoints (classic and granular); writes need a non-.read one.
FAMILY_SCOPES = {
    "Invoices": ("accounting.transactions", "accounting.invoices"),
    "Payments": ("accounting.transactions", "accounting.payments"),
    "CreditNotes": ("accounting.transactions", "accounting.invoices"),
    "Overpayments": ("accounting.transactions", "accounting.payments"),
    "Prepayments": ("accounting.transactions", "accounting.payments"),
    "Contacts": ("accounting.contacts",),
    "ContactGroups": ("accounting.contacts",),
    "Organisation": ("accounting.settings",),
}


def _truthy(name: str) -> bool:
    return request.args.get(name, "").lower() == "true"


def _csv(name: str) -> list[str]:
    return [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]


def _limits(sandbox: XeroSandbox) -> dict[str, Limit]:
    import datetime as dt

    values = sandbox.runtime.limits
    return {
        "minute": Limit("minute", values["calls_per_minute"], dt.timedelta(minutes=1)),
        "day": Limit("day", values["calls_per_day"], dt.timedelta(days=1)),
        "appminute": Limit("appminute", values["app_calls_per_minute"], dt.timedelta(minutes=1)),
    }


def make_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_api", __name__, url_prefix=PREFIX)
    runtime = sandbox.runtime
    app_key = f"app:{sandbox.config.client_id}"

    def envelope(payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": sandbox.config.app_name,
            "DateTimeUTC": msdate.envelope_instant(sandbox.clock.now()),
            **payload,
        }

    def ok(payload: dict[str, Any]) -> Response:
        return Response(current_app.json.dumps(envelope(payload)), status=200, mimetype="application/json")

    def error_response(exc: errors.XeroError) -> Response:
        body = exc.body()
        if isinstance(body, str):
            return Response(body, status=exc.status, mimetype="text/plain")
        return Response(current_app.json.dumps(body), status=exc.status, mimetype="application/json")

    @bp.errorhandler(errors.XeroError)
    def _xero_error(exc: errors.XeroError) -> ResponseReturnValue:
        return error_response(exc)

    @bp.errorhandler(404)
    def _unknown(exc: Exception) -> ResponseReturnValue:
        return error_response(errors.NotFound())

    def throttled(limit: str, retry_after: int) -> Response:
        runtime.counter.throttled(limit)
        response = Response(f"You've exceeded the per {limit} rate limit", status=429, mimetype="text/plain")
        response.headers["Retry-After"] = str(retry_after)
        response.headers["X-Rate-Limit-Problem"] = limit
        return response

    @bp.before_request
    def _gate() -> ResponseReturnValue | None:
        sandbox.public_base = request.host_url.rstrip("/")
        header = request.headers.get("Authorization", "")
        try:
            grant = sandbox.authority.authenticate(header[7:].strip() if header.startswith("Bearer ") else "")
        except TokenRejected as exc:
            raise errors.unauthorized(
                "TokenExpired: token expired" if "expired" in str(exc) else "AuthenticationUnsuccessful"
            ) from exc
        tenant = request.headers.get("xero-tenant-id", "").strip().lower()
        org = sandbox.organisations.get(tenant)
        if not tenant or org is None or not sandbox.reachable(grant, tenant):
            raise errors.forbidden("AuthenticationUnsuccessful")
        family = request.path[len(PREFIX) + 1 :].split("/", 1)[0]
        wanted = FAMILY_SCOPES.get(family, ())
        accepted = set(wanted) if request.method != "GET" else set(wanted) | {f"{s}.read" for s in wanted}
        if not accepted & set(grant.scopes):
            raise errors.forbidden("AuthorizationUnsuccessful")
        org.link_base = sandbox.public_base
        g.tenant = tenant
        values = runtime.limits
        if not runtime.gate.enter(tenant, values["concurrent_calls"]):
            return throttled("concurrent", 1)
        g.gate_key = tenant
        limits = _limits(sandbox)
        refused = runtime.limiter.hit(tenant, [limits["minute"], limits["day"]])
        if refused is None:
            refused = runtime.limiter.hit(app_key, [limits["appminute"]])
        if refused is not None:
            return throttled(refused.name, runtime.limiter.retry_after(refused))
        g.org = org
        return None

    @bp.after_request
    def _remaining(response: Response) -> Response:
        tenant = g.get("tenant")
        if tenant:
            limits = _limits(sandbox)
            response.headers["X-DayLimit-Remaining"] = str(runtime.limiter.remaining(tenant, limits["day"]))
            response.headers["X-MinLimit-Remaining"] = str(runtime.limiter.remaining(tenant, limits["minute"]))
            response.headers["X-AppMinLimit-Remaining"] = str(runtime.limiter.remaining(app_key, limits["appminute"]))
        return response

    @bp.teardown_request
    def _leave(exc: BaseException | None) -> None:
        key = g.pop("gate_key", None)
        if key is not None:
            runtime.gate.leave(key)

    def body_json() -> Any:
        raw = request.get_data()
        try:
            return json.loads(raw, parse_float=Decimal) if raw else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.PostDataInvalid(f"Invalid Json data: {exc}") from exc

    def idempotent(effect: Callable[[Organisation], tuple[int, dict[str, Any] | None]]) -> Response:
        """Run a write once per Idempotency-Key (per tenant, within the window); errors are stored too."""
        org: Organisation = g.org

        def run() -> StoredResponse:
            try:
                with org.lock:
                    status, payload = effect(org)
                body = current_app.json.dumps(envelope(payload)).encode("utf-8") if payload is not None else b""
                return StoredResponse(status, body, "application/json")
            except errors.XeroError as exc:
                failed = error_response(exc)
                return StoredResponse(exc.status, failed.get_data(), failed.mimetype or "application/json")

        key = request.headers.get("Idempotency-Key")
        if key is None:
            stored = run()
        else:
            if not key or len(key) > MAX_IDEMPOTENCY_KEY:
                raise errors.ValidationFailed([f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"])
            stored, _ = runtime.idempotency.run_once(
                f"{org.tenant_id}:{key}", run, now=sandbox.clock.now(), window=sandbox.config.idempotency_window
            )
        return Response(stored.body, status=stored.status, mimetype=stored.content_type)

    @bp.get("/Organisation")
    def organisation() -> ResponseReturnValue:
        org: Organisation = g.org
        return ok({"Organisations": [org.render_organisation()]})

    # -- invoices --------------------------------------------------------------------------------
    @bp.get("/Invoices")
    def invoices() -> ResponseReturnValue:
        org: Organisation = g.org
        summary = _truthy("summaryOnly")
        query = ListRequest.from_request(request.args, request.headers, force_paging=summary)
        ids, numbers = {i.lower() for i in _csv("IDs")}, set(_csv("InvoiceNumbers"))
        contacts, statuses = {c.lower() for c in _csv("ContactIDs")}, set(_csv("Statuses"))
        term = request.args.get("searchTerm", "").lower()
        with org.lock:
            chosen, pagination = select(
                org.listing("invoices"),
                lambda r: (
                    (not ids or r["InvoiceID"] in ids)
                    and (not numbers or r["InvoiceNumber"] in numbers)
                    and (not contacts or r["_contact"] in contacts)
                    and (not statuses or org.invoice_status(r) in statuses)
                    and (not term or term in r["InvoiceNumber"].lower() or term in r.get("Reference", "").lower())
                ),
                INVOICE_FIELDS,
                query,
            )
            rendered = [org.render_invoice(r, lines=pagination is not None, summary=summary) for r in chosen]
        return ok({**({"pagination": pagination} if pagination else {}), "Invoices": rendered})

    def invoice_or_404(org: Organisation, invoice_id: str) -> dict[str, Any]:
        record = org.invoices.get(invoice_id.lower())
        if record is None:
            record = next((r for r in org.invoices.values() if r["InvoiceNumber"] == invoice_id), None)
        if record is None:
            raise errors.NotFound()
        return record

    @bp.get("/Invoices/<invoice_id>")
    def invoice(invoice_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            return ok({"Invoices": [org.render_invoice(invoice_or_404(org, invoice_id))]})

    @bp.put("/Invoices")
    def create_invoices() -> ResponseReturnValue:
        body = body_json()
        return idempotent(lambda org: (200, {"Invoices": sales.create_invoices(org, body)}))

    @bp.post("/Invoices/<invoice_id>")
    def update_invoice(invoice_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(
            lambda org: (200, {"Invoices": [sales.void_invoice(org, invoice_or_404(org, invoice_id), body)]})
        )

    @bp.get("/Invoices/<invoice_id>/History")
    def invoice_history(invoice_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            record = invoice_or_404(org, invoice_id)
            return ok({"HistoryRecords": [org.render_history(h) for h in org.history.get(record["InvoiceID"], [])]})

    @bp.put("/Invoices/<invoice_id>/History")
    def add_invoice_history(invoice_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(
            lambda org: (
                200,
                {"HistoryRecords": writes.add_history(org, invoice_or_404(org, invoice_id)["InvoiceID"], body)},
            )
        )

    @bp.post("/Invoices/<invoice_id>/Email")
    def email_invoice(invoice_id: str) -> ResponseReturnValue:
        body_json()  # `{}` or RequestEmpty; anything that is not JSON is a PostDataInvalid
        limit = runtime.limits["emails_per_day"]

        def effect(org: Organisation) -> tuple[int, None]:
            writes.email_invoice(org, invoice_or_404(org, invoice_id), limit)
            return 204, None

        return idempotent(effect)

    @bp.get("/Invoices/<invoice_id>/OnlineInvoice")
    def online_invoice(invoice_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            record = invoice_or_404(org, invoice_id)
            if record["Type"] != "ACCREC" or record["Status"] in ("DRAFT", "DELETED"):
                raise errors.ValidationFailed(
                    ["An online invoice can only be retrieved for an approved sales invoice"],
                    {"InvoiceID": record["InvoiceID"]},
                )
            return ok({"OnlineInvoices": [{"OnlineInvoiceUrl": org.online_invoice_url(record["InvoiceID"])}]})

    # -- contacts --------------------------------------------------------------------------------
    def contact_or_404(org: Organisation, contact_id: str) -> dict[str, Any]:
        record = org.contacts.get(contact_id.lower())
        if record is None:
            raise errors.NotFound()
        return record

    @bp.get("/Contacts")
    def contacts() -> ResponseReturnValue:
        org: Organisation = g.org
        summary = _truthy("summaryOnly")
        query = ListRequest.from_request(request.args, request.headers, force_paging=summary)
        ids = {i.lower() for i in _csv("IDs")}
        archived = _truthy("includeArchived")
        term = request.args.get("searchTerm", "").lower()
        with org.lock:
            chosen, pagination = select(
                org.listing("contacts"),
                lambda r: (
                    (not ids or r["ContactID"] in ids)
                    and (archived or r["ContactStatus"] != "ARCHIVED")
                    and (not term or term in r["Name"].lower() or term in r.get("EmailAddress", "").lower())
                ),
                CONTACT_FIELDS,
                query,
            )
            rendered = [org.render_contact(r, summary=summary) for r in chosen]
        return ok({**({"pagination": pagination} if pagination else {}), "Contacts": rendered})

    @bp.get("/Contacts/<contact_id>")
    def contact(contact_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            return ok({"Contacts": [org.render_contact(contact_or_404(org, contact_id))]})

    @bp.post("/Contacts/<contact_id>")
    def update_contact(contact_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(
            lambda org: (200, {"Contacts": [writes.update_contact(org, contact_or_404(org, contact_id), body)]})
        )

    @bp.get("/Contacts/<contact_id>/History")
    def contact_history(contact_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            record = contact_or_404(org, contact_id)
            return ok({"HistoryRecords": [org.render_history(h) for h in org.history.get(record["ContactID"], [])]})

    @bp.put("/Contacts/<contact_id>/History")
    def add_contact_history(contact_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(
            lambda org: (
                200,
                {"HistoryRecords": writes.add_history(org, contact_or_404(org, contact_id)["ContactID"], body)},
            )
        )

    # -- contact groups --------------------------------------------------------------------------
    def group_or_404(org: Organisation, group_id: str) -> dict[str, Any]:
        record = org.groups.get(group_id.lower())
        if record is None:
            raise errors.NotFound()
        return record

    @bp.get("/ContactGroups")
    def groups() -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            active = [r for r in org.groups.values() if r["Status"] == "ACTIVE"]
            return ok({"ContactGroups": [org.render_group(r, members=False) for r in active]})

    @bp.put("/ContactGroups")
    def create_groups() -> ResponseReturnValue:
        body = body_json()
        return idempotent(lambda org: (200, {"ContactGroups": writes.create_groups(org, body)}))

    @bp.get("/ContactGroups/<group_id>")
    def group(group_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            return ok({"ContactGroups": [org.render_group(group_or_404(org, group_id), members=True)]})

    @bp.post("/ContactGroups/<group_id>")
    def update_group(group_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(
            lambda org: (200, {"ContactGroups": [writes.update_group(org, group_or_404(org, group_id), body)]})
        )

    @bp.put("/ContactGroups/<group_id>/Contacts")
    def add_members(group_id: str) -> ResponseReturnValue:
        body = body_json()
        return idempotent(lambda org: (200, {"Contacts": writes.add_members(org, group_or_404(org, group_id), body)}))

    @bp.delete("/ContactGroups/<group_id>/Contacts")
    def remove_all_members(group_id: str) -> ResponseReturnValue:
        def effect(org: Organisation) -> tuple[int, None]:
            group_or_404(org, group_id)["_members"].clear()
            return 204, None

        return idempotent(effect)

    @bp.delete("/ContactGroups/<group_id>/Contacts/<contact_id>")
    def remove_member(group_id: str, contact_id: str) -> ResponseReturnValue:
        def effect(org: Organisation) -> tuple[int, None]:
            writes.remove_member(org, group_or_404(org, group_id), contact_id.lower())
            return 204, None

        return idempotent(effect)

    # -- payments --------------------------------------------------------------------------------
    @bp.get("/Payments")
    def payments() -> ResponseReturnValue:
        org: Organisation = g.org
        query = ListRequest.from_request(request.args, request.headers)
        with org.lock:
            chosen, pagination = select(org.listing("payments"), lambda r: True, PAYMENT_FIELDS, query)
            rendered = [org.render_payment(r) for r in chosen]
        return ok({**({"pagination": pagination} if pagination else {}), "Payments": rendered})

    @bp.get("/Payments/<payment_id>")
    def payment(payment_id: str) -> ResponseReturnValue:
        org: Organisation = g.org
        with org.lock:
            record = org.payments.get(payment_id.lower())
            if record is None:
                raise errors.NotFound()
            return ok({"Payments": [org.render_payment(record)]})

    @bp.route("/Payments", methods=["PUT", "POST"])
    def create_payments() -> ResponseReturnValue:
        body = body_json()
        wrapped = isinstance(body, dict) and "Payments" in body
        items = body["Payments"] if wrapped else [body]
        if not isinstance(items, list) or (request.method == "PUT" and not wrapped):
            raise errors.PostDataInvalid('The request body must be {"Payments": [...]}')
        return idempotent(lambda org: (200, {"Payments": writes.record_payments(org, items)}))

    # -- customers' credit: /CreditNotes, /Overpayments, /Prepayments (paging, If-Modified-Since, where) --
    def credit_listing(listing: str) -> Callable[[], Response]:
        fields = credit_kinds.BY_LISTING[listing].fields

        def listed() -> Response:
            org: Organisation = g.org
            query = ListRequest.from_request(request.args, request.headers)
            with org.lock:
                chosen, pagination = select(org.listing(listing), lambda r: True, fields, query)
                rendered = [org.render_credit(r) for r in chosen]
            return ok({**({"pagination": pagination} if pagination else {}), listing: rendered})

        return listed

    for listing in credit_kinds.BY_LISTING:
        bp.add_url_rule(f"/{listing}", endpoint=listing, view_func=credit_listing(listing), methods=["GET"])

    return bp
