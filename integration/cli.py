"""The `arpilot` command: one group, a command or subgroup per area."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from integration.config import ConfigError, load_settings
from integration.db import downgrade, upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """arpilot: gets small businesses paid, for QuickBooks Online and Xero."""


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    upgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.option("--revision", default="base", show_default=True)
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    downgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def web(host: str, port: int) -> None:
    """Serve the owner's web app (embedded defaults unless configured otherwise)."""
    from integration.web import create_app

    app = create_app(_settings())
    click.echo(f"arpilot web app on http://{host}:{port}/")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command("scenario")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="The scenario's today (default: today).")
@click.option("--months", default=18, show_default=True, type=click.IntRange(12, 24))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def scenario(seed: int, as_of: dt.datetime | None, months: int, output: Path | None) -> None:
    """Write the seeded demo company as a scenario file (JSON)."""
    from integration.scenario import generate_demo_company

    day = as_of.date() if as_of else dt.date.today()
    text = generate_demo_company(seed=seed, as_of=day, months=months).dumps()
    if output:
        output.write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored OAuth token with the first TOKEN_ENCRYPTION_KEYS key (one transaction)."""
    from integration.connections import rotate_token_keys
    from integration.db import make_engine, make_session_factory
    from oauth.crypto import TokenCipher, TokenDecryptError

    settings = _settings()
    engine = make_engine(settings.database_url, null_pool=True)
    try:
        count = rotate_token_keys(make_session_factory(engine), TokenCipher(settings.token_encryption_keys))
    except TokenDecryptError as exc:
        click.echo(f"arpilot: nothing was changed: {exc}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    click.echo(f"re-encrypted the tokens of {count} connection(s) with the primary key")


@main.group()
def sandbox() -> None:
    """Local emulators of the providers' APIs (development and tests; refused in production)."""


def _sandbox_options(command):  # type: ignore[no-untyped-def]
    """The options every sandbox command shares."""
    command = click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0),
                           help="Delay added to every API call.")(command)
    command = click.option("--scenario", "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="Seed from this scenario file (default: the demo company as of today).")(command)
    command = click.option("--port", default=0, show_default=True, type=int, help="0: any free port.")(command)
    return command


def _serve_sandbox(app, port: int, banner) -> None:  # type: ignore[no-untyped-def]
    """Serve `app` on loopback until interrupted, after printing what `banner(base_url)` says."""
    import time

    from connectors.sandbox import SandboxServer

    server = SandboxServer(app, port=port)
    base_url = server.start()
    for line in banner(base_url):
        click.echo(line)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def _sandbox_app(factory, config, scenario_file: Path | None):  # type: ignore[no-untyped-def]
    from connectors.sandbox import SandboxRefused
    from integration.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(scenario_file) if scenario_file else None
        return factory(config, scenario=scenario)
    except (ScenarioError, SandboxRefused) as exc:
        click.echo(f"arpilot: {exc}", err=True)
        sys.exit(2)


@sandbox.command("quickbooks")
@_sandbox_options
def sandbox_quickbooks(port: int, scenario_file: Path | None, latency_ms: int) -> None:
    """Serve the QuickBooks Online sandbox on 127.0.0.1:PORT."""
    from connectors.quickbooks.sandbox import QboSandboxConfig, create_app

    config = QboSandboxConfig(latency_ms=latency_ms)
    app = _sandbox_app(create_app, config, scenario_file)
    sandbox = app.extensions["qbo_sandbox"]
    _serve_sandbox(app, port, lambda base: [
        f"QuickBooks sandbox on {base}/", f"client id: {config.client_id}", f"client secret: {config.client_secret}",
        f"discovery URL: {sandbox.discovery_url(base)}", f"API base: {sandbox.api_base(base)}",
        f"webhook verifier token: {config.verifier_token}", f"admin API: {base}/_sandbox/",
    ])


@sandbox.command("xero")
@_sandbox_options
def sandbox_xero(port: int, scenario_file: Path | None, latency_ms: int) -> None:
    """Serve the Xero sandbox on 127.0.0.1:PORT."""
    from connectors.xero.sandbox import XeroSandboxConfig, create_app

    config = XeroSandboxConfig(latency_ms=latency_ms)
    app = _sandbox_app(create_app, config, scenario_file)
    sandbox = app.extensions["xero_sandbox"]
    _serve_sandbox(app, port, lambda base: [
        f"Xero sandbox on {base}/", f"client id: {config.client_id}", f"client secret: {config.client_secret}",
        f"authorize URL: {sandbox.authorize_url(base)}", f"token URL: {sandbox.token_url(base)}",
        f"connections: {base}/connections", f"accounting API base: {sandbox.accounting_base(base)}",
        f"webhook key: {config.webhook_key}", f"admin API: {base}/_sandbox/",
        "organisations: " + ", ".join(f"{o.name} ({o.tenant_id})" for o in sandbox.organisations.values()),
    ])


def _settings():  # type: ignore[no-untyped-def]
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"arpilot: configuration error: {exc}", err=True)
        sys.exit(2)
