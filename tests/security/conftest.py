"""The security suite's figures: `tally` counts what one test tried (see tests/security/figures.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.security.figures import ARTIFACT, merge


@pytest.fixture(scope="session")
def security_figures() -> Iterator[dict[str, Counter[str]]]:
    figures: dict[str, Counter[str]] = {}
    yield figures
    if figures:
        merge(ARTIFACT, figures)


@pytest.fixture
def tally(security_figures: dict[str, Counter[str]], request: pytest.FixtureRequest) -> Counter[str]:
    """This test's counts: `tally["bad_inputs_tried"] += 1`."""
    return security_figures.setdefault(request.node.nodeid, Counter())
