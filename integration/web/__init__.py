"""The owner's web app (Flask application factory)."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template

from integration.app_context import Runtime
from integration.config import Settings, load_settings
from integration.web import connect
from integration.web import webhooks


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    settings = settings or load_settings()
    runtime = Runtime(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["arpilot"] = runtime
    if not settings.production:
        # Embedded default: the database is ours to create. Production runs `arpilot db upgrade` on release.
        runtime.migrate()
    if settings.embedded_clock and not settings.production:
        # Embedded: the web process is also the clock. Production runs `arpilot clock` instead.
        from integration.scheduler import start_embedded_clock

        app.extensions["arpilot_clock"] = start_embedded_clock(runtime)

    webhooks.init_app(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    connect.init_app(app)

    @app.get("/")
    def dashboard() -> str:
        return render_template("dashboard.html", settings=settings, overview=connect.signed_in_overview())

    return app
