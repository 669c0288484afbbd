"""Helpers for driving the connect pages with Flask's test client."""

from __future__ import annotations

import re
import urllib.parse

from flask.testing import FlaskClient


def start(client: FlaskClient) -> tuple[str, dict[str, str]]:
    """GET /connect/quickbooks; returns the authorize URL and its query."""
    response = client.get("/connect/quickbooks")
    assert response.status_code == 302, response.data
    location = response.headers["Location"]
    return location, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the dashboard shows no form with a CSRF token"
    return match.group(1)
