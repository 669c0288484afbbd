"""Security headers on every response the web app sends, the request body limit, and CSRF protection.

The pages use no inline script or style and load nothing from other origins, so the policy can be
strict: same-origin only, no framing (the marketplaces open arpilot in a new window, never a frame),
forms post only back to arpilot. HSTS is sent in production only, where TLS terminates in front of us;
on the embedded default (plain http on loopback) it would pin a browser to https that isn't there.

CSRF is checked on every unsafe request that carries the session cookie, i.e. every owner form (each
carries a Flask-WTF token). Machine callers (signed webhooks) send no cookie; a request without one has
no ambient authority to forge, so they need no exemption list that every new endpoint must remember.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from integration.web.common import page

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
# Every form and webhook body arpilot accepts is a few kilobytes; a larger one is refused (413) before
# it is read, so a flood of huge bodies cannot exhaust a worker's memory.
MAX_REQUEST_BYTES = 1024 * 1024
BODY_LIMITS = "ARPILOT_BODY_LIMITS"  # config: endpoint -> a larger limit (the inbound mail webhook)

csrf = CSRFProtect()


def init_app(app: Flask, *, production: bool) -> None:
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.before_request
    def _refuse_enormous_bodies() -> None:
        # Werkzeug would hand a view an empty body instead; say 413 plainly rather than fail later
        # with a misleading answer (a webhook "bad signature", a form "expired").
        limit = app.config.get(BODY_LIMITS, {}).get(request.endpoint, app.config["MAX_CONTENT_LENGTH"])
        if (request.content_length or 0) > limit:
            abort(413)
        request.max_content_length = limit

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if production:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response


def install_csrf(app: Flask) -> None:
    """Check the CSRF token of browser requests (see the module's docstring), answering a failed check with a page."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    app.before_request(_protect_browser_requests)
    app.register_error_handler(CSRFError, _csrf_failed)


def _protect_browser_requests() -> None:
    if (
        request.method in current_app.config["WTF_CSRF_METHODS"]
        and current_app.config["SESSION_COOKIE_NAME"] in request.cookies
    ):
        csrf.protect()


def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return page(
        "This form has expired",
        "The page was open too long or came from another site. Reload the page and try again.",
        400,
    )
