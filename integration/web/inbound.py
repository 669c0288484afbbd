"""`POST /inbound/sendgrid`: SendGrid's Inbound Parse webhook, the way customers' replies arrive.

SendGrid posts each email as multipart/form-data. The URL is protected by HTTP basic auth whose
password is ARPILOT_INBOUND_SECRET (SendGrid keeps credentials written into the URL,
https://arpilot:<secret>@host/inbound/sendgrid); anything else is refused with 401 before the body
is read. Answers: 200 with what became of the email (a reply, an automatic reply, unmatched: all
kept); 400 for a body that is no Inbound Parse form (kept too, with the reason); 413 for a body
over the limit; 503 while no secret is configured. SendGrid retries only 5xx answers, so an
email is never refused in a way that would bring it back forever.
"""

from __future__ import annotations

import dataclasses
import hmac

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from integration.inbound.ingest import inbound_deps, receive, record_unreadable
from integration.inbound.mail import UnreadableForm, parse_sendgrid_form
from integration.web import common
from integration.web.inputs import RAW_BODY_ENDPOINTS
from integration.web.security import BODY_LIMITS

bp = Blueprint("inbound", __name__)
INBOUND_MAX_BYTES = 32 * 1024 * 1024  # SendGrid posts messages of up to 30 MB


def init_app(app: Flask) -> None:
    app.config.setdefault(BODY_LIMITS, {}).setdefault("inbound.sendgrid", INBOUND_MAX_BYTES)
    app.config.setdefault(RAW_BODY_ENDPOINTS, set()).add("inbound.sendgrid")  # every byte kept, NULs too


@bp.post("/inbound/sendgrid")
def sendgrid() -> ResponseReturnValue:
    secret = common.runtime().settings.inbound_secret
    if secret is None:
        return jsonify({"error": "inbound mail is not configured: set ARPILOT_INBOUND_SECRET"}), 503
    given = request.authorization.password if request.authorization else None
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        response = jsonify({"error": "wrong or missing credentials"})
        response.headers["WWW-Authenticate"] = 'Basic realm="arpilot inbound mail"'
        return response, 401
    body = request.get_data(cache=False)
    deps = dataclasses.replace(inbound_deps(common.runtime()), clock=common.now)
    try:
        mail = parse_sendgrid_form(body, request.content_type or "")
    except UnreadableForm as exc:
        kept = record_unreadable(deps, body, "sendgrid", str(exc))
        return jsonify({"status": kept.status, "reply_id": kept.reply_id, "error": str(exc)}), 400
    result = receive(deps, mail, "sendgrid")
    return jsonify({"status": result.status, "reply_id": result.reply_id, "detail": result.detail})
