"""Intuit's OAuth 2.0 / OpenID Connect server, as intuit-oauth and Authlib see it.

Paths mirror Intuit's hosts, all on the sandbox's one origin: discovery
`/.well-known/openid_configuration`, authorize `/connect/oauth2` (consent page), token
`/oauth2/v1/tokens/bearer`, revoke `/v2/oauth2/tokens/revoke`, userinfo
`/v1/openid_connect/userinfo`, issuer `/op/v1`, JWKS `/op/v1/jwks`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping

import jwt
from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as WerkzeugResponse

from connectors.quickbooks.sandbox.app import ACCOUNTING_SCOPE, QboSandbox
from connectors.sandbox.consent import CONNECT, ConsentPage, render_error
from connectors.sandbox.oauth import (
    UntrustedRequest,
    authorization_request,
    bearer_token,
    client_authenticated,
    oauth_error,
    redirect_error,
    redirect_with,
)
from connectors.sandbox.tokens import InvalidGrant, TokenRejected, TokenSet

SCOPES = (ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address")
OPENID_SCOPES = {"openid", "profile", "email", "phone", "address"}
PROVIDER = "Intuit QuickBooks"


def _base() -> str:
    return request.host_url.rstrip("/")


def issuer() -> str:
    return f"{_base()}/op/v1"


def make_blueprint(sandbox: QboSandbox) -> Blueprint:
    bp = Blueprint("qbo_oauth", __name__)
    config = sandbox.config

    @bp.after_request
    def _tid(response: Response) -> Response:
        response.headers["intuit_tid"] = str(uuid.uuid4())
        return response

    @bp.get("/.well-known/openid_configuration")
    @bp.get("/.well-known/openid_configuration/")
    @bp.get("/.well-known/openid-configuration")
    def discovery() -> ResponseReturnValue:
        base = _base()
        return jsonify(
            {
                "issuer": issuer(),
                "authorization_endpoint": f"{base}/connect/oauth2",
                "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
                "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
                "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
                "jwks_uri": f"{base}/op/v1/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(SCOPES),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    @bp.errorhandler(UntrustedRequest)
    def _untrusted(exc: UntrustedRequest) -> ResponseReturnValue:
        return render_error(PROVIDER, str(exc)), 400

    def _authorization_request(source: Mapping[str, str]) -> tuple[dict[str, str], WerkzeugResponse | None]:
        return authorization_request(
            source, client_id=config.client_id, redirect_uris=config.redirect_uris, scopes=SCOPES
        )

    @bp.get("/connect/oauth2")
    def authorize() -> ResponseReturnValue:
        params, refusal = _authorization_request(request.args)
        if refusal is not None:
            return refusal
        accounts = [(realm, f"{c.name} (company {realm})") for realm, c in sorted(sandbox.companies.items())]
        return ConsentPage(
            provider=PROVIDER,
            app_name=config.app_name,
            action=request.path,
            accounts=accounts,
            hidden=params,
            scopes=params["scope"].split(),
        ).render()

    @bp.post("/connect/oauth2")
    def decide() -> ResponseReturnValue:
        params, refusal = _authorization_request(request.form)
        if refusal is not None:
            return refusal
        if request.form.get("decision") != CONNECT:  # Cancel, or the form sent without a decision
            return redirect_error(params, "access_denied")
        realm = request.form.get("account", "")
        if realm not in sandbox.companies:
            return render_error(PROVIDER, "Choose a company to connect."), 400
        code = sandbox.authority.issue_code(
            config.client_id, realm, tuple(params["scope"].split()), params["redirect_uri"]
        )
        state = {"state": params["state"]} if params["state"] else {}
        return redirect_with(params["redirect_uri"], {"code": code, **state, "realmId": realm})

    def _token_response(tokens: TokenSet, *, with_id_token: bool) -> Response:
        body: dict[str, object] = {
            "token_type": "bearer",
            "access_token": tokens.access_token,
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
            "x_refresh_token_expires_in": tokens.refresh_expires_in,
        }
        if (
            request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
            and tokens.hard_expires_in
        ):
            body["x_refresh_token_hard_expires_in"] = tokens.hard_expires_in
        if with_id_token and "openid" in tokens.grant.scopes:
            body["id_token"] = _id_token(tokens)
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _id_token(tokens: TokenSet) -> str:
        # Signed with wall-clock times, not the sandbox clock: the client checks exp and iat
        # against its own clock and silently drops a token that looks expired or not yet valid.
        now = int(dt.datetime.now(dt.UTC).timestamp())
        claims = {
            "iss": issuer(),
            "aud": [config.client_id],
            "sub": sandbox.user.sub,
            "realmid": tokens.grant.subject,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, sandbox.signing_key, algorithm="RS256", headers={"kid": sandbox.key_id})

    @bp.post("/oauth2/v1/tokens/bearer")
    def token() -> ResponseReturnValue:
        if not client_authenticated(config.client_id, config.client_secret):
            return oauth_error("invalid_client", "client authentication failed", 401)
        grant_type = request.form.get("grant_type", "")
        try:
            if grant_type == "authorization_code":
                tokens = sandbox.authority.exchange_code(
                    request.form.get("code", ""), config.client_id, request.form.get("redirect_uri", "")
                )
                return _token_response(tokens, with_id_token=True)
            if grant_type == "refresh_token":
                tokens = sandbox.authority.refresh(request.form.get("refresh_token", ""), config.client_id)
                return _token_response(tokens, with_id_token=False)
        except InvalidGrant as exc:
            return oauth_error("invalid_grant", str(exc))
        return oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    @bp.post("/v2/oauth2/tokens/revoke")
    def revoke() -> ResponseReturnValue:
        if not client_authenticated(config.client_id, config.client_secret):
            return oauth_error("invalid_client", "client authentication failed", 401)
        data = request.get_json(silent=True) or request.form
        token_value = data.get("token") if hasattr(data, "get") else None
        if not token_value:
            return oauth_error("invalid_request", "token is required")
        sandbox.authority.revoke(str(token_value))  # unknown tokens are fine (RFC 7009)
        return Response(b"", status=200)

    @bp.get("/v1/openid_connect/userinfo")
    def userinfo() -> ResponseReturnValue:
        try:
            grant = sandbox.authority.authenticate(bearer_token())
        except TokenRejected as exc:
            return oauth_error("invalid_token", str(exc), 401)
        if "openid" not in grant.scopes:
            return oauth_error("insufficient_scope", "the openid scope was not granted", 403)
        user = sandbox.user
        info: dict[str, object] = {"sub": user.sub}
        if "email" in grant.scopes:
            info.update(email=user.email, emailVerified=True)
        if "profile" in grant.scopes:
            info.update(givenName=user.given_name, familyName=user.family_name)
        if "phone" in grant.scopes:
            info.update(phoneNumber=user.phone, phoneNumberVerified=False)
        return jsonify(info)

    @bp.get("/op/v1/jwks")
    def jwks() -> ResponseReturnValue:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(sandbox.signing_key.public_key()))
        key.update(kid=sandbox.key_id, use="sig", alg="RS256")
        return jsonify(keys=[key])

    return bp
