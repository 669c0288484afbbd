"""The Procfile's processes, for real, on loopback: what tests/scale/test_topology.py starts and reads.

Every process is `arpilot <command>` in a subprocess of its own, its output in a log file (a pipe
nobody reads would fill and stall it), started with one shared environment that points them all at
the same PostgreSQL database, Redis database and sandboxes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox.scenario import Scenario, ScenarioCompany, ScenarioCustomer, ScenarioInvoice, ScenarioLine
from integration.owner.stored_rules import save_rules
from integration.store.connections import OwnerIdentity, connect_company
from integration.store.db import transaction
from integration.store.models import Organization
from oauth.crypto import TokenCipher, TokenSet

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started_at: float = field(default_factory=time.time)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT_SECONDS) -> re.Match[str]:
        """The first match of `pattern` in the output, waiting for it; AssertionError if it never comes."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited ({self.popen.returncode}) before printing {pattern!r}:\n"
                    f"{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not print {pattern!r} in {timeout:g}s:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        self.popen.wait(30)


def start(name: str, args: list[str], env: Mapping[str, str], logs: Path) -> Process:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-c", "from integration.cli import main; main()", *args],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Process(name, popen, log)


def one_overdue_invoice(as_of: dt.date, timezone: str) -> Scenario:
    """The smallest company that gives a cycle something to do: one invoice three weeks overdue
    (a reminder email and a note), one not yet due."""

    def invoice(number: int, issued: dt.date) -> ScenarioInvoice:
        return ScenarioInvoice(
            f"inv-{number}",
            str(number),
            "cust-01",
            issued,
            issued + dt.timedelta(days=30),
            "USD",
            (ScenarioLine("Monthly maintenance", Decimal("120.00")),),
        )

    return Scenario(
        ScenarioCompany("Harbor & Pine Landscaping", timezone, "USD"),
        as_of,
        (ScenarioCustomer("cust-01", "Acme Plumbing", "ap@acme.example", None, "USD", 30),),
        (invoice(1001, as_of - dt.timedelta(days=51)), invoice(1002, as_of - dt.timedelta(days=5))),
        (),
    )


def midday_timezone(now: dt.datetime) -> str:
    """A fixed-offset zone where `now` is around noon, so quiet hours never hold the reminders back."""
    offset = 12 - now.hour  # -11..12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT signs are inverted


def admin(base_url: str, method: str, path: str, **kwargs: object) -> dict:  # type: ignore[type-arg]
    response = requests.request(method, f"{base_url}/_sandbox{path}", timeout=30, **kwargs)  # type: ignore[arg-type]
    assert response.ok, f"{method} {path}: {response.status_code} {response.text[:500]}"
    return response.json()


def add_connection(
    sessions: sessionmaker[Session],
    cipher: TokenCipher,
    provider: str,
    external_id: str,
    minted: dict,
    scenario: Scenario,
    owner: str,
) -> int:  # type: ignore[type-arg]
    """A connection as the connect flow leaves it, with the tokens the sandbox minted for it, and its
    organization's rules switched to live so cycles send and write."""
    now = dt.datetime.now(dt.UTC)
    tokens = TokenSet(
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
        access_expires_at=now + dt.timedelta(seconds=int(minted["expires_in"])),
        refresh_expires_at=None,
        external_id=external_id,
        scope=tuple(str(minted.get("scope", "")).split()),
    )
    with transaction(sessions) as session:
        user, connection = connect_company(
            session,
            identity=OwnerIdentity(provider, owner, f"{owner}@example.com", owner),
            external_id=external_id,
            display_name=scenario.company.name,
            tokens=tokens,
            cipher=cipher,
        )
        organization = session.get(Organization, user.organization_id)
        assert organization is not None
        organization.timezone, organization.base_currency = scenario.company.timezone, scenario.company.currency
        connection.timezone = scenario.company.timezone  # as the owner sets it: QuickBooks' books hold no zone
        save_rules(session, organization.id, {"mode": "live"})
        return connection.id


def environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any arpilot setting it might carry, plus `overrides`."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ARPILOT_", "QUICKBOOKS_", "XERO_", "SENDGRID_", "EMAIL_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "TOKEN_ENCRYPTION_KEYS", "SECRET_KEY")
    }
    return {**keep, **overrides}
