"""Who is signed in, what their role lets them change, and the guard every owner page goes through.

Every owner view is wrapped in `owner_required`, which puts the signed-in organization's id on
`flask.g.organization_id` (and the person's role on `g.role`); views read and write only rows reached
through `integration.store.scoping.scoped(model, g.organization_id)`. Another organization's row
therefore looks exactly like a missing one (404), never like a forbidden one (which would confirm it
exists).

Roles are enforced once for the whole app (`init_app`): every POST of a signed-in person needs the
owner role, except the few in `WRITES_BY_ROLE`; reading is open to every member.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from integration.store.team import COLLECTOR, OWNER, VIEWER
from integration.web.common import page, signed_in_user

P = ParamSpec("P")
R = TypeVar("R", bound=ResponseReturnValue)

# What every member may post: signing out, and choosing which company the pages show.
EVERYONE_WRITES = frozenset({"account.sign_out", "companies.select"})
# Besides those, what each role other than owner may post (an owner may post everything).
WRITES_BY_ROLE: dict[str, frozenset[str]] = {COLLECTOR: frozenset({"calls.log_outcome"}), VIEWER: frozenset()}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_post(role: str, endpoint: str | None) -> bool:
    if role == OWNER or endpoint in EVERYONE_WRITES:
        return True
    return endpoint in WRITES_BY_ROLE.get(role, frozenset())


def init_app(app: Flask) -> None:
    app.before_request(_refuse_writes_beyond_role)


def _refuse_writes_beyond_role() -> ResponseReturnValue | None:
    if request.method in SAFE_METHODS or session.get("user_id") is None:
        return None  # signed out: each view answers for itself (webhooks, inbound mail, sign-in)
    user = signed_in_user()
    if user is None or may_post(user.role, request.endpoint):
        return None
    return page(
        "Only an owner can change this",
        f"You are signed in as a {user.role}, so this was not changed. Ask an owner of the account if it should be.",
        403,
    )


def owner_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Serve `view` only to a signed-in member; others go to the landing page (or get a 401 on POST)."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        user = signed_in_user()
        if user is None:
            if request.method == "GET" and not request.path.startswith("/api/"):
                return redirect(url_for("dashboard"))
            return page("Please sign in", "Sign in with QuickBooks or Xero, then try again.", 401)
        g.organization_id, g.user_id, g.role = user.organization_id, user.id, user.role
        return view(*args, **kwargs)

    return guarded
