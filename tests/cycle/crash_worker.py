"""Runs one cycle in a child process and kills itself with SIGKILL at a chosen point.

Used by the crash tests: `python -m tests.cycle.crash_worker CONNECTION_ID NOW OUTBOX POINT COUNT`
with DATABASE_URL, ARPILOT_VAR_DIR and QUICKBOOKS_ENVIRONMENT in the environment. POINT names the
call after whose COUNT-th completion the process dies: `send` (an email handed to the outbox),
`note` (a note written back), `hold` (a credit-hold change), `get_invoice` (a precondition read; a batched read or note counts once per invoice).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from typing import Any

from integration.app_context import Runtime
from integration.cycle import CycleDeps, cycle_once
from integration.providers import connector_factory
from reminders.delivery import OutboxSender


_BATCHED = frozenset({"get_invoices", "add_invoice_notes"})


class _Killer:
    def __init__(self, point: str, count: int) -> None:
        self.point, self.left = point, count

    def after(self, point: str, times: int = 1) -> None:
        if point == self.point:
            self.left -= times
            if self.left <= 0:
                os.kill(os.getpid(), signal.SIGKILL)


class _Wrapped:
    """Delegates every attribute; the named methods report to the killer after they return."""

    def __init__(self, inner: Any, killer: _Killer, points: dict[str, str]) -> None:
        self._inner, self._killer, self._points = inner, killer, points

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        point = self._points.get(name)
        if point is None or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            # A batched call (get_invoices, add_invoice_notes) counts once per item it carried.
            self._killer.after(point, len(args[0]) if name in _BATCHED else 1)
            return result

        return call


def main(connection_id: int, now: dt.datetime, outbox: str, point: str, count: int) -> None:
    runtime = Runtime.from_environment()
    killer = _Killer(point, count)
    build = connector_factory(runtime.settings, runtime.sessions, clock=lambda: now, sleep=lambda _s: None)
    points = {"add_invoice_note": "note", "add_invoice_notes": "note", "set_credit_hold": "hold",
              "get_invoice": "get_invoice", "get_invoices": "get_invoice"}
    deps = CycleDeps(
        sessions=runtime.sessions,
        connectors=lambda connection, organization: _Wrapped(build(connection, organization), killer, points),
        sender=_Wrapped(OutboxSender(outbox), killer, {"send": "send"}),  # type: ignore[arg-type]
        clock=lambda: now,
        sleep=lambda _s: None,
    )
    cycle_once(deps, connection_id)


if __name__ == "__main__":
    main(int(sys.argv[1]), dt.datetime.fromisoformat(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
