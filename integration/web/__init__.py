"""The owner's web app (Flask application factory)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, session
from werkzeug.middleware.proxy_fix import ProxyFix

from integration.app_context import Runtime
from integration.config import Settings, load_settings
from integration.logs import configure_logging, install_context_stamping
from integration.web import (
    account,
    account_plans,
    activity,
    approvals,
    auth,
    backtest,
    body_deadline,
    coming_up,
    companies,
    company_rules,
    company_zone,
    connect_quickbooks,
    connect_xero,
    credit_policy,
    customer_page,
    customer_settings,
    dashboard,
    errors,
    formatting,
    inbound,
    inputs,
    late_fees,
    letters,
    outbox,
    progress,
    replies,
    request_limits,
    security,
    sessions,
    soon,
    statements,
    team,
    webhooks,
    wording,
)
from integration.web import (
    settings as settings_page,
)
from integration.web.common import CONNECT_ENDPOINTS
from integration.web.nav import NAV_CONFIG_KEY
from oauth.redact import install_log_redaction

# How long a sign-in lasts without a new one: a working day. Signing in again is one click through
# the provider's consent (which remembers the owner), and a cookie left on a shared machine dies the
# same day. HttpOnly keeps it from scripts, SameSite=Lax from other sites' forms, Secure (production,
# behind TLS) from plain http.
SESSION_LIFETIME = dt.timedelta(hours=12)
# Every route of the app is on one of these, each registered here and nowhere else.
BLUEPRINTS: tuple[Blueprint, ...] = (
    webhooks.blueprint,
    inbound.bp,
    connect_quickbooks.bp,
    connect_xero.bp,
    account.bp,
    dashboard.bp,
    settings_page.bp,
    company_zone.bp,
    customer_settings.bp,
    wording.bp,
    activity.bp,
    credit_policy.bp,
    replies.bp,
    approvals.bp,
    backtest.bp,
    companies.bp,
    company_rules.bp,
    team.bp,
    customer_page.bp,
    outbox.bp,
    coming_up.bp,
    progress.bp,
    late_fees.bp,
    statements.bp,
    letters.bp,
    account_plans.bp,
)


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    install_log_redaction()  # process-wide: no token or secret reaches a log line from here on
    settings = settings or load_settings()
    if settings.production:
        # Served by gunicorn, whose handlers see only its own loggers: arpilot's lines need ours.
        configure_logging(log_format=settings.log_format)
    install_context_stamping()
    runtime = Runtime(settings)
    app = Flask(__name__)
    inputs.install_converters(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["arpilot"] = runtime
    sessions.init_app(app, runtime.sessions, SESSION_LIFETIME)
    if not settings.production:
        # Embedded default: the database is ours to create. Production runs `arpilot db upgrade` on release.
        runtime.migrate()
    if settings.embedded_clock and not settings.production:
        # Embedded: the web process is also the clock. Production runs `arpilot clock` instead.
        from integration.clock.scheduler import start_embedded_clock

        app.extensions[soon.CLOCK_EXTENSION] = start_embedded_clock(runtime)
    soon.init_app(app, settings)

    if settings.trusted_proxies:
        proxies = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    security.init_app(app, production=settings.production)
    inputs.init_app(app)
    app.wsgi_app = body_deadline.BodyDeadline(  # type: ignore[method-assign]
        app.wsgi_app, settings.request_body_timeout_seconds, app.config["MAX_CONTENT_LENGTH"]
    )
    request_limits.init_app(
        app,
        request_limits.RedisCounter(settings.redis_url) if settings.redis_url else request_limits.InProcessCounter(),
    )
    security.install_csrf(app)  # after the rate limit: a flood is refused before any token is checked
    auth.init_app(app)  # after CSRF: a forged post is refused as forged, whoever is signed in
    webhooks.init_app(app, settings)
    formatting.init_app(app)
    errors.init_app(app)
    inbound.init_app(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # Each adds its entry to the main navigation, which lists them in this order.
    dashboard.init_app(app)
    settings_page.init_app(app)
    activity.init_app(app)
    credit_policy.init_app(app)
    approvals.init_app(app)
    backtest.init_app(app)
    companies.init_app(app)
    team.init_app(app)
    coming_up.init_app(app)
    outbox.init_app(app)
    letters.init_app(app)

    @app.context_processor
    def _layout() -> dict[str, Any]:
        return {
            "signed_in": "organization_id" in session,
            "nav_items": app.config[NAV_CONFIG_KEY],
            "connect_endpoints": CONNECT_ENDPOINTS,
        }

    return app
