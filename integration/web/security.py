"""Security headers on every response the web app sends.

The pages use no inline script or style and load nothing from other origins, so the policy can be
strict: same-origin only, no framing (the marketplaces open arpilot in a new window, never a frame),
forms post only back to arpilot. HSTS is sent in production only, where TLS terminates in front of us;
on the embedded default (plain http on loopback) it would pin a browser to https that isn't there.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
# Every form and webhook body arpilot accepts is a few kilobytes; a larger one is refused (413) before
# it is read, so a flood of huge bodies cannot exhaust a worker's memory.
MAX_REQUEST_BYTES = 1024 * 1024
BODY_LIMITS = "ARPILOT_BODY_LIMITS"  # config: endpoint -> a larger limit (the inbound mail webhook)


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
