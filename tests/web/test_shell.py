"""The layout every page shares: the landing page for visitors and the security headers."""

from __future__ import annotations

from integration.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import MakeApp


def test_visitor_sees_both_marketplace_buttons(make_app: MakeApp) -> None:
    page = make_app().test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/connect/quickbooks"' in html and "Connect to QuickBooks" in html
    assert 'href="/connect/xero"' in html and "Sign up with Xero" in html
    assert 'aria-label="Main"' not in html  # no owner navigation before sign-in


def test_every_response_carries_the_security_headers(make_app: MakeApp) -> None:
    client = make_app().test_client()
    for path in ("/", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in headers  # plain http on loopback: no HSTS pin
