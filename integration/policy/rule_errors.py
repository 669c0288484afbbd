"""What a broken rule looks like: the typed errors `Rules` raises, and the checks every rule class
runs on itself, which keep each failure so the owner learns of every bad value at once.

A `RuleError`'s `.field` is the dotted path of the offending rule (`ladder.stages[2].offset_days`); several
found together are one `RuleErrors`, whose `.errors` lists them all. `OutOfRange` carries the numbers
involved, so a page can put it in its own words.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

# A threshold beyond any small business's invoice is a typo, not a rule; no currency has more places.
MAX_AMOUNT = Decimal("1000000000")
MAX_DECIMAL_PLACES = 4
MAX_MESSAGE = 200


class RuleError(ValueError):
    """An invalid rule. `.field` is the dotted path of the rule, and the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        # Messages quote the bad value; a megabyte pasted into a form must not come back as one.
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message

    def under(self, prefix: str) -> RuleError:
        """The same error, its path under `prefix` (a rule checked inside its group)."""
        moved = type(self).__new__(type(self))
        moved.__dict__.update(vars(self))
        moved.field = join_path(prefix, self.field)
        moved.args = (f"{moved.field}: {self.detail}",)
        return moved

    @property
    def concerns(self) -> tuple[str, ...]:
        """The rules this error is about (an order is about two)."""
        return (self.field,)


class OutOfRange(RuleError):
    """A number outside its range; the bounds may come from another rule (`send_until_hour` starts
    after `send_from_hour`)."""

    def __init__(self, field: str, value: int, low: int, high: int) -> None:
        super().__init__(field, f"must be from {low} to {high}, got {value}")
        self.value, self.low, self.high = value, low, high


class RuleErrors(RuleError):
    """Several invalid rules found at once. It reads as the first (`field`, `detail`); `errors` has them all."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        super().__init__(errors[0].field, errors[0].detail)
        self.errors: tuple[RuleError, ...] = tuple(errors)

    def under(self, prefix: str) -> RuleError:
        return RuleErrors([error.under(prefix) for error in self.errors])


def each_error(error: RuleError) -> tuple[RuleError, ...]:
    """Every invalid rule an error reports."""
    return error.errors if isinstance(error, RuleErrors) else (error,)


def together(errors: Sequence[RuleError]) -> RuleError:
    return errors[0] if len(errors) == 1 else RuleErrors(errors)


def join_path(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


class Checks:
    """One rule class's checks: each failure is kept, so the owner learns of every bad value at once."""

    def __init__(self) -> None:
        self.found: list[RuleError] = []

    def add(self, error: RuleError) -> None:
        self.found.append(error)

    def range(self, name: str, value: int, low: int, high: int) -> bool:
        if low <= value <= high:
            return True
        self.add(OutOfRange(name, value, low, high))
        return False

    def choice(self, name: str, value: str, choices: tuple[str, ...]) -> None:
        if value not in choices:
            self.add(RuleError(name, f"must be one of {', '.join(choices)}, got {value!r}"))

    def choices(self, name: str, values: tuple[str, ...], choices: tuple[str, ...]) -> None:
        for index, value in enumerate(values):
            self.choice(f"{name}[{index}]", value, choices)
        if len(set(values)) != len(values):
            self.add(RuleError(name, "must not name the same value twice"))

    def amount(self, name: str, amount: Decimal, high: Decimal = MAX_AMOUNT) -> None:
        if not isinstance(amount, Decimal) or not amount.is_finite() or not 0 <= amount <= high:
            self.add(RuleError(name, f"must be an amount from 0 to {high}, got {amount}"))
        elif amount.as_tuple().exponent < -MAX_DECIMAL_PLACES:  # type: ignore[operator]
            self.add(RuleError(name, f"must have at most {MAX_DECIMAL_PLACES} decimal places, got {amount}"))


@contextmanager
def checking() -> Iterator[Checks]:
    checks = Checks()
    yield checks
    if checks.found:
        raise together(checks.found)
