"""A loopback stand-in for SendGrid's POST /v3/mail/send that validates every body against the schema.

Each request is recorded with its schema violations; replies come from a script (status, headers,
JSON body) and default to SendGrid's 202 with an X-Message-Id header. A test can hold every reply
until it opens `gate` (a send in progress, for requests that overlap it).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

SCHEMA = json.loads(Path(__file__).with_name("sendgrid_mail_send.schema.json").read_text())
Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    authorization: str | None
    body: Any
    violations: list[str]


class FakeSendGrid:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[Seen] = []
        self.replies: deque[Reply] = deque()
        self._counter = 0
        self.gate = threading.Event()
        self.gate.set()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @Request.application
    def _app(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        violations = [
            f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
            for error in VALIDATOR.iter_errors(body)
        ]
        self.requests.append(Seen(request.path, request.headers.get("Authorization"), body, violations))
        self.gate.wait(10)
        if request.method != "POST" or request.path != "/v3/mail/send":
            return _json(404, {"errors": [{"message": "not found", "field": None}]})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _json(401, {"errors": [{"message": "The provided authorization grant is invalid", "field": None}]})
        if violations:
            return _json(400, {"errors": [{"message": v, "field": v.split(":")[0]} for v in violations]})
        if self.replies:
            reply = self.replies.popleft()
            return _json(reply.status, reply.body, reply.headers)
        self._counter += 1
        return Response(b"", status=202, headers={"X-Message-Id": f"fake-sg-{self._counter}"})


def _json(status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    return Response(data, status=status, headers=headers or {}, content_type="application/json")
