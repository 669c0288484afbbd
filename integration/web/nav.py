"""The main navigation: each part of the web app adds its own entry when it is installed."""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask

NAV_CONFIG_KEY = "ARPILOT_NAV"


class NavItem(NamedTuple):
    endpoint: str
    label: str
    blueprints: tuple[str, ...]  # the entry is the current page on any page of these blueprints


def add_nav_item(app: Flask, endpoint: str, label: str, *, also: tuple[str, ...] = ()) -> None:
    """Show `label` in the signed-in owner's navigation, linking to `endpoint`; it is the current page on
    every page of `endpoint`'s blueprint and of the blueprints named in `also`."""
    blueprint, dot, _ = endpoint.rpartition(".")
    app.config.setdefault(NAV_CONFIG_KEY, []).append(NavItem(endpoint, label, ((blueprint,) if dot else ()) + also))
