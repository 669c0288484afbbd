"""Who is collected and who is written to (#13): jobs billed with their parent are the parent's
account; every valid address of a customer receives the reminder, a bad one is named and left out."""

from __future__ import annotations

import dataclasses

from connectors.contract import Contact
from integration.policy.accounts import as_accounts, billing_accounts
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.rules import Rules
from integration.policy.snapshot import Company, Snapshot
from tests.policy.builders import NOW, customer, history_of, invoice

COMPANY = Company("Harbor & Pine", "America/Denver", "USD")
RULES = Rules.default()


def _decide(customers, invoices, payments=()):  # type: ignore[no-untyped-def]
    invoices, payments = as_accounts(customers, invoices, payments)
    return decide(Snapshot(COMPANY, tuple(customers), invoices, payments), RULES, NOW)


def _of(actions, kind: ActionKind):  # type: ignore[no-untyped-def]
    return [a for a in actions if a.kind is kind]


PARENT = customer("c1", email="ap@freeman.example", name="Freeman Sporting Goods")
JOB = dataclasses.replace(
    customer("c2", email=None, name="0969 Ocean View Road"),
    parent_id="c1",
    bill_with_parent=True,
    full_name="Freeman Sporting Goods:0969 Ocean View Road",
)


def test_a_job_billed_with_its_parent_is_collected_as_the_parents_account() -> None:
    actions = _decide([PARENT, JOB], [invoice("inv-1", 95, cid="c2"), invoice("inv-2", 40, cid="c1")])
    (email,) = _of(actions, ActionKind.SEND_REMINDER)
    assert email.customer_id == "c1" and set(email.invoice_ids) == {"inv-1", "inv-2"}
    assert email.recipients == ("ap@freeman.example",)  # the parent's billing address
    assert all(a.customer_id == "c1" for a in actions), [(a.kind, a.customer_id) for a in actions]
    assert _of(actions, ActionKind.CREDIT_HOLD_ON) and _of(actions, ActionKind.CREDIT_HOLD_ON)[0].customer_id == "c1"


def test_a_job_billed_on_its_own_is_its_own_account() -> None:
    own = dataclasses.replace(JOB, email="site@ocean.example", bill_with_parent=False)
    actions = _decide([PARENT, own], [invoice("inv-1", 20, cid="c2")])
    (email,) = _of(actions, ActionKind.SEND_REMINDER)
    assert email.customer_id == "c2" and email.recipients == ("site@ocean.example",)


def test_payment_habits_of_a_job_count_for_its_parent() -> None:
    paid, payments = history_of([0, 1, -2, 0], cid="c2")
    moved_invoices, moved_payments = as_accounts([PARENT, JOB], paid, payments)
    assert {i.customer_id for i in moved_invoices} == {"c1"} and {p.customer_id for p in moved_payments} == {"c1"}


def test_billing_chains_follow_levels_and_stop_at_loops_and_missing_parents() -> None:
    grandchild = dataclasses.replace(customer("c3"), parent_id="c2", bill_with_parent=True)
    assert billing_accounts([PARENT, JOB, grandchild]) == {"c2": "c1", "c3": "c1"}
    orphan = dataclasses.replace(customer("c4"), parent_id="gone", bill_with_parent=True)
    assert billing_accounts([orphan]) == {}
    a = dataclasses.replace(customer("a"), parent_id="b", bill_with_parent=True)
    b = dataclasses.replace(customer("b"), parent_id="a", bill_with_parent=True)
    assert set(billing_accounts([a, b])) <= {"a", "b"}  # ends, whatever it picks


def test_every_valid_address_of_a_comma_separated_customer_is_a_recipient() -> None:
    two = customer(email="ap@acme.example, Owner@Acme.example;ap@acme.example")
    (email,) = _of(_decide([two], [invoice("inv-1", 20), invoice("inv-2", 5)]), ActionKind.SEND_REMINDER)
    assert email.recipients == ("ap@acme.example", "Owner@Acme.example")
    assert email.invoice_ids == ("inv-1", "inv-2")


def test_a_bad_address_is_named_and_left_out_never_failing_the_rest() -> None:
    mixed = customer(email="ap@acme.example, not-an-address", contacts=(Contact("pay@acme", "AP", "billing"),))
    actions = _decide([mixed], [invoice("inv-1", 20), invoice("inv-2", 35)])
    (email,) = _of(actions, ActionKind.SEND_REMINDER)
    assert email.recipients == ("ap@acme.example",)
    assert "left out 'not-an-address', 'pay@acme': not an email address" in email.reason
    # The note naming who it went to is written by the executor after delivery, never planned here.
    assert not [n for n in _of(actions, ActionKind.ADD_NOTE) if "emailed" in n.payload["text"]]


def test_no_valid_address_means_a_call_with_the_reason_and_no_emailed_note() -> None:
    actions = _decide([customer(email="nobody, also@nowhere")], [invoice("inv-1", 20)])
    assert not _of(actions, ActionKind.SEND_REMINDER)
    assert not [n for n in _of(actions, ActionKind.ADD_NOTE) if "emailed" in n.payload["text"]]
    (call,) = _of(actions, ActionKind.CREATE_CALL_TASK)
    assert "no valid email address on file (left out 'nobody', 'also@nowhere': not an email address)" in call.reason
