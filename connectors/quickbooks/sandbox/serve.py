"""What `arpilot sandbox quickbooks` prints: everything a developer needs to point a client at it."""

from __future__ import annotations

from flask import Flask


def banner(app: Flask, base: str) -> list[str]:
    sandbox = app.extensions["qbo_sandbox"]
    config = sandbox.config
    lines = [
        f"QuickBooks Online sandbox on {base}/",
        f"  client id:       {config.client_id}",
        f"  client secret:   {config.client_secret}",
        f"  discovery URL:   {sandbox.discovery_url(base)}",
        f"  API base URL:    {sandbox.api_base(base)}",
        f"  verifier token:  {config.verifier_token}",
        f"  admin API:       {base}/_sandbox/",
    ]
    return lines + [f"  company:         {c.name} (realm {realm})" for realm, c in sorted(sandbox.companies.items())]
