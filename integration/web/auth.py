"""Who is signed in, and the guard every owner page and API call goes through.

Every owner view is wrapped in `owner_required`, which puts the signed-in organization's id on
`flask.g.organization_id`; views read and write only rows reached through
`integration.store.scoping.scoped(model, g.organization_id)`. Another organization's row therefore looks
exactly like a missing one (404), never like a forbidden one (which would confirm it exists).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from integration.web.common import page, signed_in_organization_id

P = ParamSpec("P")
R = TypeVar("R", bound=ResponseReturnValue)


def owner_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Serve `view` only to a signed-in owner; others go to the landing page (or get a 401 on POST)."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        organization_id = signed_in_organization_id()
        if organization_id is None:
            if request.method == "GET" and not request.path.startswith("/api/"):
                return redirect(url_for("dashboard"))
            return page("Please sign in", "Sign in with QuickBooks or Xero, then try again.", 401)
        g.organization_id = organization_id
        return view(*args, **kwargs)

    return guarded
