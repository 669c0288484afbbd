"""Choose the sender from the settings: SendGrid when an API key is configured, else the local outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from reminders.delivery.message import EmailSender
from reminders.delivery.outbox import OutboxSender
from reminders.delivery.sendgrid_sender import SendGridSender


class DeliverySettings(Protocol):
    """What choosing a sender reads from the process's settings (integration.config.Settings)."""

    @property
    def sendgrid_api_key(self) -> str | None: ...
    @property
    def sendgrid_host(self) -> str: ...
    @property
    def sendgrid_sandbox_mode(self) -> bool: ...
    @property
    def outbox_dir(self) -> Path: ...


def make_sender(settings: DeliverySettings) -> EmailSender:
    if settings.sendgrid_api_key:
        return SendGridSender(
            settings.sendgrid_api_key,
            host=settings.sendgrid_host,
            sandbox_mode=settings.sendgrid_sandbox_mode,
        )
    return OutboxSender(settings.outbox_dir)
