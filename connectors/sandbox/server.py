"""Serve a sandbox app on loopback in a background thread: `SandboxServer(app).start() -> base_url`."""

from __future__ import annotations

import threading
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.sandbox.runtime import refuse_in_production


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # tests and the demo read the admin counters instead of an access log


class SandboxServer:
    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        self.app = app
        self.host = host
        self.port = port  # 0: any free port, chosen by the OS
        self.quiet = quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> str:
        refuse_in_production()
        if self._server is not None:
            return self.base_url
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler if self.quiet else None
        )
        # A short poll interval makes stop() quick: tests start and stop a server per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-server", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
