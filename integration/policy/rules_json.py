"""The collection rules as JSON, driven by their dataclasses' fields: missing keys take the default's
value, unknown keys are refused, and every bad value is reported, each under its dotted path.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from integration.policy.rule_errors import RuleError, each_error, join_path, together

T = TypeVar("T")


def built(cls: type[T], data: Any, default: T) -> T:
    """`data` as a `cls`, every key it lacks taken from `default`; RuleError (RuleErrors: all of them)
    when anything in it is bad."""
    found: list[RuleError] = []
    value = _build(cls, data, "", default, found)
    if found:
        raise together(found)
    return value


def _build(cls: type[T], data: Any, path: str, default: T, found: list[RuleError]) -> T:
    """`data` as a `cls`; each bad value is added to `found` and its default stands in, so that the
    rest is still checked (a check about a value already found bad is left out: it would mislead)."""
    if not isinstance(data, Mapping):
        found.append(RuleError(path or "rules", "must be a JSON object"))
        return default
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            # A key that is empty or blank would name no field at all: quote it.
            found.append(RuleError(join_path(path, str(key) if str(key).strip() else repr(key)), "is not a known rule"))
    already = len(found)
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _value(hints[f.name], data[f.name], join_path(path, f.name), getattr(default, f.name), found)
        if f.name in data
        else getattr(default, f.name)
        for f in fields(cls)  # type: ignore[arg-type]
    }
    try:
        return cls(**values)
    except RuleError as exc:
        failed = [error.field for error in found[already:]]
        found.extend(error.under(path) for error in each_error(exc) if not _about(error.under(path).concerns, failed))
        return default


def _about(concerns: tuple[str, ...], failed: list[str]) -> bool:
    """Whether a check of `concerns` involves a rule already found bad (or a rule inside it)."""

    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((outer + ".", outer + "["))

    return any(within(c, f) or within(f, c) for c in concerns for f in failed)


def _value(kind: Any, raw: Any, path: str, default: Any, found: list[RuleError]) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        if not isinstance(raw, list):
            found.append(RuleError(path, "must be a list"))
            return default
        item = args[0]
        if isinstance(item, type) and is_dataclass(item):
            # Stages: each entry fills its gaps from the default stage at the same position.
            if len(raw) != len(default):
                found.append(RuleError(path, f"must list exactly {len(default)} entries, got {len(raw)}"))
                return default
            return tuple(_build(item, entry, f"{path}[{i}]", default[i], found) for i, entry in enumerate(raw))
        already = len(found)
        items = tuple(_value(item, entry, f"{path}[{i}]", None, found) for i, entry in enumerate(raw))
        return default if len(found) > already else items
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, raw, path, default, found)
    if is_dataclass(kind):
        return _build(kind, raw, path, default, found)  # type: ignore[arg-type]
    try:
        return _leaf(kind, raw, path)
    except RuleError as exc:
        found.append(exc)
        return default


def _leaf(kind: Any, raw: Any, path: str) -> Any:
    if kind is bool:
        if not isinstance(raw, bool):
            raise RuleError(path, f"must be true or false, got {raw!r}")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise RuleError(path, f"must be a whole number, got {raw!r}")
        return raw
    if kind is str:
        if not isinstance(raw, str):
            raise RuleError(path, f"must be text, got {raw!r}")
        return raw
    if kind is Decimal:
        if isinstance(raw, (bool, float)) or not isinstance(raw, (str, int)):
            raise RuleError(path, f'must be a decimal amount as text such as "500.00", got {raw!r}')
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            raise RuleError(path, f"must be a decimal amount, got {raw!r}") from None
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise RuleError(path, f"must be a date like 2026-12-25, got {raw!r}") from None
    raise TypeError(f"no JSON mapping for {kind!r}")  # a programming error, not bad input


def as_json(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [as_json(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
