"""Migrations on both databases, money exactness in storage, and organization scoping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.exc import IntegrityError

from integration.store.db import downgrade, make_engine, make_session_factory, transaction, upgrade
from integration.store.models import (
    Action,
    ActivityEntry,
    Connection,
    CustomerOverride,
    CycleRun,
    InvoicePause,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    OrganizationRules,
    SyncCursor,
    User,
)
from integration.store.scoping import UnscopedModel, scoped

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TABLES = {
    "organizations",
    "users",
    "connections",
    "sync_cursors",
    "customers",
    "invoices",
    "payments",
    "organization_rules",
    "actions",
    "activity_log",
    "invoice_pauses",
    "customer_overrides",
    "cycle_runs",
    "weekly_digests",
    "credits",
    "message_templates",
    "inbound_replies",
    "web_sessions",
    "company_rules",
    "invitations",
    "customer_links",
    "policy_acceptances",
    "letters",
    "account_plans",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_upgrade_from_empty_and_downgrade_cleanly(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    upgrade(empty_database_url)
    assert _tables(empty_database_url) == TABLES
    downgrade(empty_database_url)
    assert _tables(empty_database_url) == set()
    upgrade(empty_database_url)  # and back up again after a downgrade
    assert _tables(empty_database_url) == TABLES


def _populate(sessions, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        org = Organization(name=name, timezone="America/Denver")
        session.add(org)
        session.flush()
        connection = Connection(organization_id=org.id, provider="quickbooks", external_id=f"realm-{name}")
        session.add(connection)
        session.flush()
        session.add_all(
            [
                User(organization_id=org.id, provider="quickbooks", subject=f"sub-{name}", email=f"{name}@x.example"),
                SyncCursor(connection_id=connection.id, entity="Invoice", cursor="2026-11-01T00:00:00Z"),
                MirroredCustomer(
                    connection_id=connection.id,
                    provider_id="1",
                    name=f"{name} customer",
                    email=None,
                    phone=None,
                    currency="USD",
                    terms_id=None,
                    provider_updated_at=NOW,
                ),
                MirroredInvoice(
                    connection_id=connection.id,
                    provider_id="1",
                    customer_provider_id="1",
                    number="1001",
                    issue_date=dt.date(2026, 10, 1),
                    due_date=dt.date(2026, 10, 31),
                    total=Decimal("100.10"),
                    balance=Decimal("100.10"),
                    currency="USD",
                    status="open",
                    provider_updated_at=NOW,
                ),
                MirroredPayment(
                    connection_id=connection.id,
                    provider_id="p1",
                    customer_provider_id="1",
                    date=dt.date(2026, 10, 5),
                    amount=Decimal("0.30"),
                    currency="USD",
                    applied_to=[{"invoice_id": "1", "amount": "0.30"}],
                    provider_updated_at=NOW,
                ),
                MirroredCredit(
                    connection_id=connection.id,
                    provider_id="c1",
                    kind="credit_memo",
                    customer_provider_id="1",
                    number="CM-1",
                    date=dt.date(2026, 10, 6),
                    total=Decimal("5.00"),
                    remaining=Decimal("5.00"),
                    currency="USD",
                    provider_updated_at=NOW,
                ),
                OrganizationRules(organization_id=org.id, rules={}),
                Action(
                    organization_id=org.id,
                    connection_id=connection.id,
                    idempotency_key=f"k-{name}",
                    kind="send_reminder",
                    target_type="invoice",
                    target_id="1",
                    reason="late",
                ),
                ActivityEntry(organization_id=org.id, connection_id=connection.id, kind="sync", message="synced"),
                InvoicePause(connection_id=connection.id, invoice_provider_id="1", disputed=True),
                CustomerOverride(connection_id=connection.id, customer_provider_id="1", grace_days=5),
                CycleRun(connection_id=connection.id, status="done", summary={"invoices": 1}),
            ]
        )
        return org.id


SCOPED_MODELS = [
    Connection,
    User,
    SyncCursor,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    MirroredCredit,
    OrganizationRules,
    Action,
    ActivityEntry,
    InvoicePause,
    CustomerOverride,
    CycleRun,
]


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_scoped_query_never_returns_another_organizations_rows(sessions, model) -> None:  # type: ignore[no-untyped-def]
    org_a = _populate(sessions, "a")
    org_b = _populate(sessions, "b")
    with sessions() as session:
        rows_a = session.scalars(scoped(model, org_a)).all()
        rows_b = session.scalars(scoped(model, org_b)).all()
        assert len(rows_a) == 1 and len(rows_b) == 1
        assert {r.id for r in rows_a}.isdisjoint({r.id for r in rows_b})
        assert session.scalars(scoped(model, 999_999)).all() == []


def test_scoping_refuses_unknown_models() -> None:
    with pytest.raises(UnscopedModel):
        scoped(Organization, 1)


def test_money_round_trips_exactly(sessions) -> None:  # type: ignore[no-untyped-def]
    _populate(sessions, "a")
    with sessions() as session:
        invoice = session.scalars(select(MirroredInvoice)).one()
        payment = session.scalars(select(MirroredPayment)).one()
        assert invoice.total == Decimal("100.10") and isinstance(invoice.total, Decimal)
        assert invoice.total - payment.amount == Decimal("99.80")
        assert invoice.provider_updated_at == NOW  # instants come back UTC-aware on both databases


def test_idempotency_key_is_unique(sessions) -> None:  # type: ignore[no-untyped-def]
    org = _populate(sessions, "a")
    with pytest.raises(IntegrityError):
        with transaction(sessions) as session:
            connection_id = session.scalars(select(Connection.id)).one()
            session.add(
                Action(
                    organization_id=org,
                    connection_id=connection_id,
                    idempotency_key="k-a",
                    kind="send_reminder",
                    target_type="invoice",
                    target_id="1",
                    reason="again",
                )
            )


def test_naive_datetimes_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="naive datetime"):
        with transaction(sessions) as session:
            session.add(Organization(name="x", created_at=dt.datetime(2026, 1, 1)))


def test_saved_rules_that_sent_two_messages_a_day_are_fixed_by_the_migration(empty_database_url: str) -> None:
    """Rules saved before issue 14 had the 30-day stage email and re-send the invoice; after the
    migration they load, keeping arpilot's email, the stage's channel."""
    import sqlalchemy as sa

    from integration.owner.stored_rules import load_rules
    from integration.policy.rules import Rules

    upgrade(empty_database_url, "0003_activity_feed_indexes")
    old = Rules.default().to_json()
    old["ladder"]["stages"][4]["resend_invoice"] = True
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO organizations (name, timezone, base_currency, locale, created_at) "
                "VALUES ('Harbor', 'UTC', 'USD', 'en_US', CURRENT_TIMESTAMP)"
            )
        )
        org_id = connection.execute(sa.text("SELECT id FROM organizations")).scalar_one()
        connection.execute(
            sa.table(
                "organization_rules",
                sa.column("organization_id"),
                sa.column("rules", sa.JSON),
                sa.column("version"),
                sa.column("updated_at"),
            ).insert(),
            {"organization_id": org_id, "rules": old, "version": 1, "updated_at": dt.datetime.now(dt.UTC)},
        )
    engine.dispose()
    upgrade(empty_database_url)
    with make_session_factory(make_engine(empty_database_url))() as session:
        rules = load_rules(session, org_id)
    assert not rules.ladder.stage("past_due_30").resend_invoice and rules.ladder.stage("past_due_30").channel == "email"
