"""The outbox page: every email of the organization, sortable, searchable, 50 a page, each one opening
as it was sent; another organization's email is a 404 like a missing one."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from integration.owner.outbox import PAGE_SIZE
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus
from tests.web.conftest import T0, Seeded, signed_in


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _email(app: Flask, seeded: Seeded, key: str, **fields) -> int:  # type: ignore[no-untyped-def]
    payload = {
        "customer_id": "58",
        "invoice_ids": ["131"],
        "stage": "reminder_2",
        "recipients": ["ap@example.com"],
        "idempotency_key": key,
        "payload": {},
    }
    payload.update(fields.pop("payload", {}))
    with transaction(app.extensions["arpilot"].sessions) as db:
        row = Action(
            organization_id=seeded.organization_id,
            connection_id=seeded.connection_id,
            idempotency_key=f"{seeded.connection_id}:{key}",
            kind=fields.pop("kind", "send_reminder"),
            target_type="invoice",
            target_id="131",
            reason=fields.pop("reason", "Invoice is 20 days late"),
            payload=payload,
            **{"status": ActionStatus.DONE, "created_at": T0 + dt.timedelta(days=1), **fields},
        )
        db.add(row)
        db.flush()
        return row.id


def test_lists_emails_with_subject_and_status_apart(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _email(app, mine, "s1", payload={"subject": "Second reminder: invoice 1002"})
    _email(app, mine, "r1", kind="resend_invoice", payload={"stage": "past_due_30"})
    page = signed_in(app, mine).get("/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert len(_rows(html)) == 3 + 2  # a1, a2, q1 of the seed and the two above; no call task, no note
    resend = next(r for r in _rows(html) if "30-days-past-due" in r)
    subject_cell = re.findall(r"<td>(.*?)</td>", resend, re.S)[4]
    assert "sent by the accounting system" not in subject_cell
    assert "sent by the accounting system" in resend  # the status column says it
    assert "Second reminder: invoice 1002" in html
    assert f'href="/customers/{mine.customer_id}"' in html  # customer names open the timeline
    assert "Rival Customer" not in html
    assert '<a href="/outbox" aria-current="page">Outbox</a>' in html


def test_sorts_by_each_column_both_ways(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _email(app, mine, "z", payload={"subject": "Zebra"}, created_at=T0 - dt.timedelta(days=5))
    _email(app, mine, "a", payload={"subject": "apple"}, status=ActionStatus.FAILED)
    client = signed_in(app, mine)

    def first(**query: str) -> str:
        return _rows(client.get("/outbox", query_string=query).get_data(as_text=True))[0]

    assert "Zebra" in first(sort="subject", dir="desc")  # case does not count: Zebra after apple
    ascending = _rows(client.get("/outbox", query_string={"sort": "subject", "dir": "asc"}).get_data(as_text=True))
    assert "apple" in ascending[3] and "Zebra" in ascending[4]  # after the seed's three, not written yet
    assert "Zebra" in first(sort="date", dir="asc")  # the oldest
    assert "Quiet Co" in first(sort="customer", dir="desc")
    assert "Quiet Co" not in first(sort="customer", dir="asc")
    assert "failed" in first(sort="status", dir="asc")  # by the word shown: failed before sent
    assert "sent" in first(sort="status", dir="desc")
    html = client.get("/outbox", query_string={"sort": "subject", "dir": "asc"}).get_data(as_text=True)
    assert 'aria-sort="ascending"' in html


def test_search_by_customer_subject_or_recipient(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _email(app, mine, "s", payload={"subject": "Final notice 1003", "recipients": ["boss@acme.example"]})
    client = signed_in(app, mine)
    for term, count in (("quiet", 1), ("FINAL NOTICE", 1), ("boss@acme", 1), ("acme", 3), ("nothing-like-it", 0)):
        html = client.get("/outbox", query_string={"q": term}).get_data(as_text=True)
        assert len(_rows(html)) == count, term
    assert "Rival" not in client.get("/outbox", query_string={"q": "rival"}).get_data(as_text=True)


def test_pages_of_fifty_with_page_links(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    for n in range(PAGE_SIZE * 2):
        _email(app, mine, f"bulk{n}", payload={"subject": f"bulk {n:03d}"}, created_at=T0 + dt.timedelta(hours=n))
    client = signed_in(app, mine)
    first = client.get("/outbox").get_data(as_text=True)
    assert len(_rows(first)) == PAGE_SIZE and 'aria-label="Page 3"' in first and 'rel="prev"' not in first
    assert "bulk 099" in _rows(first)[0]
    last = client.get("/outbox", query_string={"page": 3}).get_data(as_text=True)
    assert len(_rows(last)) == 3 and 'rel="next"' not in last  # the seed's three, the oldest
    for bad in ({"page": "0"}, {"page": "x"}, {"sort": "secret"}):
        assert client.get("/outbox", query_string=bad).status_code == 400, bad


def test_opens_one_email_as_sent(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    email_id = _email(
        app,
        mine,
        "open",
        payload={
            "subject": "Second reminder: invoice 1002",
            "sent_to": ["ap@example.com", "jo@example.com"],
            "sent_at": "2026-11-03 10:00",
            "body_text": "Hello,\n\nInvoice 1002 <b>is</b> still open.",
        },
        external_ref="email:m9",
    )
    page = signed_in(app, mine).get(f"/outbox/{email_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Second reminder: invoice 1002</h1>" in html
    assert "ap@example.com, jo@example.com" in html
    assert "Invoice 1002 &lt;b&gt;is&lt;/b&gt; still open." in html
    assert "Sent (reference email:m9)." in html
    assert f"Reminder 2 emailed 2026-11-03 10:00 to ap@example.com, jo@example.com; action {email_id}" in html
    assert f'href="/customers/{mine.customer_id}"' in html


def test_another_organizations_email_is_not_found(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    theirs_email = theirs.action_ids[0]
    assert client.get(f"/outbox/{theirs_email}").status_code == 404
    assert client.get("/outbox/999999").status_code == 404
    assert client.get(f"/outbox/{mine.action_ids[2]}").status_code == 404  # a call task is not an email
    assert signed_in(app, theirs).get(f"/outbox/{theirs_email}").status_code == 200


def test_needs_a_signed_in_owner(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    assert app.test_client().get("/outbox").status_code == 302


def test_a_queued_email_says_when_it_may_go_out(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    email_id = _email(
        app, mine, "queued", status=ActionStatus.PLANNED, not_before=dt.datetime(2026, 11, 4, 13, 0, tzinfo=dt.UTC)
    )
    html = signed_in(app, mine).get(f"/outbox/{email_id}").get_data(as_text=True)
    assert "Queued: it goes out with the next cycle" in html
    assert 'Not before <time datetime="2026-11-04T13:00:00+00:00">' in html
    assert "Not written yet" in html
