"""Crash safety: 50 SIGKILLs at random points of real cycles (sync pages, plan, execute, token
refresh, precondition reads, emails, notes, holds) in real subprocesses, on a QuickBooks and a Xero
connection side by side; then a clean run. Afterwards no email, note or terms change happened twice,
no action was lost, the mirror matches the books, and neither connection was stranded by the
rotation of its refresh token.

The randomness is seeded (ARPILOT_CRASH_SEED replays a run; the seed is printed). A crashed cycle
is re-run minutes later, as the next clock tick would; after a cycle that finished, anything from a
minute to a day may pass, so access tokens expire and refreshes (and kills inside them) happen.

The one window no client can survive, Intuit's (it kills a superseded refresh token at once: a
process that dies between Intuit's rotating answer and the COMMIT has lost the only live token), is
tested on its own: the owner is asked to reconnect, and nothing planned is lost.
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

from integration.store.models import ConnectionStatus
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.crash_worker import POINTS, wait_until_released
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.reliability.books import Books, assert_mirror_consistent, exactly_once_findings, live_rules, waiting_until
from tests.reliability.conftest import Figures
from tests.sandbox.conftest import small_scenario

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50
MAX_RUNS = 400  # a run whose kill point never comes finishes normally; this bounds the whole test
PHASES = {"page", "plan", "execute"}  # each must have been hit at least once, and a refresh too
REFRESH = {"refresh", "rotated"}
# The first kill of each connection in each phase; Xero's refresh dies after the rotating answer.
FIRST = {
    "quickbooks": ("refresh", "page", "plan", "execute"),
    "xero": ("rotated", "refresh", "page", "plan", "execute"),
}
LIVE = live_rules()
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
    """What a worker needs to reach the database and these worlds' sandboxes."""
    first = books[0].world
    env = {
        **os.environ,
        "DATABASE_URL": first.sessions.kw["bind"].url.render_as_string(hide_password=False),
        "ARPILOT_VAR_DIR": str(first.settings.var_dir),
        "ARPILOT_EMBEDDED_CLOCK": "0",
    }
    for item in books:
        quickbooks, xero = item.world.settings.quickbooks, item.world.settings.xero
        if item.provider == "quickbooks" and quickbooks is not None:
            env["QUICKBOOKS_ENVIRONMENT"] = quickbooks.environment
        if item.provider == "xero" and xero is not None:
            env.update(
                XERO_CLIENT_ID=xero.client_id,
                XERO_CLIENT_SECRET=xero.client_secret,
                XERO_IDENTITY_URL=xero.identity_url,
                XERO_API_URL=xero.api_url,
            )
    return env


def _advance(books: list[Books], delta: dt.timedelta) -> dt.datetime:
    for item in books:
        item.clock.advance(delta)
    return books[0].clock.now()


def _assert_exactly_once(books: Books, figures: Figures) -> None:
    found = exactly_once_findings(books)
    figures.duplicates_found += len(found.duplicates)
    assert not found, found


def test_fifty_sigkills_lose_nothing_repeat_nothing_and_strand_no_connection(
    both: list[Books], figures: Figures
) -> None:
    seed = int(os.environ.get("ARPILOT_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash seed {seed} (ARPILOT_CRASH_SEED={seed} replays this run)")
    rng = random.Random(seed)
    env = _environment(both)
    killed_last = {item.provider: False for item in both}
    kills: Counter[str] = Counter()
    runs = 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.cycle.crash_worker", "--serve"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:
        while sum(kills.values()) < KILLS and runs < MAX_RUNS:
            crashed = any(killed_last.values())
            if runs == 0:  # the access tokens have expired: the first cycles refresh, and die doing it
                now = _advance(both, dt.timedelta(minutes=70))
            else:
                now = _advance(
                    both, dt.timedelta(minutes=rng.randint(0, 5)) if crashed else rng.choice(AFTER_A_FINISHED_RUN)
                )
            for item in both:
                rounds = runs // len(both)
                # Half the kills anywhere (every cycle passes at least five points: three sync pages,
                # plan, execute), half at a named point, which a cycle with nothing to do may never reach.
                if rounds < len(FIRST[item.provider]):  # every phase once for sure, then at random
                    point, count = FIRST[item.provider][rounds], 1
                else:
                    point = rng.choice(_points(item.provider)) if rng.random() < 0.5 else "any"
                    count = rng.randint(1, 5) if point == "any" else rng.randint(1, 2)
                worker.stdin.write(
                    f"{item.connection_id} {now.isoformat()} {item.world.outbox.directory} {point} {count}\n"
                )
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
        wait_until_released(item.sessions.kw["bind"], item.connection_id)
        summary = item.cycle()
        assert summary.status == "done", (item.provider, summary.detail)
        _assert_exactly_once(item, figures)
        assert_mirror_consistent(item)
        assert item.connection().status is ConnectionStatus.ACTIVE, item.connection().status_reason

    for item in both:  # not stranded: hours later the connection still refreshes and works
        before = item.stored_tokens()
        item.clock.advance(dt.timedelta(hours=2))
        summary = item.cycle()
        assert summary.status == "done", (item.provider, summary.detail)
        assert item.stored_tokens().access_token != before.access_token, f"{item.provider} refreshed"
        _assert_exactly_once(item, figures)
        held_back = waiting_until(item)  # quiet hours: what waits for the morning is done then, once
        if held_back is not None:
            item.clock.set(held_back + dt.timedelta(minutes=1))
            assert item.cycle().status == "done"
        assert waiting_until(item) is None or waiting_until(item) > item.clock.now()
        _assert_exactly_once(item, figures)


@pytest.mark.parametrize("books", ["quickbooks"], indirect=True)
def test_a_crash_inside_intuits_rotation_window_asks_for_a_reconnect_and_loses_nothing(
    books: Books, figures: Figures
) -> None:
    """The one crash no client survives: Intuit has rotated the refresh token (more than a day after
    the last rotation) and killed the old one, and the process dies before storing the new one. The
    connection must not fail silently: the owner is asked to reconnect, and nothing planned is lost."""
    books.set_rules(LIVE)
    now = _advance([books], dt.timedelta(days=2))
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.cycle.crash_worker",
            str(books.connection_id),
            now.isoformat(),
            str(books.world.outbox.directory),
            "rotated",
            "1",
        ],
        cwd=ROOT,
        env=_environment([books]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL and child.stdout.split()[-1] == "rotated", child.stderr[-2000:]
    figures.crashes_survived += 1
    wait_until_released(books.sessions.kw["bind"], books.connection_id)

    stopped = books.cycle()
    assert stopped.status == "stopped" and "reconnect" in stopped.detail, stopped.detail
    assert books.connection().status is ConnectionStatus.NEEDS_RECONNECT
    books.reconnect()
    assert books.cycle().status == "done"
    assert_mirror_consistent(books)
    _assert_exactly_once(books, figures)


def test_a_note_written_just_before_a_crash_is_not_written_again_after_the_idempotency_window(
    books: Books, figures: Figures
) -> None:
    """Xero honours an Idempotency-Key for minutes only (the sandbox: 6); the cycle that recovers a
    crashed action may come later. The recovery must find the note's evidence, not trust the key."""
    books.set_rules(LIVE)
    now = books.clock.now()
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.cycle.crash_worker",
            str(books.connection_id),
            now.isoformat(),
            str(books.world.outbox.directory),
            "note",
            "1",
        ],
        cwd=ROOT,
        env=_environment([books]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    figures.crashes_survived += 1
    wait_until_released(books.sessions.kw["bind"], books.connection_id)
    books.clock.advance(dt.timedelta(minutes=30))
    assert books.cycle().status == "done"
    _assert_exactly_once(books, figures)
