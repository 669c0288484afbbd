"""Runs one cycle in a child process and kills itself with SIGKILL at a chosen point.

Used by the crash tests: `python -m tests.cycle.crash_worker CONNECTION_ID NOW OUTBOX POINT COUNT`
with DATABASE_URL, ARPILOT_VAR_DIR and the providers' settings (QUICKBOOKS_ENVIRONMENT, XERO_*) in
the environment. POINT names where the process dies, at the COUNT-th time it gets there:

- `page`: a sync page fetched from the provider, before it is stored with its cursor;
- `plan`: the day's actions inserted into the ledger, before that transaction commits;
- `execute`: the plan committed, before execution starts;
- `refresh`: a token refresh about to call the provider, under the refresh lock;
- `rotated`: the provider answered the refresh (rotating the refresh token), before it is stored.
  Only a provider that keeps the superseded token alive a while (Xero: 30 minutes) can survive
  this one; Intuit kills it at once, so no client can recover the token lost in that window;
- `get_invoice`: a precondition read; `send`: an email handed to the outbox; `note`: a note
  written back; `hold`: a credit-hold change; `fee`: a late fee written into the books (each after
  the call returns; a batched read or note counts once per invoice);
- `any`: whichever of these but `rotated` comes COUNT-th.

Each point reached is printed on stdout (flushed) before the kill, so the test knows where it died.
The hooks live here only: this script is test machinery, not product code.

`python -m tests.cycle.crash_worker --serve` imports everything once, then reads one job per stdin
line (the five arguments above), forks a child process per job and answers one JSON line per job:
the signal that ended the child (9 for its SIGKILL), its exit code and the last point it reached.
Each child is a real process that really dies; only the import time is shared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine

import integration.cycle.run as cycle_module
from connectors.contract import Page, SyncRequest
from integration.app_context import Runtime
from integration.clock.locks import ConnectionLocked, connection_lock
from integration.cycle.providers import connector_factory
from integration.cycle.run import CycleDeps, cycle_once
from oauth.intuit import IntuitOAuth
from oauth.xero import XeroOAuth
from reminders.delivery import OutboxSender

POINTS = ("page", "plan", "execute", "refresh", "rotated", "get_invoice", "send", "note", "hold", "fee")


_BATCHED = frozenset({"get_invoices", "add_invoice_notes"})


class _Killer:
    def __init__(self, point: str, count: int) -> None:
        if point not in (*POINTS, "any"):
            raise SystemExit(f"unknown crash point {point!r}; known: {', '.join(POINTS)}, any")
        self.point, self.left = point, count

    def after(self, point: str, times: int = 1) -> None:
        print(point, flush=True)
        if point == self.point or (self.point == "any" and point != "rotated"):
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

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        for page in self._inner.changes(request):
            self._killer.after("page")
            yield page


def _reporting(
    function: Callable[..., Any], killer: _Killer, point: str, *, before: bool = False
) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if before:
            killer.after(point)
        result = function(*args, **kwargs)
        if not before:
            killer.after(point)
        return result

    return call


def _install_phase_hooks(killer: _Killer) -> None:
    """The phases that happen inside the cycle and the OAuth clients rather than at the connector."""
    cycle_module.plan = _reporting(cycle_module.plan, killer, "plan")  # type: ignore[assignment]
    cycle_module.execute = _reporting(cycle_module.execute, killer, "execute", before=True)  # type: ignore[assignment]
    for client in (IntuitOAuth, XeroOAuth):
        client.refresh = _reporting(_reporting(client.refresh, killer, "rotated"), killer, "refresh", before=True)  # type: ignore[method-assign]


def main(connection_id: int, now: dt.datetime, outbox: str, point: str, count: int) -> None:
    runtime = Runtime.from_environment()
    killer = _Killer(point, count)
    _install_phase_hooks(killer)
    build = connector_factory(runtime.settings, runtime.sessions, clock=lambda: now, sleep=lambda _s: None)
    points = {
        "add_invoice_note": "note",
        "add_invoice_notes": "note",
        "set_credit_hold": "hold",
        "charge_late_fee": "fee",
        "get_invoice": "get_invoice",
        "get_invoices": "get_invoice",
    }
    deps = CycleDeps(
        sessions=runtime.sessions,
        connectors=lambda connection, organization: _Wrapped(build(connection, organization), killer, points),
        sender=_Wrapped(OutboxSender(outbox), killer, {"send": "send"}),  # type: ignore[arg-type]
        clock=lambda: now,
        sleep=lambda _s: None,
    )
    summary = cycle_once(deps, connection_id)
    print(f"finished {summary.status} {summary.detail}", flush=True)


def wait_until_released(engine: Engine, connection_id: int, attempts: int = 200) -> None:
    """For the test after a kill: PostgreSQL ends a killed client's session, and with it the
    connection's advisory lock, moments after the kill rather than at once."""
    for _ in range(attempts):
        try:
            with connection_lock(engine, connection_id):
                return
        except ConnectionLocked:
            time.sleep(0.05)
    raise AssertionError(f"connection {connection_id} stayed locked after its worker was killed")


def _run(args: list[str]) -> None:
    main(int(args[0]), dt.datetime.fromisoformat(args[1]), args[2], args[3], int(args[4]))


def serve() -> None:
    for line in sys.stdin:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its stdout is the pipe; it ends by SIGKILL or by _exit
            os.close(read_end)
            os.dup2(write_end, 1)
            sys.stdout = os.fdopen(1, "w")
            try:
                _run(line.split())
            except BaseException:  # noqa: BLE001 - reported to the test as exit code 1
                traceback.print_exc()
                os._exit(1)
            sys.stdout.flush()
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            output = pipe.read()
        _, status = os.waitpid(pid, 0)
        words = output.split()
        print(
            json.dumps(
                {
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "last": words[-1] if words else "",
                    "output": output[-2000:],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["--serve"] else _run(sys.argv[1:])
