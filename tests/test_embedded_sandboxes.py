"""`arpilot web` on the embedded default serves both sandboxes where the default settings look."""

from __future__ import annotations

import requests

from integration.config import EMBEDDED_QUICKBOOKS_DISCOVERY, EMBEDDED_XERO_URL
from integration.demo.embedded import start_embedded_sandboxes


def test_embedded_default_starts_both_sandboxes_where_settings_point(settings) -> None:  # type: ignore[no-untyped-def]
    servers = start_embedded_sandboxes(settings)
    try:
        assert len(servers) == 2
        assert requests.get(EMBEDDED_QUICKBOOKS_DISCOVERY, timeout=10).json()["authorization_endpoint"]
        assert requests.get(f"{EMBEDDED_XERO_URL}/_sandbox/", timeout=10).status_code == 200
        assert start_embedded_sandboxes(settings) == [], "ports already served: nothing started twice"
    finally:
        for server in servers:
            server.stop()


def test_configured_providers_get_no_sandbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from integration.config import load_settings

    configured = load_settings({"ARPILOT_VAR_DIR": str(tmp_path), "QUICKBOOKS_ENVIRONMENT": "sandbox",
                                "XERO_API_URL": "https://api.xero.com", "XERO_IDENTITY_URL": "https://identity.xero.com"})
    assert start_embedded_sandboxes(configured) == []
