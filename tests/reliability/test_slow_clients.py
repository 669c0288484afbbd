"""Issue 15.1: slow or stalled clients cannot starve the web process.

The web process is started exactly as the Procfile says (one worker, so every connection meets the
same thread pool), and eight clients each promise a 500 kB body to /webhooks/quickbooks and send a
byte every 0.2 s, reconnecting whenever they are answered. Meanwhile /healthz is probed: every probe
must be answered within a second, and every slow request must be cut off (408) soon after the
request-body deadline, so none holds a thread longer than that.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from tests.ports import free_port
from tests.reliability.conftest import Figures
from tests.reliability.slow_clients import SlowClient, procfile_web
from tests.scale.topology import environment

SLOW_CLIENTS = 8  # well above the three; fewer than the Procfile's threads per worker
BODY_TIMEOUT_SECONDS = 2
PROBES = 12
HEALTHZ_BOUND_SECONDS = 1.0


def test_healthz_answers_within_a_second_while_slow_clients_trickle(
    database_url: str,
    tmp_path: Path,
    figures: Figures,
) -> None:
    port = free_port()
    env = environment(
        {
            "ARPILOT_ENV": "test",
            "ARPILOT_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": database_url,
            "ARPILOT_EMBEDDED_CLOCK": "0",
            "WEB_CONCURRENCY": "1",
            "ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS),
        }
    )
    stop = threading.Event()
    with procfile_web(env, tmp_path / "web.log", port) as base:
        clients = [SlowClient(port, stop) for _ in range(SLOW_CLIENTS)]
        for client in clients:
            client.start()
        try:
            assert all(c.open.wait(10) for c in clients)
            probe_times = []
            # Probe until every slow client has been cut off at least once and reconnected, so the
            # probes span slow requests held, answered and opened again.
            while len(probe_times) < PROBES or min(len(c.answers) for c in clients) < 1:
                started = time.monotonic()
                response = requests.get(f"{base}/healthz", timeout=10)
                probe_times.append(time.monotonic() - started)
                assert response.status_code == 200
                assert len(probe_times) < 200, "the slow clients were never answered"
                time.sleep(0.2)
        finally:
            stop.set()
            for client in clients:
                client.join(15)
    held = [seconds for c in clients for seconds in c.held_for]
    answers = [answer for c in clients for answer in c.answers]
    figures.slow_clients_held += len(held)
    assert max(probe_times) < HEALTHZ_BOUND_SECONDS, f"/healthz took {max(probe_times):.2f}s: {probe_times}"
    answered = [a for a in answers if a != "closed"]
    assert answered and all(a.startswith("HTTP/1.1 408") for a in answered), answers
    # Cut off at the deadline, not held for the whole body (500 kB at 5 bytes a second is a day).
    assert max(held) < BODY_TIMEOUT_SECONDS + 3, held
