"""A minimal loopback stand-in for api.xero.com/api.xro/2.0 for the connector tests.

It answers the calls the connector makes with canned, spec-conformant JSON, keeps just enough state
(history notes, group members, terms) to check write-back, records every exchange for conformance
checks, and can be told to answer the next requests with a given fault. The Xero sandbox
(connectors/xero/sandbox/) replaces it for end-to-end tests.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connectors.xero.mapping import format_ms_instant, parse_ms_instant
from tests.xero.samples import (
    BASE_TIME,
    CONTACT_ID,
    TENANT_ID,
    contact_json,
    dumps,
    envelope,
    invoice_json,
    loads,
    payment_json,
)
from tests.xero_conformance import Exchange


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON with the Xero envelope; bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    conformant: bool = True  # False for deliberately broken answers (malformed JSON)


@dataclass
class Recorded:
    exchange: Exchange
    conformant: bool


def validation_error(message: str) -> Reply:
    return Reply(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": message}]}],
        },
    )


def problem(status: int, title: str, detail: str) -> Reply:
    return Reply(
        status,
        {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4())},
        conformant=False,
    )


class CannedXero:
    def __init__(self, invoices: int = 3) -> None:
        self.invoices = [invoice_json(n) for n in range(1, invoices + 1)]
        self.contacts = {CONTACT_ID: contact_json()}
        self.payments = [payment_json(1)]
        self.credits: dict[str, list[dict[str, Any]]] = {"CreditNotes": [], "Overpayments": [], "Prepayments": []}
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.emailed: list[str] = []
        self.valid_tokens = {"tok-1"}
        self.recorded: list[Recorded] = []
        self._faults: deque[Reply] = deque()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            ("GET", re.compile(r"/Invoices"), lambda rq: self._paged(rq, "Invoices", self.invoices)),
            ("GET", re.compile(r"/Invoices/([^/]+)"), self._invoice),
            ("GET", re.compile(r"/Invoices/([^/]+)/OnlineInvoice"), self._online_invoice),
            ("GET", re.compile(r"/Invoices/([^/]+)/History"), self._get_history),
            ("PUT", re.compile(r"/Invoices/([^/]+)/History"), self._put_history),
            ("POST", re.compile(r"/Invoices/([^/]+)/Email"), self._email),
            ("GET", re.compile(r"/Contacts"), lambda rq: self._paged(rq, "Contacts", list(self.contacts.values()))),
            ("GET", re.compile(r"/Contacts/([^/]+)"), self._contact),
            ("POST", re.compile(r"/Contacts/([^/]+)"), self._update_contact),
            ("PUT", re.compile(r"/Contacts/([^/]+)/History"), self._put_history),
            (
                "GET",
                re.compile(r"/ContactGroups"),
                lambda rq: Reply(body={"ContactGroups": list(self.groups.values())}),
            ),
            ("PUT", re.compile(r"/ContactGroups"), self._create_group),
            ("PUT", re.compile(r"/ContactGroups/([^/]+)/Contacts"), self._add_members),
            ("DELETE", re.compile(r"/ContactGroups/([^/]+)/Contacts/([^/]+)"), self._remove_member),
            ("GET", re.compile(r"/Payments"), lambda rq: self._paged(rq, "Payments", self.payments)),
            *(
                ("GET", re.compile(f"/{name}"), lambda rq, name=name: self._paged(rq, name, self.credits[name]))
                for name in self.credits
            ),
            (
                "GET",
                re.compile(r"/Organisation"),
                lambda rq: Reply(
                    body={
                        "Organisations": [
                            {
                                "OrganisationID": str(uuid.uuid5(uuid.NAMESPACE_URL, TENANT_ID)),
                                "Name": "Demo",
                                "BaseCurrency": "USD",
                            }
                        ]
                    }
                ),
            ),
        ]
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/api.xro/2.0"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> CannedXero:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, whatever they ask."""
        self._faults.extend(replies)

    def requests(self, method: str | None = None) -> list[Exchange]:
        return [r.exchange for r in self.recorded if method is None or r.exchange.method == method]

    # --- WSGI ------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data()
        reply = self._answer(request)
        data = (
            reply.body
            if isinstance(reply.body, bytes)
            else (b"" if reply.body is None else dumps(envelope(**reply.body) if reply.status < 300 else reply.body))
        )
        headers = dict(reply.headers)
        if data:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.recorded.append(
            Recorded(
                Exchange(
                    request.method,
                    request.full_path.rstrip("?"),
                    dict(request.headers),
                    body or None,
                    reply.status,
                    headers,
                    data,
                ),
                reply.conformant,
            )
        )
        return Response(data, status=reply.status, headers=headers)(environ, start_response)

    def _answer(self, request: Request) -> Reply:
        if self._faults:
            return self._faults.popleft()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return problem(401, "Unauthorized", "TokenExpired: token expired")
        if request.headers.get("xero-tenant-id") != TENANT_ID:
            return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        path = request.path.removeprefix("/api.xro/2.0")
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                return handler(request, *match.groups())
        return problem(404, "Not Found", "The resource you're looking for cannot be found")

    # --- handlers --------------------------------------------------------------------------------

    def _paged(self, request: Request, name: str, items: list[dict[str, Any]]) -> Reply:
        since_header = request.headers.get("If-Modified-Since")
        if since_header:
            since = dt.datetime.fromisoformat(since_header)
            items = [i for i in items if parse_ms_instant(i["UpdatedDateUTC"]) >= since]
        items = sorted(items, key=lambda i: parse_ms_instant(i["UpdatedDateUTC"]))
        page = int(request.args.get("page", 1))
        size = int(request.args.get("pageSize", 100))
        chunk = items[(page - 1) * size : page * size]
        count = -(-len(items) // size)
        return Reply(
            body={
                name: chunk,
                "pagination": {"page": page, "pageSize": size, "pageCount": count, "itemCount": len(items)},
            }
        )

    def _invoice(self, request: Request, invoice_id: str) -> Reply:
        found = [i for i in self.invoices if i["InvoiceID"] == invoice_id]
        return Reply(body={"Invoices": found}) if found else problem(404, "Not Found", "no invoice")

    def _online_invoice(self, request: Request, invoice_id: str) -> Reply:
        return Reply(body={"OnlineInvoices": [{"OnlineInvoiceUrl": f"https://in.xero.com/{invoice_id}"}]})

    def _get_history(self, request: Request, record_id: str) -> Reply:
        return Reply(body={"HistoryRecords": self.history.get(record_id, [])})

    def _put_history(self, request: Request, record_id: str) -> Reply:
        if record_id not in self.contacts and all(i["InvoiceID"] != record_id for i in self.invoices):
            return problem(404, "Not Found", "The resource you're looking for cannot be found")
        added = [
            {"Details": r["Details"], "DateUTC": format_ms_instant(BASE_TIME), "User": "arpilot", "Changes": "Note"}
            for r in loads(request.get_data())["HistoryRecords"]
        ]
        self.history.setdefault(record_id, []).extend(added)
        return Reply(body={"HistoryRecords": added})

    def _email(self, request: Request, invoice_id: str) -> Reply:
        self.emailed.append(invoice_id)
        return Reply(204)

    def _contact(self, request: Request, contact_id: str) -> Reply:
        contact = self.contacts.get(contact_id)
        if contact is None:
            return problem(404, "Not Found", "no contact")
        groups = [g for gid, g in self.groups.items() if contact_id in self.members.get(gid, set())]
        return Reply(body={"Contacts": [dict(contact, ContactGroups=groups)]})

    def _update_contact(self, request: Request, contact_id: str) -> Reply:
        change = loads(request.get_data())["Contacts"][0]
        self.contacts[contact_id] = dict(self.contacts[contact_id], **change)
        return Reply(body={"Contacts": [self.contacts[contact_id]]})

    def _create_group(self, request: Request) -> Reply:
        group_id = str(uuid.uuid4())
        name = loads(request.get_data())["ContactGroups"][0]["Name"]
        self.groups[group_id] = {"ContactGroupID": group_id, "Name": name, "Status": "ACTIVE"}
        return Reply(body={"ContactGroups": [self.groups[group_id]]})

    def _add_members(self, request: Request, group_id: str) -> Reply:
        contacts = loads(request.get_data())["Contacts"]
        self.members.setdefault(group_id, set()).update(c["ContactID"] for c in contacts)
        return Reply(body={"Contacts": [{"ContactID": c["ContactID"]} for c in contacts]})

    def _remove_member(self, request: Request, group_id: str, contact_id: str) -> Reply:
        self.members.get(group_id, set()).discard(contact_id)
        return Reply(204)
