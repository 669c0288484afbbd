"""The pages a consent with QuickBooks or Xero ends on when it cannot go on: the app is not set up,
the provider did not answer, the authorization expired, the provider refused the exchange.

They say the same for both providers; only who answered (Intuit signs QuickBooks' consents) and the
app's settings differ.
"""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from integration.store.connections import PROVIDER_NAMES
from integration.web.common import page
from oauth.intuit import PROVIDER as QUICKBOOKS
from oauth.xero import PROVIDER as XERO

# Who answers a consent, as the owner knows them.
_AUTHORITY = {QUICKBOOKS: "Intuit", XERO: "Xero"}
# The environment variables holding each provider's app credentials (integration.config).
_SETTINGS_PREFIX = {QUICKBOOKS: "QUICKBOOKS", XERO: "XERO"}


def not_configured(provider: str) -> ResponseReturnValue:
    name, prefix = PROVIDER_NAMES[provider], _SETTINGS_PREFIX[provider]
    return page(
        f"{name} is not set up",
        f"This arpilot has no {name} app credentials ({prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET).",
        503,
    )


def unreachable(provider: str) -> ResponseReturnValue:
    return page(
        f"{PROVIDER_NAMES[provider]} could not be reached",
        f"{_AUTHORITY[provider]} did not answer in time. Nothing was changed; please try again in a minute.",
        503,
        retry=True,
        provider=provider,
    )


def link_expired(provider: str) -> ResponseReturnValue:
    return page(
        "This connection link has expired",
        "The authorization was already used or expired. Please start again.",
        400,
        retry=True,
        provider=provider,
    )


def exchange_refused(provider: str) -> ResponseReturnValue:
    """The provider refused arpilot's own request (its credentials or redirect): nothing the owner can fix."""
    return page(
        f"{PROVIDER_NAMES[provider]} did not connect",
        f"{_AUTHORITY[provider]} refused arpilot's request. The problem has been logged for the administrator.",
        502,
    )
