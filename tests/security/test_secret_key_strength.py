"""Production refuses a SECRET_KEY too weak to sign sessions: fewer than 32 random bytes' worth."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from integration.config import ConfigError, load_settings

HOW = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def production(tmp_path: Path, secret_key: str) -> dict[str, str]:
    return {
        "ARPILOT_ENV": "production",
        "ARPILOT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://u@h/db",
        "SECRET_KEY": secret_key,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


WEAK = {
    "one character": "x",
    "one repeated": "s" * 48,
    "a word repeated": "password" * 8,
    "a phrase repeated": "changeme-changeme-changeme-changeme",
    "16 random bytes": secrets.token_hex(16),
    "24 random bytes": secrets.token_urlsafe(24),
    "a passphrase": "correcthorsebatterystaplecorrecthorsebatterystaple",
    "digits in order": "0123456789" * 5,
}


@pytest.mark.parametrize("weak", WEAK.values(), ids=WEAK.keys())
def test_production_refuses_a_weak_secret_key_naming_it_and_how_to_make_one(tmp_path: Path, weak: str, tally) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as refused:
        load_settings(production(tmp_path, weak))
    message = str(refused.value)
    assert message.startswith("SECRET_KEY") and HOW in message
    assert weak not in message  # the refused key is never echoed into a log
    tally["weak_secret_keys_refused"] += 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(32),
        lambda: base64.b64encode(os.urandom(32)).decode(),
    ],
)
def test_production_accepts_32_random_bytes_however_encoded(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):  # the check is statistical: it must not refuse real random keys by bad luck
        key = make()
        assert load_settings(production(tmp_path, key)).secret_key == key


def test_development_keeps_accepting_any_key(tmp_path: Path) -> None:
    assert load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "SECRET_KEY": "x"}).secret_key == "x"
