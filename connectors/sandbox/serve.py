"""Serving a sandbox app on loopback until interrupted (the `arpilot sandbox ...` commands)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from connectors.sandbox.server import SandboxServer


def serve(
    app: Flask,
    port: int,
    banner: Callable[[Flask, str], list[str]],
    echo: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Serve `app` on 127.0.0.1:port, print `banner(app, base_url)`, run until Ctrl-C (or `stop`)."""
    server = SandboxServer(app, port=port, quiet=False)
    base_url = server.start()
    for line in banner(app, base_url):
        echo(line)
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
