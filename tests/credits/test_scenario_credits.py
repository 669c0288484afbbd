"""The scenario format's credits: read, checked field by field, written back the same."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from connectors.sandbox.scenario import ScenarioError
from connectors.sandbox.scenario.model import parse_scenario
from tests.credits.scenario import credit_scenario

AS_OF = dt.date(2026, 11, 23)


def _data() -> dict[str, Any]:
    return json.loads(credit_scenario(AS_OF).dumps())


def test_credits_round_trip_and_settle_balances() -> None:
    scenario = parse_scenario(_data())
    assert scenario == credit_scenario(AS_OF)
    cn3 = next(c for c in scenario.credits if c.id == "cn-3")
    assert cn3.remaining == 0 and cn3.allocations[0].date == AS_OF - dt.timedelta(days=5)
    assert scenario.balance_of(next(i for i in scenario.invoices if i.id == "inv-8")) == Decimal(0)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(kind="gift_card"), r"credits\[0\].kind must be one of credit_note"),
        (lambda c: c.update(amount=92.5), r"credits\[0\].amount must be a decimal string"),
        (lambda c: c.update(customer_id="nobody"), r"credits\[0\] names no customer of its currency"),
        (
            lambda c: c.update(allocations=[{"invoice_id": "inv-7", "amount": "1.00"}]),
            r"credits\[0\].allocations\[0\].invoice_id names no invoice of its customer",
        ),
        (lambda c: c.update(allocations=[{"invoice_id": "inv-3", "amount": "100.00"}]), r"credits\[0\] allocates more"),
    ],
)
def test_a_bad_credit_is_refused_by_path(change: Any, message: str) -> None:
    data = _data()
    change(data["credits"][0])
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)
