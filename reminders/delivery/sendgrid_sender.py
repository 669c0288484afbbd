"""Delivery through SendGrid's v3 Mail Send API, on the official `sendgrid` library.

The library talks through python_http_client (urllib); `host` points it elsewhere (tests use a
loopback server). Status codes map to typed errors in one table here: 2xx accepted, 429 rate
limited (wait per X-RateLimit-Reset / Retry-After), other 4xx rejected with SendGrid's field
named, 5xx and network failures transient. The API key never reaches a log line or an exception:
python_http_client logs request headers at DEBUG, so its logger gets a redacting filter.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import socket
import time
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Attachment as SendGridAttachment
from sendgrid.helpers.mail import (
    Category,
    Cc,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Mail,
    MailSettings,
    ReplyTo,
    SandBoxMode,
    To,
)

from reminders.delivery.message import (
    DeliveryRateLimited,
    DeliveryReceipt,
    DeliveryRejected,
    DeliveryTransient,
    DeliveryUnauthorized,
    EmailMessage,
)

log = logging.getLogger(__name__)

PROVIDER = "sendgrid"
DEFAULT_HOST = "https://api.sendgrid.com"
# The custom arg that carries the message key, so SendGrid's event webhook can name the action.
MESSAGE_KEY_ARG = "arpilot_message_key"
DEFAULT_RETRY_AFTER = 60.0
_BEARER = re.compile(r"Bearer\s+[^\s'\",}]+")


class _RedactBearer(logging.Filter):
    """Blanks `Bearer <token>` in records of the library's logger (it logs headers at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "Bearer" in text:
            record.msg = _BEARER.sub("Bearer [redacted]", text)
            record.args = ()
        return True


def _install_redaction() -> None:
    library_logger = logging.getLogger("python_http_client.client")
    if not any(isinstance(f, _RedactBearer) for f in library_logger.filters):
        library_logger.addFilter(_RedactBearer())


def build_request_body(message: EmailMessage, *, sandbox_mode: bool) -> dict[str, Any]:
    """The v3 mail-send JSON for one message (pure; the library's Mail helper does the shaping)."""
    mail = Mail(
        from_email=From(message.sender.email, message.sender.name),
        to_emails=[To(a.email, a.name) for a in message.to],
        subject=message.subject,
        plain_text_content=message.text,
        html_content=message.html,
    )
    for address in message.cc:
        mail.add_cc(Cc(address.email, address.name))
    if message.reply_to is not None:
        mail.reply_to = ReplyTo(message.reply_to.email, message.reply_to.name)
    for category in reversed(message.categories):  # the helper inserts at the front
        mail.add_category(Category(category))
    # Personalization-level custom_args: SendGrid's schema types them as an object of strings there.
    for name, value in {**message.custom_args, MESSAGE_KEY_ARG: message.key}.items():
        mail.add_custom_arg(CustomArg(name, value, p=0))
    for attachment in message.attachments:
        mail.add_attachment(
            SendGridAttachment(
                FileContent(base64.b64encode(attachment.content).decode("ascii")),
                FileName(attachment.filename),
                FileType(attachment.mime_type),
                Disposition("attachment"),
            )
        )
    if sandbox_mode:
        mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    return mail.get()


class SendGridSender:
    provider = PROVIDER
    idempotent = False

    def __init__(
        self,
        api_key: str,
        *,
        host: str = DEFAULT_HOST,
        sandbox_mode: bool = False,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("SendGridSender needs an API key")
        _install_redaction()
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._client.client.timeout = timeout
        self.host = host.rstrip("/")
        self.sandbox_mode = sandbox_mode
        self._clock = clock

    def __repr__(self) -> str:  # never the key
        return f"SendGridSender(host={self.host!r}, sandbox_mode={self.sandbox_mode})"

    def send(self, message: EmailMessage) -> DeliveryReceipt:
        body = build_request_body(message, sandbox_mode=self.sandbox_mode)
        try:
            response = self._client.send(body)
        except http_errors.HTTPError as exc:
            raise self._error_for(exc.status_code, exc.body, exc.headers) from None
        except TimeoutError as exc:
            raise DeliveryTransient(f"SendGrid did not answer in time: {exc}", ambiguous=True) from None
        except urllib.error.URLError as exc:
            # Refused or unresolvable: the request never left, so a retry cannot duplicate.
            ambiguous = isinstance(exc.reason, (TimeoutError, socket.timeout))
            raise DeliveryTransient(f"SendGrid unreachable: {exc.reason}", ambiguous=ambiguous) from None
        except (http.client.HTTPException, ConnectionError) as exc:
            raise DeliveryTransient(f"connection to SendGrid dropped: {exc!r}", ambiguous=True) from None
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        log.info(
            "sendgrid accepted message key=%s status=%s message_id=%s sandbox=%s",
            message.key,
            response.status_code,
            message_id,
            self.sandbox_mode,
        )
        return DeliveryReceipt(message_id=message_id, provider=PROVIDER)

    def _error_for(self, status: int, body: bytes | None, headers: Mapping[str, str] | None) -> Exception:
        headers = headers or {}
        detail, field = _describe_errors(body)
        if status == 429:
            retry_after = _retry_after(headers, self._clock())
            return DeliveryRateLimited(
                f"SendGrid rate limit (429): {detail}; retry in {retry_after:.0f}s", retry_after=retry_after
            )
        if status >= 500:
            return DeliveryTransient(f"SendGrid error {status}: {detail}", status=status)
        if status in (401, 403):
            return DeliveryUnauthorized(f"SendGrid refused the credentials ({status}): {detail}", status=status)
        where = f" (field {field})" if field else ""
        return DeliveryRejected(
            f"SendGrid rejected the message ({status}){where}: {detail}", status=status, field=field
        )


def _describe_errors(body: bytes | None) -> tuple[str, str | None]:
    """SendGrid's {"errors": [{"message", "field"}]} as one line, and the first field named."""
    try:
        errors = json.loads(body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        return (body or b"").decode("utf-8", "replace")[:300] or "no detail", None
    parts, first_field = [], None
    for error in errors:
        if not isinstance(error, dict):
            continue
        field = error.get("field")
        field = field if isinstance(field, str) and field not in ("", "null") else None
        first_field = first_field or field
        parts.append(f"{field}: {error.get('message')}" if field else str(error.get("message")))
    return "; ".join(parts) or "no detail", first_field


def _retry_after(headers: Mapping[str, str], now: float) -> float:
    """Seconds to wait: Retry-After if given, else until X-RateLimit-Reset (a unix time), else a minute."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return DEFAULT_RETRY_AFTER
