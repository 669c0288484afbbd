"""The embedded inbox: .eml files dropped into a folder (default var/inbox), read by the clock.

Each file is taken in and moved to `done/`; one that cannot be taken in (too large, unreadable)
is moved to `rejected/` with a `.reason` file beside it. Nothing is deleted, so nothing is lost.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from integration.inbound.ingest import InboundDeps, InboundResult, inbound_deps, receive
from integration.inbound.mail import parse_raw

log = logging.getLogger(__name__)

MAX_EML_BYTES = 32 * 1024 * 1024  # SendGrid's own limit for a whole message is 30 MB


@dataclass(frozen=True)
class InboxFile:
    name: str
    result: InboundResult | None
    problem: str | None = None


def read_inbox(deps: InboundDeps, directory: Path) -> list[InboxFile]:
    if not directory.is_dir():
        return []
    done, rejected = directory / "done", directory / "rejected"
    handled = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".eml"):
        size = path.stat().st_size
        if size > MAX_EML_BYTES:
            handled.append(_reject(path, rejected, f"{size} bytes is over the {MAX_EML_BYTES}-byte limit"))
            continue
        result = receive(deps, parse_raw(path.read_bytes()), "inbox")
        if result.status == "unreadable":
            handled.append(_reject(path, rejected, result.detail, result))
            continue
        done.mkdir(exist_ok=True)
        os.replace(path, done / path.name)
        log.info("inbox %s: %s %s", path.name, result.status, result.detail)
        handled.append(InboxFile(path.name, result))
    return handled


def _reject(path: Path, rejected: Path, problem: str, result: InboundResult | None = None) -> InboxFile:
    rejected.mkdir(exist_ok=True)
    os.replace(path, rejected / path.name)
    (rejected / f"{path.name}.reason").write_text(problem + "\n", encoding="utf-8")
    log.warning("inbox %s rejected: %s", path.name, problem)
    return InboxFile(path.name, result, problem)


def read_inbox_job() -> None:
    """The clock's job (embedded): take in whatever was dropped into the inbox folder."""
    from integration.cycle.run import process_runtime

    runtime = process_runtime()
    read_inbox(inbound_deps(runtime), runtime.settings.inbox_dir)
