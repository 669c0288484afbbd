"""The database: organizations, connections, the mirror, rules, the action ledger and activity.

Mirrored rows are scoped by connection and keyed by the provider's id; every organization-owned
row can be reached from its organization (see `integration.store.scoping`). Money is Numeric with a
currency code beside it, never float.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = Numeric(19, 4, asdecimal=True)
CURRENCY = String(3)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC and always handed back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), Decimal: MONEY, dict[str, Any]: JSON}


class ConnectionStatus(str, enum.Enum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


class ActionStatus(str, enum.Enum):
    PLANNED = "planned"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"  # in the owner's Approve list (rules.approval)


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Stored as the value text with a CHECK constraint, so both databases agree and migrations stay simple.
    return Enum(kind, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e], length=32)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # The owner's pages' zone: the zone of the organization's first company (integration.store.connections).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    base_currency: Mapped[str] = mapped_column(CURRENCY, default="USD")
    # Where customers' replies are forwarded; nothing goes live until the owner has confirmed it.
    reply_address: Mapped[str | None] = mapped_column(String(320))
    reply_address_confirmed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")
    connections: Mapped[list[Connection]] = relationship(back_populates="organization")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_users_provider_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))  # the OpenID `sub`
    role: Mapped[str] = mapped_column(String(32), default="owner")  # owner, collector or viewer (store.team)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="users")


class Connection(Base):
    __tablename__ = "connections"
    __table_args__ = (
        # One row per company per organization (its history); an organization that disconnects keeps
        # its row, and another may then connect the same company: only one of them is active at a time.
        UniqueConstraint("organization_id", "provider", "external_id", name="uq_connections_organization_company"),
        Index(
            "uq_connections_active_company",
            "provider",
            "external_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))  # QBO realmId or Xero tenantId
    display_name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus, "connection_status"), default=ConnectionStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    token_blob: Mapped[bytes | None] = mapped_column(LargeBinary)  # MultiFernet ciphertext
    access_expires_at: Mapped[dt.datetime | None]
    last_sync_at: Mapped[dt.datetime | None]
    # When the owner said the accounting system's own reminders are off (None: not yet, so ask).
    built_in_reminders_off_at: Mapped[dt.datetime | None]
    # The company's IANA zone: read from its books by its first cycle, changed by the owner in
    # Settings. None until read; the organization's zone stands in meanwhile.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The company's postal address, the sender on its letters (store/postal.py), read again from its
    # books once a day (it moves rarely); read_at None: never read. None with read_at: the books keep none.
    company_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    company_address_read_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="connections")
    cursors: Mapped[list[SyncCursor]] = relationship(back_populates="connection", cascade="all, delete-orphan")


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "entity", name="uq_sync_cursors_connection_entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(32))
    cursor: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    connection: Mapped[Connection] = relationship(back_populates="cursors")


class MirroredCustomer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("connection_id", "provider_id", name="uq_customers_connection_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(CURRENCY)
    terms_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(64))  # of the billing address, as the books spell it
    region: Mapped[str | None] = mapped_column(String(64))
    provider_updated_at: Mapped[dt.datetime]
    # QuickBooks jobs: the customer above, and whether its account is the one collected for this one.
    parent_provider_id: Mapped[str | None] = mapped_column(String(64))
    bill_with_parent: Mapped[bool] = mapped_column(default=False, server_default=false())
    full_name: Mapped[str | None] = mapped_column(Text)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # where letters go (store/postal.py)


class MirroredInvoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_id", name="uq_invoices_connection_provider_id"),
        Index("ix_invoices_connection_customer", "connection_id", "customer_provider_id"),
        Index("ix_invoices_connection_status", "connection_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(255))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    total: Mapped[Decimal]
    balance: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CURRENCY)
    status: Mapped[str] = mapped_column(String(16))
    pay_link: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    sync_token: Mapped[str | None] = mapped_column(String(32))
    provider_updated_at: Mapped[dt.datetime]


class MirroredPayment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_id", name="uq_payments_connection_provider_id"),
        Index("ix_payments_connection_customer", "connection_id", "customer_provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CURRENCY)
    # [{"invoice_id": "...", "amount": "12.50"}]: amounts kept as decimal text, never float.
    applied_to: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    deleted: Mapped[bool] = mapped_column(default=False)
    provider_updated_at: Mapped[dt.datetime]
    unapplied: Mapped[Decimal] = mapped_column(default=Decimal(0), server_default="0")  # credit the customer holds


class MirroredCredit(Base):
    """A customer's credit note, credit memo, overpayment or prepayment; `remaining` is what is
    still unallocated, as the provider counts it."""

    __tablename__ = "credits"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_id", name="uq_credits_connection_provider_id"),
        Index("ix_credits_connection_customer", "connection_id", "customer_provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(255))
    date: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[Decimal]
    remaining: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CURRENCY)
    # [{"invoice_id": "...", "amount": "12.50"}]: decimal text, never float.
    allocations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    deleted: Mapped[bool] = mapped_column(default=False)
    provider_updated_at: Mapped[dt.datetime]


class OrganizationRules(Base):
    __tablename__ = "organization_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CompanyRules(Base):
    """One company's own collection rules; a company without a row follows its organization's."""

    __tablename__ = "company_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), unique=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Invitation(Base):
    """An owner's invitation to join the organization with a role (integration.store.team).

    Only the SHA-256 of the link's token is kept, so a copy of the database lets nobody in."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    accepted_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None]


class Action(Base):
    """One planned external effect. The idempotency key makes planning the same day twice harmless."""

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_connection_status", "connection_id", "status"),
        # The activity log: an organization's newest first, and one customer's or invoice's steps.
        Index("ix_actions_org_created", "organization_id", "created_at"),
        Index("ix_actions_connection_target", "connection_id", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(16))  # customer or invoice
    target_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus, "action_status"), default=ActionStatus.PLANNED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    external_ref: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Done, but with a warning: the effect happened (the email was delivered) and its note could not
    # be written into the books; why, for the owner. Never a reason to do the step again by hand.
    warning: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[dt.datetime | None]


class ActivityEntry(Base):
    __tablename__ = "activity_log"
    __table_args__ = (
        Index("ix_activity_log_org_created", "organization_id", "created_at"),
        # The activity log filtered to one customer or one invoice.
        Index("ix_activity_log_connection_customer", "connection_id", "customer_provider_id", "created_at"),
        Index("ix_activity_log_connection_invoice", "connection_id", "invoice_provider_id", "created_at"),
        Index("ix_activity_log_action", "action_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    level: Mapped[str] = mapped_column(String(16), default="info")
    kind: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    customer_provider_id: Mapped[str | None] = mapped_column(String(64))
    invoice_provider_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class InvoicePause(Base):
    """The owner's word on one invoice: disputed, promised by a date, or on a payment plan."""

    __tablename__ = "invoice_pauses"
    __table_args__ = (
        UniqueConstraint("connection_id", "invoice_provider_id", name="uq_invoice_pauses_connection_invoice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    invoice_provider_id: Mapped[str] = mapped_column(String(64))
    disputed: Mapped[bool] = mapped_column(default=False)
    promise_to_pay: Mapped[dt.date | None] = mapped_column(Date)
    # [{"date": "2026-12-01", "amount": "250.00"}]: decimal text, never float.
    plan: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Paid on the invoice before the plan was agreed: instalments count only payments after it.
    plan_paid_before: Mapped[Decimal] = mapped_column(default=Decimal(0))
    note: Mapped[str | None] = mapped_column(Text)
    # The customer said on their page that it is paid: the ladder waits until the owner has checked.
    says_paid: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountPlan(Base):
    """A payment plan over several invoices of one customer (at most one per customer): the owner's
    word, set by the owner or proposed by the customer on their page (`proposed_by`)."""

    __tablename__ = "account_plans"
    __table_args__ = (
        UniqueConstraint("connection_id", "customer_provider_id", name="uq_account_plans_connection_customer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"date": "2026-12-01", "amount": "250.00"}] as InvoicePause.plan: decimal text, never float.
    instalments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Paid on the covered invoices before the plan was agreed: instalments count only payments after it.
    paid_before: Mapped[Decimal] = mapped_column(default=Decimal(0))
    proposed_by: Mapped[str] = mapped_column(String(16), default="owner")  # owner | customer
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerOverride(Base):
    """The owner's word on one customer: pause, exclude, a custom grace, an opt-out."""

    __tablename__ = "customer_overrides"
    __table_args__ = (
        UniqueConstraint("connection_id", "customer_provider_id", name="uq_customer_overrides_connection_customer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(default=False)
    excluded: Mapped[bool] = mapped_column(default=False)
    grace_days: Mapped[int | None]
    opted_out: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerLink(Base):
    """The generation of one customer's page links (integration.customer.tokens): the owner's
    "revoke" raises it, and every link signed with an earlier generation stops opening."""

    __tablename__ = "customer_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "customer_provider_id", name="uq_customer_links_connection_customer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(default=1)
    revoked_at: Mapped[dt.datetime | None]


class PolicyAcceptance(Base):
    """A customer's acceptance of the organization's credit policy, as it read then (`policy_version`
    is the SHA-256 of the policy's text), with who accepted it and from where."""

    __tablename__ = "policy_acceptances"
    __table_args__ = (
        Index("ix_policy_acceptances_connection_customer", "connection_id", "customer_provider_id", "accepted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))


class Letter(Base):
    """A reminder also made as a letter for the owner to post (a ladder stage with `letter` on): the
    words its email carried, drawn as a PDF on demand; `posted_at` once the owner marks it posted."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_org_posted", "organization_id", "posted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), unique=True)
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[dt.datetime | None]


class CycleRun(Base):
    """One cycle of one connection, with the summary it produced (what the dashboard and demo show)."""

    __tablename__ = "cycle_runs"
    __table_args__ = (
        Index("ix_cycle_runs_connection_started", "connection_id", "started_at"),
        Index("ix_cycle_runs_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    # Renewed while the run works; "running" past it means killed or hung (integration/cycle/leases.py).
    lease_expires_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, observed, failed, stopped
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WeeklyDigest(Base):
    """One weekly digest email to an organization's owner; the unique week makes sending twice impossible."""

    __tablename__ = "weekly_digests"
    __table_args__ = (UniqueConstraint("organization_id", "week", name="uq_weekly_digests_organization_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W48"
    status: Mapped[str] = mapped_column(String(16), default="sending")  # sending, sent, failed
    recipient: Mapped[str] = mapped_column(String(320))
    message_ref: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class MessageTemplate(Base):
    """The owner's wording of one stage's email; no row means the stock wording."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("organization_id", "stage", name="uq_message_templates_organization_stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))  # a template name (rules.KNOWN_TEMPLATES)
    subject: Mapped[str] = mapped_column(Text)
    opening: Mapped[str] = mapped_column(Text)
    closing: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundReply(Base):
    """One email that reached arpilot's inbound address, kept whole whatever became of it.

    Matched replies carry their organization, customer and the reminder replied to; one that could
    not be matched or read keeps organization_id empty and says why in `problem`."""

    __tablename__ = "inbound_replies"
    __table_args__ = (
        Index("ix_inbound_replies_org_received", "organization_id", "received_at"),
        Index("ix_inbound_replies_connection_customer", "connection_id", "customer_provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str | None] = mapped_column(String(64))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))  # sendgrid or inbox
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)  # a redelivery is recognised by it
    status: Mapped[str] = mapped_column(String(16))  # reply, automatic, unmatched, unreadable
    matched_by: Mapped[str | None] = mapped_column(String(16))  # token or sender
    problem: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # the message as received: nothing is lost
    says_paid: Mapped[bool] = mapped_column(default=False)  # opens a check task for the owner
    # Said on the customer's page about one invoice: checking it lifts that invoice's "says paid" pause.
    invoice_provider_id: Mapped[str | None] = mapped_column(String(64))
    task_done_at: Mapped[dt.datetime | None]
    paused_until: Mapped[dt.datetime | None]
    forwarded_ref: Mapped[str | None] = mapped_column(Text)
    forward_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A signed-in (or signing-in) browser, kept server-side so it can be ended (integration.web.sessions).

    The cookie holds only a random key; the row holds its SHA-256, so a copy of the database opens
    no session. `data` is what Flask keeps in `session` (who is signed in, the CSRF token, pending
    OAuth states with their PKCE verifiers, flashed messages).
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
