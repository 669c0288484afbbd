"""The embedded default: every message becomes an .eml file and one JSON line in an index.

Layout under the outbox directory:
  messages/<digest>.eml   RFC 5322, multipart/alternative (text, then HTML), inside multipart/mixed
                          with the attachments when there are any, written atomically
  index.jsonl             one JSON object per message, appended under an exclusive file lock

<digest> is the SHA-256 of the message key, so sending the same key again finds the file and
writes nothing (exactly-once for a retried action). The .eml is the record of truth; the index
line is written after it, and a repeat send repairs a line lost to a crash in between.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from reminders.delivery.message import Address, DeliveryReceipt, EmailMessage

log = logging.getLogger(__name__)

PROVIDER = "outbox"
MESSAGE_ID_DOMAIN = "outbox.arpilot.invalid"


def message_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def render_eml(message: EmailMessage, *, sent_at: dt.datetime) -> bytes:
    """The message as RFC 5322 bytes (pure: same message and time, same bytes)."""
    mime = MimeMessage(policy=SMTP)
    mime["Message-ID"] = f"<{message_digest(message.key)}@{MESSAGE_ID_DOMAIN}>"
    mime["Date"] = format_datetime(sent_at)
    mime["From"] = _format(message.sender)
    mime["To"] = ", ".join(_format(a) for a in message.to)
    if message.cc:
        mime["Cc"] = ", ".join(_format(a) for a in message.cc)
    if message.reply_to is not None:
        mime["Reply-To"] = _format(message.reply_to)
    mime["Subject"] = message.subject
    mime["X-Arpilot-Message-Key"] = message.key
    if message.categories:
        mime["X-Arpilot-Categories"] = ", ".join(message.categories)
    if message.custom_args:
        mime["X-Arpilot-Custom-Args"] = json.dumps(dict(message.custom_args), sort_keys=True)
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        mime.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return mime.as_bytes()


def _format(address: Address) -> str:
    return formataddr((address.name or "", address.email))


class OutboxSender:
    provider = PROVIDER
    idempotent = True

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.messages_dir = self.directory / "messages"
        self.index_path = self.directory / "index.jsonl"

    def __repr__(self) -> str:
        return f"OutboxSender({str(self.directory)!r})"

    def path_for(self, key: str) -> Path:
        return self.messages_dir / f"{message_digest(key)}.eml"

    def send(self, message: EmailMessage) -> DeliveryReceipt:
        self.messages_dir.mkdir(parents=True, exist_ok=True)
        digest = message_digest(message.key)
        path = self.path_for(message.key)
        with self._index_lock() as index:
            if path.exists():
                # Seen before: make sure its index line survived, then report it as already sent.
                if not _index_has(index, message.key):
                    _append(index, _index_entry(message, digest, path, _written_at(path)))
                log.info("outbox already holds message key=%s", message.key)
                return DeliveryReceipt(message_id=digest, provider=PROVIDER, already_sent=True)
            sent_at = dt.datetime.now(dt.UTC)
            _write_atomically(path, render_eml(message, sent_at=sent_at))
            _append(index, _index_entry(message, digest, path, sent_at))
        log.info("outbox wrote message key=%s to %s", message.key, path.name)
        return DeliveryReceipt(message_id=digest, provider=PROVIDER)

    def entries(self) -> list[dict[str, Any]]:
        """Every index line, oldest first."""
        if not self.index_path.exists():
            return []
        with self.index_path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    @contextmanager
    def _index_lock(self) -> Iterator[Any]:
        # flock is per open file description, so it serializes threads of one process as well
        # as separate worker processes.
        with self.index_path.open("a+", encoding="utf-8") as index:
            fcntl.flock(index, fcntl.LOCK_EX)
            try:
                yield index
            finally:
                fcntl.flock(index, fcntl.LOCK_UN)


def _index_entry(message: EmailMessage, digest: str, path: Path, sent_at: dt.datetime) -> dict[str, Any]:
    return {
        "key": message.key,
        "message_id": digest,
        "file": f"messages/{path.name}",
        "sent_at": sent_at.isoformat(),
        "from": message.sender.email,
        "to": [a.email for a in message.to],
        "cc": [a.email for a in message.cc],
        "subject": message.subject,
        "categories": list(message.categories),
        "custom_args": dict(message.custom_args),
        "attachments": [attachment.filename for attachment in message.attachments],
    }


def _index_has(index: Any, key: str) -> bool:
    index.seek(0)
    return any(line.strip() and json.loads(line).get("key") == key for line in index)


def _append(index: Any, entry: dict[str, Any]) -> None:
    index.seek(0, os.SEEK_END)
    index.write(json.dumps(entry, sort_keys=True) + "\n")
    index.flush()
    os.fsync(index.fileno())


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename into place."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def _written_at(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
