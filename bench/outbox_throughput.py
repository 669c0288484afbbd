"""How fast the local outbox writes messages (each one fsynced .eml plus an index line), and repeats.

.venv/bin/python bench/outbox_throughput.py [COUNT]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from reminders.delivery import Address, EmailMessage, OutboxSender


def message(n: int) -> EmailMessage:
    return EmailMessage(
        key=f"bench-{n}",
        to=(Address(f"customer{n}@example.com"),),
        sender=Address("ar@example.com", "AR"),
        subject=f"Invoice {n} is past due",
        text="Please pay.\n",
        html="<p>Please pay.</p>",
        custom_args={"action_id": str(n)},
    )


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        outbox = OutboxSender(Path(directory))
        started = time.perf_counter()
        for n in range(count):
            outbox.send(message(n))
        first = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(count):
            outbox.send(message(n))
        repeat = time.perf_counter() - started
    print(f"outbox: {count} new messages in {first:.2f}s ({count / first:.0f}/s)")
    print(f"outbox: {count} repeated keys in {repeat:.2f}s ({count / repeat:.0f}/s, nothing written)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
