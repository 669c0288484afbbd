"""Every log record the process creates, from every logger at DEBUG, whatever handlers exist."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any


def rendered(record: logging.LogRecord) -> str:
    """What any handler could write: the message, traceback, stack and every extra attribute."""
    parts = [record.name, record.getMessage(), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.append(repr(record.__dict__))
    return "\n".join(parts)


@contextlib.contextmanager
def all_log_records() -> Iterator[list[logging.LogRecord]]:
    """Collect every record created while open: the root and every named logger are set to DEBUG
    (restored afterwards), and the record factory is wrapped, so records of loggers that do not
    propagate, or that no handler would show, are collected too."""
    records: list[logging.LogRecord] = []
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = [(logger, logger.level, logger.disabled) for logger in loggers]
    inner = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = inner(*args, **kwargs)  # arpilot's redaction runs inside: this is what handlers get
        records.append(record)
        return record

    logging.setLogRecordFactory(factory)
    logging.disable(logging.NOTSET)
    for logger, _, _ in levels:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logging.setLogRecordFactory(inner)
        for logger, level, disabled in levels:
            logger.setLevel(level)
            logger.disabled = disabled
