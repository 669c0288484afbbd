"""Choose the sender from the settings: SendGrid when an API key is configured, else the local outbox."""

from __future__ import annotations

from integration.config import Settings
from reminders.delivery.message import EmailSender
from reminders.delivery.outbox import OutboxSender
from reminders.delivery.sendgrid_sender import SendGridSender


def make_sender(settings: Settings) -> EmailSender:
    if settings.sendgrid_api_key:
        return SendGridSender(
            settings.sendgrid_api_key,
            host=settings.sendgrid_host,
            sandbox_mode=settings.sendgrid_sandbox_mode,
        )
    return OutboxSender(settings.outbox_dir)
