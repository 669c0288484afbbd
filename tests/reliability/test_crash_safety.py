"""Crash safety: 50 SIGKILLs at random points of real cycles (sync pages, plan, execute, token
refresh, precondition reads, emails, notes, holds) in real subprocesses, on a QuickBooks and a Xero
connection side by side; then a clean run. Afterwards no email, note or terms change happened twice,
no action was lost, the mirror matches the books, and neither connection was stranded by the
rotation of its refresh token.

The randomness is seeded (ARPILOT_CRASH_SEED replays a run; the seed is printed). A crashed cycle
is re-run minutes later, as the next clock tick would; after a cycle that finished, anything from a
minute to a day may pass, so access tokens expire and refreshes (and kills inside them) happen.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from integration.models import ConnectionStatus
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.crash_worker import POINTS
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.reliability.books import Books, assert_exactly_once, assert_mirror_consistent, waiting_until
from tests.reliability.conftest import Figures
from tests.sandbox.conftest import small_scenario

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50
MAX_RUNS = 400  # a run whose kill point never comes finishes normally; this bounds the whole test
PHASES = {"page", "plan", "execute"}  # each must have been hit at least once, and a refresh too
REFRESH = {"refresh", "rotated"}
# The first kill of each connection in each phase; Xero's refresh dies after the rotating answer.
FIRST = {"quickbooks": ("refresh", "page", "plan", "execute"), "xero": ("rotated", "refresh", "page", "plan", "execute")}
LIVE = {"mode": "live"}
AFTER_A_FINISHED_RUN = (dt.timedelta(minutes=1), dt.timedelta(minutes=70), dt.timedelta(hours=3), dt.timedelta(days=1))


@pytest.fixture
def both(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[list[Books]]:
    """A QuickBooks and a Xero company connected to one arpilot, on one database and one var dir."""
    scenario = small_scenario(NOW.date())
    with ExitStack() as stack:
        qbo: World = stack.enter_context(contextmanager(make_world)(scenario, sessions, tmp_path))
        xero: XeroWorld = stack.enter_context(contextmanager(make_xero_world)(scenario, sessions, tmp_path))
        xero.clock.set(qbo.clock.now())
        books = [Books("quickbooks", qbo), Books("xero", xero)]
        for item in books:
            item.set_rules(LIVE)
            limit = "requests_per_minute" if item.provider == "quickbooks" else "calls_per_minute"
            assert item.admin("POST", "/limits", json={limit: 100_000}).status_code == 200  # crashes, not 429s
        yield books


def _points(provider: str) -> tuple[str, ...]:
    """Intuit kills a superseded refresh token at once: a crash between its answer and the COMMIT
    loses the only live token, which no client can survive, so `rotated` is Xero's alone (30 min grace)."""
    return POINTS if provider == "xero" else tuple(p for p in POINTS if p != "rotated")


def _environment(books: list[Books]) -> dict[str, str]:
    qbo, xero = books[0].world, books[1].world
    assert xero.settings.xero is not None and qbo.settings.quickbooks is not None
    return {
        **os.environ,
        "DATABASE_URL": qbo.sessions.kw["bind"].url.render_as_string(hide_password=False),
        "ARPILOT_VAR_DIR": str(qbo.settings.var_dir),
        "ARPILOT_EMBEDDED_CLOCK": "0",
        "QUICKBOOKS_ENVIRONMENT": qbo.settings.quickbooks.environment,
        "XERO_CLIENT_ID": xero.settings.xero.client_id, "XERO_CLIENT_SECRET": xero.settings.xero.client_secret,
        "XERO_IDENTITY_URL": xero.settings.xero.identity_url, "XERO_API_URL": xero.settings.xero.api_url,
    }


def _advance(books: list[Books], delta: dt.timedelta) -> dt.datetime:
    for item in books:
        item.clock.advance(delta)
    return books[0].clock.now()


def test_fifty_sigkills_lose_nothing_repeat_nothing_and_strand_no_connection(both: list[Books], figures: Figures) -> None:
    seed = int(os.environ.get("ARPILOT_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash seed {seed} (ARPILOT_CRASH_SEED={seed} replays this run)")
    rng = random.Random(seed)
    env = _environment(both)
    killed_last = {item.provider: False for item in both}
    kills: Counter[str] = Counter()
    runs = 0
    worker = subprocess.Popen([sys.executable, "-m", "tests.cycle.crash_worker", "--serve"], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert worker.stdin is not None and worker.stdout is not None
    try:
        while sum(kills.values()) < KILLS and runs < MAX_RUNS:
            crashed = any(killed_last.values())
            if runs == 0:  # the access tokens have expired: the first cycles refresh, and die doing it
                now = _advance(both, dt.timedelta(minutes=70))
            else:
                now = _advance(both, dt.timedelta(minutes=rng.randint(0, 5)) if crashed else rng.choice(AFTER_A_FINISHED_RUN))
            for item in both:
                rounds = runs // len(both)
                # Half the kills anywhere (every cycle passes at least five points: three sync pages,
                # plan, execute), half at a named point, which a cycle with nothing to do may never reach.
                if rounds < len(FIRST[item.provider]):  # every phase once for sure, then at random
                    point, count = FIRST[item.provider][rounds], 1
                else:
                    point = rng.choice(_points(item.provider)) if rng.random() < 0.5 else "any"
                    count = rng.randint(1, 5) if point == "any" else rng.randint(1, 2)
                worker.stdin.write(f"{item.connection_id} {now.isoformat()} {item.world.outbox.directory} {point} {count}\n")
                worker.stdin.flush()
                answer = json.loads(worker.stdout.readline())
                runs += 1
                killed_last[item.provider] = answer["signal"] == signal.SIGKILL
                if killed_last[item.provider]:
                    kills[f"{item.provider}:{answer['last']}"] += 1
                else:
                    assert answer["code"] == 0, answer["output"]
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    print(f"{runs} runs, {sum(kills.values())} kills: {dict(sorted(kills.items()))}")
    figures.crashes_survived += sum(kills.values())
    assert sum(kills.values()) >= KILLS, f"only {sum(kills.values())} kills in {runs} runs (seed {seed})"
    for provider in ("quickbooks", "xero"):
        hit = {point.split(":")[1] for point in kills if point.startswith(provider)}
        assert PHASES <= hit and hit & REFRESH, f"every phase was hit on {provider}: {kills}"

    for item in both:  # the clean run
        summary = item.cycle()
        assert summary.status == "done", (item.provider, summary.detail)
        assert_exactly_once(item)
        assert_mirror_consistent(item)
        assert item.connection().status is ConnectionStatus.ACTIVE, item.connection().status_reason

    for item in both:  # not stranded: hours later the connection still refreshes and works
        before = item.stored_tokens()
        item.clock.advance(dt.timedelta(hours=2))
        summary = item.cycle()
        assert summary.status == "done", (item.provider, summary.detail)
        assert item.stored_tokens().access_token != before.access_token, f"{item.provider} refreshed"
        assert_exactly_once(item)
        held_back = waiting_until(item)  # quiet hours: what waits for the morning is done then, once
        if held_back is not None:
            item.clock.set(held_back + dt.timedelta(minutes=1))
            assert item.cycle().status == "done"
        assert waiting_until(item) is None or waiting_until(item) > item.clock.now()
        assert_exactly_once(item)
