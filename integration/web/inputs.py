"""One guard for what every request carries, before any view reads it.

The database refuses a NUL character in text and an integer past its column's range; a view that
passed either on would answer 500. So, for every route at once:

- `<int:...>` path arguments are row ids: past the largest id a column holds they match no route (404);
- a query string that is not UTF-8, and any query or form value (or name) or path text that
  `connectors.text.storable` refuses, is answered 400 before the view runs;
- `whole_number` reads an integer query parameter within the same bound (activity's filters).

Webhook bodies are JSON, read by the providers' parsers, which apply the same `storable` rule.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

from connectors.text import storable

# Row ids are INTEGER (SQLAlchemy's Integer primary keys, PostgreSQL serial) in every table a route
# names; PostgreSQL refuses a larger literal compared with one ("integer out of range").
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` for every route: a non-negative id within an INTEGER column's range."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002 - werkzeug's names
        max: int | None = MAX_ROW_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def whole_number(raw: str) -> int | None:
    """A row id or page number typed into a query string, or None when it is not one."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ROW_ID)):
        return None
    value = int(raw)
    return value if value <= MAX_ROW_ID else None


def install_converters(app: Flask) -> None:
    """Before any route is added: rules bind their converters when they are registered."""
    app.url_map.converters["int"] = RowIdConverter


# Endpoints that keep their request's raw bytes whole (a customer's email as it arrived): the guard
# must neither parse their body (it would consume it) nor refuse it for a byte it cannot store.
RAW_BODY_ENDPOINTS = "ARPILOT_RAW_BODY_ENDPOINTS"


def init_app(app: Flask) -> None:
    raw_body = app.config.setdefault(RAW_BODY_ENDPOINTS, set())

    @app.before_request
    def _refuse_unstorable_input() -> None:
        try:
            unquote_to_bytes(request.query_string).decode("utf-8")
        except UnicodeDecodeError:
            abort(400, "The address carries text that is not UTF-8.")
        texts = [*request.args.keys(), *request.args.values()]
        if request.endpoint not in raw_body and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            texts += [*request.form.keys(), *request.form.values()]
        texts += [value for value in (request.view_args or {}).values() if isinstance(value, str)]
        if not all(storable(text) for text in texts):
            abort(400, "The request carries a character arpilot cannot store (a NUL byte).")
