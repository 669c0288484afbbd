"""Organization scoping: every query for an organization's data starts here.

Rows that carry organization_id are filtered on it; mirrored rows are reached through their
connection. A model this module does not know is refused rather than returned unscoped.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select

from integration.store.models import (
    AccountPlan,
    Action,
    ActivityEntry,
    Base,
    CompanyRules,
    Connection,
    ConnectionStatus,
    CustomerLink,
    CustomerOverride,
    CycleRun,
    InboundReply,
    Invitation,
    InvoicePause,
    Letter,
    MessageTemplate,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    OrganizationRules,
    PolicyAcceptance,
    SyncCursor,
    User,
    WeeklyDigest,
)

M = TypeVar("M", bound=Base)

_DIRECT = (
    Action,
    ActivityEntry,
    Connection,
    InboundReply,
    Invitation,
    Letter,
    MessageTemplate,
    OrganizationRules,
    PolicyAcceptance,
    User,
    WeeklyDigest,
)
_VIA_CONNECTION = (
    AccountPlan,
    CompanyRules,
    CustomerLink,
    CustomerOverride,
    CycleRun,
    InvoicePause,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    SyncCursor,
)


class UnscopedModel(TypeError):
    """A model with no known path to an organization."""


def scoped(model: type[M], organization_id: int) -> Select[M]:
    """SELECT model rows belonging to organization_id, and only those."""
    statement: Select[Any] = select(model)
    if model in _DIRECT:
        return statement.where(model.organization_id == organization_id)  # type: ignore[attr-defined]
    if model in _VIA_CONNECTION:
        return statement.join(Connection, model.connection_id == Connection.id).where(  # type: ignore[attr-defined]
            Connection.organization_id == organization_id
        )
    raise UnscopedModel(f"{model.__name__} has no organization scope")


def still_connected(statement: Select[M], model: type[M]) -> Select[M]:
    """`statement` (a `scoped` read of a model with a connection) kept to companies not disconnected: a
    disconnected company's records are its history, no longer something the owner can act on."""
    connected = select(Connection.id).where(Connection.status != ConnectionStatus.DISCONNECTED)
    return statement.where(model.connection_id.in_(connected))  # type: ignore[attr-defined]
