"""A customer's statement of account on request: the PDF to download, or emailed to the customer now.

The same day's statement goes out once: a second request that day says where it went instead of
sending it again (and the outbox keeps one file per statement key in any case).
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.cycle.gather import customer_record
from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.documents.pdf import statement_pdf
from integration.documents.reads import customer_statement
from integration.documents.statement_email import statement_filename, statement_key, statement_message
from integration.owner.records import RecordNotFound, find_customer
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.recipients import addresses
from integration.store.db import transaction
from integration.store.models import ActivityEntry, MirroredCustomer
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from reminders.delivery import DeliveryError, InvalidMessage, make_sender

bp = Blueprint("statements", __name__)

EMAILED = "statement_emailed"  # the activity entry's kind


def _customer_or_404(db: Session, customer_id: int) -> MirroredCustomer:
    try:
        return find_customer(db, g.organization_id, customer_id)
    except RecordNotFound:
        abort(404)  # another organization's customer looks exactly like a missing one


@bp.get("/customers/<int:customer_id>/statement.pdf")
@owner_required
def download(customer_id: int) -> ResponseReturnValue:
    with runtime().sessions() as db:
        statement = customer_statement(db, g.organization_id, _customer_or_404(db, customer_id), now())
    return send_file(
        io.BytesIO(statement_pdf(statement)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=statement_filename(statement),
        max_age=0,
    )


def _already_sent(db: Session, customer: MirroredCustomer, key: str) -> list[str] | None:
    """Who the statement with this key went to, if it went."""
    entries = db.scalars(
        scoped(ActivityEntry, g.organization_id).where(
            ActivityEntry.kind == EMAILED,
            ActivityEntry.connection_id == customer.connection_id,
            ActivityEntry.customer_provider_id == customer.provider_id,
        )
    )
    return next((list(e.details.get("to") or ()) for e in entries if e.details.get("key") == key), None)


@bp.post("/customers/<int:customer_id>/statement/email")
@owner_required
def email(customer_id: int) -> ResponseReturnValue:
    back = redirect(url_for("activity.customer", customer_id=customer_id))
    with runtime().sessions() as db:
        customer = _customer_or_404(db, customer_id)
        statement = customer_statement(db, g.organization_id, customer, now())
        key = statement_key(customer.connection_id, statement)
        sent_to = _already_sent(db, customer, key)
        rules = load_rules(db, g.organization_id, customer.connection_id)
        reply_to = confirmed_reply_address(db, g.organization_id) or rules.sender.reply_to
        connection_id, provider_id = customer.connection_id, customer.provider_id
        recipients, invalid = addresses(customer_record(customer), (), ["billing"])
    if sent_to is not None:
        flash(f"Today's statement already went to {', '.join(sent_to)}; it was not sent again.")
        return back
    try:
        message = statement_message(
            statement,
            statement_pdf(statement),
            key=key,
            recipients=recipients,
            invalid=invalid,
            sender=rules.sender,
            from_address=DEFAULT_FROM_ADDRESS,
            reply_to=reply_to,
        )
        make_sender(runtime().settings).send(message)
    except (DeliveryError, InvalidMessage) as exc:
        flash(f"The statement could not be sent: {exc}", "error")
        return back
    with transaction(runtime().sessions) as db:
        db.add(
            ActivityEntry(
                organization_id=g.organization_id,
                connection_id=connection_id,
                kind=EMAILED,
                message=f"Statement of account emailed to {', '.join(recipients)}",
                customer_provider_id=provider_id,
                details={"key": key, "to": list(recipients), "as_of": statement.as_of.isoformat()},
            )
        )
    flash(f"The statement was emailed to {', '.join(recipients)}.")
    return back
