"""The web process as the Procfile starts it, and clients that promise a large body and trickle it.

`procfile_web` runs the Procfile's `web` line through the shell, as a Procfile host does, on a free
port. A `SlowClient` thread sends a webhook request's headers announcing 500 kB, then one byte every
`pace` seconds; when the server answers (408) it records how long that took and opens the next
such request at once, as the probe in issue 15 did.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PROMISED_BYTES = 500_000


def procfile_command(process: str = "web") -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"the Procfile has no {process!r} process")


@contextmanager
def procfile_web(env: Mapping[str, str], log: Path, port: int) -> Iterator[str]:
    """The Procfile's web process on `port`, answering /healthz; its base URL."""
    bin_dir = str(Path(sys.executable).parent)  # gunicorn lives beside the interpreter
    full_env = {**env, "PORT": str(port), "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        popen = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {procfile_command()}"],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, popen, log)
        yield base
    finally:
        popen.terminate()
        try:
            popen.wait(30)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(30)


def _wait_until_healthy(base: str, popen: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise AssertionError(
                f"the web process exited ({popen.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"the web process did not answer /healthz in {timeout:g}s:\n{log.read_text(errors='replace')[-3000:]}"
    )


class SlowClient(threading.Thread):
    """Webhook requests that trickle their body, one after another, until `stop` is set."""

    def __init__(self, port: int, stop: threading.Event, pace: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.port, self.stop, self.pace = port, stop, pace
        self.held_for: list[float] = []  # seconds from headers sent to the server's answer
        self.answers: list[str] = []  # the status lines received
        self.open = threading.Event()  # set once the first request's headers are sent

    def run(self) -> None:
        while not self.stop.is_set():
            self._one_request()

    def _one_request(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(
                b"POST /webhooks/quickbooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"intuit-signature: slow\r\n" + f"Content-Length: {PROMISED_BYTES}\r\n\r\n".encode()
            )
            started = time.monotonic()
            self.open.set()
            while not self.stop.is_set():
                readable, _, _ = select.select([sock], [], [], self.pace)
                if readable:
                    answer = sock.recv(4096)
                    self.held_for.append(time.monotonic() - started)
                    self.answers.append(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
                    return
                try:
                    sock.sendall(b"{")
                except OSError:  # the server closed its side: this request is over
                    self.held_for.append(time.monotonic() - started)
                    self.answers.append("closed")
                    return
