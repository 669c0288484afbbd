"""A customer's statement of account on request: the PDF to download, or emailed to the customer now.

The same day's statement goes out once, however many requests arrive together: the first claims it in
the action ledger before sending (`integration.cycle.requested_statement`), and any other says where
it went or that it is going out. A failed send says why, and the next press sends it.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.cycle.gather import customer_record
from integration.cycle.requested_statement import Sending, StatementNotSent, email_statement, requested_key
from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.documents.pdf import statement_pdf
from integration.documents.reads import customer_statement
from integration.documents.statement_email import statement_filename, statement_message
from integration.owner.records import RecordNotFound, find_customer
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.recipients import addresses
from integration.store.models import MirroredCustomer
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from reminders.delivery import InvalidMessage, make_sender

bp = Blueprint("statements", __name__)


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


@bp.post("/customers/<int:customer_id>/statement/email")
@owner_required
def email(customer_id: int) -> ResponseReturnValue:
    back = redirect(url_for("activity.customer", customer_id=customer_id))
    with runtime().sessions() as db:
        customer = _customer_or_404(db, customer_id)
        statement = customer_statement(db, g.organization_id, customer, now())
        rules = load_rules(db, g.organization_id, customer.connection_id)
        reply_to = confirmed_reply_address(db, g.organization_id) or rules.sender.reply_to
        connection_id = customer.connection_id
        recipients, invalid = addresses(customer_record(customer), (), ["billing"])
    try:
        message = statement_message(
            statement,
            statement_pdf(statement),
            key=requested_key(connection_id, statement),
            recipients=recipients,
            invalid=invalid,
            sender=rules.sender,
            from_address=DEFAULT_FROM_ADDRESS,
            reply_to=reply_to,
        )
        sent = email_statement(
            runtime().sessions,
            g.organization_id,
            connection_id,
            statement,
            message,
            make_sender(runtime().settings),
            now(),
        )
    except InvalidMessage as exc:
        flash(f"The statement could not be sent: {exc}", "error")
        return back
    except StatementNotSent as exc:
        flash(str(exc), "error")
        return back
    to = ", ".join(sent.to)
    if isinstance(sent, Sending):
        flash(f"Today's statement is being sent to {to} right now, at another request; it was not sent twice.")
    elif sent.earlier:
        flash(f"Today's statement already went to {to}; it was not sent again.")
    else:
        flash(f"The statement was emailed to {to}.")
    return back
