"""Email delivery: the provider-neutral message, the sender protocol, SendGrid and the local outbox."""

from reminders.delivery.factory import make_sender
from reminders.delivery.message import (
    Address,
    Attachment,
    DeliveryError,
    DeliveryRateLimited,
    DeliveryReceipt,
    DeliveryRejected,
    DeliveryTransient,
    DeliveryUnauthorized,
    EmailMessage,
    EmailSender,
    InvalidMessage,
)
from reminders.delivery.outbox import OutboxSender
from reminders.delivery.sendgrid_sender import SendGridSender

__all__ = [
    "Address",
    "Attachment",
    "DeliveryError",
    "DeliveryRateLimited",
    "DeliveryReceipt",
    "DeliveryRejected",
    "DeliveryTransient",
    "DeliveryUnauthorized",
    "EmailMessage",
    "EmailSender",
    "InvalidMessage",
    "OutboxSender",
    "SendGridSender",
    "make_sender",
]
