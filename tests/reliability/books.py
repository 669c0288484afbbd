"""One connected company on either provider's sandbox, and the two checks every reliability test ends with.

`Books` hides which sandbox is behind a world (tests/cycle World or XeroWorld): it injects faults,
reads the sandbox's own books straight from the emulator's memory (not through arpilot's connector,
whose behaviour is what is under test), and keeps an `EffectLog` of every customer-terms transition
the sandbox went through. `assert_mirror_consistent` compares the mirror with those books;
`assert_exactly_once` checks that no effect was duplicated and none was lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector
from connectors.quickbooks.sandbox.company import Company
from connectors.sandbox import SandboxClock, TokenAuthority
from connectors.sandbox.runtime import SandboxRuntime
from connectors.xero.sandbox.org import Organisation
from integration.cycle.attempt import action_ref
from integration.cycle.run import CycleDeps, CycleSummary, cycle_once
from integration.policy.rules import STAGES, Rules
from integration.store.connections import OwnerIdentity, connect_company, load_tokens
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, Connection, MirroredCustomer, MirroredInvoice
from oauth.crypto import TokenCipher, TokenSet
from tests.cycle.conftest import World
from tests.cycle.xero_world import XeroWorld

PROVIDERS = ("quickbooks", "xero")
TERM_ACTIONS = ("set_mid_month_terms", "credit_hold_on", "credit_hold_off")
QBO_NOTE_REF = re.compile(r"^\[arpilot \d{4}-\d{2}-\d{2} (\S+?)\]", re.M)
XERO_NOTE_REF = re.compile(r"^\[arpilot (\S+?)\]")


@dataclass(frozen=True)
class Open:
    """An open invoice as both sides must agree on it."""

    customer_id: str
    balance: Decimal


class EffectLog:
    """Counts each customer's terms transitions (payment terms, credit hold) as the sandbox makes them.

    Installed as WSGI middleware: after every request the terms of every customer are compared with
    what they were before, so a write repeated after a lost answer shows up as a second transition
    only if it really changed the books again.
    """

    def __init__(self, app: Flask, state: Callable[[], dict[str, str]]) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._last = state()
        self.transitions: Counter[str] = Counter()
        inner = app.wsgi_app

        def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            body = list(inner(environ, start_response))  # the work is done once the body is built
            self._observe()
            return body

        app.wsgi_app = middleware  # type: ignore[method-assign]

    def _observe(self) -> None:
        with self._lock:
            now = self._state()
            for customer_id, terms in now.items():
                if self._last.get(customer_id, terms) != terms:
                    self.transitions[customer_id] += 1
            self._last = now


@dataclass
class Books:
    provider: str
    world: World | XeroWorld
    effects: EffectLog = field(init=False)

    def __post_init__(self) -> None:
        self.effects = EffectLog(self.app, self.customer_terms)

    # --- the world, whichever provider ----------------------------------------------------------
    @property
    def app(self) -> Flask:
        return self.world.qbo.app if isinstance(self.world, World) else self.world.app

    @property
    def runtime(self) -> SandboxRuntime:
        return self.world.qbo.sandbox.runtime if isinstance(self.world, World) else self.world.sandbox.runtime

    @property
    def authority(self) -> TokenAuthority:
        return self.world.qbo.sandbox.authority if isinstance(self.world, World) else self.world.sandbox.authority

    @property
    def company(self) -> Company | Organisation:
        if isinstance(self.world, World):
            company = self.world.qbo.sandbox.company(self.world.qbo.realm)
        else:
            company = self.world.sandbox.organisation("demo")
        assert company is not None
        return company

    @property
    def api_path(self) -> str:
        """A regular expression matching every accounting API path of this provider."""
        return r"^/v3/company/" if self.provider == "quickbooks" else r"^/api\.xro/"

    @property
    def clock(self) -> SandboxClock:
        return self.world.clock

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.world.sessions

    @property
    def connection_id(self) -> int:
        return self.world.connection_id

    def admin(self, method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return (
            self.world.qbo.admin(method, path, **kwargs)
            if isinstance(self.world, World)
            else self.world.admin(method, path, **kwargs)
        )

    def deps(self, skew: dt.timedelta = dt.timedelta(0)) -> CycleDeps:
        return self.world.deps(skew=skew)

    def stored_tokens(self) -> TokenSet:
        with self.sessions() as session:
            tokens = load_tokens(
                session.get(Connection, self.connection_id),  # type: ignore[arg-type]
                TokenCipher(self.world.settings.token_encryption_keys),
            )
            assert tokens is not None
            return tokens

    def revoke_grant(self) -> None:
        """The owner disconnects arpilot inside the accounting system: the whole grant dies."""
        assert self.authority.revoke(self.stored_tokens().refresh_token) is not None

    def reconnect(self) -> None:
        """The owner connects again through the consent page: a new grant for the same company."""
        if isinstance(self.world, World):
            minted, identity = (
                self.world.qbo.minted(),
                OwnerIdentity("quickbooks", "owner-1", "owner@harborpine.example", "Pat Owner"),
            )
            external_id, scope = self.world.qbo.realm, ()
        else:
            response = self.admin("POST", "/tokens", json={"tenants": ["demo"]})
            assert response.status_code == 201, response.text
            minted, identity = (
                response.json(),
                OwnerIdentity("xero", "owner-x", "owner@harborpine.example", "Pat Owner"),
            )
            external_id, scope = self.world.tenant_id, tuple(minted["scope"].split())
        now = self.clock.now()
        tokens = TokenSet(
            access_token=minted["access_token"],
            refresh_token=minted["refresh_token"],
            access_expires_at=now + dt.timedelta(seconds=int(minted["expires_in"])),
            refresh_expires_at=None,
            external_id=external_id,
            scope=scope,
        )
        with transaction(self.sessions) as session:
            connect_company(
                session,
                identity=identity,
                external_id=external_id,
                display_name="Harbor & Pine Landscaping",
                tokens=tokens,
                cipher=TokenCipher(self.world.settings.token_encryption_keys),
            )

    def cycle(
        self, wrap: Callable[[Connector], Connector] | None = None, deps: CycleDeps | None = None
    ) -> CycleSummary:
        """One real cycle; `wrap` puts a test's hook around the connector the cycle builds."""
        deps = deps or self.deps()
        if wrap is not None:
            build = deps.connectors
            deps = dataclasses.replace(
                deps, connectors=lambda connection, organization: wrap(build(connection, organization))
            )
        return cycle_once(deps, self.connection_id)

    def set_rules(self, rules: dict[str, object]) -> None:
        self.world.set_rules(rules)

    def actions(self) -> list[Action]:
        """This connection's ledger (several worlds may share one database)."""
        return [a for a in self.world.actions() if a.connection_id == self.connection_id]

    def outbox_keys(self) -> Counter[str]:
        """This connection's emails in the outbox (several worlds may share one outbox), per key."""
        return Counter(e["key"] for e in self.world.outbox.entries() if e["key"].startswith(f"{self.connection_id}:"))

    def connection(self) -> Connection:
        with self.sessions() as session:
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            session.expunge(connection)
            return connection

    def fault(self, **rule: Any) -> None:
        """Inject `rule` (connectors/sandbox/faults.py) on this provider's accounting API unless a path is given."""
        response = self.admin("POST", "/faults", json={"path": self.api_path, **rule})
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def faults_left(self) -> int:
        return sum(rule.count for rule in self.runtime.faults.rules())

    def pay(self, invoice_id: str, amount: str | None = None) -> None:
        path = (
            f"/companies/{self.world.qbo.realm}/payments"
            if isinstance(self.world, World)
            else "/organisations/demo/payments"
        )
        body = {"invoice": invoice_id, **({"amount": amount} if amount else {})}
        response = self.admin("POST", path, json=body)
        assert response.status_code == 201, response.text

    # --- the sandbox's own books ----------------------------------------------------------------
    def open_invoices(self) -> dict[str, Open]:
        company = self.company
        with company.lock:
            if isinstance(company, Company):
                return {
                    i: Open(str(r["CustomerRef"]["value"]), company.invoice_balance(r))
                    for i, r in company.entities["Invoice"].items()
                    if company.invoice_balance(r) > 0
                }
            return {
                i: Open(r["_contact"], company.amount_due(r))
                for i, r in company.invoices.items()
                if r["Type"] == "ACCREC"
                and company.invoice_status(r) == "AUTHORISED"  # only approved is owed (#13)
                and company.amount_due(r) > 0
            }

    def customers(self) -> dict[str, str]:
        company = self.company
        with company.lock:
            if isinstance(company, Company):
                return {i: r["DisplayName"] for i, r in company.entities["Customer"].items() if r.get("Active", True)}
            return {i: r["Name"] for i, r in company.contacts.items() if r.get("ContactStatus", "ACTIVE") == "ACTIVE"}

    def customer_terms(self) -> dict[str, str]:
        """Each customer's payment terms and credit-hold state, as one comparable text."""
        company = self.company
        with company.lock:
            if isinstance(company, Company):
                return {i: json.dumps(r.get("SalesTermRef")) for i, r in company.entities["Customer"].items()}
            return {
                i: json.dumps([r.get("PaymentTerms"), sorted(g["Name"] for g in company.groups_of(i))], default=str)
                for i, r in company.contacts.items()
            }

    def note_refs(self) -> dict[str, Counter[str]]:
        """Per invoice, how many times each action reference appears in arpilot's notes."""
        company = self.company
        with company.lock:
            if isinstance(company, Company):
                return {
                    i: Counter(QBO_NOTE_REF.findall(r.get("PrivateNote") or ""))
                    for i, r in company.entities["Invoice"].items()
                }
            return {
                i: Counter(
                    m.group(1) for h in records if h["Changes"] == "Note" if (m := XERO_NOTE_REF.match(h["Details"]))
                )
                for i, records in company.history.items()
                if i in company.invoices
            }

    def provider_sends(self) -> Counter[str]:
        """Invoices the accounting system emailed itself, per invoice id."""
        return Counter(e.invoice_id for e in self.company.sent_emails)

    def late_fees(self) -> Counter[str]:
        """The late-fee invoices in the books, per number (`LF-…`)."""
        company = self.company
        with company.lock:
            if isinstance(company, Company):
                numbers = [str(r.get("DocNumber") or "") for r in company.entities["Invoice"].values()]
            else:
                numbers = [r["InvoiceNumber"] for r in company.invoices.values()]
        return Counter(n for n in numbers if n.startswith("LF-"))

    # --- arpilot's side -------------------------------------------------------------------------
    def mirror_open_invoices(self) -> dict[str, Open]:
        with self.sessions() as session:
            rows = session.scalars(
                select(MirroredInvoice).where(
                    MirroredInvoice.connection_id == self.connection_id,
                    MirroredInvoice.status == "open",
                    MirroredInvoice.balance > 0,
                )
            )
            return {r.provider_id: Open(r.customer_provider_id, Decimal(r.balance)) for r in rows}

    def mirror_customers(self) -> dict[str, str]:
        with self.sessions() as session:
            rows = session.scalars(
                select(MirroredCustomer).where(
                    MirroredCustomer.connection_id == self.connection_id,
                    MirroredCustomer.active.is_(True),
                    MirroredCustomer.deleted.is_(False),
                )
            )
            return {r.provider_id: r.name for r in rows}

    def advance(self, delta: dt.timedelta) -> None:
        self.clock.advance(delta)


def balances_by_customer(invoices: dict[str, Open]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for item in invoices.values():
        totals[item.customer_id] = totals.get(item.customer_id, Decimal(0)) + item.balance
    return totals


def assert_mirror_consistent(books: Books) -> None:
    """Every open invoice, every customer and every customer's balance agree with the sandbox."""
    books.clear_faults()
    expected, mirrored = books.open_invoices(), books.mirror_open_invoices()
    assert mirrored == expected, {
        "missing": expected.keys() - mirrored.keys(),
        "extra": mirrored.keys() - expected.keys(),
    }
    assert books.mirror_customers() == books.customers()
    assert balances_by_customer(mirrored) == balances_by_customer(expected)


@dataclass
class Findings:
    """What `assert_exactly_once` looks for, in words: effects that happened twice, work that went missing."""

    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.duplicates or self.lost)


def exactly_once_findings(books: Books) -> Findings:
    found = Findings()
    actions = books.actions()
    now = books.clock.now()
    # An action held back by quiet hours is waiting, not lost.
    unfinished = [
        (a.kind, a.status.value, a.last_error)
        for a in actions
        if a.status is ActionStatus.IN_FLIGHT
        or (a.status is ActionStatus.PLANNED and not (a.not_before and _aware(a.not_before) > now))
    ]
    found.lost += [f"action never finished: {item}" for item in unfinished]
    found.lost += [f"action failed: {a.kind} {a.last_error}" for a in actions if a.status is ActionStatus.FAILED]

    keys = books.outbox_keys()
    found.duplicates += [f"email {key} went out {n} times" for key, n in keys.items() if n > 1]
    emailed = [
        a
        for a in actions
        if a.kind == "send_reminder"
        and a.status is ActionStatus.DONE
        and a.payload["payload"].get("channel") != "accounting_system_email"
    ]
    if len(keys) != len(emailed):
        found.lost.append(f"{len(emailed)} reminder emails recorded as done but {len(keys)} in the outbox")

    refs = books.note_refs()
    found.duplicates += [
        f"note {ref} written {n} times on invoice {invoice_id}"
        for invoice_id, counts in refs.items()
        for ref, n in counts.items()
        if n > 1
    ]
    found.lost += [
        f"the note of {action.kind} {action.id} is missing on invoice {invoice_id}"
        for action in emailed
        for invoice_id in action.payload.get("delivered") or ()
        if refs.get(invoice_id, Counter())[action_ref(action)] != 1
    ]

    by_provider = Counter(
        i
        for a in actions
        if a.status is ActionStatus.DONE
        and a.kind in ("resend_invoice", "send_reminder")
        and a.payload["payload"].get("channel", "accounting_system_email") == "accounting_system_email"
        for i in a.payload["invoice_ids"]
    )
    found.duplicates += [
        f"invoice {i} emailed by the accounting system {n} times for {by_provider[i]} action(s)"
        for i, n in books.provider_sends().items()
        if n > by_provider[i]
    ]
    fees = books.late_fees()
    charged = {
        a.payload.get("fee_invoice_number")
        for a in actions
        if a.kind == "charge_late_fee" and a.status is ActionStatus.DONE
    }
    found.duplicates += [f"late fee {n} is in the books {count} times" for n, count in fees.items() if count > 1]
    found.duplicates += [f"late fee {n} is in the books but no action recorded it" for n in fees if n not in charged]
    found.lost += [f"late fee {n} was recorded but is not in the books" for n in charged if n not in fees]
    term_actions = Counter(
        a.payload["customer_id"] for a in actions if a.kind in TERM_ACTIONS and a.status is ActionStatus.DONE
    )
    found.duplicates += [
        f"customer {c}'s terms changed {n} times for {term_actions[c]} action(s)"
        for c, n in books.effects.transitions.items()
        if n > term_actions[c]
    ]
    return found


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def waiting_until(books: Books) -> dt.datetime | None:
    """When the last action held back by quiet hours may run (None: nothing is waiting)."""
    times = [_aware(a.not_before) for a in books.actions() if a.status is ActionStatus.PLANNED and a.not_before]
    return max(times) if times else None


def assert_exactly_once(books: Books) -> None:
    found = exactly_once_findings(books)
    assert not found, found


def live_rules() -> dict[str, Any]:
    """Live mode with the write-backs these tests break on purpose all happening in one cycle: the
    owner lets credit holds, final notices and late fees go ahead (no Approve list), and the 30-day
    stage goes out as the accounting system's own invoice email (its one message that day, issue 14)."""
    rules = Rules.default().to_json()
    rules["mode"] = "live"
    rules["approval"] = {"final_notice": False, "credit_hold": False, "escalation": False}
    rules["ladder"]["stages"][STAGES.index("past_due_30")]["channel"] = "accounting_system_email"
    # Late fees go ahead too: each is a write whose record may be lost to a crash (exactly one in the books).
    rules["late_fees"] = {**rules["late_fees"], "enabled": True, "approve_first": False, "xero_account_code": "260"}
    return rules
