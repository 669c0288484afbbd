"""The Accounting API v3 under `/v3/company/<realm>/`: query, read, write, send, CDC, batch.

Every call: Bearer token (401 + fault 3200 when expired, revoked or unknown), realm check, the
per-realm minute limit (batch items count one each), the batch limit per realm+app, and the
concurrency gate (429 + fault 3001). Writes honour `requestid`: the first response is stored and
replayed, with no second effect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from connectors.quickbooks.sandbox import errors, writes
from connectors.quickbooks.sandbox.app import ACCOUNTING_SCOPE, QboSandbox
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.errors import QboFault
from connectors.quickbooks.sandbox.schema import BY_PATH, ENTITIES, READABLE_BY_PATH
from connectors.sandbox.idempotency import StoredResponse
from connectors.sandbox.limits import Limit
from connectors.sandbox.tokens import TokenRejected

MINUTE = dt.timedelta(minutes=1)
MIN_MINOR_VERSION = 75


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(current_app.json.dumps(payload), status=status, mimetype="application/json")


def _envelope(company: Company | None, payload: dict[str, Any]) -> dict[str, Any]:
    stamp = company.response_time() if company else current_app.extensions["qbo_sandbox"].clock.now().isoformat()
    return {**payload, "time": stamp}


def _fault_response(fault: QboFault, company: Company | None) -> Response:
    return _json(_envelope(company, {"Fault": fault.fault()}), fault.status)


def _include() -> frozenset[str]:
    return frozenset(part.strip().lower() for part in request.args.get("include", "").split(",") if part.strip())


def _parse_body() -> Any:
    raw = request.get_data()
    if not raw:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.QboFault(
            errors.INVALID_PROPERTY,
            "Request has invalid or unsupported property",
            f"Error parsing the request body: {exc}",
        ) from exc


def make_blueprint(sandbox: QboSandbox) -> Blueprint:
    bp = Blueprint("qbo_api", __name__, url_prefix="/v3/company/<realm>")
    runtime = sandbox.runtime

    @bp.errorhandler(QboFault)
    def _fault(fault: QboFault) -> ResponseReturnValue:
        return _fault_response(fault, getattr(g, "company", None))

    @bp.before_request
    def _gate() -> ResponseReturnValue | None:
        realm = (request.view_args or {}).get("realm", "")
        header = request.headers.get("Authorization", "")
        try:
            grant = sandbox.authority.authenticate(header[7:] if header.startswith("Bearer ") else "")
        except TokenRejected as exc:
            return _fault_response(errors.authentication_failed(f"Token rejected: {exc}"), None)
        company = sandbox.company(realm)
        if grant.subject != realm or company is None or ACCOUNTING_SCOPE not in grant.scopes:
            return _fault_response(
                errors.QboFault(
                    errors.AUTHORIZATION_FAILURE,
                    "Authorization Failure",
                    "AuthorizationFailure: the token does not grant access to this company's accounting data",
                    status=403,
                    fault_type="AuthorizationFault",
                ),
                None,
            )
        g.company = company
        company.link_base = request.host_url.rstrip("/")
        minor = request.args.get("minorversion", str(MIN_MINOR_VERSION))
        if not minor.isdigit():
            return _fault_response(errors.invalid("minorversion", f"is not a number: {minor!r}"), company)
        limits = runtime.limits
        is_batch = request.path.endswith("/batch")
        cost = _batch_size() if is_batch else 1
        refused = runtime.limiter.hit(
            realm, [Limit("requests-per-minute", limits["requests_per_minute"], MINUTE)], cost
        )
        if refused is None and is_batch:
            refused = runtime.limiter.hit(
                f"{realm}:{grant.client_id}:batch",
                [Limit("batch-requests-per-minute", limits["batch_requests_per_minute"], MINUTE)],
            )
        if refused is None and not runtime.gate.enter(realm, limits["concurrent_requests"]):
            refused = Limit("concurrent-requests", limits["concurrent_requests"], MINUTE)
        elif refused is None:
            g.gate_key = realm
        if refused is not None:
            runtime.counter.throttled(refused.name)
            return _fault_response(
                errors.throttled(f"The request limit was reached ({refused.name}: {refused.maximum})."), company
            )
        return None

    @bp.teardown_request
    def _leave(exc: BaseException | None) -> None:
        key = g.pop("gate_key", None)
        if key is not None:
            runtime.gate.leave(key)

    def _batch_size() -> int:
        try:
            items = json.loads(request.get_data() or b"{}").get("BatchItemRequest")
        except (ValueError, AttributeError):
            return 1
        return max(len(items), 1) if isinstance(items, list) else 1

    def _idempotent(effect: Callable[[], dict[str, Any]]) -> Response:
        """Run a write once per `requestid`; a repeat gets the stored response, faults included."""
        company: Company = g.company

        def run() -> StoredResponse:
            try:
                body, status = _envelope(company, effect()), 200
            except QboFault as fault:
                body, status = _envelope(company, {"Fault": fault.fault()}), fault.status
            return StoredResponse(status, current_app.json.dumps(body).encode("utf-8"), "application/json")

        request_id = request.args.get("requestid")
        if request_id:
            stored, _ = runtime.idempotency.run_once(f"{company.realm_id}:{request_id}", run)
        else:
            stored = run()
        return Response(stored.body, status=stored.status, mimetype=stored.content_type)

    @bp.route("/query", methods=["GET", "POST"])
    def query(realm: str) -> ResponseReturnValue:
        text = request.args.get("query", "") if request.method == "GET" else request.get_data(as_text=True)
        company: Company = g.company
        with company.lock:
            return _json(_envelope(company, {"QueryResponse": company.query(text, include=_include())}))

    @bp.get("/<entity_path>/<entity_id>")
    def read(realm: str, entity_path: str, entity_id: str) -> ResponseReturnValue:
        spec = READABLE_BY_PATH.get(entity_path)
        if spec is None:
            raise errors.QboFault(
                errors.UNSUPPORTED_OPERATION,
                "Unsupported Operation",
                f"Operation {entity_path} is not supported by the sandbox",
                status=400,
            )
        company: Company = g.company
        with company.lock:
            return _json(_envelope(company, {spec.name: company.read(spec.name, entity_id, include=_include())}))

    @bp.post("/<entity_path>")
    def write(realm: str, entity_path: str) -> ResponseReturnValue:
        spec = BY_PATH.get(entity_path)
        if spec is None:
            raise errors.QboFault(
                errors.UNSUPPORTED_OPERATION,
                "Unsupported Operation",
                f"Operation {entity_path} is not supported by the sandbox",
            )
        operation = request.args.get("operation", "")
        company: Company = g.company
        body = _parse_body()
        include = _include()

        def effect() -> dict[str, Any]:
            return {spec.name: _apply(company, spec.name, operation, body, include)}

        return _idempotent(effect)

    @bp.post("/invoice/<invoice_id>/send")
    def send(realm: str, invoice_id: str) -> ResponseReturnValue:
        company: Company = g.company
        send_to = request.args.get("sendTo")
        return _idempotent(lambda: {"Invoice": writes.send_invoice(company, invoice_id, send_to)})

    @bp.get("/cdc")
    def cdc(realm: str) -> ResponseReturnValue:
        company: Company = g.company
        names = [n.strip() for n in request.args.get("entities", "").split(",") if n.strip()]
        if not names:
            raise errors.required("entities")
        since = request.args.get("changedSince", "")
        if not since:
            raise errors.required("changedSince")
        with company.lock:
            return _json(_envelope(company, {"CDCResponse": [{"QueryResponse": company.cdc(names, since)}]}))

    @bp.post("/batch")
    def batch(realm: str) -> ResponseReturnValue:
        company: Company = g.company
        body = _parse_body()
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise errors.required("BatchItemRequest")
        maximum = runtime.limits["batch_max_items"]
        if len(items) > maximum:
            raise errors.QboFault(
                errors.INVALID_PROPERTY,
                "Request has invalid or unsupported property",
                f"Batch request has {len(items)} items; the maximum is {maximum}.",
                element="BatchItemRequest",
            )

        def effect() -> dict[str, Any]:
            return {"BatchItemResponse": [_batch_item(company, item) for item in items]}

        return _idempotent(effect)

    return bp


def _apply(company: Company, entity: str, operation: str, body: Any, include: frozenset[str]) -> dict[str, Any]:
    if operation in ("", "create", "update"):
        if operation == "update" and "void" in include:
            raise errors.QboFault(
                errors.UNSUPPORTED_OPERATION,
                "Unsupported Operation",
                f"Void of {entity} is not emulated by the sandbox",
            )
        return writes.save(company, entity, body, include=include)
    if operation == "delete":
        return writes.delete(company, entity, body)
    if operation == "void" and entity == "Invoice":
        return writes.void_invoice(company, body)
    raise errors.QboFault(
        errors.UNSUPPORTED_OPERATION, "Unsupported Operation", f"Operation {operation} is not supported for {entity}"
    )


def _batch_item(company: Company, item: Any) -> dict[str, Any]:
    bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
    try:
        if not isinstance(item, dict) or not bid:
            raise errors.required("bId")
        if "Query" in item:
            return {"bId": bid, "QueryResponse": company.query(str(item["Query"]))}
        names = [name for name in ENTITIES if name in item]
        if len(names) != 1:
            raise errors.invalid("BatchItemRequest", "each item needs exactly one entity or a Query")
        operation = str(item.get("operation", "create"))
        include = frozenset({"void"}) if item.get("optionsData") == "void" else frozenset()
        if operation == "update" and item.get("optionsData") == "void" and names[0] == "Invoice":
            operation = "void"
        if operation not in ("create", "update", "delete", "void"):
            raise errors.invalid("operation", f"is not create, update or delete: {operation!r}")
        return {"bId": bid, names[0]: _apply(company, names[0], operation, item[names[0]], include)}
    except QboFault as fault:
        return {"bId": bid, "Fault": fault.fault()}
