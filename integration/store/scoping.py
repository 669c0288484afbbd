"""Organization scoping: every query for an organization's data starts here.

Rows that carry organization_id are filtered on it; mirrored rows are reached through their
connection. A model this module does not know is refused rather than returned unscoped.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select

from integration.store.models import (
    Action,
    ActivityEntry,
    Base,
    Connection,
    CustomerOverride,
    CycleRun,
    InboundReply,
    InvoicePause,
    MessageTemplate,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    OrganizationRules,
    SyncCursor,
    User,
    WeeklyDigest,
)

M = TypeVar("M", bound=Base)

_DIRECT = (Action, ActivityEntry, Connection, InboundReply, MessageTemplate, OrganizationRules, User, WeeklyDigest)
_VIA_CONNECTION = (
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
