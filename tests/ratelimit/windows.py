"""Checks every rate-limit test ends with: calls counted in sliding windows, slots held."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack


def most_in_any_window(times: Sequence[float], window: float) -> int:
    """The largest number of `times` inside any half-open window [t, t + window)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, start + window) - i for i, start in enumerate(ordered)), default=0)


def assert_one_more_waits(enter: Callable[[str], AbstractContextManager[object]], maximum: int) -> None:
    """With `maximum` slots of key "a" held, another key enters at once and one more "a" waits for a release."""
    entered = threading.Event()

    def one_more() -> None:
        with enter("a"):
            entered.set()

    with ExitStack() as held:
        for _ in range(maximum):
            held.enter_context(enter("a"))
        with enter("b"):
            pass
        waiting = threading.Thread(target=one_more)
        waiting.start()
        assert not entered.wait(0.2)
    waiting.join(5)
    assert entered.is_set()
