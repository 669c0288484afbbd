from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery.fake_sendgrid import FakeSendGrid
from tests.delivery.samples import API_KEY


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    server = FakeSendGrid(API_KEY).start()
    yield server
    server.stop()
