"""The invoices the executor's next actions re-check, read from the provider a window at a time."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.contract import Connector, Invoice, UnreadableRecord
from integration.cycle.credit_recheck import CreditReads

READ_AHEAD = 30  # actions whose invoices one precondition read covers: a few seconds of work at most


class PreconditionReads:
    """The invoices the next actions re-check, read READ_AHEAD actions at a time.

    One `get_invoices` call serves a window of actions instead of a read per invoice. A window is
    read when its first action, already in flight, needs it, so no copy is older than the few
    actions before it in the window; an action past the window, or one whose invoice the window
    did not cover, reads the next window.
    """

    def __init__(self, connector: Connector, upcoming: Sequence[tuple[int, Sequence[str], bool]]) -> None:
        self._connector = connector
        self._upcoming = list(upcoming)  # (action id, invoice ids, whether it emails pay links) in execution order
        self._position = {action_id: n for n, (action_id, _, _) in enumerate(self._upcoming)}
        self._fresh: dict[str, Invoice | None] = {}  # None: the provider no longer has it
        self._window_end = 0
        self.credits = CreditReads(connector)  # the customers' credit, read once per customer a run

    def take(self, action_id: int, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        position = self._position.get(action_id, len(self._upcoming))
        if position >= self._window_end or any(i not in self._fresh for i in invoice_ids):
            window = self._upcoming[position : position + READ_AHEAD]
            wanted = list(dict.fromkeys([*invoice_ids, *(i for _, ids, _ in window for i in ids)]))
            # Pay links only for the emails that show them (a call per invoice on Xero); an action
            # outside the plan (none today) gets them all rather than go without.
            links = None if position >= len(self._upcoming) else {i for _, ids, emails in window if emails for i in ids}
            window_end = position + READ_AHEAD
            try:
                found = self._connector.get_invoices(wanted, pay_links=links)
            except UnreadableRecord:
                # One invoice of the window cannot be read: read this action's own alone, so the
                # error fails the actions on that invoice and no others.
                wanted, window_end = list(dict.fromkeys(invoice_ids)), position + 1
                found = self._connector.get_invoices(wanted, pay_links=links)
            self._fresh = {i: found.get(i) for i in wanted}
            self._window_end = window_end
        return {i: self._fresh[i] for i in invoice_ids}
