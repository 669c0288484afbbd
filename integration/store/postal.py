"""A postal address as the store keeps it: one JSON object per address (a mirrored customer's
billing address, a connection's own), read back into the connector contract's record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.contract import PostalAddress
from connectors.postal import postal_address


def address_json(address: PostalAddress | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "lines": list(address.lines),
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
        "attention": address.attention,
    }


def stored_address(value: object) -> PostalAddress | None:
    """The address `address_json` wrote; anything else (None, a row written by hand) is cleaned the
    way a provider's fields are, never trusted."""
    if not isinstance(value, Mapping):
        return None
    lines = value.get("lines")
    return postal_address(
        lines if isinstance(lines, list) else (),
        city=value.get("city"),
        region=value.get("region"),
        postal_code=value.get("postal_code"),
        country=value.get("country"),
        attention=value.get("attention"),
    )
