"""Invariants of decide over generated books (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.contract import InvoiceStatus
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.rules import Rules
from integration.policy.snapshot import Company, History, Snapshot
from tests.policy.builders import NOW, TODAY, customer, invoice

COMPANY = Company("Harbor & Pine", "America/Denver", "USD")
RULES = Rules.default()

invoices = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]),
        st.integers(-40, 200),
        st.sampled_from(list(InvoiceStatus)),
        st.sampled_from(["0.00", "35.50", "100.00"]),
    ),
    max_size=25,
)


def build(
    rows: list[tuple[str, int, InvoiceStatus, str]], history: History = History(), reverse: bool = False
) -> Snapshot:
    customers = (customer("c1"), customer("c2", email=None, name="Birch"), customer("c3", name="Cobalt"))
    items = tuple(
        invoice(f"inv-{i}", late, cid=cid, balance=bal, status=status)
        for i, (cid, late, status, bal) in enumerate(rows)
    )
    return Snapshot(COMPANY, customers, items[::-1] if reverse else items, history=history)


@settings(max_examples=60, deadline=None)
@given(invoices)
def test_no_action_on_paid_voided_or_zero_balance_invoices(rows) -> None:  # type: ignore[no-untyped-def]
    snapshot = build(rows)
    closed = {
        i.provider_id for i in snapshot.invoices if i.status is not InvoiceStatus.OPEN or i.balance.amount <= Decimal(0)
    }
    for action in decide(snapshot, RULES, NOW):
        assert not closed & set(action.invoice_ids)


@settings(max_examples=60, deadline=None)
@given(invoices)
def test_deterministic_and_keys_stable_across_reruns(rows) -> None:  # type: ignore[no-untyped-def]
    first = decide(build(rows), RULES, NOW)
    second = decide(build(rows, reverse=True), RULES, NOW + dt.timedelta(minutes=30))
    assert [a.as_dict() for a in first] == [a.as_dict() for a in second]
    assert len({a.idempotency_key for a in first}) == len(first)


@settings(max_examples=40, deadline=None)
@given(invoices, st.integers(1, 10))
def test_at_most_one_email_per_customer_per_window(rows, gap) -> None:  # type: ignore[no-untyped-def]
    rules = Rules.from_json({"frequency": {"min_days_between_emails": gap}})
    history = History()
    emails: dict[str, list[tuple[dt.date, bool]]] = {}
    for offset in range(12):
        day = TODAY + dt.timedelta(days=offset)
        shifted = [(cid, late + offset, status, bal) for cid, late, status, bal in rows]
        actions = decide(build(shifted, history), rules, NOW + dt.timedelta(days=offset))
        for action in actions:
            if action.kind is ActionKind.SEND_REMINDER:
                first_overdue = "reminder_1" in action.payload["invoice_stages"].values()
                emails.setdefault(action.customer_id, []).append((day, first_overdue))
        history = record(history, actions, day)
    for sent in emails.values():
        for (earlier, _), (later, first_overdue) in zip(sent, sent[1:], strict=False):
            # An invoice's first overdue reminder waits only for a day without another email.
            assert (later - earlier).days >= (1 if first_overdue else gap)


def test_decide_makes_no_reference_cycles_and_leaves_the_cycle_collector_alone() -> None:
    """decide is pure: the collector is a process-wide switch (the web preview runs decide too)."""
    import gc

    rows = [("c1", late, InvoiceStatus.OPEN, "100.00") for late in (-20, 5, 40, 95)]
    gc.collect()
    gc.disable()
    try:
        assert decide(build(rows), RULES, NOW)
        assert not gc.isenabled(), "decide switched the collector on"
    finally:
        gc.enable()
    assert decide(build(rows), RULES, NOW)
    assert gc.isenabled(), "decide switched the collector off"
    assert gc.collect() == 0, "decide left reference cycles behind"
