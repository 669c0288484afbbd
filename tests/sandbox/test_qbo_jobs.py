"""The QuickBooks sandbox serves jobs and sub-customers per Intuit's Customer contract (Job,
ParentRef, BillWithParent, Level, RootCustomerRef, FullyQualifiedName, BalanceWithJobs) and keeps a
comma-separated email list as QuickBooks does (#13), read through python-quickbooks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.objects.customer import Customer

import tests.sandbox.conftest as qbo_fixtures
from tests.cycle.test_company_shape import shaped_scenario
from tests.sandbox.conftest import RunningSandbox


@pytest.fixture(autouse=True)
def _shaped_books(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qbo_fixtures, "small_scenario", shaped_scenario)


def test_jobs_name_their_parent_and_roll_up_into_its_balance(qbo: RunningSandbox) -> None:
    client = qbo.client()
    ids = qbo.sandbox.companies[qbo.realm].scenario_ids["customers"]
    by_id = {c.Id: c for c in Customer.all(qb=client)}
    parent, job, own = by_id[ids["c-parent"]], by_id[ids["c-job"]], by_id[ids["c-own-job"]]
    assert (parent.Job, parent.BillWithParent, parent.FullyQualifiedName) == (False, False, "Freeman Sporting Goods")
    assert (job.Job, job.BillWithParent, job.Level) == (True, True, 1)
    assert job.ParentRef.value == parent.Id and job.FullyQualifiedName == "Freeman Sporting Goods:0969 Ocean View Road"
    assert (own.Job, own.BillWithParent) == (True, False)
    # The parent's own balance is nothing; with its jobs' open invoices, 800.00.
    assert Decimal(str(parent.Balance)) == 0 and Decimal(str(parent.BalanceWithJobs)) == Decimal("800.00")
    assert by_id[ids["c-two"]].PrimaryEmailAddr.Address == "ap@twodesk.example, owner@twodesk.example"
