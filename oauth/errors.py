"""OAuth failures both providers share, and the one safe way to read an OAuth error body."""

from __future__ import annotations

import re

import requests

from connectors.contract import AuthExpired, ProviderValidationError

_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class InvalidGrant(AuthExpired):
    """The code or refresh token is expired, revoked, superseded or already used."""


class ClientRejected(ProviderValidationError):
    """The provider refused arpilot's own credentials (invalid_client): a configuration problem."""


def oauth_error_code(response: requests.Response | None) -> str | None:
    """The `error` field of an OAuth error body, if it is a plain code (never echo free text)."""
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.match(code) else None
