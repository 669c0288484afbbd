"""The `arpilot` command: one group, a command or subgroup per area."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from integration.cli_types import DAY
from integration.config import ConfigError, load_settings
from integration.logs import configure_logging
from integration.store.db import downgrade, upgrade
from reminders.content import REMINDER_STAGES


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
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def web(host: str, port: int) -> None:
    """Serve the owner's web app (embedded defaults, with both sandboxes, unless configured otherwise)."""
    from integration.demo.embedded import start_embedded_sandboxes
    from integration.web import create_app

    settings = _settings()
    configure_logging(log_format=settings.log_format)
    for sandbox in start_embedded_sandboxes(settings):
        click.echo(f"sandbox (demo company) on {sandbox.base_url}/")
    app = create_app(settings)
    click.echo(f"arpilot web app on http://{host}:{port}/")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command()
def clock() -> None:
    """Run the clock: each connection's cycle, enqueued on RQ (REDIS_URL) or run in-process.

    On PostgreSQL one clock leads (it holds an advisory lock); any other waits as a standby and
    takes over when the leader dies. On SQLite there is a single clock and no lock."""
    from integration.app_context import Runtime
    from integration.clock.leader import wait_for_leadership
    from integration.clock.scheduler import build_clock

    settings = _settings()
    # What the clock enqueues, refuses as already enqueued, or gives up is its whole output.
    configure_logging(log_format=settings.log_format)
    runtime = Runtime(settings)
    the_clock = build_clock(runtime, blocking=True)
    poll = the_clock.plan.standby_poll_seconds
    leadership = wait_for_leadership(
        runtime.engine,
        poll,
        on_standby=lambda: click.echo(f"arpilot clock: standby, another clock leads; trying its lock every {poll:g}s"),
    )
    mode = "enqueueing on RQ" if settings.redis_url else "running cycles in-process"
    seconds = int(settings.cycle_interval.total_seconds())
    every = f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
    click.echo(f"arpilot clock: leading, every {every} per connection, {mode}")
    try:
        the_clock.lead(leadership)
    except (KeyboardInterrupt, SystemExit):
        the_clock.shutdown()
    if the_clock.lost_leadership is not None:
        click.echo(f"arpilot clock: stopped: {the_clock.lost_leadership}", err=True)
        sys.exit(1)


@main.command()
@click.option("--queue", "queue_name", default=None, help="Queue to work (default: the cycle queue).")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--fork", is_flag=True, help="Run each job in a forked work horse instead of in this process.")
def worker(queue_name: str | None, burst: bool, fork: bool) -> None:
    """Run an RQ worker that performs the cycles the clock enqueues (needs REDIS_URL).

    Cycles are short and wait on the network, so by default they run in the worker's own process,
    reusing its database pool, Redis connections and loaded SDKs from one cycle to the next."""
    from integration.clock.queue import QUEUE_NAME, CycleQueue, run_worker

    settings = _settings()
    if not settings.redis_url:
        click.echo("arpilot: configuration error: REDIS_URL must be set to run a worker", err=True)
        sys.exit(2)
    configure_logging(log_format=settings.log_format)
    queue = CycleQueue.from_settings(settings, name=queue_name or QUEUE_NAME).queue
    # Imported before any job, so a forked work horse inherits the cycle's modules too.
    import integration.cycle.run  # noqa: F401

    run_worker(queue, burst=burst, simple=not fork)


@main.command()
@click.option("--once", is_flag=True, help="Run one cycle against a fresh sandbox company and print a summary.")
@click.option("--provider", type=click.Choice(["quickbooks", "xero"]), default="quickbooks", show_default=True)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Seed the sandbox from this scenario file (default: the demo company).",
)
@click.option(
    "--as-of", "as_of", type=DAY, help="The sandbox's and the policy's today (default: the scenario's day, or today)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object, every action included.")
@click.option("--keep", is_flag=True, help="Keep the demo database from the previous run.")
@click.pass_context
def demo(
    ctx: click.Context,
    once: bool,
    provider: str,
    scenario_file: Path | None,
    as_of: dt.date | None,
    as_json: bool,
    keep: bool,
) -> None:
    """A demo on the sandboxes: `--once` runs one live cycle and prints what it did; without it,
    the web app runs with the in-process clock so you can watch cycles happen."""
    if not once:
        ctx.invoke(web)
        return
    import json

    from connectors.sandbox.scenario import ScenarioError, generate_demo_company, load_scenario
    from integration.demo.once import DemoError, run_demo_once

    try:
        scenario = (
            load_scenario(scenario_file) if scenario_file else generate_demo_company(as_of=as_of or dt.date.today())
        )
    except ScenarioError as exc:
        click.echo(f"arpilot: {exc}", err=True)
        sys.exit(2)
    day = as_of or scenario.as_of
    try:
        run = run_demo_once(scenario, day, _settings().var_dir, provider=provider, keep=keep)
    except DemoError as exc:
        click.echo(f"arpilot: demo stopped: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(run.report.to_json(), indent=1) if as_json else run.report.to_text())
    if run.summary.status not in ("done", "observed"):
        sys.exit(1)


@main.command("scenario")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--as-of", "as_of", type=DAY, help="The scenario's today (default: today).")
@click.option("--months", default=18, show_default=True, type=click.IntRange(12, 24))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def scenario(seed: int, as_of: dt.date | None, months: int, output: Path | None) -> None:
    """Write the seeded demo company as a scenario file (JSON)."""
    from connectors.sandbox.scenario import generate_demo_company

    day = as_of or dt.date.today()
    text = generate_demo_company(seed=seed, as_of=day, months=months).dumps()
    if output:
        output.write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@main.group()
def reminders() -> None:
    """Reminder email content."""


@reminders.command("preview")
@click.option("--stage", type=click.Choice(REMINDER_STAGES), help="One stage (default: every stage).")
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), default="text", show_default=True)
@click.option("--locale", default="en_US", show_default=True, help="Locale for amounts and dates, e.g. de_DE.")
@click.option("--currency", default="USD", show_default=True, help="Currency of the sample invoices.")
def reminders_preview(stage: str | None, fmt: str, locale: str, currency: str) -> None:
    """Render the reminder emails for a sample customer."""
    from connectors.contract import UnsupportedCurrency
    from reminders.errors import InvalidLocale
    from reminders.preview import render_previews

    try:
        previews = render_previews((stage,) if stage else REMINDER_STAGES, locale=locale, currency=currency)
    except InvalidLocale as exc:
        raise click.BadParameter(str(exc), param_hint="--locale") from exc
    except UnsupportedCurrency as exc:
        raise click.BadParameter(str(exc), param_hint="--currency") from exc
    for name, email in previews.items():
        if fmt == "html":
            click.echo(f"<!-- stage: {name} -->\n{email.html}")
        else:
            click.echo(f"===== {name} =====\nSubject: {email.subject}\n\n{email.text}")


from integration.policy.cli import backtest_command, preview_command  # noqa: E402 - registered below

main.add_command(preview_command)
main.add_command(backtest_command)


@main.command()
@click.option("--send", is_flag=True, help="Send each digest (at most once per organization and week).")
@click.option(
    "--organization", "organization_id", type=int, help="Only this organization (default: every connected one)."
)
def digest(send: bool, organization_id: int | None) -> None:
    """The owner's weekly digest: print it, or send it with --send."""
    import datetime as dt

    from integration.app_context import Runtime
    from integration.cycle.run import DEFAULT_FROM_ADDRESS
    from integration.owner.digest import (
        compose_digest,
        gather_digest,
        organizations_to_tell,
        owner_address,
        send_digests,
    )
    from reminders.delivery import Address

    no_recipient = Address("owner@example.invalid")  # a preview still needs a To to build the message

    runtime = Runtime(_settings())
    settings = runtime.settings
    interval = settings.cycle_interval
    now = dt.datetime.now(dt.UTC)
    with runtime.sessions() as session:
        organization_ids = [organization_id] if organization_id is not None else organizations_to_tell(session)
    try:
        if send:
            results = send_digests(runtime, now, organization_ids)
            for result in results:
                detail = f"{result.status.replace('_', ' ')} {result.detail}".rstrip()
                click.echo(f"organization {result.organization_id} ({result.week}): {detail}")
            if any(r.status == "failed" for r in results):
                sys.exit(1)
            return
        for org_id in organization_ids:
            with runtime.sessions() as session:
                facts = gather_digest(session, org_id, now, interval)
                to = owner_address(session, org_id)
            shown_to = to.email if to else "nobody (no owner email on file, so --send skips it)"
            message = compose_digest(
                facts, to or no_recipient, DEFAULT_FROM_ADDRESS, settings.base_url, settings.secret_key
            )
            click.echo(f"To: {shown_to}\nSubject: {message.subject}\n\n{message.text}")
    except LookupError as exc:
        click.echo(f"arpilot: {exc}", err=True)
        sys.exit(2)


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored OAuth token with the first TOKEN_ENCRYPTION_KEYS key (one transaction)."""
    from integration.store.connections import rotate_token_keys
    from integration.store.db import make_engine, make_session_factory
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
    command = click.option(
        "--latency-ms", default=0, show_default=True, type=click.IntRange(0), help="Delay added to every API call."
    )(command)
    command = click.option(
        "--scenario",
        "scenario_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Seed from this scenario file (default: the demo company as of today).",
    )(command)
    command = click.option(
        "--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="0: any free port."
    )(command)
    return command


def _sandbox_app(factory, config, scenario_file: Path | None):  # type: ignore[no-untyped-def]
    from connectors.sandbox import SandboxRefused
    from connectors.sandbox.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(scenario_file) if scenario_file else None
        return factory(config, scenario=scenario)
    except (ScenarioError, SandboxRefused) as exc:
        click.echo(f"arpilot: {exc}", err=True)
        sys.exit(2)


@sandbox.command("quickbooks")
@_sandbox_options
def sandbox_quickbooks(port: int, scenario_file: Path | None, latency_ms: int) -> None:
    """Serve the QuickBooks Online sandbox on 127.0.0.1:PORT (the embedded default looks on 8801)."""
    from connectors.quickbooks.sandbox import QboSandboxConfig, create_app
    from connectors.quickbooks.sandbox.serve import banner
    from connectors.sandbox.serve import serve

    serve(_sandbox_app(create_app, QboSandboxConfig(latency_ms=latency_ms), scenario_file), port, banner, click.echo)


@sandbox.command("xero")
@_sandbox_options
def sandbox_xero(port: int, scenario_file: Path | None, latency_ms: int) -> None:
    """Serve the Xero sandbox on 127.0.0.1:PORT."""
    from connectors.sandbox.serve import serve
    from connectors.xero.sandbox import XeroSandboxConfig, create_app
    from connectors.xero.sandbox.serve import banner

    serve(_sandbox_app(create_app, XeroSandboxConfig(latency_ms=latency_ms), scenario_file), port, banner, click.echo)


def _settings():  # type: ignore[no-untyped-def]
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"arpilot: configuration error: {exc}", err=True)
        sys.exit(2)
