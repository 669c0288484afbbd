"""Creating and updating Connection rows: connect, store tokens, needs-reconnect, disconnect, key rotation.

Functions here change rows in the caller's session and never commit: the caller owns the
transaction (the OAuth callback, the refresh lock, the disconnect view, `arpilot rotate-keys`).
Reasons stored on a connection are written by arpilot from typed errors and carry no secrets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import PostalAddress
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, Organization, User, WebSession
from integration.store.postal import address_json
from oauth.crypto import TokenCipher, TokenDecryptError, TokenSet

# How each provider is named on pages and in a connection's placeholder name.
PROVIDER_NAMES = {"quickbooks": "QuickBooks", "xero": "Xero"}
NAME_LENGTH = 255  # Connection.display_name and Organization.name
ADDRESS_REFRESH = dt.timedelta(days=1)  # how often a cycle reads the company's address again


def placeholder_name(provider: str, external_id: str) -> str:
    """What a connection is called until the provider has told arpilot its company's name."""
    return f"{PROVIDER_NAMES.get(provider, provider)} company {external_id}"


class ConnectionOwnedElsewhere(Exception):
    """The company is actively connected to another arpilot organization (and no take-over was asked)."""


# How a connection handed to another organization is marked (its status is DISCONNECTED): the
# dashboard's notice to the organization that had it looks for this.
TAKEN_OVER = "taken over"


@dataclass(frozen=True)
class OwnerIdentity:
    """The person who consented, as the provider's OpenID userinfo describes them."""

    provider: str
    subject: str
    email: str | None
    name: str | None


def store_tokens(connection: Connection, cipher: TokenCipher, tokens: TokenSet) -> None:
    connection.token_blob = cipher.encrypt(tokens)
    connection.access_expires_at = tokens.access_expires_at


def load_tokens(connection: Connection, cipher: TokenCipher) -> TokenSet | None:
    return cipher.decrypt(connection.token_blob) if connection.token_blob else None


def connect_company(
    session: Session,
    *,
    identity: OwnerIdentity,
    external_id: str,
    display_name: str | None,
    tokens: TokenSet,
    cipher: TokenCipher,
    take_over: bool = False,
    into: User | None = None,
) -> tuple[User, Connection]:
    """Create or update the organization, the owner and the active connection for one consent.

    `into` is the owner signed in when the consent was given: the company joins their organization
    ("add a company"), whoever the provider's login was, and no user row is made or changed for
    that login. Without it the login finds its user, or a new organization is made for it.

    `display_name` is the company's name, None when the provider could not tell it just now: a new
    connection is then called by `placeholder_name` (the next cycle asks again, integration.cycle.run)
    and a reconnected one keeps the name it had.

    A company actively connected to a different organization is refused rather than joined
    (joining on the strength of a callback parameter would let one account reach another's data),
    unless `take_over`: the person consented again asking to take it over, and the consent itself
    proves they may (QuickBooks lets only a company's primary or company administrators connect an
    app; Xero only users with the Standard or Adviser role). The other organization's connection is
    then closed, it is told why, and it keeps its history. A disconnected or revoked connection
    elsewhere blocks nothing: each organization has its own row (its own history) for the company,
    and only one of them is active (the uq_connections_active_company index).
    """
    user = (
        into
        or session.execute(
            select(User).where(User.provider == identity.provider, User.subject == identity.subject)
        ).scalar_one_or_none()
    )
    holder = session.execute(
        select(Connection)
        .where(
            Connection.provider == identity.provider,
            Connection.external_id == external_id,
            Connection.status == ConnectionStatus.ACTIVE,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if holder is not None and (user is None or user.organization_id != holder.organization_id):
        if not take_over:
            raise ConnectionOwnedElsewhere(
                "This company is connected to another arpilot account. If you are an administrator of it at "
                f"{PROVIDER_NAMES.get(identity.provider, identity.provider)}, you can take it over: the other "
                "account stops working on it, is told, and keeps its history."
            )
        _hand_over(session, holder, identity)
    name = display_name[:NAME_LENGTH] if display_name else placeholder_name(identity.provider, external_id)
    if user is None:
        organization = Organization(name=name)
        session.add(organization)
        session.flush()
        user = User(organization_id=organization.id, provider=identity.provider, subject=identity.subject)
        session.add(user)
    if into is None:
        user.email = identity.email or user.email
        user.name = identity.name or user.name

    connection = session.execute(
        select(Connection).where(
            Connection.organization_id == user.organization_id,
            Connection.provider == identity.provider,
            Connection.external_id == external_id,
        )
    ).scalar_one_or_none()
    if connection is None:
        connection = Connection(
            organization_id=user.organization_id,
            provider=identity.provider,
            external_id=external_id,
            display_name=name,
        )
        session.add(connection)
        verb = "connected"
    else:
        if display_name:
            rename(session, connection, name)
        verb = "reconnected"
    connection.status = ConnectionStatus.ACTIVE
    connection.status_reason = None
    store_tokens(connection, cipher, tokens)
    session.flush()
    _record(
        session,
        connection,
        "connection",
        f"{connection.display_name} {verb} by {identity.email or identity.name or 'the owner'}.",
    )
    return user, connection


def _hand_over(session: Session, holder: Connection, to: OwnerIdentity) -> None:
    """Close `holder` for good in its organization, saying who took the company (its history stays).

    Its tokens are dropped, not revoked: revoking an Intuit grant disconnects arpilot from the whole
    company, the new owner's grant included."""
    who = to.email or to.name or "an administrator of the company"
    holder.status = ConnectionStatus.DISCONNECTED
    holder.status_reason = (
        f"{TAKEN_OVER} on {dt.datetime.now(dt.UTC):%Y-%m-%d} by {who}, an administrator of the "
        "company, for another arpilot account"
    )
    holder.token_blob = None
    holder.access_expires_at = None
    _record(
        session,
        holder,
        "connection",
        f"{holder.display_name} was {holder.status_reason}. arpilot no longer "
        "works on it from this account; its history here is kept.",
        level="warning",
    )
    session.flush()  # the active-company index sees one active row at a time


def rename(session: Session, connection: Connection, company_name: str) -> None:
    """Call the connection by its company's name; an organization still named by a placeholder, too."""
    name = company_name[:NAME_LENGTH]
    organization = session.get(Organization, connection.organization_id)
    if organization is not None and organization.name == placeholder_name(connection.provider, connection.external_id):
        organization.name = name
    connection.display_name = name


def address_due(connection: Connection, now: dt.datetime) -> bool:
    """Whether the company's address is to be read from its books: never read, or not for a day."""
    read_at = connection.company_address_read_at
    return read_at is None or now - read_at >= ADDRESS_REFRESH


def set_company_address(connection: Connection, address: PostalAddress | None, now: dt.datetime) -> None:
    connection.company_address = address_json(address)
    connection.company_address_read_at = now


def set_company_timezone(session: Session, connection: Connection, zone: str) -> None:
    """The company's zone, from its books or its owner; the organization's first company's zone is
    also the organization's (its pages, digests and the dates shown to the owner)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}: choose an IANA zone such as America/Denver") from None
    connection.timezone = zone
    first = session.scalar(
        select(Connection.id)
        .where(Connection.organization_id == connection.organization_id)
        .order_by(Connection.id)
        .limit(1)
    )
    organization = session.get(Organization, connection.organization_id)
    if organization is not None and first == connection.id:
        organization.timezone = zone


def mark_needs_reconnect(session: Session, connection: Connection, reason: str) -> None:
    """The grant is gone: keep the row and its history, stop using it, tell the owner why."""
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = reason
    _record(
        session,
        connection,
        "connection",
        f"{connection.display_name} needs to be reconnected: {reason}",
        level="warning",
    )


def mark_disconnected(session: Session, connection: Connection, reason: str) -> None:
    """Disconnected by the owner: tokens are dropped (already revoked), history is kept."""
    connection.status = ConnectionStatus.DISCONNECTED
    connection.status_reason = reason
    connection.token_blob = None
    connection.access_expires_at = None
    _record(session, connection, "connection", f"{connection.display_name} disconnected: {reason}")
    if not _has_active_connection(session, connection.organization_id):
        # Its last company gone, nothing proves who the organization is any more: every browser signed
        # in to it is signed out (a sign-in is a consent to a connected company).
        end_organization_sessions(session, connection.organization_id)


def _has_active_connection(session: Session, organization_id: int) -> bool:
    session.flush()
    return (
        session.scalar(
            select(Connection.id)
            .where(Connection.organization_id == organization_id, Connection.status == ConnectionStatus.ACTIVE)
            .limit(1)
        )
        is not None
    )


def end_organization_sessions(session: Session, organization_id: int) -> None:
    """Sign every browser of `organization_id` out (integration.web.sessions keeps them server-side)."""
    session.execute(delete(WebSession).where(WebSession.organization_id == organization_id))


def rotate_token_keys(sessions: sessionmaker[Session], cipher: TokenCipher) -> int:
    """Re-encrypt every connection's token blob with the primary key, all in one transaction.

    Any blob that no configured key opens aborts the whole rotation (nothing is half-rotated)
    with the connection's id in the message.
    """
    with sessions() as session, session.begin():
        connections = (
            session.execute(
                select(Connection).where(Connection.token_blob.is_not(None)).order_by(Connection.id).with_for_update()
            )
            .scalars()
            .all()
        )
        for connection in connections:
            try:
                connection.token_blob = cipher.rotate(connection.token_blob)  # type: ignore[arg-type]
            except TokenDecryptError as exc:
                raise TokenDecryptError(f"connection {connection.id}: {exc}") from None
        return len(connections)


def _record(session: Session, connection: Connection, kind: str, message: str, level: str = "info") -> None:
    session.add(
        ActivityEntry(
            organization_id=connection.organization_id,
            connection_id=connection.id,
            kind=kind,
            level=level,
            message=message,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
