from __future__ import annotations

import datetime as dt

import pytest

from oauth.state import MAX_PENDING, OAuthStateError, PkcePair, consume_state, issue_state, s256_challenge

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_state_checks_out_once() -> None:
    session: dict = {}
    state = issue_state(session, "quickbooks", NOW)
    pending = consume_state(session, "quickbooks", state, NOW + dt.timedelta(minutes=9))
    assert pending.provider == "quickbooks" and pending.code_verifier is None
    with pytest.raises(OAuthStateError) as replay:
        consume_state(session, "quickbooks", state, NOW)
    assert replay.value.kind == "unknown"


def test_missing_state() -> None:
    with pytest.raises(OAuthStateError) as caught:
        consume_state({}, "quickbooks", None, NOW)
    assert caught.value.kind == "missing"


def test_state_from_another_browser_session_is_refused() -> None:
    theirs: dict = {}
    state = issue_state(theirs, "quickbooks", NOW)
    mine: dict = {}
    issue_state(mine, "quickbooks", NOW)
    with pytest.raises(OAuthStateError) as caught:
        consume_state(mine, "quickbooks", state, NOW)
    assert caught.value.kind == "unknown"


def test_expired_state_is_refused_and_removed() -> None:
    session: dict = {}
    state = issue_state(session, "quickbooks", NOW)
    with pytest.raises(OAuthStateError) as caught:
        consume_state(session, "quickbooks", state, NOW + dt.timedelta(minutes=10, seconds=1))
    assert caught.value.kind == "expired"
    with pytest.raises(OAuthStateError):
        consume_state(session, "quickbooks", state, NOW)


def test_state_of_another_provider_is_refused() -> None:
    session: dict = {}
    state = issue_state(session, "xero", NOW)
    with pytest.raises(OAuthStateError) as caught:
        consume_state(session, "quickbooks", state, NOW)
    assert caught.value.kind == "provider"


def test_several_tabs_keep_the_newest_few() -> None:
    session: dict = {}
    states = [issue_state(session, "quickbooks", NOW + dt.timedelta(seconds=i)) for i in range(MAX_PENDING + 2)]
    assert len(session["oauth_pending"]) == MAX_PENDING
    consume_state(session, "quickbooks", states[-1], NOW)
    consume_state(session, "quickbooks", states[2], NOW)
    with pytest.raises(OAuthStateError):
        consume_state(session, "quickbooks", states[0], NOW)


def test_states_are_unpredictable() -> None:
    session: dict = {}
    states = {issue_state(session, "quickbooks", NOW) for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 40 for s in states)


def test_pkce_matches_rfc7636_appendix_b() -> None:
    pair = PkcePair.from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert pair.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" and pair.method == "S256"
    assert pair.verifier not in repr(pair)


def test_pkce_verifier_travels_with_the_state() -> None:
    session: dict = {}
    pair = PkcePair.new()
    assert 43 <= len(pair.verifier) <= 128
    state = issue_state(session, "xero", NOW, pkce=pair)
    assert consume_state(session, "xero", state, NOW).code_verifier == pair.verifier


@pytest.mark.parametrize("verifier", ["short", "x" * 129])
def test_pkce_verifier_length_is_checked(verifier: str) -> None:
    with pytest.raises(ValueError, match="43 to 128"):
        s256_challenge(verifier)
