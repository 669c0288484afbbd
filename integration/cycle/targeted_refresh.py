"""The targeted refresh: a payment the provider announces stops that invoice's pending actions in seconds.

Webhooks leave what changed in `SyncRequests` (integration/cycle/sync.py); a `TargetedRefresher` in the
web process drains them. For the invoices a change names (QuickBooks names a Payment, read here to
find the invoices it pays; Xero names the INVOICE a payment changed) that have pending actions
(planned, or queued until quiet hours end), it reads them from the provider, stores them in the
mirror, and skips each pending action whose invoices are all paid or closed, with the reason
"paid since planning". It does not wait for the connection's next cycle.

Safe beside a running cycle without the cycle's lock (a 2,000-invoice Xero cycle holds it for a
quarter of an hour, far past the seconds this must take):
- it changes only `planned` actions, each with one `UPDATE ... WHERE status = 'planned'`; the
  executor claims an action with the same kind of conditional update (`execute._claim`), so of the
  two exactly one wins. An action already in flight is the executor's, whose own re-check at the
  provider skips a paid invoice anyway; an action cancelled here is never performed;
- invoices are stored through the sync's guarded upsert (an older copy never overwrites a newer
  one) and no cursor moves, so the cycle's sync is neither skipped nor repeated;
- its calls take the same rate-limit buckets as the cycles (in the process, or in Redis).
It runs in the web process's own small thread pool rather than on RQ, because RQ's workers are busy
with cycles that can last minutes; if the process dies first, the next cycle's execution re-check
still skips the paid invoice, only later.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector, InvoiceStatus, NotFound, PaymentReader
from integration.cycle.execute import INVOICE_CHECKED_KINDS
from integration.cycle.outcomes import Outcome, outcome_entry
from integration.cycle.sync import ChangedEntity, SyncRequests, store_invoices
from integration.logs import log_context
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, Connection, ConnectionStatus, Organization

log = logging.getLogger(__name__)

PAID_REASON = "paid since planning"
THREADS = 2


@dataclass
class RefreshOutcome:
    invoices_read: int = 0
    cancelled: list[int] = field(default_factory=list)


def refresh_changes(
    sessions: sessionmaker[Session],
    connection_id: int,
    connector: Connector,
    changes: Sequence[ChangedEntity],
    now: dt.datetime,
) -> RefreshOutcome:
    """Read the named invoices that have pending actions, mirror them, skip the actions now paid."""
    outcome = RefreshOutcome()
    named = _named_invoices(connector, changes)
    pending = _pending(sessions, connection_id, named)
    wanted = sorted({i for _, ids in pending for i in ids})
    if not wanted:
        return outcome
    fresh = connector.get_invoices(wanted, pay_links=())
    outcome.invoices_read = len(fresh)
    with transaction(sessions) as session:
        store_invoices(session, connection_id, list(fresh.values()))
    paid = {
        i for i, invoice in fresh.items() if invoice.status is not InvoiceStatus.OPEN or invoice.balance.amount <= 0
    }
    for action_id, invoice_ids in pending:
        if set(invoice_ids) <= paid and _cancel(sessions, action_id, now):
            outcome.cancelled.append(action_id)
    if outcome.cancelled:
        log.info("connection %s: %s pending action(s) skipped, %s", connection_id, len(outcome.cancelled), PAID_REASON)
    return outcome


def _named_invoices(connector: Connector, changes: Sequence[ChangedEntity]) -> set[str]:
    named = {c.entity_id for c in changes if c.entity == "invoice" and c.operation != "Delete"}
    for change in changes:
        if change.entity == "payment" and change.operation != "Delete" and isinstance(connector, PaymentReader):
            try:
                payment = connector.get_payment(change.entity_id)
            except NotFound:
                continue  # deleted since: it pays nothing any more
            named.update(a.invoice_id for a in payment.applied_to)
    return named


def _pending(sessions: sessionmaker[Session], connection_id: int, named: set[str]) -> list[tuple[int, list[str]]]:
    """The planned actions that re-check invoices and name one of `named`, with all their invoices."""
    if not named:
        return []
    with sessions() as session:
        rows = session.execute(
            select(Action.id, Action.payload)
            .where(
                Action.connection_id == connection_id,
                Action.status == ActionStatus.PLANNED,
                Action.kind.in_([k.value for k in INVOICE_CHECKED_KINDS]),
            )
            .order_by(Action.id)
        ).all()
    found = []
    for action_id, payload in rows:
        invoice_ids = list(payload.get("invoice_ids") or [])
        if named.intersection(invoice_ids):
            found.append((action_id, invoice_ids))
    return found


def _cancel(sessions: sessionmaker[Session], action_id: int, now: dt.datetime) -> bool:
    """Skip the action if it is still planned (never one the executor has claimed)."""
    with transaction(sessions) as session:
        result = session.execute(
            update(Action)
            .where(Action.id == action_id, Action.status == ActionStatus.PLANNED)
            .values(status=ActionStatus.SKIPPED, last_error=PAID_REASON, completed_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        row = session.get(Action, action_id)
        assert row is not None
        session.add(outcome_entry(row, Outcome.SKIPPED, f"Skipped: {PAID_REASON}"))
    return True


ConnectorFor = Callable[[Connection, Organization], Connector]


class TargetedRefresher:
    """Drains `SyncRequests` on a small thread pool, one refresh per connection at a time (a burst
    of webhooks for one company coalesces into the refreshes already running)."""

    def __init__(
        self,
        requests: SyncRequests,
        sessions: sessionmaker[Session],
        connectors: ConnectorFor,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        threads: int = THREADS,
    ) -> None:
        self._requests, self._sessions, self._connectors, self._clock = requests, sessions, connectors, clock
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="targeted-refresh")
        self._busy: set[int] = set()
        self._lock = threading.Lock()

    def poke(self, connection_id: int) -> None:
        """Refresh what is queued for the connection soon; call after `requests.add`."""
        with self._lock:
            if connection_id in self._busy:
                return  # the running drain picks the new changes up before it stops
            self._busy.add(connection_id)
        self._pool.submit(self._drain, connection_id)

    def _drain(self, connection_id: int) -> None:
        with log_context(connection_id=connection_id):
            self._drain_in_context(connection_id)

    def _drain_in_context(self, connection_id: int) -> None:
        while True:
            with self._lock:
                changes = self._requests.drain(connection_id)
                if not changes:
                    self._busy.discard(connection_id)
                    return
            try:
                self.refresh(connection_id, changes)
            except Exception:  # noqa: BLE001 - the next cycle re-checks at execution; nothing is lost
                log.exception("connection %s: the targeted refresh failed; the next cycle re-checks", connection_id)

    def refresh(self, connection_id: int, changes: Sequence[ChangedEntity]) -> RefreshOutcome:
        with self._sessions() as session:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status is not ConnectionStatus.ACTIVE:
                return RefreshOutcome()
            organization = session.get(Organization, connection.organization_id)
            assert organization is not None
            session.expunge_all()
        with log_context(organization_id=organization.id, connection_id=connection_id):
            return refresh_changes(
                self._sessions, connection_id, self._connectors(connection, organization), changes, self._clock()
            )

    def shutdown(self, wait: bool = False) -> None:
        """Stop taking refreshes; `wait`: until those under way have ended."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
