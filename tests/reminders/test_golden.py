"""Golden tests: every stage of the sample reminder, byte for byte.

A wording change is deliberate: regenerate with `ARPILOT_UPDATE_GOLDEN=1 pytest tests/reminders`
and review the diff of tests/reminders/golden/ like any other change. Without the variable, any
difference fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reminders.content import REMINDER_STAGES
from reminders.preview import render_previews

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ARPILOT_UPDATE_GOLDEN") == "1"
PREVIEWS = render_previews()


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; create it with ARPILOT_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("stage", REMINDER_STAGES)
def test_text_matches_golden(stage: str) -> None:
    email = PREVIEWS[stage]
    _check(f"{stage}.txt", f"Subject: {email.subject}\n\n{email.text}")


@pytest.mark.parametrize("stage", REMINDER_STAGES)
def test_html_matches_golden(stage: str) -> None:
    _check(f"{stage}.html", PREVIEWS[stage].html)


def test_no_stray_golden_files() -> None:
    # The instalment reminder (test_instalment.py) is pinned here too.
    expected = {f"{stage}.{fmt}" for stage in (*REMINDER_STAGES, "instalment") for fmt in ("txt", "html")}
    assert {path.name for path in GOLDEN.iterdir()} == expected
