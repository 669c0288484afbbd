"""The monthly statement: planned on the owner's day for each customer who owes something, off by
default, honouring the owner's word, and re-checked as it goes out."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.recheck import OwnerWord, Pending, recheck
from integration.policy.rule_errors import OutOfRange, RuleErrors
from integration.policy.rules import Rules, Statements
from integration.policy.snapshot import Company, CustomerOverride, Snapshot
from integration.policy.statements import statement_actions, statement_day
from tests.policy.builders import customer, invoice

FIRST = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 16, 0, tzinfo=dt.UTC)  # 10:00 on Monday 1 June in Denver
ON = dataclasses.replace(Rules.default(), statements=Statements(enabled=True, day_of_month=1))


def book(**overrides: CustomerOverride) -> Snapshot:
    people = (customer("c1"), customer("c2", "ap@two.example"), customer("c3", "ap@three.example"))
    return Snapshot(
        Company("Co", "America/Denver", "USD"),
        people,
        (
            invoice("inv-1", 10, cid="c1", today=FIRST),
            invoice("inv-2", -3, cid="c1", today=FIRST),
            invoice("inv-3", 5, cid="c2", today=FIRST),
            invoice("inv-4", 40, cid="c3", balance="0.00", today=FIRST),  # paid: nothing owed
        ),
        overrides=overrides,
    )


def test_off_by_default_nothing_is_planned() -> None:
    assert Rules.default().statements.enabled is False
    assert statement_actions(book(), Rules.default(), FIRST) == []
    assert not [a for a in decide(book(), Rules.default(), NOW) if a.kind is ActionKind.SEND_STATEMENT]


def test_on_the_day_each_customer_who_owes_gets_one() -> None:
    planned = statement_actions(book(), ON, FIRST)
    assert [(a.customer_id, a.recipients) for a in planned] == [
        ("c1", ("ap@acme.example",)),
        ("c2", ("ap@two.example",)),
    ]
    assert planned[0].reason == "monthly statement of account (2 open invoices)"
    assert planned[0].payload == {"recent_days": 30, "statement_date": "2026-06-01"}
    assert statement_actions(book(), ON, FIRST) == planned  # the same day: the same keys, nothing new to plan
    assert statement_actions(book(), ON, FIRST + dt.timedelta(days=1)) == []
    next_month = statement_actions(book(), ON, dt.date(2026, 7, 1))
    assert {a.idempotency_key for a in next_month}.isdisjoint(a.idempotency_key for a in planned)


def test_decide_plans_them_with_the_rest_in_customer_order() -> None:
    actions = decide(book(), ON, NOW)
    statements = [a for a in actions if a.kind is ActionKind.SEND_STATEMENT]
    assert [a.customer_id for a in statements] == ["c1", "c2"]
    assert actions == sorted(actions, key=lambda a: a.sort_key())


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"), [(2026, 4, 31, 30), (2026, 2, 30, 28), (2028, 2, 31, 29), (2026, 5, 15, 15)]
)
def test_a_day_the_month_lacks_is_its_last_day(year: int, month: int, day: int, expected: int) -> None:
    assert statement_day(year, month, day) == dt.date(year, month, expected)


@pytest.mark.parametrize(
    "override",
    [
        CustomerOverride("c1", excluded=True),
        CustomerOverride("c1", paused=True),
        CustomerOverride("c1", opted_out=True),
    ],
)
def test_the_owners_word_on_a_customer_keeps_their_statement(override: CustomerOverride) -> None:
    assert [a.customer_id for a in statement_actions(book(c1=override), ON, FIRST)] == ["c2"]


def test_the_rule_is_checked_and_round_trips() -> None:
    assert Rules.from_json(ON.to_json()) == ON
    with pytest.raises(RuleErrors) as caught:
        Rules.from_json({"statements": {"enabled": True, "day_of_month": 32, "recent_days": 3}})
    assert {(e.field, type(e)) for e in caught.value.errors} == {
        ("statements.day_of_month", OutOfRange),
        ("statements.recent_days", OutOfRange),
    }


def test_a_statement_is_re_checked_as_it_goes_out() -> None:
    pending = Pending(ActionKind.SEND_STATEMENT, None, None, ())
    monday_10 = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
    assert recheck(pending, OwnerWord(), ON, "America/Denver", monday_10).skip is None
    off = recheck(pending, OwnerWord(), Rules.default(), "America/Denver", monday_10)
    assert off.skip == "monthly statements were turned off in the rules after this was planned"
    opted = recheck(
        pending, OwnerWord(override=CustomerOverride("c1", opted_out=True)), ON, "America/Denver", monday_10
    )
    assert opted.skip is not None and "opted out" in opted.skip
    at_night = recheck(pending, OwnerWord(), ON, "America/Denver", dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC))
    assert at_night.wait_until is not None  # the send window holds for statements too
