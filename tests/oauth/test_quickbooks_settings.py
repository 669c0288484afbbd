from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connectors.quickbooks.sandbox import QboSandboxConfig
from integration.config import EMBEDDED_QUICKBOOKS_DISCOVERY, ConfigError, load_settings


def _production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "ARPILOT_ENV": "production",
        "ARPILOT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://u@h/db",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        **extra,
    }


def test_embedded_default_is_the_local_sandbox_with_its_credentials(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_BASE_URL": "http://127.0.0.1:5000/"})
    quickbooks = settings.quickbooks
    assert quickbooks is not None
    assert quickbooks.environment == EMBEDDED_QUICKBOOKS_DISCOVERY
    assert (quickbooks.client_id, quickbooks.client_secret) == (
        QboSandboxConfig.client_id,
        QboSandboxConfig.client_secret,
    )
    assert quickbooks.redirect_uri == "http://127.0.0.1:5000/connect/quickbooks/callback"


def test_production_credentials_and_environment(tmp_path: Path) -> None:
    settings = load_settings(
        _production(
            tmp_path,
            QUICKBOOKS_CLIENT_ID="ABprod",
            QUICKBOOKS_CLIENT_SECRET="prod-secret-value",
            ARPILOT_BASE_URL="https://app.arpilot.example",
        )
    )
    assert settings.quickbooks is not None
    assert settings.quickbooks.environment == "production"
    assert settings.quickbooks.redirect_uri == "https://app.arpilot.example/connect/quickbooks/callback"
    assert "prod-secret-value" not in repr(settings) and settings.secret_key not in repr(settings)


def test_production_without_quickbooks_credentials_turns_quickbooks_off(tmp_path: Path) -> None:
    assert load_settings(_production(tmp_path)).quickbooks is None


def test_explicit_redirect_uri_and_intuit_sandbox(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path),
            "QUICKBOOKS_CLIENT_ID": "ABdev",
            "QUICKBOOKS_CLIENT_SECRET": "dev",
            "QUICKBOOKS_ENVIRONMENT": "sandbox",
            "QUICKBOOKS_REDIRECT_URI": "http://localhost:8000/cb",
        }
    )
    assert settings.quickbooks is not None
    assert (settings.quickbooks.environment, settings.quickbooks.redirect_uri) == (
        "sandbox",
        "http://localhost:8000/cb",
    )


def test_client_id_without_secret_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="QUICKBOOKS_CLIENT_SECRET"):
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "QUICKBOOKS_CLIENT_ID": "ABdev"})


def test_unknown_environment_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="QUICKBOOKS_ENVIRONMENT"):
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "QUICKBOOKS_ENVIRONMENT": "staging"})
