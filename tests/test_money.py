from decimal import Decimal

import pytest

from connectors.contract import Money, UnsupportedCurrency


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


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("USD", "1234.56 USD"),
        ("JPY", "1235 JPY"),
        ("BHD", "1234.560 BHD"),
        ("XOF", "1235 XOF"),
        ("CLF", "1234.5600 CLF"),
    ],
)
def test_every_iso_currency_with_its_own_minor_units(code: str, text: str) -> None:
    assert str(Money.parse("1234.56", code)) == text


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "usd", "US", ""])
def test_codes_that_are_no_money_are_refused(code: str) -> None:
    with pytest.raises(UnsupportedCurrency):
        Money.parse("1", code)
