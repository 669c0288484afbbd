"""The one Jinja environment for customer-facing content, and the two ways content is rendered.

Created once and cached: compiling templates is the slow part. Autoescaping is on for .html (a
customer called `<script>` stays text) and off for .txt (plain text is never HTML-escaped).
StrictUndefined turns a misspelt or missing variable into an error instead of a silent blank.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@functools.cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("reminders", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, variables: Mapping[str, Any]) -> str:
    return environment().get_template(name).render(variables)


def render_block(name: str, block: str, variables: Mapping[str, Any]) -> str:
    """One named block of a template on its own, collapsed to a single line (used for subjects,
    which must never carry a line break into an email header)."""
    template = environment().get_template(name)
    text = "".join(template.blocks[block](template.new_context(dict(variables))))
    return " ".join(text.split())
