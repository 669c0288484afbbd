"""QuickBooks routes of the `/_sandbox/` admin API (see README.md): companies and scenarios,
payments, minted tokens, and read-backs of notes, emails and terms. No authentication: the
sandbox only ever listens on loopback.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from connectors.quickbooks.sandbox import writes
from connectors.quickbooks.sandbox.app import ACCOUNTING_SCOPE, QboSandbox
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.errors import QboFault
from connectors.quickbooks.sandbox.schema import BY_PATH, ENTITIES
from connectors.sandbox.admin import AdminError, json_body
from connectors.sandbox.scenario import ScenarioError, generate_demo_company
from connectors.sandbox.scenario.model import parse_scenario


def add_routes(bp: Blueprint, sandbox: QboSandbox) -> None:
    def company_or_404(realm: str) -> Company:
        company = sandbox.company(realm)
        if company is None:
            abort(404, description=f"no company with realm id {realm}")
        return company

    def resolve(company: Company, kind: str, given: Any) -> str:
        """A QuickBooks id, given either that id or the scenario's id for it."""
        value = str(given)
        return company.scenario_ids.get(kind, {}).get(value, value)

    @bp.errorhandler(QboFault)
    def _fault(fault: QboFault) -> ResponseReturnValue:
        return jsonify(error=f"{fault.code} {fault.message}: {fault.detail}", fault=fault.fault()), 400

    @bp.get("/")
    def overview() -> ResponseReturnValue:
        base = request.host_url.rstrip("/")
        return jsonify(
            provider="quickbooks",
            client_id=sandbox.config.client_id,
            client_secret=sandbox.config.client_secret,
            discovery_url=sandbox.discovery_url(base),
            api_base=sandbox.api_base(base),
            verifier_token=sandbox.config.verifier_token,
            now=sandbox.clock.now().isoformat(),
            companies=[{"realm_id": r, "name": c.name} for r, c in sorted(sandbox.companies.items())],
        )

    @bp.get("/companies")
    def companies() -> ResponseReturnValue:
        return jsonify(
            companies=[
                {"realm_id": r, "name": c.name, "timezone": c.timezone, "currency": c.currency}
                for r, c in sorted(sandbox.companies.items())
            ]
        )

    @bp.post("/companies")
    def load() -> ResponseReturnValue:
        """Body: a scenario (arpilot-scenario/1), or {"demo": {"seed": 7, "as_of": "YYYY-MM-DD"}}.
        `?realm_id=` replaces that company; otherwise a new company is added."""
        data = json_body()
        try:
            if "demo" in data:
                options = data["demo"] or {}
                as_of = dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else sandbox.clock.now().date()
                scenario = generate_demo_company(seed=int(options.get("seed", 7)), as_of=as_of)
            else:
                scenario = parse_scenario(data)
        except (ScenarioError, ValueError, TypeError) as exc:
            raise AdminError(f"not a scenario: {exc}") from exc
        company = sandbox.load_scenario(scenario, request.args.get("realm_id") or None)
        return jsonify(realm_id=company.realm_id, name=company.name, ids=company.scenario_ids), 201

    @bp.get("/companies/<realm>/ids")
    def ids(realm: str) -> ResponseReturnValue:
        return jsonify(company_or_404(realm).scenario_ids)

    @bp.post("/companies/<realm>/payments")
    def record_payment(realm: str) -> ResponseReturnValue:
        """Body: {"invoice": id or scenario id, "amount": "12.50" (default: the whole balance), "date"?}."""
        company = company_or_404(realm)
        data = json_body()
        with company.lock:
            invoice = company.entities["Invoice"].get(resolve(company, "invoices", data.get("invoice")))
            if invoice is None:
                raise AdminError(f"no invoice {data.get('invoice')!r} in company {realm}")
            try:
                amount = Decimal(str(data["amount"])) if "amount" in data else company.invoice_balance(invoice)
            except InvalidOperation as exc:
                raise AdminError("amount must be a decimal number") from exc
            body = {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": amount,
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            }
            if data.get("date"):
                body["TxnDate"] = data["date"]
            payment = writes.save(company, "Payment", body)
            return jsonify(payment=payment, invoice=company.read("Invoice", invoice["Id"])), 201

    @bp.post("/tokens")
    def mint() -> ResponseReturnValue:
        """Body: {"realm_id": ..., "scopes": [...]} (default scope: accounting). Skips the consent page."""
        data = json_body()
        realm = str(data.get("realm_id", ""))
        company_or_404(realm)
        scopes = data.get("scopes") or [ACCOUNTING_SCOPE]
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise AdminError("scopes must be a list of strings")
        tokens = sandbox.authority.mint(sandbox.config.client_id, realm, tuple(scopes))
        return jsonify(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            x_refresh_token_expires_in=tokens.refresh_expires_in,
            token_type="bearer",
            realm_id=realm,
        ), 201

    @bp.get("/companies/<realm>/notes")
    def notes(realm: str) -> ResponseReturnValue:
        company = company_or_404(realm)
        with company.lock:
            return jsonify(
                invoices={i: r["PrivateNote"] for i, r in company.entities["Invoice"].items() if r.get("PrivateNote")},
                customers={i: r["Notes"] for i, r in company.entities["Customer"].items() if r.get("Notes")},
            )

    @bp.get("/companies/<realm>/emails")
    def emails(realm: str) -> ResponseReturnValue:
        return jsonify(emails=[e.to_json() for e in company_or_404(realm).sent_emails])

    @bp.get("/companies/<realm>/terms")
    def terms(realm: str) -> ResponseReturnValue:
        company = company_or_404(realm)
        with company.lock:
            return jsonify(terms=[company.render("Term", r) for r in company.entities["Term"].values()])

    @bp.get("/companies/<realm>/customer-terms")
    def customer_terms(realm: str) -> ResponseReturnValue:
        company = company_or_404(realm)
        with company.lock:
            answer = {}
            for customer_id, record in company.entities["Customer"].items():
                ref = record.get("SalesTermRef") or {}
                term = company.entities["Term"].get(str(ref.get("value")))
                answer[customer_id] = {"term_id": ref.get("value"), "name": term.get("Name") if term else None}
            return jsonify(answer)

    @bp.get("/companies/<realm>/<entity_path>/<entity_id>")
    def entity(realm: str, entity_path: str, entity_id: str) -> ResponseReturnValue:
        company = company_or_404(realm)
        spec = BY_PATH.get(entity_path)
        if spec is None:
            raise AdminError(f"entity must be one of {', '.join(sorted(BY_PATH))}")
        kind = {"Invoice": "invoices", "Customer": "customers", "Payment": "payments"}.get(spec.name, "")
        with company.lock:
            return jsonify(
                company.read(spec.name, resolve(company, kind, entity_id), include=frozenset({"invoicelink"}))
            )

    @bp.post("/companies/<realm>/notify")
    def notify(realm: str) -> ResponseReturnValue:
        """Body: {"entity": "Invoice", "id": "12", "operation": "Update"}: send one webhook notification now."""
        company = company_or_404(realm)
        data = json_body()
        if data.get("entity") not in ENTITIES or not data.get("id"):
            raise AdminError(f"entity must be one of {', '.join(ENTITIES)} and id is required")
        operation = data.get("operation", "Update")
        if operation not in ("Create", "Update", "Delete", "Void", "Merge"):
            raise AdminError("operation must be Create, Update, Delete, Void or Merge")
        if not sandbox.send_notification(company, data["entity"], str(data["id"]), operation):
            raise AdminError("no webhook URL is configured (POST /_sandbox/webhooks first)")
        return jsonify(queued=True), 202
