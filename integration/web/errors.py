"""The pages arpilot answers with when a request goes wrong: 400, 403, 404, 405 and 500, in the app's
layout, in plain words, with a way back (the dashboard for a signed-in owner, the home page for a
visitor; both are "/"). No stack trace reaches a page: Flask logs an unexpected error with its
traceback (and arpilot's log context) before the 500 page is rendered.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

# status -> (title, what the owner reads); a view's own description, given to abort(), replaces the words.
ERROR_WORDS: dict[int, tuple[str, str]] = {
    400: (
        "This request could not be used",
        "Something in the address or the form was not what arpilot expected. Go back, check what you entered "
        "and try again.",
    ),
    403: ("This cannot be done here", "arpilot does not allow this action. Nothing was changed."),
    404: (
        "Page not found",
        "There is no page at this address. The link may be mistyped, or what it pointed to no longer exists.",
    ),
    405: (
        "This page cannot be used that way",
        "The address does not take this kind of request. Use the links and buttons on arpilot's pages.",
    ),
    500: (
        "Something went wrong on our side",
        "arpilot ran into an unexpected error and has logged it for us to look at. Please try again in a moment.",
    ),
}


def error_page(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    title, words = ERROR_WORDS[status]
    given = error.description if status != 500 and error.description != type(error).description else None
    # Keep what the error says in its headers (a 405's Allow), not its plain-text body's type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return (
        render_template(
            # error_page: the company switcher goes back to the dashboard, never to (nor echoes) the address
            # that failed
            "errors/page.html",
            status=status,
            title=title,
            message=given or words,
            error_page=True,
        ),
        status,
        headers,
    )


def init_app(app: Flask) -> None:
    for status in ERROR_WORDS:
        app.register_error_handler(status, error_page)
