"""Check recorded sandbox exchanges against Xero's published OpenAPI specs (openapi-core), plus the
`/Date(...)/` forms the specs type as plain strings. Kept small on purpose: it will be unified with
the connector's `connectors/xero/conformance.py` when both land.

Requests are validated as if sent to https://api.xero.com. A response is validated when the spec
documents its status for that operation (the specs leave out 401/403/404/429); the others are
counted as `undocumented` so a test can see what was not checked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from connectors.xero.conformance import specs_dir

SPECS = specs_dir()  # the same lookup the connector's checker uses (ARPILOT_SPECS_DIR or ../shared/specs)
XERO_HOST = "https://api.xero.com"
MS_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")
DATE_STRING = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MS_DATE_KEYS = {"Date", "DueDate", "FullyPaidOnDate", "UpdatedDateUTC", "DateUTC", "DateTimeUTC",
                "ExpectedPaymentDate", "PlannedPaymentDate"}
STRING_DATE_KEYS = {"DateString", "DueDateString", "DateUTCString"}
# xero-python serializes these model defaults into every request body, including the spec's
# readOnly ones (Invoice.HasAttachments...); openapi-core refuses a write of a readOnly property.
# They are stripped (and counted) before a request body is validated; everything else is checked.
SDK_DEFAULTS = {"HasAttachments", "HasErrors", "HasAccount", "HasValidationErrors", "IsDiscounted"}


@lru_cache(maxsize=None)
def spec(name: str) -> OpenAPI:
    """Loaded once per session: the accounting spec takes a second or two to build."""
    return OpenAPI.from_file_path(str(SPECS / name), config=Config(spec_validator_cls=None))


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    response_type: str


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


def _spec_for(path: str) -> tuple[str, str] | None:
    if path.startswith("/api.xro/2.0/"):
        return "xero_accounting.yaml", path
    if path.lower().startswith("/connections"):
        return "xero-identity.yaml", "/Connections" + path[len("/connections"):]
    return None


def msdate_problems(payload: Any, where: str = "$") -> list[str]:
    """Every MS-JSON date field that is not `/Date(ms[+hhmm])/`, every DateString that is not ISO."""
    problems: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            here = f"{where}.{key}"
            if key in MS_DATE_KEYS and not (isinstance(value, str) and MS_DATE.match(value)):
                problems.append(f"{here} is not a /Date(...)/ value: {value!r}")
            elif key in STRING_DATE_KEYS and not (isinstance(value, str) and DATE_STRING.match(value)):
                problems.append(f"{here} is not YYYY-MM-DDTHH:MM:SS: {value!r}")
            else:
                problems.extend(msdate_problems(value, here))
    elif isinstance(payload, list):
        for index, item in enumerate(payload):
            problems.extend(msdate_problems(item, f"{where}[{index}]"))
    return problems


@dataclass
class Report:
    validated: Counter[str] = field(default_factory=Counter)  # "GET /Invoices 200" -> count
    sdk_defaults_stripped: int = 0
    undocumented: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def check(exchanges: list[Exchange]) -> Report:
    report = Report()
    for exchange in exchanges:
        target = _spec_for(exchange.path)
        if target is None:
            continue
        name, path = target
        openapi = spec(name)
        body, stripped = _strip_sdk_defaults(exchange.body)
        report.sdk_defaults_stripped += stripped
        request = _Request(XERO_HOST, path, exchange.method.lower(), body or None,
                           exchange.content_type or "application/octet-stream",
                           RequestParameters(query=ImmutableMultiDict(list(exchange.query)),
                                             header=Headers(list(exchange.headers)), cookie=ImmutableMultiDict()))
        label = f"{exchange.method} {path} {exchange.status}"
        try:
            openapi.validate_request(request)
        except Exception as exc:  # openapi-core raises a family of validation errors
            report.failures.append(f"request {label}: {_describe(exc)}")
            continue
        response = _Response(exchange.status, exchange.response_type, Headers(list(exchange.response_headers)),
                             exchange.response_body)
        if not _documented(openapi, path, exchange.method, exchange.status):
            report.undocumented[label] += 1
            continue
        try:
            openapi.validate_response(request, response)
        except Exception as exc:
            report.failures.append(f"response {label}: {_describe(exc)}")
            continue
        if exchange.response_body and exchange.response_type.startswith("application/json"):
            report.failures.extend(f"response {label}: {p}" for p in msdate_problems(json.loads(exchange.response_body)))
        report.validated[label] += 1
    return report


def _strip_sdk_defaults(body: bytes) -> tuple[bytes, int]:
    if not body:
        return body, 0
    try:
        data = json.loads(body)
    except ValueError:
        return body, 0  # a deliberately malformed body stays as it is
    count = 0

    def walk(node: Any) -> Any:
        nonlocal count
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                if key in SDK_DEFAULTS and value is False:
                    count += 1
                else:
                    kept[key] = walk(value)
            return kept
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return json.dumps(walk(data)).encode("utf-8"), count


def _documented(openapi: OpenAPI, path: str, method: str, status: int) -> bool:
    relative = path.removeprefix("/api.xro/2.0")
    for pattern, item in (openapi.spec / "paths").items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", pattern), relative) and method.lower() in item:
            return str(status) in (item / method.lower() / "responses")
    return False


def _describe(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(parts) < 4:
        parts.append(f"{type(cause).__name__}: {cause}")
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(str(e.message) for e in list(details)[:5])
        cause = cause.__cause__
    return " <- ".join(part[:300] for part in parts)
