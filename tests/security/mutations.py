"""Hypothesis strategies for provider-shaped JSON gone wrong: a valid sample with fields dropped,
extra fields added, and values replaced by JSON of any type (money as Decimal, as the clients parse it)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=24)
    | st.sampled_from(
        [
            "",
            "USD",
            "XTS",
            "2026-02-30",
            "/Date(99999999999999999)/",
            "/Date(abc)/",
            "2026-11-23T10:00:00",
            "9999-12-31",
            "-1",
            "1e400",
            "<b>x</b>",
        ]
    )
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into `value` (the empty path is the value itself)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        root = root[key]
    return root


@st.composite
def replaced(draw: st.DrawFn, sample: Any) -> Any:
    """`sample` with one value anywhere in it (or the whole of it) replaced by arbitrary JSON."""
    value = copy.deepcopy(sample)
    path = draw(st.sampled_from(paths(value)))
    if not path:
        return draw(JSON)
    _parent(value, path)[path[-1]] = draw(JSON)
    return value


@st.composite
def mutated(draw: st.DrawFn, sample: Any, max_changes: int = 3) -> Any:
    """`sample` after up to `max_changes` of: a field dropped, an extra field, a value replaced."""
    value = copy.deepcopy(sample)
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        targets = paths(value)
        path = draw(st.sampled_from(targets))
        if not path:
            continue
        parent = _parent(value, path)
        change = draw(st.sampled_from(["drop", "extra", "replace"]))
        if change == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif change == "extra" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(JSON)
        else:
            parent[path[-1]] = draw(JSON)
    return value


def decimals_to_text(value: Any) -> Any:
    """For bodies that go through json.dumps: exact Decimals as strings, floats as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: decimals_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decimals_to_text(v) for v in value]
    return value
