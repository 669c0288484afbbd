"""The wording editor in a real browser: the preview follows the typing, an unknown field is shown
beside its input before anything is saved, and saving refuses it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_settings import open_settings


def test_the_wording_editor_previews_as_typed_and_refuses_an_unknown_field(tab, live) -> None:  # type: ignore[no-untyped-def]
    page = open_settings(tab, live)
    tab.follow(page.get_by_role("link", name="Emails and replies"), "emails")
    tab.follow(page.get_by_role("link", name="Edit the Reminder 1 email"), "wording-editor")
    subject = page.get_by_label("Subject")
    subject.fill("Hello {{ customer_name }}, about {{ invoice_label }}")
    expect(page.locator("#preview-subject")).to_have_text("Hello Acme Widgets, about invoices 1042 and 1047")
    subject.fill("Hello {{ custmer_name }}")
    expect(page.locator("#f-subject-error")).to_contain_text("unknown merge field {{ custmer_name }}")
    tab.check("wording-typed-error")
    with page.expect_navigation():  # answered 400 (which the browser logs), so not audited again: same page
        page.get_by_role("button", name="Save this wording").click()
    expect(page.locator("#f-subject-error")).to_contain_text("unknown merge field")
    expect(page.get_by_label("Subject")).to_have_value("Hello {{ custmer_name }}")
