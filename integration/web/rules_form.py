"""The settings form: the collection rules as the owner sees them, grouped the way an owner thinks.

Pure translation, no I/O. Each input is named by the dotted path of its rule
(`ladder.stages[2].offset_days`), so a `RuleError`, which names that path, lands beside the input
it concerns. `form_values(rules)` fills the form from saved rules; `parse_form(form, mode)` turns
what the owner typed back into rules, or into error messages by input with the typed values kept
as they were, so a bad submit loses nothing.

Two inputs are shown differently from how the rules store them: the courtesy stage is set in days
*before* the due date (stored as a negative offset), and the email channel is one choice for every
email stage, while each stage only says whether it emails or asks for a call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from integration.policy.rule_errors import RuleError, each_error
from integration.policy.rules import CONTACT_ROLES, STAGES, Rules, Sender, Stage
from integration.web.rule_words import owner_words
from integration.web.settings_sections import (
    EMAIL_CHANNEL,
    EMAIL_CHANNEL_CHOICES,
    FIELDS,
    OBSERVE,
    Field,
)


class FormData(Protocol):
    """What a submitted form offers (werkzeug's MultiDict)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...
    def __contains__(self, key: object) -> bool: ...


@dataclass(frozen=True)
class Parsed:
    """What the owner typed (`values`, by input name, to draw the form again) and either the rules
    it makes or the errors by input name (`""`: not about one input)."""

    values: dict[str, Any]
    rules: Rules | None
    errors: dict[str, str]


# --- saved rules -> form -----------------------------------------------------------------------


def form_values(rules: Rules) -> dict[str, Any]:
    data = rules.to_json()
    values: dict[str, Any] = {OBSERVE: rules.mode == "observe"}
    for path, field in FIELDS.items():
        if path == EMAIL_CHANNEL:
            continue
        value = _get(data, path)
        if field.kind == "days_before":
            value = str(-value)
        elif field.kind in ("number", "amount"):
            value = str(value)
        elif field.kind == "choices":
            value = [str(v) for v in value if not (path.endswith(".recipients") and v == "billing")]
        elif field.kind == "dates":
            value = "\n".join(value)
        elif field.kind == "email":
            value = value or ""
        elif field.kind == "channel":
            value = "call" if value == "call" else "email"
        values[path] = value
    emailing = [s.channel for s in rules.ladder.stages if s.channel != "call"]
    values[EMAIL_CHANNEL] = emailing[0] if emailing else "email"
    return values


def mixed_email_channels(rules: Rules) -> bool:
    """Stages saved with different email channels (the form sets one for all)."""
    return len({s.channel for s in rules.ladder.stages if s.channel != "call"}) > 1


# --- form -> rules -----------------------------------------------------------------------------


def parse_form(form: FormData, mode: str) -> Parsed:
    """The rules the form describes, keeping `mode` (switching to live has its own confirmation)."""
    values: dict[str, Any] = {OBSERVE: OBSERVE in form}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    channel = form.get(EMAIL_CHANNEL, "email")
    values[EMAIL_CHANNEL] = channel
    for path, field in FIELDS.items():
        if path == EMAIL_CHANNEL:
            continue
        typed = _typed(form, field)
        values[path] = typed
        try:
            value = _read(field, typed)
        except RuleError as exc:
            errors[path] = owner_words(exc, field)
            continue
        if field.kind == "channel" and value != "call":
            value = channel
        _put(data, path, value)
    if channel not in dict(EMAIL_CHANNEL_CHOICES):
        errors[EMAIL_CHANNEL] = "Choose one of the listed ways to send."
    # Each part checked alone, so a value the form could not read in one part hides nothing in another;
    # each part reports every bad value it holds.
    for key, part in data.items():
        try:
            Rules.from_json({key: part})
        except RuleError as exc:
            for error in each_error(exc):
                field, message = error_for(error)
                errors.setdefault(field, message)
    if errors:
        return Parsed(values, None, errors)
    try:
        rules = Rules.from_json({**data, "mode": mode})
    except RuleError as exc:
        # The first error of an input wins, as above (reversed: a later key of a dict overwrites).
        return Parsed(values, None, dict(error_for(error) for error in reversed(each_error(exc))))
    return Parsed(values, rules, {})


def _typed(form: FormData, field: Field) -> Any:
    if field.kind == "check":
        return field.path in form
    if field.kind == "choices":
        return form.getlist(field.path)
    return _text(field, form.get(field.path, ""))


def _text(field: Field, text: str) -> str:
    # Browsers send textarea line breaks as CRLF; the rules keep plain newlines.
    return text.replace("\r\n", "\n") if field.kind in ("lines", "dates") else text.strip()


def _read(field: Field, typed: Any) -> Any:
    """The JSON value of one input, or a RuleError for text that is not even of the right kind."""
    if field.kind in ("number", "days_before"):
        if not re.fullmatch(r"-?\d{1,6}", typed):
            raise RuleError(
                field.path,
                "enter a whole number"
                + (f" from {field.low} to {field.high}" if field.low is not None else "")
                + (f"; you entered {typed!r}" if typed else ""),
            )
        return -int(typed) if field.kind == "days_before" else int(typed)
    if field.kind == "choices":
        if field.path.endswith(".recipients"):
            return ["billing", *[role for role in CONTACT_ROLES[1:] if role in typed]]
        known = [str(value) for value, _ in field.choices]
        unknown = [v for v in typed if v not in known]
        if unknown:
            raise RuleError(field.path, f"{unknown[0]!r} is not one of the choices")
        picked = [value for value, _ in field.choices if str(value) in typed]  # the page's order, each once
        return picked
    if field.kind == "dates":
        return [line.strip() for line in typed.splitlines() if line.strip()]
    if field.kind == "email":
        return typed or None
    return typed


def _input_for(rule_path: str) -> str:
    """The input a rule's error belongs beside: the longest input path the rule path starts with."""
    best = ""
    for path in FIELDS:
        if (rule_path == path or rule_path.startswith(path + ".") or rule_path.startswith(path + "[")) and len(
            path
        ) > len(best):
            best = path
    return best


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def _steps(path: str) -> list[tuple[str, int | None]]:
    steps = []
    for segment in path.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(f"not a rule path: {path!r}")  # a programming error in FIELDS
        steps.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    return steps


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for name, index in _steps(path):
        value = value[name] if index is None else value[name][index]
    return value


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at `path` in nested JSON, making objects and (stage) lists on the way."""
    steps = _steps(path)
    node: Any = data
    for position, (name, index) in enumerate(steps):
        last = position == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            items = node.setdefault(name, [])
            while len(items) <= index:
                items.append({})
            if last:
                items[index] = value
            else:
                node = items[index]


# --- one stage's email, as typed (the live preview) ----------------------------------------------


@dataclass(frozen=True)
class TypedStage:
    sender: Sender
    stage: Stage
    channel: str  # email, accounting_system_email or call


def preview_inputs(name: str) -> tuple[str, ...]:
    """The inputs stage `name`'s email depends on."""
    path = f"ladder.stages[{STAGES.index(name)}]"
    return (
        "sender.from_name",
        "sender.reply_to",
        "sender.signature",
        EMAIL_CHANNEL,
        f"{path}.offset_days",
        f"{path}.template",
        f"{path}.channel",
    )


def typed_stage(inputs: Mapping[str, str], name: str) -> TypedStage:
    """The sender and the stage `name` from `inputs` (see `preview_inputs`), for previewing its
    email before anything is saved. A RuleError's field is the input's name (see `error_for`)."""
    path = f"ladder.stages[{STAGES.index(name)}]"

    def read(key: str) -> Any:  # a RuleError here already names the input
        return _read(FIELDS[key], _text(FIELDS[key], inputs.get(key, "")))

    from_name, reply_to, signature = read("sender.from_name"), read("sender.reply_to"), read("sender.signature")
    offset, template = read(f"{path}.offset_days"), read(f"{path}.template")
    try:
        sender = Sender(from_name, reply_to, signature)
    except RuleError as exc:
        raise exc.under("sender") from None
    try:
        stage = Stage(name, offset, template=template)
    except RuleError as exc:
        raise exc.under(path) from None
    channel = inputs.get(f"{path}.channel", "email")
    return TypedStage(sender, stage, "call" if channel == "call" else inputs.get(EMAIL_CHANNEL, "email"))


def error_for(exc: RuleError) -> tuple[str, str]:
    """The input one RuleError belongs beside and the message to show there."""
    path = _input_for(exc.field)
    return path, owner_words(exc, FIELDS.get(path))
