"""Machinery shared by the providers' local sandboxes (emulators of their documented APIs).

Nothing here knows a provider: the QuickBooks and Xero sandboxes build on these pieces (clock,
token authority, limits, fault injection, counters, idempotency, webhooks, consent page, admin
blueprint, loopback server) and add their own routes and JSON shapes.
"""

from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.runtime import SandboxRefused, SandboxRuntime, refuse_in_production
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.tokens import InvalidGrant, RotationPolicy, TokenAuthority, TokenRejected, TokenSet

__all__ = [
    "InvalidGrant",
    "RotationPolicy",
    "SandboxClock",
    "SandboxRefused",
    "SandboxRuntime",
    "SandboxServer",
    "TokenAuthority",
    "TokenRejected",
    "TokenSet",
    "refuse_in_production",
]
