"""Xero's identity service and connections, as xero-python, Authlib and a browser see them.

Paths mirror Xero's hosts on the sandbox's one origin: authorize `/identity/connect/authorize`
(login.xero.com; consent page with organisation checkboxes, Allow / Cancel), token
`/connect/token`, revocation `/connect/revocation`, userinfo `/connect/userinfo`, discovery
`/.well-known/openid-configuration` (identity.xero.com), connections `/connections` (api.xero.com;
xero-python writes `/Connections`, both work). Access tokens are opaque; no id_token is issued.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as WerkzeugResponse

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
from connectors.sandbox.tokens import Grant, InvalidGrant, TokenRejected, TokenSet
from connectors.xero.sandbox import errors
from connectors.xero.sandbox.app import Connection, XeroSandbox

PROVIDER = "Xero"
OPENID_SCOPES = ("openid", "profile", "email")
SCOPES = OPENID_SCOPES + (
    "offline_access",
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.settings",
    "accounting.settings.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.reports.read",
    "accounting.invoices",
    "accounting.invoices.read",
    "accounting.payments",
    "accounting.payments.read",
)
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded


def connection_json(connection: Connection, sandbox: XeroSandbox) -> dict[str, object]:
    org = sandbox.organisations.get(connection.tenant_id)

    def stamp(at: dt.datetime) -> str:
        # Xero writes seven fraction digits and no offset; the spec declares `date-time`, which
        # needs one, so the sandbox adds the Z (xero-python reads both as UTC).
        return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"

    return {
        "id": connection.id,
        "authEventId": connection.auth_event_id,
        "tenantId": connection.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": org.name if org else "",
        "createdDateUtc": stamp(connection.created),
        "updatedDateUtc": stamp(connection.updated),
    }


def make_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_identity", __name__)
    config = sandbox.config

    @bp.errorhandler(UntrustedRequest)
    def _untrusted(exc: UntrustedRequest) -> ResponseReturnValue:
        return render_error(PROVIDER, str(exc)), 400

    @bp.errorhandler(errors.XeroError)
    def _xero_error(exc: errors.XeroError) -> ResponseReturnValue:
        body = exc.body()
        return (jsonify(body) if isinstance(body, dict) else Response(body, mimetype="text/plain")), exc.status

    @bp.get("/.well-known/openid-configuration")
    def discovery() -> ResponseReturnValue:
        base = request.host_url.rstrip("/")
        return jsonify(
            issuer=base,
            authorization_endpoint=sandbox.authorize_url(base),
            token_endpoint=sandbox.token_url(base),
            userinfo_endpoint=f"{base}/connect/userinfo",
            revocation_endpoint=f"{base}/connect/revocation",
            scopes_supported=list(SCOPES),
            response_types_supported=["code"],
            grant_types_supported=["authorization_code", "refresh_token"],
            code_challenge_methods_supported=["S256"],
            subject_types_supported=["public"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    def _authorization_request(source: Mapping[str, str]) -> tuple[dict[str, str], WerkzeugResponse | None]:
        params, refusal = authorization_request(
            source,
            client_id=config.client_id,
            redirect_uris=config.redirect_uris,
            scopes=SCOPES,
            extra_keys=("code_challenge", "code_challenge_method"),
        )
        pkce = params["code_challenge"] or params["code_challenge_method"]
        if (
            refusal is None
            and pkce
            and (params["code_challenge_method"] != "S256" or not _CHALLENGE.match(params["code_challenge"]))
        ):
            return params, redirect_error(params, "invalid_request")
        return params, refusal

    @bp.get("/identity/connect/authorize")
    def authorize() -> ResponseReturnValue:
        params, refusal = _authorization_request(request.args)
        if refusal is not None:
            return refusal
        accounts = [(tenant, org.name) for tenant, org in sandbox.organisations.items()]
        return ConsentPage(
            provider=PROVIDER,
            app_name=config.app_name,
            action=request.path,
            accounts=accounts,
            hidden={k: v for k, v in params.items() if v},
            scopes=params["scope"].split(),
            account_label="organisation",
            multiple=True,
            connect_label="Allow access",
        ).render()

    @bp.post("/identity/connect/authorize")
    def decide() -> ResponseReturnValue:
        params, refusal = _authorization_request(request.form)
        if refusal is not None:
            return refusal
        if request.form.get("decision") != CONNECT:
            return redirect_error(params, "access_denied")
        chosen = list(dict.fromkeys(request.form.getlist("account")))
        if not chosen or any(t not in sandbox.organisations for t in chosen):
            return render_error(PROVIDER, "Choose at least one organisation to connect."), 400
        code = sandbox.authority.issue_code(
            config.client_id,
            sandbox.user.xero_userid,
            tuple(params["scope"].split()),
            params["redirect_uri"],
            params["code_challenge"] or None,
        )
        grant = sandbox.authority.code_grant(code)
        assert grant is not None  # just issued
        sandbox.connect(grant, chosen)
        state = {"state": params["state"]} if params["state"] else {}
        return redirect_with(params["redirect_uri"], {"code": code, "scope": params["scope"], **state})

    def _token_response(tokens: TokenSet) -> Response:
        body: dict[str, object] = {
            "access_token": tokens.access_token,
            "expires_in": tokens.expires_in,
            "token_type": "Bearer",
            "scope": " ".join(tokens.grant.scopes),
        }
        if "offline_access" in tokens.grant.scopes:
            body["refresh_token"] = tokens.refresh_token
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.post("/connect/token")
    def token() -> ResponseReturnValue:
        if not client_authenticated(config.client_id, config.client_secret):
            return oauth_error("invalid_client", "client authentication failed", 400)
        grant_type = request.form.get("grant_type", "")
        try:
            if grant_type == "authorization_code":
                return _token_response(
                    sandbox.authority.exchange_code(
                        request.form.get("code", ""),
                        config.client_id,
                        request.form.get("redirect_uri", ""),
                        request.form.get("code_verifier") or None,
                    )
                )
            if grant_type == "refresh_token":
                tokens = sandbox.authority.refresh(request.form.get("refresh_token", ""), config.client_id)
                if "offline_access" not in tokens.grant.scopes:
                    raise InvalidGrant("the grant has no offline_access")
                return _token_response(tokens)
        except InvalidGrant as exc:
            return oauth_error("invalid_grant", str(exc))
        return oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    @bp.post("/connect/revocation")
    def revoke() -> ResponseReturnValue:
        if not client_authenticated(config.client_id, config.client_secret):
            return oauth_error("invalid_client", "client authentication failed", 400)
        value = request.form.get("token", "")
        if not value:
            return oauth_error("invalid_request", "token is required")
        grant = sandbox.authority.revoke(value)
        if grant is not None:
            sandbox.drop_grant(grant)  # revoking removes every connection the grant made
        return Response(b"", status=200)

    def _authenticated() -> Grant:
        try:
            return sandbox.authority.authenticate(bearer_token())
        except TokenRejected as exc:
            raise errors.unauthorized(
                "TokenExpired: token expired" if "expired" in str(exc) else "AuthenticationUnsuccessful"
            ) from exc

    @bp.get("/connect/userinfo")
    def userinfo() -> ResponseReturnValue:
        grant = _authenticated()
        if "openid" not in grant.scopes:
            return oauth_error("insufficient_scope", "the openid scope was not granted", 403)
        user = sandbox.user
        info: dict[str, object] = {"sub": user.xero_userid, "xero_userid": user.xero_userid}
        if "email" in grant.scopes:
            info.update(email=user.email, preferred_username=user.email)
        if "profile" in grant.scopes:
            info.update(
                given_name=user.given_name, family_name=user.family_name, name=f"{user.given_name} {user.family_name}"
            )
        return jsonify(info)

    @bp.get("/connections")
    @bp.get("/Connections")
    def connections() -> ResponseReturnValue:
        grant = _authenticated()
        event = request.args.get("authEventId")
        listed = [
            connection_json(c, sandbox)
            for c in sandbox.connections_of(grant)
            if event is None or c.auth_event_id == event
        ]
        return jsonify(listed)

    @bp.delete("/connections/<connection_id>")
    @bp.delete("/Connections/<connection_id>")
    def disconnect(connection_id: str) -> ResponseReturnValue:
        grant = _authenticated()
        if not sandbox.disconnect(connection_id, grant):
            raise errors.NotFound()
        return Response(b"", status=204)

    return bp
