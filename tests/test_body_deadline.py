"""The request-body deadline (integration/web/body_deadline.py) on a real socket pair, as gunicorn hands it over."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from integration.web.body_deadline import BodyDeadline


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def call(app: BodyDeadline, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body


def environ_for(sock: socket.socket, **headers: str) -> dict[str, Any]:
    return {"gunicorn.socket": sock, "wsgi.input": sock.makefile("rb"), "REMOTE_ADDR": "127.0.0.1", **headers}


def test_a_whole_body_reaches_the_app(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(b'{"ok": 1}')
    status, body = call(BodyDeadline(echo, 2, 1024), environ_for(server, CONTENT_LENGTH="9"))
    assert status == "200 OK" and body == b'{"ok": 1}'


def test_a_stalled_body_is_answered_408_at_the_deadline(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(b"{")  # one byte of the 500 promised, then nothing
    started = time.monotonic()
    status, body = call(BodyDeadline(echo, 1, 1024 * 1024), environ_for(server, CONTENT_LENGTH="500"))
    assert status.startswith("408") and b"in time" in body
    assert time.monotonic() - started < 5


def test_a_body_over_the_limit_is_left_unread_for_the_apps_413(pair: tuple[socket.socket, socket.socket]) -> None:
    server, _ = pair
    seen: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(int(environ["CONTENT_LENGTH"]))
        start_response("413 Request Entity Too Large", [])
        return [b""]

    status, _ = call(BodyDeadline(app, 1, 10), environ_for(server, CONTENT_LENGTH="11"))
    assert status.startswith("413") and seen == [11]


def test_a_chunked_body_is_read_whole_and_its_length_given(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(b"abc")
    client.shutdown(socket.SHUT_WR)  # the chunked body's end, as gunicorn's reader reports it
    lengths: list[str] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        lengths.append(environ["CONTENT_LENGTH"])
        return echo(environ, start_response)

    status, body = call(BodyDeadline(app, 2, 1024), environ_for(server, HTTP_TRANSFER_ENCODING="chunked"))
    assert status == "200 OK" and body == b"abc" and lengths == ["3"]


def test_without_gunicorn_the_app_reads_the_body_itself(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(b"hello")
    client.shutdown(socket.SHUT_WR)
    status, body = call(BodyDeadline(echo, 1, 1024), {"wsgi.input": server.makefile("rb"), "CONTENT_LENGTH": "5"})
    assert status == "200 OK" and body == b"hello"
