from __future__ import annotations

from pathlib import Path

import pytest

from integration.config import ConfigError, load_settings
from reminders.delivery import EmailSender, OutboxSender, SendGridSender, make_sender


def test_without_an_api_key_the_outbox_is_used(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    sender = make_sender(settings)
    assert isinstance(sender, OutboxSender) and isinstance(sender, EmailSender)
    assert sender.directory == tmp_path / "outbox"


def test_an_api_key_selects_sendgrid_with_host_and_sandbox_mode(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path),
            "SENDGRID_API_KEY": "SG.factory-key",
            "SENDGRID_SANDBOX_MODE": "true",
            "SENDGRID_HOST": "http://127.0.0.1:9/",
        }
    )
    sender = make_sender(settings)
    assert isinstance(sender, SendGridSender) and isinstance(sender, EmailSender)
    assert sender.sandbox_mode is True and sender.host == "http://127.0.0.1:9"


def test_sandbox_mode_defaults_off_and_host_to_sendgrid(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path)})
    assert settings.sendgrid_sandbox_mode is False
    assert settings.sendgrid_host == "https://api.sendgrid.com"


@pytest.mark.parametrize(("name", "value"), [("SENDGRID_SANDBOX_MODE", "maybe"), ("SENDGRID_HOST", "api.sendgrid.com")])
def test_bad_sendgrid_settings_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), name: value})
