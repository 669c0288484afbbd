"""One logging setup for every arpilot process, and the context each line carries.

A line logged while a cycle runs says which organization, connection and cycle run it belongs to,
so one company's trouble can be followed through a worker's interleaved output. The context lives
in a `contextvars` variable (each thread and each RQ job has its own) and is stamped onto every
record by the log-record factory, the same hook `oauth.redact` uses, so it reaches every handler,
including ones added later (gunicorn's, pytest's); redaction still runs first.

`LOG_FORMAT=json` writes one JSON object per line for a log collector; the default is text.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from oauth.redact import install_log_redaction

CONTEXT_FIELDS = ("organization_id", "connection_id", "cycle_run_id")
LOG_FORMATS = ("text", "json")

_NO_CONTEXT: Mapping[str, int] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, int]] = contextvars.ContextVar("arpilot_log_context", default=_NO_CONTEXT)
_installed = False


@contextlib.contextmanager
def log_context(**ids: int | None) -> Iterator[None]:
    """Within the block, every log line carries these ids (added to any already in effect)."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context field(s): {', '.join(sorted(unknown))}")
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> Mapping[str, int]:
    return _context.get()


def install_context_stamping() -> None:
    """Stamp the context onto every record (once per process; after redaction's own factory)."""
    global _installed
    if _installed:
        return
    install_log_redaction()
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = _context.get()
        for name in CONTEXT_FIELDS:
            setattr(record, name, context.get(name))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class TextFormatter(logging.Formatter):
    """`time level logger message`, then `organization_id=… connection_id=… cycle_run_id=…` when set."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        ids = " ".join(
            f"{name}={value}" for name in CONTEXT_FIELDS if (value := getattr(record, name, None)) is not None
        )
        return f"{text} {ids}" if ids else text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context ids, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, log_format: str = "text") -> None:
    """The process's one handler on the root logger, writing to stderr in `log_format`."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    install_context_stamping()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "arpilot", False)]:
        root.removeHandler(old)
    handler.arpilot = True  # type: ignore[attr-defined]  # marks ours, so configuring twice replaces it
    root.addHandler(handler)
    root.setLevel(level)
