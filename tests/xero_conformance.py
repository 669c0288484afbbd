"""Check HTTP exchanges against Xero's published API contracts: the one spec checker of the tests.

The connector tests check what arpilot sends and what a canned Xero answers; the Xero sandbox tests
check a recorded session of xero-python against the sandbox (`check`, a `Report`). Test-only: it
needs yaml and openapi-core, which only the test extra installs, and no product code runs it.

Every request and every response is validated with openapi-core against `specs/xero_accounting.yaml`
(or `specs/xero-identity.yaml` for /Connections), as if sent to https://api.xero.com, plus the checks
the spec cannot express:

- every field the spec marks `x-is-msdate` / `x-is-msdate-time` (the fields xero-python types as
  `date[ms-format]` / `datetime[ms-format]`: Date, DueDate, FullyPaidOnDate, UpdatedDateUTC,
  DateUTC...) and the envelope's DateTimeUTC is in Xero's `/Date(ms[+hhmm])/` form, calendar
  dates are midnight UTC, and the DateString, DueDateString and DateUTCString companions are
  `YYYY-MM-DDTHH:MM:SS`;
- requests carry `Authorization: Bearer <token>` (openapi-core does not check OAuth2);
- the records of a successful list response carry the fields Xero always sends and arpilot relies
  on (the spec marks nothing required);
- optionally (`strict=True`), no property the spec does not define; the `<Field>String` companions
  of date fields (DateString, DueDateString) and the envelope (Id, Status, ProviderName,
  DateTimeUTC) are allowed.

Problems come back as a list of plain sentences naming the JSON path; `assert_conforms` raises them.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from connectors.xero.mapping import parse_ms_instant

XERO_HOST = "https://api.xero.com"
API_PREFIX = "/api.xro/2.0"
SPEC_FILE = "xero_accounting.yaml"
IDENTITY_SPEC_FILE = "xero-identity.yaml"

ENVELOPE = frozenset({"Id", "Status", "ProviderName", "DateTimeUTC"})

# Fields Xero always returns on the records of these answers and that arpilot reads, by
# (method, path template) -> (envelope, fields). Other answers (e.g. PUT .../ContactGroups/{id}/Contacts,
# which echoes bare ContactIDs) are not held to it.
_INVOICE = (
    "Invoices",
    ("InvoiceID", "Type", "Status", "Contact", "Date", "CurrencyCode", "Total", "AmountDue", "UpdatedDateUTC"),
)
_CONTACT = ("Contacts", ("ContactID", "Name", "ContactStatus", "UpdatedDateUTC"))
ALWAYS_PRESENT: Mapping[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("GET", "/Invoices"): _INVOICE,
    ("GET", "/Invoices/{InvoiceID}"): _INVOICE,
    ("GET", "/Contacts"): _CONTACT,
    ("GET", "/Contacts/{ContactID}"): _CONTACT,
    ("POST", "/Contacts/{ContactID}"): _CONTACT,
    ("GET", "/Payments"): ("Payments", ("PaymentID", "Date", "Amount", "Invoice", "UpdatedDateUTC")),
    ("GET", "/ContactGroups"): ("ContactGroups", ("ContactGroupID", "Name", "Status")),
    ("PUT", "/ContactGroups"): ("ContactGroups", ("ContactGroupID", "Name", "Status")),
    ("GET", "/Invoices/{InvoiceID}/History"): ("HistoryRecords", ("Details", "DateUTC")),
}

_MS = re.compile(r"/Date\(-?\d+([+-]\d{4})?\)/")
_DATE_STRING = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
# The companions held to that form; UpdatedDateUTCString is not (the sandbox writes it with a Z).
_DATE_STRING_COMPANIONS = frozenset({"DateString", "DueDateString", "DateUTCString"})

# xero-python serializes these model defaults into every request body, including the spec's
# readOnly ones (Invoice.HasAttachments...); openapi-core refuses a write of a readOnly property.
# `check` strips them (and counts them) before a request body is validated; everything else is checked.
SDK_DEFAULTS = frozenset({"HasAttachments", "HasErrors", "HasAccount", "HasValidationErrors", "IsDiscounted"})


class ConformanceError(AssertionError):
    """An exchange broke the published contract; the message lists every problem found."""


def specs_dir() -> Path:
    """ARPILOT_SPECS_DIR, else the copies kept with the tests (tests/specs/xero)."""
    override = os.environ.get("ARPILOT_SPECS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent / "specs" / "xero"


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as seen on the wire.

    `path` is the request path and query as sent, e.g. `/api.xro/2.0/Invoices?page=1`; any base
    (a loopback host, a sandbox prefix before /api.xro/2.0) is ignored. Identity API paths
    (/Connections) have no base.
    """

    method: str
    path: str
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""


@dataclass(frozen=True)
class _Request:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass(frozen=True)
class _Response:
    status_code: int
    headers: Headers
    data: bytes | None
    content_type: str


class XeroSpec:
    """The loaded contract. Build it once per process with `load_spec()`; it is read-only after."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # The accounting API lives under /api.xro/2.0, the identity API at the host's root.
        self.prefix = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
        # Authorization is checked by hand below: openapi-core does not implement OAuth2 schemes.
        trimmed = copy.deepcopy(document)
        trimmed.pop("security", None)
        for item in trimmed["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("security", None)
        self.openapi = OpenAPI.from_dict(trimmed, config=Config(spec_validator_cls=None))
        # Most specific first: literal segments beat parameters, and where Xero offers two
        # spellings of one path (/Contacts/{ContactID} and /Contacts/{ContactNumber}) the id wins.
        self._templates = sorted(
            ((_template_regex(path), path) for path in document["paths"]),
            key=lambda pair: (
                pair[1].count("{"),
                sum(not name.endswith("ID") for name in re.findall(r"\{(\w+)\}", pair[1])),
                pair[1],
            ),
        )

    # --- public API ------------------------------------------------------------------------

    def problems(self, exchange: Exchange, *, strict: bool = False, response: bool = True) -> list[str]:
        """Everything wrong with the exchange; an empty list means it conforms.

        `response=False` checks the request only (for deliberately injected faulty responses)."""
        path, query = _api_path(exchange.path, self.prefix)
        if path is None:
            return [f"{exchange.path}: not under {self.prefix}"]
        template = self.template_for(path)
        if template is None:
            return [f"{exchange.method} {path}: no such path in the Xero Accounting spec"]
        request = _request(exchange, self.prefix + path, query)
        found = [f"request: {p}" for p in _openapi_problems(self.openapi.validate_request, request)]
        found += [f"request: {p}" for p in _authorization_problems(exchange.request_headers)]
        if response and not found:  # a response only means something for a request the API accepts
            answer = _Response(
                exchange.status,
                Headers(dict(exchange.response_headers)),
                exchange.response_body or None,
                _content_type(exchange.response_headers),
            )
            found += [f"response: {p}" for p in _openapi_problems(self.openapi.validate_response, request, answer)]
            found += [f"response: {p}" for p in self._body_problems(exchange, template, strict)]
        return found

    def assert_conforms(self, exchange: Exchange, *, strict: bool = False, response: bool = True) -> None:
        found = self.problems(exchange, strict=strict, response=response)
        if found:
            raise ConformanceError(
                f"{exchange.method} {exchange.path} -> {exchange.status} breaks the Xero contract:\n  "
                + "\n  ".join(found)
            )

    def documented(self, exchange: Exchange) -> bool:
        """Whether the spec lists the exchange's status for its operation (it leaves out 401/403/404/429)."""
        path, _ = _api_path(exchange.path, self.prefix)
        template = self.template_for(path) if path is not None else None
        if template is None:
            return False
        operation = self.document["paths"][template].get(exchange.method.lower(), {})
        return str(exchange.status) in operation.get("responses", {})

    def template_for(self, path: str) -> str | None:
        """The spec path template a concrete path (without /api.xro/2.0) falls under."""
        for regex, template in self._templates:
            if regex.fullmatch(path):
                return template
        return None

    # --- checks openapi-core cannot make ----------------------------------------------------

    def _body_problems(self, exchange: Exchange, template: str, strict: bool) -> list[str]:
        if not exchange.response_body or "json" not in _content_type(exchange.response_headers):
            return []
        schema = self._response_schema(template, exchange.method.lower(), exchange.status)
        if schema is None:
            return []
        try:
            data = json.loads(exchange.response_body)
        except ValueError:
            return []  # openapi-core has already reported the unreadable body
        found: list[str] = []
        if isinstance(data, dict):
            if "DateTimeUTC" in data:
                found += _ms_problems("$.DateTimeUTC", data["DateTimeUTC"], date_only=False)
            required = ALWAYS_PRESENT.get((exchange.method.upper(), template))
            if required and 200 <= exchange.status < 300:
                found += _always_present_problems(data, *required)
            data = {k: v for k, v in data.items() if k not in ENVELOPE}
        found += list(self._walk(schema, data, "$", strict))
        return found

    def _response_schema(self, template: str, method: str, status: int) -> dict[str, Any] | None:
        operation = self.document["paths"][template].get(method, {})
        responses = operation.get("responses", {})
        response = self._resolve(responses.get(str(status)) or responses.get("default") or {})
        media = response.get("content", {}).get("application/json", {})
        return media.get("schema")

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _walk(self, schema: dict[str, Any], data: Any, where: str, strict: bool) -> Iterator[str]:
        schema = self._resolve(schema)
        for part in schema.get("allOf", ()):
            yield from self._walk(part, data, where, strict)
        if isinstance(data, list) and "items" in schema:
            for index, item in enumerate(data):
                yield from self._walk(schema["items"], item, f"{where}[{index}]", strict)
        if not isinstance(data, dict) or "properties" not in schema:
            return
        properties = {name: self._resolve(sub) for name, sub in schema["properties"].items()}
        for name, value in data.items():
            here = f"{where}.{name}"
            sub = properties.get(name)
            if sub is None:
                companion = properties.get(name.removesuffix("String")) if name.endswith("String") else None
                if strict and not (companion and _is_ms(companion)):
                    yield f"{here}: property not defined by the spec"
                continue
            if _is_ms(sub):
                yield from _ms_problems(here, value, date_only=bool(sub.get("x-is-msdate")))
                spelled = data.get(f"{name}String")
                if (
                    f"{name}String" in _DATE_STRING_COMPANIONS
                    and f"{name}String" in data
                    and not (isinstance(spelled, str) and _DATE_STRING.fullmatch(spelled))
                ):
                    yield f"{where}.{name}String: {spelled!r} is not YYYY-MM-DDTHH:MM:SS"
            else:
                yield from self._walk(sub, value, here, strict)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> XeroSpec:
    with path.open("rb") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return XeroSpec(document)


def load_spec(directory: Path | None = None, name: str = SPEC_FILE) -> XeroSpec:
    """A Xero spec (by default Accounting), parsed once per process (parsing takes about a second)."""
    return _load((directory or specs_dir()).resolve() / name)


def response_examples(envelope: str, spec: XeroSpec | None = None) -> list[tuple[str, Any]]:
    """Every record under `envelope` in the spec's successful response examples (`example:` and each
    of `examples:`), named "METHOD /path #n", as JSON text parsed the way the connector parses Xero:
    numbers as Decimal, never float."""
    found: list[tuple[str, Any]] = []
    for path, item in (spec or load_spec()).document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("responses", {}).get("200") or {}) if isinstance(operation, dict) else {}
            media = (content.get("content") or {}).get("application/json") or {}
            bodies = [media.get("example"), *((e or {}).get("value") for e in (media.get("examples") or {}).values())]
            for body in bodies:
                records = body.get(envelope) if isinstance(body, dict) else None
                for index, record in enumerate(records if isinstance(records, list) else ()):
                    # YAML reads unquoted timestamps (DateString: 2018-10-20T00:00:00) as datetimes.
                    text = json.dumps(record, default=lambda value: value.isoformat())
                    found.append((f"{method.upper()} {path} #{index}", json.loads(text, parse_float=Decimal)))
    return found


@dataclass
class Report:
    """What `check` made of a recorded session."""

    validated: Counter[str] = field(default_factory=Counter)  # "GET /api.xro/2.0/Invoices 200" -> count
    sdk_defaults_stripped: int = 0
    undocumented: Counter[str] = field(default_factory=Counter)  # requests checked, responses not
    failures: list[str] = field(default_factory=list)


def check(exchanges: Iterable[Exchange]) -> Report:
    """Check a session recorded from xero-python: each request, and each response whose status the
    spec documents. Exchanges outside both APIs (the OAuth endpoints) are not the specs' business."""
    report = Report()
    for exchange in exchanges:
        routed = _route(exchange)
        if routed is None:
            continue
        spec, exchange = routed
        body, stripped = _strip_sdk_defaults(exchange.request_body)
        report.sdk_defaults_stripped += stripped
        exchange = replace(exchange, request_body=body)
        documented = spec.documented(exchange)
        label = f"{exchange.method} {urlsplit(exchange.path).path} {exchange.status}"
        problems = spec.problems(exchange, response=documented)
        if problems:
            report.failures.extend(f"{label}: {problem}" for problem in problems)
        elif documented:
            report.validated[label] += 1
        else:
            report.undocumented[label] += 1
    return report


# --- helpers -----------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def _api_path(raw: str, prefix: str) -> tuple[str | None, list[tuple[str, str]]]:
    parts = urlsplit(raw)
    index = parts.path.find(prefix + "/")
    if index < 0:
        return None, []
    return parts.path[index + len(prefix) :], parse_qsl(parts.query, keep_blank_values=True)


def _route(exchange: Exchange) -> tuple[XeroSpec, Exchange] | None:
    """The spec an exchange falls under, and the exchange with its path spelled as that spec does."""
    path = urlsplit(exchange.path).path
    if f"{API_PREFIX}/" in path:
        return load_spec(), exchange
    if path.lower().startswith("/connections"):
        # xero-python asks for /Connections, the sandbox serves any case: the spec spells it /Connections.
        respelled = "/Connections" + exchange.path[len("/connections") :]
        return load_spec(name=IDENTITY_SPEC_FILE), replace(exchange, path=respelled)
    return None


def _strip_sdk_defaults(body: bytes | None) -> tuple[bytes | None, int]:
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

    stripped = walk(data)
    return (json.dumps(stripped).encode("utf-8"), count) if count else (body, 0)


def _content_type(headers: Mapping[str, str]) -> str:
    value = Headers(dict(headers)).get("Content-Type", "application/json")
    return value.lower()


def _request(exchange: Exchange, path: str, query: list[tuple[str, str]]) -> _Request:
    headers = Headers(dict(exchange.request_headers))
    return _Request(
        host_url=XERO_HOST,
        path=path,
        method=exchange.method.lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(query), header=headers, cookie=ImmutableMultiDict(), path={}
        ),
        body=exchange.request_body or None,
        content_type=headers.get("Content-Type", "application/json").lower(),
    )


def _openapi_problems(validate: Any, *args: Any) -> list[str]:
    try:
        validate(*args)
    except Exception as exc:  # noqa: BLE001 - every openapi-core failure is a finding to report
        return [_describe(exc)]
    return []


def _describe(exc: BaseException) -> str:
    """openapi-core nests the useful part (jsonschema errors with paths) in the cause chain."""
    details: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for error in getattr(current, "schema_errors", None) or ():
            location = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            details.append(f"{location}: {error.message}")
        current = current.__cause__ or current.__context__
    summary = details or [str(exc)[:300] or "invalid"]
    return f"{type(exc).__name__}: " + "; ".join(summary)


def _authorization_problems(headers: Mapping[str, str]) -> list[str]:
    value = Headers(dict(headers)).get("Authorization", "")
    if not re.fullmatch(r"Bearer \S+", value):
        return ["Authorization header must be 'Bearer <access token>'"]
    return []


def _is_ms(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("x-is-msdate") or schema.get("x-is-msdate-time"))


def _ms_problems(where: str, value: Any, *, date_only: bool) -> list[str]:
    if not isinstance(value, str) or not _MS.fullmatch(value):
        return [f"{where}: {value!r} is not in Xero's /Date(milliseconds[+hhmm])/ form"]
    try:
        instant = parse_ms_instant(value)
    except ValueError as exc:
        return [f"{where}: {exc}"]
    if date_only and (instant.hour, instant.minute, instant.second, instant.microsecond) != (0, 0, 0, 0):
        return [f"{where}: {value!r} is a calendar date and must be midnight UTC"]
    return []


def _always_present_problems(data: Mapping[str, Any], envelope: str, fields: tuple[str, ...]) -> list[str]:
    records = data.get(envelope)
    if not isinstance(records, list):
        return [f"$.{envelope}: missing (Xero always sends it)"]
    return [
        f"$.{envelope}[{index}].{name}: missing (Xero always sends it)"
        for index, record in enumerate(records)
        if isinstance(record, dict)
        for name in fields
        if name not in record
    ]
