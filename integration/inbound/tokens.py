"""The reply token: which reminder a reply answers, carried in the Reply-To address itself.

A reminder's Reply-To is `replies+r<action id>-<mac>@inbound-domain`. The address is what every
mail client copies into the reply's To, so the token survives where a subject marker is edited
away and a custom header is dropped; lower-case letters and digits survive servers that fold case.
The MAC (HMAC-SHA256 under the app's secret key, cut to 12 hex digits) makes a token impossible
to guess or to point at another company's reminder.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\+r(\d{1,18})-([0-9a-f]{12})@", re.IGNORECASE)


@dataclass(frozen=True)
class TokenRead:
    action_id: int | None  # the reminder, when a token was found and its MAC holds
    problem: str | None  # why not ("no reply token", "unknown reply token")


def _mac(secret: str, action_id: int) -> str:
    return hmac.new(secret.encode(), f"arpilot-reply:{action_id}".encode(), hashlib.sha256).hexdigest()[:12]


def reply_address(inbound_address: str, action_id: int, secret: str) -> str:
    local, _, domain = inbound_address.partition("@")
    return f"{local}+r{action_id}-{_mac(secret, action_id)}@{domain}"


def read_token(recipients: Iterable[str], inbound_address: str, secret: str) -> TokenRead:
    local, _, domain = inbound_address.lower().partition("@")
    seen = False
    for recipient in recipients:
        recipient = recipient.lower()
        if not (recipient.startswith(local + "+") and recipient.endswith("@" + domain)):
            continue
        seen = True
        found = _TOKEN.search(recipient)
        if found and hmac.compare_digest(found.group(2).lower(), _mac(secret, int(found.group(1)))):
            return TokenRead(int(found.group(1)), None)
    return TokenRead(None, "unknown reply token" if seen else "no reply token")
