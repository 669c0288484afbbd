"""OAuth 2.0 pieces both providers' authorization servers share: the authorization request's
checks, client authentication (HTTP Basic or the body), error answers and redirects.

A request whose client or redirect_uri cannot be trusted raises `UntrustedRequest` (shown as a
page, never redirected, RFC 6749 4.1.2.1); other refusals redirect back with `error=`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlencode

from flask import Response, jsonify, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse


class UntrustedRequest(Exception):
    """An authorization request whose client or redirect_uri cannot be trusted."""


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response


def redirect_with(uri: str, params: Mapping[str, str]) -> WerkzeugResponse:
    return redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(dict(params))}", code=302)


def redirect_error(params: Mapping[str, str], error: str) -> WerkzeugResponse:
    state = {"state": params["state"]} if params.get("state") else {}
    return redirect_with(params["redirect_uri"], {"error": error, **state})


def authorization_request(
    source: Mapping[str, str],
    *,
    client_id: str,
    redirect_uris: Sequence[str],
    scopes: Collection[str],
    extra_keys: Sequence[str] = (),
) -> tuple[dict[str, str], WerkzeugResponse | None]:
    """The request's parameters, and the error redirect it earns (None when it may proceed)."""
    keys = ("client_id", "redirect_uri", "scope", "state", "response_type", *extra_keys)
    params = {k: source.get(k, "") for k in keys}
    uri = params["redirect_uri"]
    if params["client_id"] != client_id:
        raise UntrustedRequest("Unknown client_id.")
    if not uri.startswith(("http://", "https://")):
        raise UntrustedRequest("redirect_uri is missing or not an http(s) URL.")
    if redirect_uris and uri not in redirect_uris:
        raise UntrustedRequest("redirect_uri is not registered for this app.")
    if params["response_type"] != "code":
        return params, redirect_error(params, "unsupported_response_type")
    requested = params["scope"].split()
    if not requested or any(s not in scopes for s in requested):
        return params, redirect_error(params, "invalid_scope")
    return params, None


def client_authenticated(client_id: str, client_secret: str) -> bool:
    """True when the token request authenticates as this client, by Basic header or form fields."""
    header = request.headers.get("Authorization", "")
    given_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if header.startswith("Basic "):
        try:
            given_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
    return given_id == client_id and secret == client_secret


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else ""
