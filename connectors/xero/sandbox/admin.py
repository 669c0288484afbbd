"""Xero routes of the `/_sandbox/` admin API (see README.md): organisations and scenarios,
payments, minted tokens and connections, read-backs (history notes, emails, payment terms, group
memberships), webhook events and the intent-to-receive check. No authentication: the sandbox only
ever listens on loopback.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from connectors.sandbox.admin import AdminError, json_body
from connectors.sandbox.scenario import ScenarioError, generate_demo_company
from connectors.sandbox.scenario.model import parse_scenario
from connectors.xero.sandbox import errors, writes
from connectors.xero.sandbox.app import DEFAULT_SCOPES, XeroSandbox
from connectors.xero.sandbox.identity import SCOPES, connection_json
from connectors.xero.sandbox.org import Organisation

INTENT_ATTEMPTS = (True, False, True, False)  # correctly signed?  Xero mixes good and bad signatures


def add_routes(bp: Blueprint, sandbox: XeroSandbox) -> None:
    def org_or_404(key: str) -> Organisation:
        org = sandbox.organisation(key)
        if org is None:
            abort(404, description=f"no organisation {key!r} (give a tenant id or a short code such as demo)")
        return org

    def resolve(org: Organisation, kind: str, given: Any) -> str:
        """An id, given the id itself or the scenario's id for it."""
        value = str(given)
        return org.scenario_ids.get(kind, {}).get(value, value).lower()

    @bp.errorhandler(errors.XeroError)
    def _xero_error(exc: errors.XeroError) -> ResponseReturnValue:
        return jsonify(error=str(exc) or type(exc).__name__, body=exc.body()), 400

    @bp.get("/")
    def overview() -> ResponseReturnValue:
        base = request.host_url.rstrip("/")
        config = sandbox.config
        return jsonify(
            provider="xero",
            client_id=config.client_id,
            client_secret=config.client_secret,
            authorize_url=sandbox.authorize_url(base),
            token_url=sandbox.token_url(base),
            revocation_url=f"{base}/connect/revocation",
            userinfo_url=f"{base}/connect/userinfo",
            connections_url=f"{base}/connections",
            accounting_base=sandbox.accounting_base(base),
            webhook_key=config.webhook_key,
            now=sandbox.clock.now().isoformat(),
            organisations=[_org_json(o) for o in sandbox.organisations.values()],
        )

    @bp.get("/organisations")
    def organisations() -> ResponseReturnValue:
        return jsonify(organisations=[_org_json(o) for o in sandbox.organisations.values()])

    @bp.post("/organisations")
    def load() -> ResponseReturnValue:
        """Body: a scenario, or {"demo": {"seed": 7, "as_of": "YYYY-MM-DD"}}; `?short_code=` names
        the organisation (an existing one is replaced, keeping its ids)."""
        data = json_body()
        short_code = request.args.get("short_code") or f"org{len(sandbox.organisations) + 1}"
        try:
            if "demo" in data:
                options = data["demo"] or {}
                as_of = dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else sandbox.clock.now().date()
                scenario = generate_demo_company(seed=int(options.get("seed", 7)), as_of=as_of)
            else:
                scenario = parse_scenario(data)
        except (ScenarioError, ValueError, TypeError, KeyError) as exc:
            raise AdminError(f"not a scenario: {exc}") from exc
        org = sandbox.load_scenario(scenario, short_code)
        return jsonify(**_org_json(org), ids=org.scenario_ids), 201

    @bp.get("/organisations/<key>/ids")
    def ids(key: str) -> ResponseReturnValue:
        return jsonify(org_or_404(key).scenario_ids)

    @bp.post("/organisations/<key>/payments")
    def record_payment(key: str) -> ResponseReturnValue:
        """Body: {"invoice": id, scenario id or number, "amount": "12.50" (default: all due), "date"?}."""
        org = org_or_404(key)
        data = json_body()
        with org.lock:
            invoice_id = resolve(org, "invoices", data.get("invoice"))
            invoice = org.invoices.get(invoice_id) or next(
                (r for r in org.invoices.values() if r["InvoiceNumber"] == str(data.get("invoice"))), None
            )
            if invoice is None:
                raise AdminError(f"no invoice {data.get('invoice')!r} in {org.short_code}")
            item = {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                "Account": {"Code": "090"},
                "Amount": str(data.get("amount", org.amount_due(invoice))),
                "Reference": "sandbox admin",
            }
            if data.get("date"):
                item["Date"] = data["date"]
            payment = writes.record_payments(org, [item])[0]
            return jsonify(payment=payment, invoice=org.render_invoice(invoice)), 201

    @bp.post("/tokens")
    def mint() -> ResponseReturnValue:
        """Body: {"tenants": [tenant ids or short codes], "scopes": [...]}: tokens and connections
        without the consent page (default: every organisation, offline access and accounting)."""
        data = json_body()
        keys = data.get("tenants") or list(sandbox.organisations)
        scopes = data.get("scopes") or list(DEFAULT_SCOPES)
        if not isinstance(keys, list) or not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise AdminError("tenants and scopes must be lists of strings")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise AdminError(f"unknown scopes: {', '.join(unknown)}")
        tenants = [org_or_404(str(k)).tenant_id for k in keys]
        tokens = sandbox.authority.mint(sandbox.config.client_id, sandbox.user.xero_userid, tuple(scopes))
        made = sandbox.connect(tokens.grant, tenants)
        return jsonify(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            token_type="Bearer",
            scope=" ".join(scopes),
            tenant_ids=tenants,
            auth_event_id=made[0].auth_event_id if made else None,
            connections=[connection_json(c, sandbox) for c in made],
        ), 201

    @bp.get("/connections")
    def connections() -> ResponseReturnValue:
        return jsonify(
            connections=[{**connection_json(c, sandbox), "grant": c.grant_id} for c in sandbox.connections.values()]
        )

    @bp.get("/organisations/<key>/history")
    def history(key: str) -> ResponseReturnValue:
        """History notes written through the API (`?all=true`: every history record)."""
        org = org_or_404(key)
        every = request.args.get("all", "").lower() == "true"
        with org.lock:
            out: dict[str, dict[str, list[dict[str, Any]]]] = {"invoices": {}, "contacts": {}}
            for entity_id, records in org.history.items():
                kept = [org.render_history(r) for r in records if every or r["Changes"] == "Note"]
                if kept:
                    out["invoices" if entity_id in org.invoices else "contacts"][entity_id] = kept
            return jsonify(out)

    @bp.get("/organisations/<key>/emails")
    def emails(key: str) -> ResponseReturnValue:
        return jsonify(emails=[e.to_json() for e in org_or_404(key).sent_emails])

    @bp.get("/organisations/<key>/payment-terms")
    def payment_terms(key: str) -> ResponseReturnValue:
        org = org_or_404(key)
        with org.lock:
            return jsonify({c["ContactID"]: c.get("PaymentTerms") for c in org.contacts.values()})

    @bp.get("/organisations/<key>/groups")
    def groups(key: str) -> ResponseReturnValue:
        org = org_or_404(key)
        with org.lock:
            return jsonify(
                groups=[
                    {
                        "id": g["ContactGroupID"],
                        "name": g["Name"],
                        "status": g["Status"],
                        "members": list(g["_members"]),
                    }
                    for g in org.groups.values()
                ]
            )

    @bp.get("/organisations/<key>/<kind>/<entity_id>")
    def entity(key: str, kind: str, entity_id: str) -> ResponseReturnValue:
        org = org_or_404(key)
        with org.lock:
            if kind == "invoices" and (record := org.invoices.get(resolve(org, kind, entity_id))):
                return jsonify(org.render_invoice(record))
            if kind == "contacts" and (record := org.contacts.get(resolve(org, kind, entity_id))):
                return jsonify(org.render_contact(record))
            if kind == "payments" and (record := org.payments.get(resolve(org, kind, entity_id))):
                return jsonify(org.render_payment(record))
        abort(404, description=f"no {kind} {entity_id!r} in {org.short_code} (kinds: invoices, contacts, payments)")

    @bp.post("/organisations/<key>/notify")
    def notify(key: str) -> ResponseReturnValue:
        """Body: {"category": "INVOICE" or "CONTACT", "id": ..., "type": "CREATE" or "UPDATE"}."""
        org = org_or_404(key)
        data = json_body()
        category, event_type = data.get("category"), data.get("type", "UPDATE")
        if category not in ("INVOICE", "CONTACT") or event_type not in ("CREATE", "UPDATE") or not data.get("id"):
            raise AdminError("category must be INVOICE or CONTACT, type CREATE or UPDATE, and id is required")
        if sandbox.runtime.webhooks.target is None:
            raise AdminError("no webhook URL is configured (POST /_sandbox/webhooks first)")
        kind = "invoices" if category == "INVOICE" else "contacts"
        event = sandbox.event(org, category, resolve(org, kind, data["id"]), event_type, sandbox.clock.now())
        sandbox.runtime.webhooks.send(sandbox.event_body([event]))
        return jsonify(queued=True), 202

    @bp.post("/webhooks/intent")
    def intent_to_receive() -> ResponseReturnValue:
        """Xero's intent-to-receive check: empty-`events` payloads, some deliberately mis-signed; the
        receiver passes when it answers 200 to every good signature and 401 to every bad one."""
        if sandbox.runtime.webhooks.target is None:
            raise AdminError("no webhook URL is configured (POST /_sandbox/webhooks first)")
        attempts = []
        for correctly_signed in INTENT_ATTEMPTS:
            delivery = sandbox.runtime.webhooks.deliver_now(sandbox.event_body([]), mis_sign=not correctly_signed)
            expected = 200 if correctly_signed else 401
            status = delivery.status if delivery else None
            attempts.append(
                {"correctly_signed": correctly_signed, "expected": expected, "status": status, "ok": status == expected}
            )
        return jsonify(passed=all(a["ok"] for a in attempts), attempts=attempts)


def _org_json(org: Organisation) -> dict[str, Any]:
    return {
        "tenant_id": org.tenant_id,
        "short_code": org.short_code,
        "name": org.name,
        "timezone": org.timezone,
        "currency": org.currency,
    }
