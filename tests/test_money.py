from decimal import Decimal

import pytest

from connectors.base import Money, UnsupportedCurrency


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        Money(10.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floats"):
        Money.parse(10.5, "USD")  # type: ignore[arg-type]


def test_money_refuses_bools_and_non_finite() -> None:
    with pytest.raises(TypeError):
        Money(True, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Money(Decimal("NaN"), "USD")


def test_money_is_exact() -> None:
    total = Money.parse("0.10", "USD") + Money.parse("0.20", "USD")
    assert total == Money(Decimal("0.30"), "USD")
    assert str(total) == "0.30 USD"


def test_money_refuses_mixed_currencies() -> None:
    with pytest.raises(ValueError, match="USD with EUR"):
        Money.parse("1", "USD") + Money.parse("1", "EUR")


def test_money_refuses_unknown_currency() -> None:
    with pytest.raises(UnsupportedCurrency, match="XYZ"):
        Money.parse("1", "XYZ")
