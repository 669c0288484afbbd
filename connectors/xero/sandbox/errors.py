"""Xero's error answers as exceptions the routes raise and one handler renders.

- 400 `ValidationException` (ErrorNumber 10) with Elements carrying ValidationErrors;
- 400 `PostDataInvalidException` (ErrorNumber 14) for a body that is not the JSON expected;
- 400 `QueryParseException` (ErrorNumber 16) for a `where`/`order` the sandbox cannot run;
- 401 / 403 problem documents (`Type`, `Title`, `Status`, `Detail`);
- 404 `The resource you're looking for cannot be found` as plain text, as Xero sends it.
"""

from __future__ import annotations

import uuid
from typing import Any


class XeroError(Exception):
    status = 400

    def body(self) -> dict[str, Any] | str:
        raise NotImplementedError


class ValidationFailed(XeroError):
    def __init__(self, messages: list[str], element: dict[str, Any] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.element = element or {}

    def body(self) -> dict[str, Any]:
        return {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{**self.element, "ValidationErrors": [{"Message": m} for m in self.messages]}],
        }


class PostDataInvalid(XeroError):
    def body(self) -> dict[str, Any]:
        return {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": str(self)}


class QueryParseFailed(XeroError):
    def body(self) -> dict[str, Any]:
        return {"ErrorNumber": 16, "Type": "QueryParseException", "Message": str(self)}


class Problem(XeroError):
    """401 and 403: Xero's problem-details answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {
            "Type": None,
            "Title": "Unauthorized" if self.status == 401 else "Forbidden",
            "Status": self.status,
            "Detail": self.detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        }


class NotFound(XeroError):
    status = 404

    def body(self) -> str:
        return "The resource you're looking for cannot be found"


def unauthorized(detail: str = "AuthenticationUnsuccessful") -> Problem:
    return Problem(401, detail)


def forbidden(detail: str = "AuthenticationUnsuccessful") -> Problem:
    return Problem(403, detail)
