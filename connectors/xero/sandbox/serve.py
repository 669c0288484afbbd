"""What `arpilot sandbox xero` prints: everything a developer needs to point a client at it."""

from __future__ import annotations

from flask import Flask


def banner(app: Flask, base: str) -> list[str]:
    sandbox = app.extensions["xero_sandbox"]
    config = sandbox.config
    lines = [
        f"Xero sandbox on {base}/",
        f"  client id:       {config.client_id}",
        f"  client secret:   {config.client_secret}",
        f"  authorize URL:   {sandbox.authorize_url(base)}",
        f"  token URL:       {sandbox.token_url(base)}",
        f"  connections:     {base}/connections",
        f"  accounting API:  {sandbox.accounting_base(base)}",
        f"  webhook key:     {config.webhook_key}",
        f"  admin API:       {base}/_sandbox/",
    ]
    return lines + [f"  organisation:    {o.name} (tenant {o.tenant_id})" for o in sandbox.organisations.values()]
