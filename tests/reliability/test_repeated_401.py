"""Issue 15.8 end to end: two 401s in a row, with real refreshes between them, leave the connection active.

The sandbox answers the connector's next two API calls with 401; each time the connector refreshes
through integration/store/token_refresh.py (the sandbox minting a new access token, arpilot storing it) and retries.
The cycle finishes, the connection is not sent to "needs reconnect", and a third 401 in a row still is.
"""

from __future__ import annotations

from integration.store.models import ConnectionStatus
from tests.reliability.books import Books
from tests.reliability.conftest import Figures


def test_two_401s_with_a_working_refresh_between_them_are_not_a_dead_grant(books: Books, figures: Figures) -> None:
    access_token = books.stored_tokens().access_token
    books.fault(kind="status", status=401, count=2)
    figures.fault("401 after a working refresh", 2)
    summary = books.cycle()
    assert summary.status == "observed", summary.detail
    assert books.faults_left() == 0
    assert books.connection().status is ConnectionStatus.ACTIVE
    assert books.stored_tokens().access_token != access_token, "the refreshes were real and stored"


def test_a_third_401_in_a_row_still_needs_reconnect(books: Books, figures: Figures) -> None:
    books.fault(kind="status", status=401, count=3)
    figures.fault("401 after a working refresh", 3)
    summary = books.cycle()
    assert summary.status == "stopped"
    assert books.connection().status is ConnectionStatus.NEEDS_RECONNECT
