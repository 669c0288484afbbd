"""One cycle for one connection: tokens, sync, decide, plan, execute.

ARCHITECTURE.md ("One cycle through the code") follows it step by step.

The scheduler and the queue worker call `run_cycle(connection_id)` by its import path; tests, the
demo and backtests call `cycle_once` with their own dependencies. A per-connection lock means two
cycles of one connection never overlap; a connection that is not active is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import AuthExpired, Connector, ConnectorError, RateLimited
from integration.app_context import Runtime
from integration.clock.locks import ConnectionLocked, connection_lock
from integration.customer.links import PageLinks
from integration.customer.reads import link_generations
from integration.cycle import late_fee
from integration.cycle.attempt import Effects
from integration.cycle.execute import StopCycle, execute
from integration.cycle.gather import load_snapshot
from integration.cycle.leases import DEFAULT_LEASE, heartbeat, lease_expiry, reap_stale_runs
from integration.cycle.outcomes import ExecutionReport
from integration.cycle.plan import plan
from integration.cycle.progress import DECIDING, SENDING, CycleProgress
from integration.cycle.providers import ConnectorFactory, connector_factory
from integration.cycle.reminder_email import ReminderComposer
from integration.cycle.send_check import SendCheck
from integration.cycle.statement_send import StatementComposer
from integration.cycle.sync import sync_connection
from integration.logs import install_context_stamping, log_context
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.owner.stored_wording import load_wordings
from integration.policy.actions import PlannedAction
from integration.policy.aging import aging, local_today
from integration.policy.decide import decide
from integration.store.connections import (
    address_due,
    mark_needs_reconnect,
    placeholder_name,
    rename,
    set_company_address,
    set_company_timezone,
)
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, CycleRun, Organization
from integration.store.quarantine import printable
from oauth.redact import redact
from reminders.delivery import EmailSender, make_sender

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_FROM_ADDRESS = "reminders@arpilot.local"


@dataclass
class CycleDeps:
    sessions: sessionmaker[Session]
    connectors: ConnectorFactory
    sender: EmailSender
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    sleep: Callable[[float], None] = time.sleep
    from_address: str = DEFAULT_FROM_ADDRESS
    lease: dt.timedelta = DEFAULT_LEASE  # how long a run may go without a heartbeat before it is reaped
    inbound_address: str | None = None  # None: replies go straight to the reply address, unseen by arpilot
    token_secret: str = ""
    # Where the customer's page is served (ARPILOT_BASE_URL): every reminder links to it. None: no link.
    public_base_url: str | None = None


@dataclass
class CycleSummary:
    connection_id: int
    status: str  # done, observed, stopped, skipped, failed
    detail: str = ""
    synced: dict[str, int] = field(default_factory=dict)
    aging: dict[str, dict[str, str]] = field(default_factory=dict)  # currency -> bucket -> amount
    decided: list[dict[str, Any]] = field(default_factory=list)
    planned: int = 0
    execution: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)  # the last phase reached, pages, invoices

    def to_json(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "status": self.status,
            "detail": self.detail,
            "synced": self.synced,
            "aging": self.aging,
            "decided": self.decided,
            "planned": self.planned,
            "execution": self.execution,
            "progress": self.progress,
        }


def _report_json(report: ExecutionReport) -> dict[str, Any]:
    return {
        "outcomes": dict(report.outcomes),
        "done_by_kind": dict(report.by_kind),
        "emails_sent": report.emails_sent,
        "notes_written": report.notes_written,
        "skipped_reasons": dict(report.skipped_reasons),
    }


def _balances(actions: list[PlannedAction], snapshot_invoices: dict[str, Decimal]) -> dict[str, Decimal]:
    return {i: snapshot_invoices[i] for a in actions for i in a.invoice_ids if i in snapshot_invoices}


def cycle_once(deps: CycleDeps, connection_id: int) -> CycleSummary:
    """Run one cycle of one connection now; never raises for the provider's or the owner's errors."""
    install_context_stamping()
    engine = deps.sessions.kw["bind"]
    with log_context(connection_id=connection_id):
        try:
            with connection_lock(engine, connection_id):
                return _locked_cycle(deps, connection_id)
        except ConnectionLocked:
            log.info("cycle skipped: another cycle of this connection is still running")
            return CycleSummary(connection_id, "skipped", "another cycle of this connection is still running")


def _locked_cycle(deps: CycleDeps, connection_id: int) -> CycleSummary:
    now = deps.clock()
    with transaction(deps.sessions) as session:
        reap_stale_runs(session, now, connection_id)  # a killed predecessor: recorded before we start
        connection = session.get(Connection, connection_id)
        if connection is None or connection.status is not ConnectionStatus.ACTIVE:
            state = "missing" if connection is None else connection.status.value
            log.info("cycle skipped: the connection is %s", state)
            return CycleSummary(connection_id, "skipped", f"connection is {state}")
        organization = session.get(Organization, connection.organization_id)
        assert organization is not None
        run = CycleRun(connection_id=connection_id, started_at=now, lease_expires_at=lease_expiry(now, deps.lease))
        session.add(run)
        session.flush()
        run_id, organization_id = run.id, organization.id
        session.expunge_all()
    with log_context(organization_id=organization_id, cycle_run_id=run_id):
        return _logged_cycle(deps, connection, organization, now, run_id)


def _logged_cycle(
    deps: CycleDeps, connection: Connection, organization: Organization, now: dt.datetime, run_id: int
) -> CycleSummary:
    connection_id, organization_id = connection.id, organization.id
    log.info("cycle started (%s, %s)", connection.provider, now.isoformat(timespec="seconds"))
    summary = CycleSummary(connection_id, "done")
    progress = CycleProgress(deps.sessions, run_id)
    try:
        with heartbeat(deps.sessions, run_id, deps.lease, deps.clock):
            _steps(deps, connection, organization, now, summary, progress)
    except Exception as exc:
        log.exception("cycle for connection %s failed unexpectedly", connection_id)
        first_line = next(iter(str(exc).splitlines()), "")  # SQLAlchemy appends the statement and its rows
        summary.status = "failed"
        summary.detail = printable(redact(f"unexpected error ({type(exc).__name__}): {first_line}"), 500) or ""
        _log(deps, organization_id, connection_id, "error", "cycle_failed", f"The cycle stopped: {summary.detail}")
    summary.progress = progress.to_json()
    with transaction(deps.sessions) as session:
        run = session.get(CycleRun, run_id)
        assert run is not None
        run.finished_at, run.status, run.summary = deps.clock(), summary.status, summary.to_json()
        run.lease_expires_at = None
    log.info("cycle ended: %s%s", summary.status, f" ({summary.detail})" if summary.detail else "")
    return summary


def _steps(
    deps: CycleDeps,
    connection: Connection,
    organization: Organization,
    now: dt.datetime,
    summary: CycleSummary,
    progress: CycleProgress,
) -> None:
    """Sync, decide, plan, execute; the provider's and the owner's errors end it with their outcome."""
    connection_id, organization_id = connection.id, organization.id
    try:
        connector = deps.connectors(connection, organization)
        if connection.display_name == placeholder_name(connection.provider, connection.external_id):
            _adopt_company_name(deps, connection_id, connector)
        if connection.timezone is None:
            _adopt_company_timezone(deps, connection_id, connector)
        if address_due(connection, now):
            _adopt_company_address(deps, connection_id, connector, now)
        synced = sync_connection(deps.sessions, connection_id, connector, now, progress=progress)
        summary.synced = {entity: count for entity, count in synced.upserted.items()}
        log.info("synced %s", ", ".join(f"{n} {entity}" for entity, n in summary.synced.items()) or "nothing new")
        progress.enter(DECIDING)
        with deps.sessions() as session:
            rules = load_rules(session, organization_id, connection_id)  # its own rules, else the organization's
            snapshot = load_snapshot(session, connection_id, now)
            wordings = load_wordings(session, organization_id)
            owner_reply = confirmed_reply_address(session, organization_id)
            generations = link_generations(session, connection_id)
            fees = late_fee.fees_by_invoice(session, connection_id)
        actions = decide(snapshot, rules, now)
        summary.decided = [a.as_dict() for a in actions]
        log.info("decided %d action(s) in %s mode", len(actions), rules.mode)
        summary.aging = {
            currency: {bucket: f"{amount:.2f}" for bucket, amount in buckets.items()}
            for currency, buckets in aging(snapshot, now).company.items()
        }
        if rules.mode != "live":
            summary.status = "observed"
            summary.detail = "observe mode: actions decided and shown, nothing sent or written"
        else:
            balances = _balances(actions, {i.provider_id: i.balance.amount for i in snapshot.invoices})
            with transaction(deps.sessions) as session:
                summary.planned = plan(session, organization_id, connection_id, actions, balances)
            today = local_today(now, snapshot.company.timezone)
            effects = Effects(
                connector=connector,
                sender=deps.sender,
                compose_reminder=ReminderComposer(
                    snapshot.company,
                    rules,
                    today,
                    deps.from_address,
                    snapshot.on_hold,
                    wordings,
                    owner_reply,
                    deps.inbound_address,
                    deps.token_secret,
                    PageLinks(deps.public_base_url, deps.token_secret, organization_id, connection_id, now, generations)
                    if deps.public_base_url and deps.token_secret  # never a link signed with no secret
                    else None,
                    fees,
                ),
                compose_statement=StatementComposer(rules, deps.from_address, owner_reply),
                recheck=SendCheck(organization_id, connection_id, snapshot.company.timezone),
                clock=deps.clock,
                timezone=snapshot.company.timezone,
                sleep=deps.sleep,
            )
            progress.enter(SENDING)
            report = execute(deps.sessions, connection_id, effects, now)
            summary.execution = _report_json(report)
            log.info(
                "planned %d new action(s); executed: %s",
                summary.planned,
                ", ".join(f"{n} {outcome}" for outcome, n in report.outcomes.items()) or "nothing due",
            )
    except (StopCycle, AuthExpired, RateLimited) as exc:
        _stop(deps, organization_id, connection_id, summary, exc)
    except ConnectorError as exc:
        summary.status, summary.detail = "failed", redact(str(exc))
        _log(deps, organization_id, connection_id, "error", "cycle_failed", f"The cycle stopped: {summary.detail}")


def _adopt_company_name(deps: CycleDeps, connection_id: int, connector: Connector) -> None:
    """Name a connection whose company's name could not be read when it was connected."""
    _adopt(deps, connection_id, "name", connector.company_name, rename)


def _adopt_company_timezone(deps: CycleDeps, connection_id: int, connector: Connector) -> None:
    """Take the company's zone from its books, once (the owner may change it in Settings after).
    Until it can be read the organization's zone stands in."""

    def store(session: Session, connection: Connection, zone: str) -> None:
        if connection.timezone is None:
            set_company_timezone(session, connection, zone)

    _adopt(deps, connection_id, "time zone", connector.company_timezone, store)


def _adopt_company_address(deps: CycleDeps, connection_id: int, connector: Connector, now: dt.datetime) -> None:
    """The company's postal address, the sender on its letters: read again once a day, since the
    owner changes it in the books, not here."""
    _adopt(
        deps,
        connection_id,
        "address",
        connector.company_address,
        lambda _session, connection, address: set_company_address(connection, address, now),
    )


def _adopt(
    deps: CycleDeps,
    connection_id: int,
    what: str,
    read: Callable[[], T],
    store: Callable[[Session, Connection, T], None],
) -> None:
    """A fact of the company read from its books and kept on the connection. Failing costs nothing
    but asking again next cycle: the sync goes on either way."""
    try:
        value = read()
    except (AuthExpired, RateLimited):
        raise  # a dead grant or a spent limit stops the whole cycle, not only this read
    except ConnectorError as exc:
        log.warning(
            "connection %s: the company's %s could not be read, asked again next cycle: %s",
            connection_id,
            what,
            redact(str(exc)),
        )
        return
    with transaction(deps.sessions) as session:
        connection = session.get(Connection, connection_id)
        if connection is not None:
            store(session, connection, value)


def _stop(deps: CycleDeps, organization_id: int, connection_id: int, summary: CycleSummary, exc: Exception) -> None:
    reconnect = isinstance(exc, AuthExpired) or getattr(exc, "needs_reconnect", False)
    summary.status, summary.detail = "stopped", redact(str(exc))
    if reconnect:
        with transaction(deps.sessions) as session:
            connection = session.get(Connection, connection_id)
            if connection is not None and connection.status is ConnectionStatus.ACTIVE:
                mark_needs_reconnect(session, connection, summary.detail)
    else:
        _log(
            deps,
            organization_id,
            connection_id,
            "warning",
            "cycle_stopped",
            f"Stopped until the limit resets: {summary.detail}",
        )


def _log(deps: CycleDeps, organization_id: int, connection_id: int, level: str, kind: str, message: str) -> None:
    with transaction(deps.sessions) as session:
        session.add(
            ActivityEntry(
                organization_id=organization_id, connection_id=connection_id, level=level, kind=kind, message=message
            )
        )


@cache
def process_runtime() -> Runtime:
    """The settings, engine and sessions of this process (a worker or clock thread has no Flask app)."""
    return Runtime.from_environment()


def default_deps(runtime: Runtime) -> CycleDeps:
    return CycleDeps(
        sessions=runtime.sessions,
        connectors=connector_factory(runtime.settings, runtime.sessions),
        sender=make_sender(runtime.settings),
        inbound_address=runtime.settings.inbound_address,
        token_secret=runtime.settings.secret_key,
        public_base_url=runtime.settings.base_url,
    )


def run_cycle(connection_id: int) -> None:
    """The scheduler's and the worker's entry point (`cycle_once` logs how it ended)."""
    cycle_once(default_deps(process_runtime()), connection_id)
