"""The customer's page link: what it carries, and every way a link is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from integration.customer.tokens import LinkRefused, PageKey, form_key, forms_match, read_link, sign_link

SECRET = "s" * 48
NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
KEY = PageKey(organization_id=7, connection_id=3, customer_id="cust-02", generation=2)
SIXTY_DAYS = dt.timedelta(days=60)


def test_a_link_reads_back_as_signed() -> None:
    token = sign_link(KEY, SECRET, NOW)
    read = read_link(token, SECRET, NOW + dt.timedelta(days=59), SIXTY_DAYS)
    assert read.key == KEY and read.issued_at == NOW


def test_an_expired_link_is_refused() -> None:
    token = sign_link(KEY, SECRET, NOW)
    with pytest.raises(LinkRefused):
        read_link(token, SECRET, NOW + SIXTY_DAYS + dt.timedelta(seconds=1), SIXTY_DAYS)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature changed
        lambda t: ("e" if t[0] != "e" else "f") + t[1:],  # the body changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: t + "." + t,
    ],
)
def test_a_damaged_or_forged_link_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LinkRefused):
        read_link(damage(sign_link(KEY, SECRET, NOW)), SECRET, NOW, SIXTY_DAYS)


def test_a_link_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(LinkRefused):
        read_link(sign_link(KEY, "t" * 48, NOW), SECRET, NOW, SIXTY_DAYS)


def test_a_forged_customer_cannot_be_spliced_onto_a_real_signature() -> None:
    mine, theirs = sign_link(KEY, SECRET, NOW), sign_link(PageKey(7, 3, "cust-01", 1), SECRET, NOW)
    with pytest.raises(LinkRefused):
        read_link(theirs.split(".")[0] + "." + mine.split(".")[1], SECRET, NOW, SIXTY_DAYS)


def test_the_form_key_belongs_to_one_link() -> None:
    token, other = sign_link(KEY, SECRET, NOW), sign_link(PageKey(7, 3, "cust-01", 1), SECRET, NOW)
    assert forms_match(token, SECRET, form_key(token, SECRET))
    assert not forms_match(token, SECRET, form_key(other, SECRET))
    assert not forms_match(token, SECRET, "")
