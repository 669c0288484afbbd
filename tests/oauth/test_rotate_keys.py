from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from integration.cli import main
from integration.store.connections import rotate_token_keys
from integration.store.db import make_engine, make_session_factory, upgrade
from integration.store.models import Connection
from oauth.crypto import TokenCipher, TokenDecryptError
from tests.oauth.conftest import add_connection, make_tokens, stored_tokens


def test_rotate_then_drop_the_old_key(sessions) -> None:  # type: ignore[no-untyped-def]
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tokens = [
        make_tokens(f"AB11refresh-{i:04d}-rotation", expires_in=dt.timedelta(hours=1), realm=f"realm-{i}")
        for i in range(3)
    ]
    ids = [add_connection(sessions, TokenCipher([old]), t) for t in tokens]
    assert rotate_token_keys(sessions, TokenCipher([new, old])) == 3
    for connection_id, expected in zip(ids, tokens, strict=True):
        assert stored_tokens(sessions, TokenCipher([new]), connection_id) == expected


def test_one_unreadable_blob_rotates_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    old, new, lost = (Fernet.generate_key().decode() for _ in range(3))
    readable = add_connection(
        sessions, TokenCipher([old]), make_tokens("AB11refresh-readable", expires_in=dt.timedelta(hours=1), realm="r1")
    )
    unreadable = add_connection(
        sessions, TokenCipher([lost]), make_tokens("AB11refresh-lost-key", expires_in=dt.timedelta(hours=1), realm="r2")
    )
    with sessions() as session:
        before = session.get(Connection, readable).token_blob
    with pytest.raises(TokenDecryptError, match=f"connection {unreadable}") as caught:
        rotate_token_keys(sessions, TokenCipher([new, old]))
    assert "AB11" not in str(caught.value)
    with sessions() as session:
        assert session.get(Connection, readable).token_blob == before


def test_cli_rotates_with_the_configured_keys(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'arpilot.db'}"
    upgrade(url)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    tokens = make_tokens("AB11refresh-cli-rotation", expires_in=dt.timedelta(hours=1))
    connection_id = add_connection(sessions, TokenCipher([old]), tokens)
    monkeypatch.setenv("ARPILOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"{new},{old}")
    result = CliRunner().invoke(main, ["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "1 connection" in result.output
    assert stored_tokens(sessions, TokenCipher([new]), connection_id) == tokens
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    refused = CliRunner().invoke(main, ["rotate-keys"])
    assert refused.exit_code == 1 and "nothing was changed" in refused.output
    engine.dispose()
