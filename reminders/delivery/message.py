"""The email a reminder becomes, the receipt a sender hands back, and the errors a sender raises.

An `EmailMessage` is provider-neutral and validated on construction, so a bad address or a header
injection attempt is refused before any sender sees it, with the field named. Its `key` is the
idempotency key (the action's): senders that can deduplicate (the outbox) do so on it, and SendGrid
carries it in custom_args so delivery events can be traced back to the action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

# SendGrid's documented limits, enforced for every sender so the outbox and SendGrid agree.
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_KEY_LENGTH = 200
MAX_FILENAME_LENGTH = 255
# SendGrid takes 30 MB a message with the base64 (a third larger); this leaves the body room.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024

# Deliberately simple: one @, no whitespace or angle brackets, a dot in the domain. The provider
# does the real check; this catches typos and anything that could break a header.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")


def is_address(text: str) -> bool:
    """Whether `text` is one address this module would send to (the policy checks each with it)."""
    return isinstance(text, str) and _ADDRESS.match(text) is not None


class InvalidMessage(ValueError):
    """The message cannot be sent as given; the text names the field."""


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str | None = None

    def __post_init__(self) -> None:
        if not is_address(self.email):
            raise InvalidMessage(f"not an email address: {self.email!r}")
        if self.name is not None and _has_line_break(self.name):
            raise InvalidMessage(f"address name for {self.email} contains a line break")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the message (a statement's PDF)."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"

    def __post_init__(self) -> None:
        if not isinstance(self.filename, str) or not 0 < len(self.filename) <= MAX_FILENAME_LENGTH:
            raise InvalidMessage(f"attachment filename must be 1 to {MAX_FILENAME_LENGTH} characters")
        if _has_line_break(self.filename):
            raise InvalidMessage(f"attachment filename must be one line: {self.filename!r}")
        if not isinstance(self.content, bytes) or not self.content:
            raise InvalidMessage(f"attachment {self.filename} is empty")


@dataclass(frozen=True)
class EmailMessage:
    key: str
    to: tuple[Address, ...]
    sender: Address
    subject: str
    text: str
    html: str | None = None
    cc: tuple[Address, ...] = ()
    reply_to: Address | None = None
    categories: tuple[str, ...] = ()
    custom_args: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        # Lists are accepted for convenience and frozen here, so a message cannot change after checks.
        object.__setattr__(self, "to", tuple(self.to))
        object.__setattr__(self, "cc", tuple(self.cc))
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        object.__setattr__(self, "custom_args", MappingProxyType(dict(self.custom_args)))
        self._check()

    def _check(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise InvalidMessage("key must be a non-empty string (the action's idempotency key)")
        if len(self.key) > MAX_KEY_LENGTH or _has_line_break(self.key):
            raise InvalidMessage(f"key must be one line of at most {MAX_KEY_LENGTH} characters")
        if not self.to:
            raise InvalidMessage("to must name at least one recipient")
        for name in ("to", "cc"):
            for address in getattr(self, name):
                if not isinstance(address, Address):
                    raise InvalidMessage(f"{name} entries must be Address, not {type(address).__name__}")
        if not isinstance(self.sender, Address):
            raise InvalidMessage("sender must be an Address")
        if self.reply_to is not None and not isinstance(self.reply_to, Address):
            raise InvalidMessage("reply_to must be an Address or None")
        seen: set[str] = set()
        for address in self.to + self.cc:
            lowered = address.email.lower()
            if lowered in seen:
                # SendGrid refuses a personalization that repeats an address across to and cc.
                raise InvalidMessage(f"{address.email} appears more than once across to and cc")
            seen.add(lowered)
        if not isinstance(self.subject, str) or not self.subject.strip():
            raise InvalidMessage("subject must not be empty")
        if _has_line_break(self.subject):
            raise InvalidMessage("subject must be one line")
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidMessage("text must not be empty (every reminder has a plain-text part)")
        if self.html is not None and (not isinstance(self.html, str) or not self.html.strip()):
            raise InvalidMessage("html must be None or non-empty")
        self._check_categories()
        self._check_custom_args()
        self._check_attachments()

    def _check_categories(self) -> None:
        if len(self.categories) > MAX_CATEGORIES:
            raise InvalidMessage(f"at most {MAX_CATEGORIES} categories, not {len(self.categories)}")
        if len(set(self.categories)) != len(self.categories):
            raise InvalidMessage("categories must be unique")
        for category in self.categories:
            if not isinstance(category, str) or not category or len(category) > MAX_CATEGORY_LENGTH:
                raise InvalidMessage(f"category must be 1 to {MAX_CATEGORY_LENGTH} characters: {category!r}")

    def _check_custom_args(self) -> None:
        size = 0
        for name, value in self.custom_args.items():
            if not isinstance(name, str) or not name or not isinstance(value, str):
                raise InvalidMessage(f"custom_args must map names to strings; {name!r} -> {value!r} does not")
            size += len(name.encode()) + len(value.encode())
        if size > MAX_CUSTOM_ARGS_BYTES:
            raise InvalidMessage(f"custom_args total {size} bytes, more than {MAX_CUSTOM_ARGS_BYTES}")

    def _check_attachments(self) -> None:
        for attachment in self.attachments:
            if not isinstance(attachment, Attachment):
                raise InvalidMessage(f"attachments entries must be Attachment, not {type(attachment).__name__}")
        size = sum(len(attachment.content) for attachment in self.attachments)
        if size > MAX_ATTACHMENT_BYTES:
            raise InvalidMessage(f"attachments total {size} bytes, more than {MAX_ATTACHMENT_BYTES}")

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the provider said it accepted. `already_sent` when an idempotent sender saw the key before."""

    message_id: str | None
    provider: str
    already_sent: bool = False


class DeliveryError(Exception):
    """Base of every delivery failure; the text carries the provider's words, never a secret."""


class DeliveryRejected(DeliveryError):
    """The provider refused this message (bad address, bad field, bad credentials): do not retry it."""

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class DeliveryUnauthorized(DeliveryRejected):
    """The provider refused our credentials (401/403): every message will fail until the key is fixed."""


class DeliveryTransient(DeliveryError):
    """A 5xx, a 429 or a network failure: the caller may retry with backoff.

    `ambiguous` is true when the request may have reached the provider (a timeout or a dropped
    connection after sending): retrying could deliver twice, so the caller decides.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class DeliveryRateLimited(DeliveryTransient):
    """The provider throttled us (429); wait `retry_after` seconds before the next send."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, status=429, retry_after=retry_after)


@runtime_checkable
class EmailSender(Protocol):
    provider: str
    # True when sending the same key twice delivers once: then a send interrupted by a crash is
    # simply repeated; otherwise it is reported instead, so no customer gets an email twice.
    idempotent: bool

    def send(self, message: EmailMessage) -> DeliveryReceipt:
        """Deliver one message, or raise DeliveryRejected / DeliveryTransient."""
        ...


def _has_line_break(text: str) -> bool:
    return "\r" in text or "\n" in text
