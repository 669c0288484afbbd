"""The seeded demo company and the scenario file format."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from connectors.contract import PostalAddress
from connectors.sandbox.scenario import ScenarioError, generate_demo_company, load_scenario
from connectors.sandbox.scenario.model import parse_scenario

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return generate_demo_company(seed=7, as_of=AS_OF)


def test_generator_is_deterministic(demo) -> None:  # type: ignore[no-untyped-def]
    assert generate_demo_company(seed=7, as_of=AS_OF).dumps() == demo.dumps()
    assert generate_demo_company(seed=8, as_of=AS_OF).dumps() != demo.dumps()


def test_demo_company_has_the_promised_cast(demo) -> None:  # type: ignore[no-untyped-def]
    habits = Counter(c.habit for c in demo.customers)
    assert 36 <= len(demo.customers) <= 44
    assert set(habits) == {
        "reliable",
        "month_end_slipper",
        "slow_but_steady",
        "habitually_late",
        "unresponsive",
        "new",
        "in_credit",
    }  # issue #13: a customer in credit
    assert sum(1 for c in demo.customers if c.email is None) == 1
    assert {c.currency for c in demo.customers} == {"USD", "EUR"}
    assert sum(1 for i in demo.invoices if i.disputed) == 1
    disputed = next(i for i in demo.invoices if i.disputed)
    assert demo.balance_of(disputed) > 0
    span = (AS_OF - min(i.issue_date for i in demo.invoices)).days
    assert 365 <= span <= 24 * 31
    assert any(0 < demo.balance_of(i) < i.total for i in demo.invoices), "some partial payments"
    assert all(p.date <= AS_OF for p in demo.payments)


def test_habits_show_in_the_books(demo) -> None:  # type: ignore[no-untyped-def]
    def overdue_share(habit: str) -> float:
        ids = {c.id for c in demo.customers if c.habit == habit}
        open_overdue = [
            i
            for i in demo.invoices
            if i.customer_id in ids
            and demo.balance_of(i) > 0
            and i.due_date
            and i.due_date < AS_OF - dt.timedelta(days=30)
        ]
        return len(open_overdue)

    assert overdue_share("reliable") <= 1  # only the disputed one
    assert overdue_share("unresponsive") >= 10


def test_scenario_file_round_trip(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "company.json"
    path.write_text(demo.dumps())
    assert load_scenario(path) == demo


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["invoices"][3].update(due_date="2026-13-01"), r"invoices\[3\]\.due_date"),
        (lambda d: d["invoices"][0]["lines"][0].update(amount=12.5), "not a float"),
        (lambda d: d["customers"][1].update(currency="XYZ"), r"customers\[1\]\.currency"),
        (lambda d: d["invoices"][2].update(customer_id="nobody"), "names no customer"),
        (lambda d: d["company"].update(timezone="Mars/Olympus"), "company.timezone"),
        (lambda d: d["payments"][0]["applied"][0].update(amount="-5"), "greater than zero"),
        (lambda d: d["customers"].append(dict(d["customers"][0])), "duplicate id"),
        (lambda d: d["customers"][0].update(street=["1 Main St", " "]), r"customers\[0\]\.street"),
        (lambda d: d["company"].update(street="1 Main St"), "company.street"),
        (lambda d: d["customers"][2].update(postal_code=80302), r"customers\[2\]\.postal_code"),
    ],
)
def test_bad_scenarios_name_the_field(demo, mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(demo.dumps())
    mutate(data)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_the_demo_company_and_its_customers_have_postal_addresses_but_one(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo.company.postal_address == PostalAddress(("2150 Pearl St",), "Boulder", "CO", "80302", "US")
    missing = [c.name for c in demo.customers if c.postal_address is None and not c.bill_with_parent]
    assert missing == ["Foxglove Events"]  # its letters say "no postal address in the books"
    placed = [c.postal_address for c in demo.customers if c.postal_address is not None]
    assert all(a.postable and (a.region, a.country) == ("CO", "US") for a in placed)  # the company's own zone
    assert any(len(a.lines) == 2 for a in placed) and len({a.city for a in placed}) > 5


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(path)


def test_the_demo_company_has_the_shapes_real_books_have(demo) -> None:  # type: ignore[no-untyped-def]
    # #13: a job billed with its parent, a customer with two addresses, an invoice awaiting approval.
    job = demo.customer("cust-40")
    assert (job.parent_id, job.bill_with_parent) == ("cust-39", True)
    assert demo.customer("cust-41").email == "ap@baysidedental.example, office@baysidedental.example"
    (submitted,) = [i for i in demo.invoices if i.status == "submitted"]
    assert demo.balance_of(submitted) == 0 and not submitted.owed


def test_structure_status_and_type_round_trip_and_are_checked(demo) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(demo.dumps())
    job = next(c for c in data["customers"] if c["id"] == "cust-40")
    assert job["parent_id"] == "cust-39" and job["bill_with_parent"] is True
    assert "status" not in data["invoices"][0] and "type" not in data["invoices"][0]  # defaults stay implicit
    # The two-address customer's approved invoice is unpaid: a payment never applies to a bill.
    unpaid = next(n for n, i in enumerate(data["invoices"]) if i["customer_id"] == "cust-41" and "status" not in i)
    data["invoices"][unpaid]["type"] = "bill"
    loaded = parse_scenario(data)
    assert loaded.invoices[unpaid].type == "bill" and loaded.balance_of(loaded.invoices[unpaid]) == 0
    assert parse_scenario(json.loads(loaded.dumps())) == loaded


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["customers"][0].update(parent_id="nobody"), r"customers\[0\]\.parent_id names no customer"),
        (
            lambda d: d["customers"][0].update(bill_with_parent=True),
            r"customers\[0\]\.bill_with_parent needs a parent_id",
        ),
        (lambda d: d["customers"][38].update(parent_id="cust-40"), r"parent_id makes a loop"),
        (
            lambda d: d["invoices"][0].update(status="pending"),
            r"invoices\[0\]\.status must be one of approved, submitted, draft",
        ),
        (lambda d: d["invoices"][0].update(type="ACCPAY"), r"invoices\[0\]\.type must be one of sale, bill"),
    ],
)
def test_bad_structure_names_the_field(demo, mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(demo.dumps())
    mutate(data)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_a_payment_cannot_apply_to_an_invoice_nobody_owes_yet(demo) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(demo.dumps())
    paid = data["payments"][0]["applied"][0]["invoice_id"]
    next(i for i in data["invoices"] if i["id"] == paid).update(status="draft")
    with pytest.raises(ScenarioError, match="nobody owes yet"):
        parse_scenario(data)
