"""Web sessions kept in the database, so they can be ended: the cookie carries only a random key.

Flask's default session is the whole `session` dict, signed, in the cookie: readable by whoever has
the cookie (the OAuth state and PKCE verifier included) and valid until it expires whatever happens
on the server. Here the cookie is 32 random bytes and the row (`WebSession`, keyed by the key's
SHA-256) holds the data, so:

- signing out deletes the row: a copied cookie opens nothing any more;
- signing in (every consent, a re-consent included) deletes the old row and issues a new key;
- `integration.store.connections.end_organization_sessions` deletes every session of an organization (its last company disconnected,
  or taken over by another organization).

A session lasts `lifetime` from its creation (a sign-in starts a new one); the cookie is HttpOnly,
SameSite=Lax and Secure in production, as the app's SESSION_COOKIE_* settings say.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import CallbackDict

from integration.store.db import transaction
from integration.store.models import WebSession


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The request's session: a dict that knows its key and whether it changed."""

    def __init__(
        self, data: dict[str, Any] | None = None, key: str | None = None, expires_at: dt.datetime | None = None
    ) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.key = key
        self.expires_at = expires_at
        self.modified = False
        self.renew = False  # set by `renew_key`: the next save replaces the key

    def renew_key(self) -> None:
        """After a sign-in: the key the browser had before (maybe planted, maybe copied) stops working."""
        self.renew = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, sessions: sessionmaker[Session], lifetime: dt.timedelta) -> None:
        self.sessions = sessions
        self.lifetime = lifetime

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        key = request.cookies.get(self.get_cookie_name(app))
        if not key or len(key) > 128:
            return ServerSession()
        with self.sessions() as db:
            row = db.scalar(
                select(WebSession).where(
                    WebSession.key_hash == _hash(key), WebSession.expires_at > dt.datetime.now(dt.UTC)
                )
            )
        if row is None:
            return ServerSession()
        return ServerSession(dict(row.data), key, row.expires_at)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session.modified:
            return
        if session.key is not None and (session.renew or not session):
            self._delete(session.key)
            session.key = None
        if not session:
            response.delete_cookie(
                name,
                domain=domain,
                path=path,
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
            return
        if session.key is None:
            session.key, session.expires_at = self._create(session)
        elif not self._update(session):
            # Ended on the server during this request (signed out elsewhere, last company disconnected):
            # the ending wins, and the browser forgets the key.
            response.delete_cookie(name, domain=domain, path=path)
            return
        response.set_cookie(
            name,
            session.key,
            expires=session.expires_at,
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")

    def _create(self, session: ServerSession) -> tuple[str, dt.datetime]:
        key, now = secrets.token_urlsafe(32), dt.datetime.now(dt.UTC)
        with transaction(self.sessions) as db:
            db.execute(delete(WebSession).where(WebSession.expires_at <= now))  # sweep the expired as we go
            db.add(
                WebSession(
                    key_hash=_hash(key),
                    data=dict(session),
                    created_at=now,
                    expires_at=now + self.lifetime,
                    **_owner(session),
                )
            )
        return key, now + self.lifetime

    def _update(self, session: ServerSession) -> bool:
        assert session.key is not None
        with transaction(self.sessions) as db:
            done = db.execute(
                update(WebSession)
                .where(WebSession.key_hash == _hash(session.key))
                .values(data=dict(session), **_owner(session))
            )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def _delete(self, key: str) -> None:
        with transaction(self.sessions) as db:
            db.execute(delete(WebSession).where(WebSession.key_hash == _hash(key)))


def _owner(session: ServerSession) -> dict[str, int | None]:
    """Who the session belongs to, kept beside the data so an organization's sessions can be ended."""
    return {"organization_id": session.get("organization_id"), "user_id": session.get("user_id")}


def init_app(app: Flask, sessions: sessionmaker[Session], lifetime: dt.timedelta) -> None:
    app.session_interface = ServerSessionInterface(sessions, lifetime)
