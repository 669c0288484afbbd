"""The settings form as a browser submits it, for tests."""

from __future__ import annotations

from typing import Any

from integration.policy.rules import Rules
from integration.web.rules_form import form_values


def rules_form(rules: Rules, **changes: Any) -> dict[str, Any]:
    """`rules` drawn into the form, `changes` typed over it: unticked boxes absent, lists as repeated keys."""
    values = {**form_values(rules), **changes}
    return {key: "on" if value is True else value for key, value in values.items() if value is not False}
