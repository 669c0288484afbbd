import datetime as dt
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from integration.config import ConfigError, load_settings


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'arpilot.db'}"
    assert settings.embedded and not settings.production
    assert settings.redis_url is None and settings.sendgrid_api_key is None
    assert settings.outbox_dir == tmp_path / "outbox"
    Fernet(settings.token_encryption_keys[0])  # a usable key was generated


def test_generated_secrets_are_kept_and_private(tmp_path: Path) -> None:
    first = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    second = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert first.token_encryption_keys == second.token_encryption_keys
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_url_selects_psycopg(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert not settings.embedded


@pytest.mark.parametrize("missing", ["DATABASE_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"])
def test_production_requires_each_secret(tmp_path: Path, missing: str) -> None:
    environ = {
        "ARPILOT_ENV": "production",
        "ARPILOT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://u@h/db",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    del environ[missing]
    with pytest.raises(ConfigError, match=missing):
        load_settings(environ)
    assert not (tmp_path / "secret_key").exists()


def test_bad_encryption_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS entry 2"):
        load_settings(
            {"ARPILOT_VAR_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},nope"}
        )


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ARPILOT_ENV"):
        load_settings({"ARPILOT_ENV": "staging", "ARPILOT_VAR_DIR": str(tmp_path)})


def test_the_cycle_interval_is_minutes_or_seconds_never_both(tmp_path: Path) -> None:
    def interval(**environ: str) -> dt.timedelta:
        return load_settings({"ARPILOT_VAR_DIR": str(tmp_path), **environ}).cycle_interval

    assert interval() == dt.timedelta(hours=1)
    assert interval(ARPILOT_CYCLE_INTERVAL_MINUTES="15") == dt.timedelta(minutes=15)
    assert interval(ARPILOT_CYCLE_INTERVAL_SECONDS="12") == dt.timedelta(seconds=12)
    with pytest.raises(ConfigError, match="not both"):
        interval(ARPILOT_CYCLE_INTERVAL_SECONDS="12", ARPILOT_CYCLE_INTERVAL_MINUTES="1")
    with pytest.raises(ConfigError, match="ARPILOT_CYCLE_INTERVAL_SECONDS must be at least 1"):
        interval(ARPILOT_CYCLE_INTERVAL_SECONDS="0")
    with pytest.raises(ConfigError, match="ARPILOT_CYCLE_INTERVAL_MINUTES must be a whole number"):
        interval(ARPILOT_CYCLE_INTERVAL_MINUTES="1.5")


def test_the_request_body_deadline_is_whole_seconds_of_at_least_one(tmp_path: Path) -> None:
    def deadline(**environ: str) -> int:
        return load_settings({"ARPILOT_VAR_DIR": str(tmp_path), **environ}).request_body_timeout_seconds

    assert deadline() == 10
    assert deadline(ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS="3") == 3
    with pytest.raises(ConfigError, match="ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS must be at least 1"):
        deadline(ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS="0")
    with pytest.raises(ConfigError, match="ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS must be a whole number"):
        deadline(ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS="2.5")


def test_the_customer_page_settings_are_days_in_range(tmp_path: Path) -> None:
    def load(**environ: str):  # type: ignore[no-untyped-def]
        return load_settings({"ARPILOT_VAR_DIR": str(tmp_path), **environ})

    assert (load().customer_link_days, load().policy_acceptance_days) == (60, 365)
    assert load(ARPILOT_CUSTOMER_LINK_DAYS="14", ARPILOT_POLICY_ACCEPTANCE_DAYS="730").customer_link_days == 14
    with pytest.raises(ConfigError, match="ARPILOT_CUSTOMER_LINK_DAYS must be a number of days from 1 to 3650"):
        load(ARPILOT_CUSTOMER_LINK_DAYS="0")
    with pytest.raises(ConfigError, match="ARPILOT_POLICY_ACCEPTANCE_DAYS must be a whole number"):
        load(ARPILOT_POLICY_ACCEPTANCE_DAYS="a year")


def test_inbound_mail_settings(tmp_path: Path) -> None:
    embedded = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    assert embedded.inbound_address == "replies@inbound.arpilot.local" and embedded.inbound_secret
    assert embedded.inbox_dir == (tmp_path / "inbox").resolve()
    assert load_settings({"ARPILOT_VAR_DIR": str(tmp_path)}).inbound_secret == embedded.inbound_secret  # kept
    given = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path),
            "ARPILOT_INBOUND_ADDRESS": "Replies@Inbound.Example.com",
            "ARPILOT_INBOUND_SECRET": "s3cret",
        }
    )
    assert (given.inbound_address, given.inbound_secret) == ("replies@inbound.example.com", "s3cret")
    assert "s3cret" not in repr(given)
    for bad in ("replies+x@inbound.example.com", "not an address", "a@b.example, c@d.example"):
        with pytest.raises(ConfigError, match="ARPILOT_INBOUND_ADDRESS"):
            load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_INBOUND_ADDRESS": bad})


def test_the_embedded_sandboxes_ports_move_the_default_provider_urls(tmp_path: Path) -> None:
    settings = load_settings(
        {"ARPILOT_VAR_DIR": str(tmp_path), "QUICKBOOKS_SANDBOX_PORT": "9801", "XERO_SANDBOX_PORT": "9802"}
    )
    assert (settings.quickbooks_sandbox_port, settings.xero_sandbox_port) == (9801, 9802)
    assert settings.quickbooks is not None and settings.xero is not None
    assert settings.quickbooks.environment == "http://127.0.0.1:9801/.well-known/openid_configuration"
    assert settings.xero.api_url == settings.xero.identity_url == "http://127.0.0.1:9802"
    for bad in ("0", "65536", "http"):
        with pytest.raises(ConfigError, match="XERO_SANDBOX_PORT"):
            load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "XERO_SANDBOX_PORT": bad})
