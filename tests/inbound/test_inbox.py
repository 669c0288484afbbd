"""The embedded inbox folder: each .eml taken in and moved aside; nothing deleted, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.inbound import inbox
from integration.inbound.ingest import InboundDeps
from integration.store.models import InboundReply
from reminders.delivery import OutboxSender


@pytest.fixture
def deps(sessions: sessionmaker[Session], tmp_path: Path) -> InboundDeps:
    return InboundDeps(
        sessions, OutboxSender(tmp_path / "outbox"), "replies@inbound.arpilot.local", "key", "reminders@arpilot.local"
    )


def test_files_are_moved_to_done_or_rejected_with_a_reason(
    deps: InboundDeps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.eml").write_bytes(b"From: stranger@nowhere.example\r\nSubject: hi\r\n\r\nhello\r\n")
    (folder / "b.eml").write_bytes(b"\x00\x01 not an email")
    (folder / "c.eml").write_bytes(b"From: x@y.example\r\n\r\n" + b"x" * 2000)
    (folder / "notes.txt").write_text("left alone")
    monkeypatch.setattr(inbox, "MAX_EML_BYTES", 1000)
    handled = {f.name: f for f in inbox.read_inbox(deps, folder)}
    assert handled["a.eml"].result is not None and handled["a.eml"].result.status == "unmatched"
    assert (folder / "done" / "a.eml").exists()
    assert "no sender" in (folder / "rejected" / "b.eml.reason").read_text()
    assert "limit" in (folder / "rejected" / "c.eml.reason").read_text() and (folder / "rejected" / "c.eml").exists()
    assert (folder / "notes.txt").exists() and not list(folder.glob("*.eml"))
    with deps.sessions() as session:
        statuses = sorted(r.status for r in session.scalars(select(InboundReply)))
    assert statuses == ["unmatched", "unreadable"]  # the oversized file stays only in rejected/
    assert inbox.read_inbox(deps, tmp_path / "missing") == []
