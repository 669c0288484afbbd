"""The activity log: every action and entry of the signed-in organization, newest first, paged, filtered."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from integration.owner.records import FEED_PAGE_SIZE
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Organization
from tests.web.conftest import T0, Seeded, signed_in


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _without_csrf(html: str) -> str:
    # The token carries the second it was signed in, so two pages a second apart differ there.
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', html)


def test_lists_every_action_and_entry_newest_first(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    page = signed_in(app, mine).get("/activity")
    assert page.status_code == 200
    rows = _rows(page.get_data(as_text=True))
    assert len(rows) == len(mine.action_ids) + len(mine.entry_ids)
    assert "provider down" in rows[0]  # the newest entry first
    assert "is 3 days past due" in rows[-1] and "planned" in rows[-1]  # the oldest action last
    html = page.get_data(as_text=True)
    for text in (
        "two invoices past due: one email",
        "14 days late: call the customer",
        "dispute noted",
        "60 days overdue: credit hold",
        "Quiet Co is late",
        "email:m1",
        "failed",
    ):
        assert text in html
    assert "9130002" not in html and "Rival Customer" not in html  # nothing of the other organization


def test_filter_form_labels_every_control(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    html = signed_in(app, two_orgs[0]).get("/activity").get_data(as_text=True)
    for control in ("filter-customer", "filter-invoice"):
        assert f'<label for="{control}">' in html and f'id="{control}"' in html
    assert '<a href="/activity" aria-current="page">Activity</a>' in html


def test_filtered_by_customer(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    page = signed_in(app, mine).get("/activity", query_string={"customer": mine.customer_id})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert len(_rows(html)) == 5 + 3  # a1..a5 and their customer's three entries
    assert "Quiet Co is late" not in html and "provider down" not in html
    assert f'href="/customers/{mine.customer_id}/collections-packet.zip"' in html
    assert f'href="/customers/{mine.customer_id}"' in html
    assert f'<option value="{mine.customer_id}" selected>' in html


def test_filtered_by_invoice_includes_consolidated_steps(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    third = client.get("/activity", query_string={"invoice": mine.invoice_numbers[2]}).get_data(as_text=True)
    # a2, a3, a5 name it among several invoices, a4 alone; a2's outcome entry comes with it.
    for text in ("two invoices past due", "call the customer", "dispute noted", "credit hold"):
        assert text in third
    assert "is 3 days past due" not in third and "Call: " not in third
    assert len(_rows(third)) == 5
    second = client.get("/activity", query_string={"invoice": mine.invoice_numbers[1]}).get_data(as_text=True)
    assert "is 3 days past due" in second and "Call: &lt;script&gt;" in second and "dispute noted" not in second
    assert len(_rows(second)) == 7  # a1, a2, a3, a5 and the entries of a1, a2 and the call
    both = client.get(
        "/activity", query_string={"invoice": mine.invoice_numbers[1], "customer": mine.quiet_customer_id}
    )
    assert both.status_code == 200 and "No such" not in both.get_data(as_text=True)
    assert len(_rows(both.get_data(as_text=True))) == 0  # the invoice is not the quiet customer's


def test_another_organizations_customer_or_invoice_is_not_found(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    foreign = client.get("/activity", query_string={"customer": theirs.customer_id})
    missing = client.get("/activity", query_string={"customer": 999_999})
    assert foreign.status_code == missing.status_code == 404
    assert _without_csrf(foreign.get_data(as_text=True)) == _without_csrf(missing.get_data(as_text=True))
    assert "No such customer." in foreign.get_data(as_text=True)
    invoice = client.get("/activity", query_string={"invoice": theirs.invoice_numbers[0]})
    assert invoice.status_code == 404 and "No invoice numbered" in invoice.get_data(as_text=True)
    assert "Rival" not in invoice.get_data(as_text=True)


def test_nonsense_filters_are_400_beside_the_field(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, two_orgs[0])
    for query, message in (
        ({"customer": "abc"}, "Customer must be a whole number."),
        ({"page": "0"}, "Page must be between"),
        ({"page": "-2"}, "Page must be a whole number."),
    ):
        page = client.get("/activity", query_string=query)
        assert page.status_code == 400 and message in page.get_data(as_text=True), query


def test_paged_never_all_at_once(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    extra = 2 * FEED_PAGE_SIZE
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.add_all(
            ActivityEntry(
                organization_id=mine.organization_id,
                connection_id=mine.connection_id,
                kind="sync",
                message=f"synced batch {n}",
                created_at=T0 - dt.timedelta(hours=n + 1),
            )
            for n in range(extra)
        )
    client = signed_in(app, mine)
    total = extra + len(mine.action_ids) + len(mine.entry_ids)
    first = client.get("/activity").get_data(as_text=True)
    assert len(_rows(first)) == FEED_PAGE_SIZE and 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/activity", query_string={"page": 3}).get_data(as_text=True)
    assert len(_rows(last)) == total - 2 * FEED_PAGE_SIZE and 'rel="next"' not in last and 'rel="prev"' in last
    assert f"synced batch {extra - 1}" in last  # the oldest, on the last page


def test_needs_a_signed_in_owner(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    response = app.test_client().get("/activity")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_times_show_in_the_company_zone(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.get(Organization, mine.organization_id).timezone = "America/Denver"  # type: ignore[union-attr]
    html = signed_in(app, mine).get("/activity").get_data(as_text=True)
    assert "When (America/Denver)" in html
    # The first action was planned at 09:01 UTC, 02:01 in Denver (MST) on the same day.
    assert '<time datetime="2026-11-02T09:01:00+00:00">Nov 2, 2026, 2:01\u202fAM</time>' in html
