"""`arpilot web` on the embedded default serves both sandboxes where the default settings look."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from integration.config import Settings, load_settings
from integration.demo.embedded import start_embedded_sandboxes
from tests.ports import free_ports


@pytest.fixture
def embedded(settings_env: dict[str, str]) -> Settings:
    """The embedded default with its sandboxes on free ports: a running demo holds 8801 and 8802."""
    quickbooks_port, xero_port = free_ports(2)
    return load_settings(
        {**settings_env, "QUICKBOOKS_SANDBOX_PORT": str(quickbooks_port), "XERO_SANDBOX_PORT": str(xero_port)}
    )


def test_embedded_default_starts_both_sandboxes_where_settings_point(embedded: Settings) -> None:
    assert embedded.quickbooks is not None and embedded.xero is not None
    servers = start_embedded_sandboxes(embedded)
    try:
        assert len(servers) == 2
        assert requests.get(embedded.quickbooks.environment, timeout=10).json()["authorization_endpoint"]
        assert requests.get(f"{embedded.xero.api_url}/_sandbox/", timeout=10).status_code == 200
        assert start_embedded_sandboxes(embedded) == [], "ports already served: nothing started twice"
    finally:
        for server in servers:
            server.stop()


def test_configured_providers_get_no_sandbox(tmp_path: Path) -> None:
    configured = load_settings(
        {
            "ARPILOT_VAR_DIR": str(tmp_path),
            "QUICKBOOKS_ENVIRONMENT": "sandbox",
            "XERO_API_URL": "https://api.xero.com",
            "XERO_IDENTITY_URL": "https://identity.xero.com",
        }
    )
    assert start_embedded_sandboxes(configured) == []
