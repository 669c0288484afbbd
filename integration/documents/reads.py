"""One customer's statement from the mirror: the invoices, payments and credits of the customer and
of the jobs billed with it (QuickBooks BillWithParent: statemented through the parent, as they are
reminded), read within the signed-in organization, and the company the customer's connection
belongs to."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from connectors.contract import Credit, Invoice, Payment
from integration.cycle.gather import company_of, credit_record, customer_record, invoice_record, payment_record
from integration.documents.statement import RECENT_DAYS, Statement, build_statement
from integration.policy.accounts import billed_through
from integration.store.models import (
    Connection,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)
from integration.store.scoping import scoped

_Row = TypeVar("_Row", MirroredInvoice, MirroredPayment, MirroredCredit)
_Record = TypeVar("_Record", Invoice, Payment, Credit)


def _on_account(records: Iterable[_Record], account_id: str) -> list[_Record]:
    """The records with each job's moved onto the account it is billed through (`as_accounts` does so
    for the policy), so one statement holds them all."""
    return [dataclasses.replace(r, customer_id=account_id) for r in records]


def customer_statement(
    session: Session,
    organization_id: int,
    customer: MirroredCustomer,
    now: dt.datetime,
    recent_days: int = RECENT_DAYS,
) -> Statement:
    """`customer` must come from a read scoped to `organization_id` (records.find_customer)."""
    connection = session.scalars(
        scoped(Connection, organization_id).where(Connection.id == customer.connection_id)
    ).one()
    organization = session.get_one(Organization, organization_id)
    customers = session.scalars(
        scoped(MirroredCustomer, organization_id).where(
            MirroredCustomer.connection_id == customer.connection_id, MirroredCustomer.deleted.is_(False)
        )
    )
    members = billed_through((customer_record(c) for c in customers), customer.provider_id)

    def theirs(model: type[_Row]) -> Select[_Row]:
        return scoped(model, organization_id).where(
            model.connection_id == customer.connection_id, model.customer_provider_id.in_(members)
        )

    payments = theirs(MirroredPayment).where(MirroredPayment.deleted.is_(False))
    account = customer.provider_id
    return build_statement(
        company_of(organization, connection),
        customer_record(customer),
        _on_account((invoice_record(row) for row in session.scalars(theirs(MirroredInvoice))), account),
        _on_account((payment_record(row) for row in session.scalars(payments)), account),
        _on_account((credit_record(row) for row in session.scalars(theirs(MirroredCredit))), account),
        now,
        recent_days,
    )
