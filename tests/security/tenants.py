"""Two organizations with a row of every owner-visible kind, and a signed-in test client for either.

Organization B's rows carry marker text (`Tenant.markers`) that must never reach A's pages. Route
arguments are filled from `ROUTE_ARGUMENTS`, keyed by argument name and converter: a route whose
argument is not in the table makes the route tests fail, so every new route gets checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from werkzeug.routing import Rule

from connectors.contract import PostalAddress
from integration.customer.tokens import PageKey, sign_link
from integration.store.connections import store_tokens
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    CompanyRules,
    Connection,
    CustomerOverride,
    CycleRun,
    InboundReply,
    Invitation,
    InvoicePause,
    Letter,
    MessageTemplate,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    OrganizationRules,
    User,
)
from integration.store.postal import address_json
from oauth.crypto import TokenCipher, TokenSet

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    user_id: int
    connection_id: int
    customer_id: int
    invoice_id: int
    payment_id: int
    action_id: int
    activity_id: int
    pause_id: int
    override_id: int
    cycle_run_id: int
    reply_id: int
    customer_provider_id: str
    invoice_provider_id: str
    markers: tuple[str, ...]  # text only this tenant's pages may show
    tokens: TokenSet
    page_token: str  # the link to its customer's page (integration.customer.tokens)
    email_id: int = 0  # a reminder email (an action the outbox opens)
    letter_id: int = 0  # that reminder as a letter to post


def add_tenant(app: Flask, tag: str) -> Tenant:
    """An organization named after `tag`, with one row of each kind an owner page might show."""
    cipher = TokenCipher(app.extensions["arpilot"].settings.token_encryption_keys)
    customer_name, invoice_number = f"{tag} Secret Customer Ltd", f"{tag}-INV-7731"
    email = f"billing@{tag.lower()}-secret.example"
    tokens = TokenSet(
        access_token=f"eyJ.{tag}.access-token-value",
        refresh_token=f"AB11{tag}RefreshTokenValue",
        access_expires_at=NOW + dt.timedelta(hours=1),
        refresh_expires_at=NOW + dt.timedelta(days=100),
        external_id=f"realm-{tag}",
    )
    customer_pid, invoice_pid = f"{tag}-C1", f"{tag}-I1"
    with transaction(app.extensions["arpilot"].sessions) as db:
        organization = Organization(name=f"{tag} Holdings", timezone="America/Denver")
        db.add(organization)
        db.flush()
        user = User(
            organization_id=organization.id,
            provider="quickbooks",
            subject=f"sub-{tag}",
            email=f"owner@{tag.lower()}.example",
            name=f"{tag} Owner",
        )
        connection = Connection(
            organization_id=organization.id,
            provider="quickbooks",
            external_id=tokens.external_id,
            display_name=f"{tag} Company File",
        )
        store_tokens(connection, cipher, tokens)
        db.add_all([user, connection])
        db.flush()
        on = {"connection_id": connection.id}
        customer = MirroredCustomer(
            **on,
            provider_id=customer_pid,
            name=customer_name,
            email=email,
            currency="USD",
            provider_updated_at=NOW,
            billing_address=address_json(PostalAddress((f"{tag} Harbor Road",), "Boulder", "CO", "80302")),
        )
        invoice = MirroredInvoice(
            **on,
            provider_id=invoice_pid,
            customer_provider_id=customer_pid,
            number=invoice_number,
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
            total=Decimal("1234.56"),
            balance=Decimal("1234.56"),
            currency="USD",
            status="open",
            email=email,
            provider_updated_at=NOW,
        )
        payment = MirroredPayment(
            **on,
            provider_id=f"{tag}-P1",
            customer_provider_id=customer_pid,
            date=dt.date(2026, 8, 1),
            amount=Decimal("10.00"),
            currency="USD",
            provider_updated_at=NOW,
        )
        key = f"{tag}-call-1"
        action = Action(
            organization_id=organization.id,
            **on,
            idempotency_key=key,
            kind="create_call_task",
            target_type="customer",
            target_id=customer_pid,
            reason=f"{tag} reason text",
            payload={
                "customer_id": customer_pid,
                "invoice_ids": [invoice_pid],
                "stage": "reminder_2",
                "recipients": [],
                "idempotency_key": key,
                "payload": {},
            },
        )
        pause = InvoicePause(**on, invoice_provider_id=invoice_pid, disputed=True, note=f"{tag} dispute note")
        override = CustomerOverride(**on, customer_provider_id=customer_pid, paused=True)
        run = CycleRun(**on, started_at=NOW, finished_at=NOW, status="done", summary={})
        rules = OrganizationRules(organization_id=organization.id, rules={})
        db.add_all([customer, invoice, payment, action, pause, override, run, rules])
        db.flush()
        activity = ActivityEntry(
            organization_id=organization.id,
            **on,
            action_id=action.id,
            kind="reminder_sent",
            message=f"Reminder sent to {customer_name}",
            customer_provider_id=customer_pid,
            invoice_provider_id=invoice_pid,
            created_at=NOW,
        )
        reply = InboundReply(
            organization_id=organization.id,
            **on,
            customer_provider_id=customer_pid,
            action_id=action.id,
            source="inbox",
            status="reply",
            matched_by="token",
            sender=email,
            subject=f"{tag} reply subject",
            text=f"{tag} reply text: we paid",
            says_paid=True,
            received_at=NOW,
        )
        wording = MessageTemplate(
            organization_id=organization.id,
            stage="reminder_1",
            subject=f"{tag} wording subject",
            opening=f"{tag} wording opening",
            closing="",
        )
        invitation = Invitation(
            organization_id=organization.id,
            email=f"invitee@{tag.lower()}-secret.example",
            role="viewer",
            token_hash=f"{tag}-token-hash",
            created_at=NOW,
            expires_at=NOW + dt.timedelta(days=3650),
        )
        own_rules = CompanyRules(connection_id=connection.id, rules={"sender": {"signature": f"{tag} own signature"}})
        email_key = f"{tag}-email-1"
        email_action = Action(
            organization_id=organization.id,
            **on,
            idempotency_key=email_key,
            kind="send_reminder",
            target_type="invoice",
            target_id=invoice_pid,
            reason=f"{tag} reason text",
            status=ActionStatus.DONE,
            payload={
                "customer_id": customer_pid,
                "invoice_ids": [invoice_pid],
                "stage": "reminder_1",
                "recipients": [email],
                "idempotency_key": email_key,
                "payload": {},
                "subject": f"{tag} email subject",
            },
        )
        db.add_all([activity, reply, wording, invitation, own_rules, email_action])
        db.flush()
        letter = Letter(
            organization_id=organization.id,
            connection_id=connection.id,
            action_id=email_action.id,
            customer_provider_id=customer_pid,
            customer_name=customer_name,
            subject=f"{tag} email subject",
            body_text=f"{tag} letter text",
        )
        db.add(letter)
        db.flush()
        return Tenant(
            organization.id,
            user.id,
            connection.id,
            customer.id,
            invoice.id,
            payment.id,
            action.id,
            activity.id,
            pause.id,
            override.id,
            run.id,
            reply.id,
            customer_pid,
            invoice_pid,
            (
                customer_name,
                invoice_number,
                email,
                f"{tag} Company File",
                f"{tag} reason text",
                f"{tag} dispute note",
                f"{tag} reply text",
                f"{tag} wording opening",
                f"invitee@{tag.lower()}-secret.example",
                f"{tag} own signature",
                f"{tag} email subject",
                f"{tag} letter text",
                f"{tag} Harbor Road",
            ),
            tokens,
            sign_link(
                PageKey(organization.id, connection.id, customer_pid, 1),
                app.extensions["arpilot"].settings.secret_key,
                dt.datetime.now(dt.UTC),
            ),
            email_action.id,
            letter.id,
        )


def signed_in(app: Flask, tenant: Tenant) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["organization_id"] = tenant.user_id, tenant.organization_id
    return client


def csrf_token(app: Flask, client: FlaskClient) -> str:
    """A valid token for `client`'s session, made the way a rendered form makes it."""
    with client.session_transaction() as stored:
        current = dict(stored)
    with app.test_request_context():
        session.update(current)
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as stored:
        stored["csrf_token"] = raw
    return token


# (argument name, converter) -> the tenant's value. Integer converters (inputs.RowIdConverter) take arpilot's row ids,
# string converters the provider's ids (a route keyed on a QuickBooks/Xero id).
Filler = Callable[[Tenant], object]
ROUTE_ARGUMENTS: dict[tuple[str, str], Filler] = {
    ("connection_id", "RowIdConverter"): lambda t: t.connection_id,
    ("customer_id", "RowIdConverter"): lambda t: t.customer_id,
    ("customer_id", "UnicodeConverter"): lambda t: t.customer_provider_id,
    ("invoice_id", "RowIdConverter"): lambda t: t.invoice_id,
    ("invoice_id", "UnicodeConverter"): lambda t: t.invoice_provider_id,
    ("payment_id", "RowIdConverter"): lambda t: t.payment_id,
    ("action_id", "RowIdConverter"): lambda t: t.action_id,
    ("activity_id", "RowIdConverter"): lambda t: t.activity_id,
    ("entry_id", "RowIdConverter"): lambda t: t.activity_id,
    ("pause_id", "RowIdConverter"): lambda t: t.pause_id,
    ("override_id", "RowIdConverter"): lambda t: t.override_id,
    ("run_id", "RowIdConverter"): lambda t: t.cycle_run_id,
    ("cycle_run_id", "RowIdConverter"): lambda t: t.cycle_run_id,
    ("reply_id", "RowIdConverter"): lambda t: t.reply_id,
    ("email_id", "RowIdConverter"): lambda t: t.email_id,
    ("letter_id", "RowIdConverter"): lambda t: t.letter_id,
    ("organization_id", "RowIdConverter"): lambda t: t.organization_id,
    # Not ids: the same value for every tenant (a ladder stage names a template, not a row).
    ("stage", "UnicodeConverter"): lambda t: "reminder_1",
    ("said", "UnicodeConverter"): lambda t: "promise",
    # A customer's page link: its own authority (no sign-in), so another tenant's rows are tried through ours.
    ("token", "UnicodeConverter"): lambda t: t.page_token,
}
# The arguments above that name no tenant's row: a route with only these has no other tenant's id to try.
SHARED_ARGUMENTS = {("stage", "UnicodeConverter"), ("said", "UnicodeConverter"), ("token", "UnicodeConverter")}
# Arguments that are the caller's own key, not a row: kept at the caller's value when another tenant's rows are tried.
LINK_ARGUMENTS = {"token"}
# Routes that serve no tenant data: the static files.
NOT_TENANT_ROUTES = {"static"}


class UnfillableRoute(AssertionError):
    pass


def route_values(rule: Rule, tenant: Tenant) -> dict[str, object]:
    """The tenant's values for every argument of `rule`; fails naming any the table cannot fill."""
    values = {}
    for name, converter in rule._converters.items():
        filler = ROUTE_ARGUMENTS.get((name, type(converter).__name__))
        if filler is None:
            raise UnfillableRoute(
                f"{rule.rule} ({rule.endpoint}): argument {name!r} ({type(converter).__name__}) is "
                "not in tests/security/tenants.py ROUTE_ARGUMENTS: add how to fill it"
            )
        values[name] = filler(tenant)
    return values


def names_a_row(rule: Rule) -> bool:
    """Whether some argument of `rule` is a tenant's row id."""
    return any((name, type(c).__name__) not in SHARED_ARGUMENTS for name, c in rule._converters.items())


def tenant_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_TENANT_ROUTES]
