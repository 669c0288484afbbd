"""A request's whole body within a deadline, or 408: a slow or stalled client cannot hold a web thread.

gunicorn's gthread workers keep idle and not-yet-sending connections on a poller, off the thread
pool, but once a request's headers are in, its body is read by a worker thread with a plain
blocking socket: a client that promises 500 kB and sends a byte a second would hold that thread
for days. This middleware reads the body before the app sees it, with a timer that shuts the
socket's read side when the deadline passes, so the blocked read returns and the client gets 408.

Only under gunicorn (the WSGI environ carries `gunicorn.socket`); the test client and the
development server pass through. A body over `max_bytes` is left unread for the app's 413.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TIMEOUT_BODY = b"The request body did not arrive in time.\n"


class BodyDeadline:
    def __init__(self, app: WSGIApp, seconds: float, max_bytes: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        wanted = self._wanted(environ)
        if sock is None or wanted == 0:
            return self.app(environ, start_response)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        body = _read_within(environ["wsgi.input"], wanted, sock, self.seconds, exact=not chunked)
        if body is None:
            log.info(
                "request body from %s not complete within %ss: answered 408", environ.get("REMOTE_ADDR"), self.seconds
            )
            start_response(
                "408 Request Timeout",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(TIMEOUT_BODY))),
                    ("Connection", "close"),
                ],
            )
            return [TIMEOUT_BODY]
        environ["wsgi.input"] = io.BytesIO(body)
        if chunked:
            environ["CONTENT_LENGTH"] = str(len(body))  # the body is whole now: the app may trust its length
        return self.app(environ, start_response)

    def _wanted(self, environ: dict[str, Any]) -> int:
        """Bytes to read up front: the declared length, up to max_bytes + 1 of a chunked body, 0 for
        none (no body, or one too large: the app refuses it with 413 without reading it)."""
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.max_bytes + 1
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
        return length if 0 < length <= self.max_bytes else 0


def _read_within(stream: Any, wanted: int, sock: socket.socket, seconds: float, *, exact: bool) -> bytes | None:
    """Up to `wanted` bytes of `stream`; None when the deadline passed, or (`exact`: a declared
    length) the client went away before all of it arrived."""
    expired = threading.Event()

    def stop_reading() -> None:
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RD)  # the blocked recv returns b"" at once
        except OSError:
            pass  # already closed: the read has ended anyway

    timer = threading.Timer(seconds, stop_reading)
    timer.daemon = True
    timer.start()
    try:
        body = stream.read(wanted)
    except OSError:  # gunicorn's NoMoreData and socket errors alike
        return None
    finally:
        timer.cancel()
    if exact:  # complete is complete, even when the timer fired just after the last byte
        return bytes(body) if len(body) == wanted else None
    return None if expired.is_set() else bytes(body)
