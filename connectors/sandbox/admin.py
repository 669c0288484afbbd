"""The `/_sandbox/` admin blueprint base: clock, limits, latency, faults, webhooks, counters.

Providers get the blueprint from `make_admin_blueprint`, add their own routes (scenario, tokens,
read-backs) and register it. Admin routes are never counted, delayed, throttled or faulted.
Errors are `{"error": "..."}` with HTTP 400.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from connectors.sandbox.faults import FaultRule, FaultRuleError
from connectors.sandbox.runtime import ADMIN_PREFIX, SandboxRuntime
from connectors.sandbox.webhooks import WebhookTarget


class AdminError(ValueError):
    """A bad admin request; answered with 400 and the message."""


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise AdminError("the request body must be a JSON object")
    return data


def parse_instant(value: Any, field_name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise AdminError(f"{field_name} must be an ISO 8601 date-time with an offset")
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AdminError(f"{field_name} must be an ISO 8601 date-time with an offset") from exc
    if instant.tzinfo is None:
        raise AdminError(f"{field_name} needs a UTC offset")
    return instant


class AdminBlueprint(Blueprint):
    webhook_state: dict[str, str]  # {"format": the chosen webhook format}, which providers read


def make_admin_blueprint(
    runtime: SandboxRuntime, *, webhook_header: str, webhook_key: str, webhook_formats: tuple[str, ...] = ("default",)
) -> AdminBlueprint:
    bp = AdminBlueprint("sandbox_admin", __name__, url_prefix=ADMIN_PREFIX)
    webhook_state: dict[str, str] = {"format": webhook_formats[0]}
    bp.webhook_state = webhook_state

    @bp.errorhandler(AdminError)
    def _admin_error(exc: AdminError) -> ResponseReturnValue:
        return jsonify(error=str(exc)), 400

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        return jsonify(error=exc.description), exc.code or 500  # an HTTPException made without a code

    @bp.get("/clock")
    def clock_get() -> ResponseReturnValue:
        return jsonify(now=runtime.clock.now().isoformat(), frozen=runtime.clock.frozen)

    @bp.post("/clock")
    def clock_post() -> ResponseReturnValue:
        data = json_body()
        if "set" in data:
            runtime.clock.set(parse_instant(data["set"], "set"))
        if "advance_seconds" in data:
            seconds = data["advance_seconds"]
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
                raise AdminError("advance_seconds must be a number")
            runtime.clock.advance(dt.timedelta(seconds=seconds))
        if "frozen" in data:
            runtime.clock.freeze() if data["frozen"] else runtime.clock.unfreeze()
        return clock_get()

    @bp.get("/limits")
    def limits_get() -> ResponseReturnValue:
        return jsonify(limits=runtime.limits, latency_ms=runtime.latency_ms)

    @bp.post("/limits")
    def limits_post() -> ResponseReturnValue:
        data = json_body()
        unknown = set(data) - set(runtime.limits) - {"latency_ms"}
        if unknown:
            raise AdminError(
                f"unknown limits: {', '.join(sorted(unknown))}; known: {', '.join(sorted(runtime.limits))}"
            )
        for name, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "latency_ms" else 1):
                raise AdminError(f"{name} must be a whole number of at least {0 if name == 'latency_ms' else 1}")
        for name, value in data.items():
            if name == "latency_ms":
                runtime.latency_ms = value
            else:
                runtime.limits[name] = value
        runtime.limiter.reset()
        return limits_get()

    @bp.get("/faults")
    def faults_get() -> ResponseReturnValue:
        return jsonify(faults=[rule.to_json() for rule in runtime.faults.rules()])

    @bp.post("/faults")
    def faults_post() -> ResponseReturnValue:
        data = request.get_json(silent=True)
        rules = data if isinstance(data, list) else [data]
        try:
            parsed = [FaultRule.from_json(item) for item in rules]
        except FaultRuleError as exc:
            raise AdminError(str(exc)) from exc
        for rule in parsed:
            runtime.faults.add(rule)
        return faults_get()

    @bp.delete("/faults")
    def faults_delete() -> ResponseReturnValue:
        runtime.faults.clear()
        return faults_get()

    @bp.get("/webhooks")
    def webhooks_get() -> ResponseReturnValue:
        target = runtime.webhooks.target
        return jsonify(
            url=target.url if target else None,
            format=webhook_state["format"],
            formats=list(webhook_formats),
            signature_header=webhook_header,
            deliveries=[d.to_json() for d in runtime.webhooks.deliveries()],
        )

    @bp.post("/webhooks")
    def webhooks_post() -> ResponseReturnValue:
        data = json_body()
        url = data.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            raise AdminError("url must be an http(s) URL, or null to stop deliveries")
        chosen = data.get("format", webhook_state["format"])
        if chosen not in webhook_formats:
            raise AdminError(f"format must be one of {', '.join(webhook_formats)}")
        webhook_state["format"] = chosen
        runtime.webhooks.configure(WebhookTarget(url, webhook_header, webhook_key) if url else None)
        return webhooks_get()

    @bp.post("/webhooks/wait")
    def webhooks_wait() -> ResponseReturnValue:
        idle = runtime.webhooks.wait_idle()
        return jsonify(idle=idle, deliveries=len(runtime.webhooks.deliveries()))

    @bp.get("/requests")
    def requests_get() -> ResponseReturnValue:
        return jsonify(runtime.counter.snapshot())

    @bp.delete("/requests")
    def requests_delete() -> ResponseReturnValue:
        runtime.counter.reset()
        return jsonify(runtime.counter.snapshot())

    return bp
