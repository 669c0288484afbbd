"""create_app registers every blueprint itself; no views module adds routes to another's blueprint when
it is imported (as the Xero pages and the settings sub-pages once did)."""

from __future__ import annotations

from flask import Flask

from integration.web import BLUEPRINTS, connect_xero, create_app

EXPECTED = {
    "webhooks",
    "inbound",
    "connect_quickbooks",
    "connect_xero",
    "account",
    "calls",
    "settings",
    "company_zone",
    "customer_settings",
    "wording",
    "activity",
    "credit_policy",
    "replies",
    "approvals",
    "backtest",
    "companies",
    "company_rules",
    "team",
    "customer_page",
    "outbox",
    "coming_up",
    "progress",
    "late_fees",
    "statements",
    "letters",
    "account_plans",
}


def test_create_app_registers_the_listed_blueprints(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    assert list(app.blueprints.values()) == list(BLUEPRINTS)
    assert set(app.blueprints) == EXPECTED


def test_every_route_is_on_the_blueprint_of_the_module_that_defines_it(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint:
            assert app.view_functions[rule.endpoint].__module__ == app.blueprints[blueprint].import_name, rule.rule


def test_the_xero_routes_come_only_with_the_xero_blueprint(settings) -> None:  # type: ignore[no-untyped-def]
    # integration.web.connect_xero is imported (above, and by create_app): that alone adds no route anywhere.
    without_xero = Flask(__name__)
    for blueprint in BLUEPRINTS:
        if blueprint is not connect_xero.bp:
            without_xero.register_blueprint(blueprint)
    assert not [
        rule.rule for rule in without_xero.url_map.iter_rules() if "xero" in rule.rule and "webhooks" not in rule.rule
    ]

    xero_routes = {
        rule.rule: rule.endpoint
        for rule in create_app(settings).url_map.iter_rules()
        if rule.rule.startswith("/connect/xero")
    }
    assert xero_routes == {"/connect/xero": "connect_xero.start", "/connect/xero/callback": "connect_xero.callback"}
