"""One customer's statement from the mirror: the customer's invoices, payments and credits, read
within the signed-in organization, and the company the customer's connection belongs to."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from integration.cycle.gather import company_of, credit_record, customer_record, invoice_record, payment_record
from integration.documents.statement import RECENT_DAYS, Statement, build_statement
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


def _of_customer(model: type[_Row], organization_id: int, customer: MirroredCustomer) -> Select[_Row]:
    return scoped(model, organization_id).where(
        model.connection_id == customer.connection_id, model.customer_provider_id == customer.provider_id
    )


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
    payments = _of_customer(MirroredPayment, organization_id, customer).where(MirroredPayment.deleted.is_(False))
    return build_statement(
        company_of(organization, connection),
        customer_record(customer),
        [invoice_record(row) for row in session.scalars(_of_customer(MirroredInvoice, organization_id, customer))],
        [payment_record(row) for row in session.scalars(payments)],
        [credit_record(row) for row in session.scalars(_of_customer(MirroredCredit, organization_id, customer))],
        now,
        recent_days,
    )
