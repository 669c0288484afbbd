"""The main navigation: each part of the web app adds its own entry when it is installed."""

from __future__ import annotations

from flask import Flask

NAV_CONFIG_KEY = "ARPILOT_NAV"


def add_nav_item(app: Flask, endpoint: str, label: str) -> None:
    """Show `label` in the signed-in owner's navigation, linking to `endpoint`."""
    app.config.setdefault(NAV_CONFIG_KEY, []).append((endpoint, label))
