"""Typed errors for reminder content: each names what is wrong so the owner or caller can fix it."""

from __future__ import annotations


class ContentError(ValueError):
    """Reminder or policy content cannot be rendered from what was given."""


class UnknownStage(ContentError):
    """A ladder stage that has no template."""


class InvalidLocale(ContentError):
    """A locale identifier Babel does not know (e.g. 'xx_YY')."""


class IncompleteContext(ContentError):
    """A field the chosen stage needs is missing or inconsistent (e.g. a final notice without a date)."""
