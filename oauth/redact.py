"""Keeping secrets out of logs: redaction of known values and of token-shaped text.

intuit-oauth, requests-oauthlib, oauthlib and python-quickbooks log request headers, bodies and
whole token dicts at DEBUG ("Adding token {...} to request", "Supplying headers {'Authorization':
'Bearer …'}"). arpilot does not trust any of them: `install_log_redaction()` rewrites every log
record before any handler sees it.

It hooks the log-record factory rather than adding a filter to loggers or handlers because a
logger's filters see only records created on that exact logger (not its children, and the leaking
loggers are deep children such as `requests_oauthlib.oauth2_session`), and a handler's filters miss
handlers added later (pytest's capture, gunicorn's). The factory runs only for records that passed
the level check, so quiet loggers cost nothing.

Two layers: every token and client secret arpilot handles is registered here by value (exact
replacement wherever it appears), and patterns catch token-shaped text from code arpilot does not
see (Authorization headers, `access_token=…` in bodies, `"refresh_token": "…"` in dicts, `code=` in
callback URLs).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

REDACTED = "[redacted]"

# Shorter values would redact ordinary words; real tokens and secrets are far longer.
_MIN_SECRET_LENGTH = 8
_MAX_REMEMBERED = 4096

# (pattern, replacement): group 1 is the part kept, what follows it is the secret.
_PATTERNS = (
    # Authorization: Bearer … / Basic … (header values, in dicts or raw text)
    (re.compile(r"(?i)((?<![/\w-])(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1" + REDACTED),
    # access_token=…, "refresh_token": "…", 'client_secret': '…' (form bodies, JSON, Python reprs)
    (
        re.compile(
            r"(?i)(\b(?:access_token|refresh_token|id_token|client_secret|token)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
        ),
        r"\1" + REDACTED,
    ),
    # ?code=… / &code=… (the authorization code in a callback URL)
    (re.compile(r"([?&]code=)[^&\s\"']+"), r"\1" + REDACTED),
)


class _SecretRegistry:
    """The most recent secret values seen, for exact replacement (bounded: old ones fall out)."""

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._values[value] = None
            self._values.move_to_end(value)
            while len(self._values) > _MAX_REMEMBERED:
                self._values.popitem(last=False)

    def snapshot(self) -> list[str]:
        with self._lock:
            # Longest first, so a secret containing another is replaced whole.
            return sorted(self._values, key=len, reverse=True)


_REGISTRY = _SecretRegistry()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is replaced wherever it would be logged."""
    _REGISTRY.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and every token-shaped value replaced."""
    for value in _REGISTRY.snapshot():
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and formatted traceback) with secrets redacted; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's problem, not a leak
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters reuse exc_text when it is set, so the traceback is redacted once, here.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_install_lock = threading.Lock()
_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    with _install_lock:
        current = logging.getLogRecordFactory()
        if getattr(current, "_arpilot_redacting", False):
            return

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = current(*args, **kwargs)
            _FILTER.filter(record)
            return record

        factory._arpilot_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
