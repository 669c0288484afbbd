from __future__ import annotations

import email
import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from email import policy
from pathlib import Path

from reminders.delivery import Attachment, OutboxSender
from reminders.delivery.outbox import message_digest
from tests.delivery.samples import make_message


def test_writes_a_readable_multipart_alternative_eml_and_an_index_line(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    receipt = outbox.send(make_message())

    assert receipt.provider == "outbox" and not receipt.already_sent
    path = outbox.path_for("action-42")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    (sender,) = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Harbor & Pine Landscaping", "reminders@harborpine.example")
    assert parsed["To"] == "Acme Accounts Payable <ap@acme.example>"
    assert parsed["Cc"] == "Dana Owner <owner@acme.example>"
    assert parsed["Reply-To"] == "Harbor & Pine Accounts <accounts@harborpine.example>"
    assert parsed["Subject"] == "Invoice 1001 is 12 days past due"
    assert parsed["Message-ID"] == f"<{receipt.message_id}@outbox.arpilot.invalid>"
    assert parsed["X-Arpilot-Message-Key"] == "action-42"
    assert json.loads(parsed["X-Arpilot-Custom-Args"]) == {"action_id": "42", "organization_id": "7"}
    # RFC 5322 lines end in CRLF on the wire and in the file.
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == make_message().text
    assert "<b>$450.00</b>" in parsed.get_body(("html",)).get_content()

    (entry,) = outbox.entries()
    assert entry["key"] == "action-42" and entry["message_id"] == receipt.message_id
    assert entry["file"] == f"messages/{path.name}"
    assert entry["custom_args"] == {"action_id": "42", "organization_id": "7"}
    assert entry["to"] == ["ap@acme.example"] and entry["cc"] == ["owner@acme.example"]


def test_an_attachment_is_kept_whole_in_the_eml_and_named_in_the_index(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    pdf = b"%PDF-1.4\n\x00\xff binary"
    outbox.send(make_message(attachments=(Attachment("statement-café.pdf", pdf),)))
    parsed = email.message_from_bytes(outbox.path_for("action-42").read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    (attached,) = parsed.iter_attachments()
    assert (attached.get_content_type(), attached.get_filename()) == ("application/pdf", "statement-café.pdf")
    assert attached.get_content() == pdf
    html = parsed.get_body(("html",))
    assert html is not None and "<b>$450.00</b>" in html.get_content()
    (entry,) = outbox.entries()
    assert entry["attachments"] == ["statement-café.pdf"]


def test_text_only_message_is_a_single_plain_part(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    outbox.send(make_message(html=None))
    parsed = email.message_from_bytes(outbox.path_for("action-42").read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "text/plain"


def test_same_key_twice_writes_once(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    first = outbox.send(make_message())
    before = outbox.path_for("action-42").read_bytes()
    second = outbox.send(make_message(subject="A different subject"))

    assert second.already_sent and second.message_id == first.message_id
    assert outbox.path_for("action-42").read_bytes() == before
    assert len(outbox.entries()) == 1
    assert len(list((tmp_path / "messages").iterdir())) == 1  # no stray temporary files


def test_a_lost_index_line_is_repaired_by_the_repeat_send(tmp_path: Path) -> None:
    """A crash between writing the .eml and its index line leaves the file; the retry restores the line."""
    outbox = OutboxSender(tmp_path)
    outbox.send(make_message())
    outbox.index_path.write_text("")
    receipt = outbox.send(make_message())
    assert receipt.already_sent
    assert [e["key"] for e in outbox.entries()] == ["action-42"]


def test_keys_with_any_characters_map_to_safe_file_names(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    key = "../../etc/passwd reminder:2026-11-23/cust 01"
    outbox.send(make_message(key=key))
    assert outbox.path_for(key) == tmp_path / "messages" / f"{message_digest(key)}.eml"
    assert outbox.path_for(key).exists()


def test_concurrent_threads_do_not_corrupt_the_index(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    keys = [f"action-{n % 40}" for n in range(200)]  # each key sent five times, all at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        receipts = list(pool.map(lambda k: outbox.send(make_message(key=k)), keys))

    assert sum(not r.already_sent for r in receipts) == 40
    entries = outbox.entries()  # every line parses
    assert sorted(e["key"] for e in entries) == sorted({*keys})


def _send_from_process(directory: str, worker: int) -> None:
    outbox = OutboxSender(Path(directory))
    for n in range(30):
        outbox.send(make_message(key=f"shared-{n}"))
        outbox.send(make_message(key=f"worker-{worker}-{n}"))


def test_concurrent_processes_do_not_corrupt_the_index(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_send_from_process, args=(str(tmp_path), w)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]

    keys = [e["key"] for e in OutboxSender(tmp_path).entries()]
    expected = {f"shared-{n}" for n in range(30)} | {f"worker-{w}-{n}" for w in range(4) for n in range(30)}
    assert sorted(keys) == sorted(expected)  # each key exactly once, every line whole
    assert len(list((tmp_path / "messages").glob("*.eml"))) == len(expected)
