from __future__ import annotations

from pathlib import Path

import pytest

from connectors.xero.sandbox import XeroSandboxConfig
from integration.config import EMBEDDED_XERO_URL, ConfigError, load_settings
from tests.oauth.test_quickbooks_settings import _production


def test_embedded_default_is_the_local_xero_sandbox_with_its_credentials(tmp_path: Path) -> None:
    settings = load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "ARPILOT_BASE_URL": "http://127.0.0.1:5000/"})
    xero = settings.xero
    assert xero is not None
    defaults = XeroSandboxConfig()
    assert (xero.client_id, xero.client_secret) == (defaults.client_id, defaults.client_secret)
    assert xero.identity_url == xero.api_url == EMBEDDED_XERO_URL == "http://127.0.0.1:8802"
    assert xero.authorize_url == "http://127.0.0.1:8802/identity/connect/authorize"
    assert xero.redirect_uri == "http://127.0.0.1:5000/connect/xero/callback"
    assert settings.xero_webhook_key == defaults.webhook_key
    assert "offline_access" in xero.scopes and "accounting.settings" in xero.scopes


def test_production_uses_xero_hosts_and_keeps_secrets_out_of_repr(tmp_path: Path) -> None:
    settings = load_settings(
        _production(
            tmp_path,
            XERO_CLIENT_ID="PRODID",
            XERO_CLIENT_SECRET="xero-prod-secret",
            XERO_WEBHOOK_KEY="xero-hook-key",
            ARPILOT_BASE_URL="https://app.arpilot.example",
        )
    )
    xero = settings.xero
    assert xero is not None
    assert (xero.identity_url, xero.api_url) == ("https://identity.xero.com", "https://api.xero.com")
    assert xero.authorize_url == "https://login.xero.com/identity/connect/authorize"
    assert xero.redirect_uri == "https://app.arpilot.example/connect/xero/callback"
    assert "xero-prod-secret" not in repr(settings) and "xero-hook-key" not in repr(settings)


def test_production_without_xero_credentials_turns_xero_and_its_webhooks_off(tmp_path: Path) -> None:
    settings = load_settings(_production(tmp_path))
    assert settings.xero is None and settings.xero_webhook_key is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"XERO_CLIENT_ID": "id"}, "XERO_CLIENT_SECRET must be set"),
        ({"XERO_IDENTITY_URL": "identity.xero.com"}, "XERO_IDENTITY_URL must be an http"),
        ({"XERO_API_URL": "ftp://x"}, "XERO_API_URL must be an http"),
        ({"XERO_SCOPES": "openid accounting.transactions"}, "offline_access"),
    ],
)
def test_bad_xero_settings_name_the_variable(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"ARPILOT_VAR_DIR": str(tmp_path), **extra})


def test_custom_identity_url_serves_the_consent_page_too(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path),
            "XERO_IDENTITY_URL": "http://127.0.0.1:9999/",
            "XERO_SCOPES": "offline_access openid accounting.transactions",
        }
    )
    assert settings.xero is not None
    assert settings.xero.authorize_url == "http://127.0.0.1:9999/identity/connect/authorize"
    assert settings.xero.scopes == ("offline_access", "openid", "accounting.transactions")
