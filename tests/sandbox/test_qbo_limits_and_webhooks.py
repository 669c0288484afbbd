"""Throttling (429 + fault 3001), injected faults and latency, and signed webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, request
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.invoice import Invoice

from connectors.sandbox import SandboxServer
from tests.sandbox.conftest import RunningSandbox


def test_minute_limit_answers_429_with_the_throttle_fault(qbo: RunningSandbox) -> None:
    assert qbo.admin("POST", "/limits", json={"requests_per_minute": 3}).status_code == 200
    qb = qbo.client()
    for _ in range(3):
        Invoice.count(qb=qb)
    with pytest.raises(ValidationException) as throttled:  # python-quickbooks drops the 429 status
        Invoice.count(qb=qb)
    assert throttled.value.error_code == 3001 and "ThrottleExceeded" in throttled.value.message
    token = qbo.minted()["access_token"]
    raw = requests.post(
        f"{qbo.base_url}/v3/company/{qbo.realm}/query",
        data="SELECT * FROM Invoice",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/text"},
    )
    assert raw.status_code == 429 and raw.json()["Fault"]["Error"][0]["code"] == "3001"
    qbo.admin("POST", "/clock", json={"advance_seconds": 60})
    assert Invoice.count(qb=qb) == 5  # the next window lets it through
    counts = qbo.admin("GET", "/requests").json()
    assert counts["throttled"] == {"requests-per-minute": 2}
    assert counts["requests"]["POST /v3/company/<realm>/query"] == 6


def test_batch_items_count_against_the_minute_limit(qbo: RunningSandbox) -> None:
    qbo.admin("POST", "/limits", json={"requests_per_minute": 10, "batch_requests_per_minute": 2})
    qb = qbo.client()
    items = json.dumps({"BatchItemRequest": [{"bId": str(n), "Query": "SELECT COUNT(*) FROM Term"} for n in range(4)]})
    qb.batch_operation(items)
    qb.batch_operation(items)
    with pytest.raises(ValidationException) as by_items:
        qb.batch_operation(items)  # 12 items > 10 a minute
    assert by_items.value.error_code == 3001
    qbo.admin("POST", "/clock", json={"advance_seconds": 60})
    small = json.dumps({"BatchItemRequest": [{"bId": "1", "Query": "SELECT COUNT(*) FROM Term"}]})
    qb.batch_operation(small)
    qb.batch_operation(small)
    with pytest.raises(ValidationException, match="batch-requests-per-minute"):
        qb.batch_operation(small)


def test_concurrency_gate(qbo: RunningSandbox) -> None:
    qbo.admin("POST", "/limits", json={"concurrent_requests": 1})
    qbo.admin("POST", "/faults", json={"path": "/query$", "kind": "timeout", "seconds": 0.5, "count": 1})
    tokens = qbo.minted()
    slow_done = threading.Event()

    def slow() -> None:
        requests.post(
            f"{qbo.base_url}/v3/company/{qbo.realm}/query",
            data="SELECT * FROM Term",
            timeout=10,
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        slow_done.set()

    worker = threading.Thread(target=slow)
    worker.start()
    # The injected delay comes after the work, while the slow call holds the gate.
    while qbo.sandbox.runtime.gate.in_flight(qbo.realm) == 0 and not slow_done.is_set():
        time.sleep(0.005)
    answer = requests.get(
        f"{qbo.base_url}/v3/company/{qbo.realm}/term/1",
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
    )
    worker.join()
    if not slow_done.is_set() or answer.status_code == 200:
        pytest.fail(f"expected the second call to be refused while the first held the gate: {answer.status_code}")
    assert answer.status_code == 429
    assert qbo.admin("GET", "/requests").json()["throttled"] == {"concurrent-requests": 1}


def test_injected_faults(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    assert (
        qbo.admin(
            "POST",
            "/faults",
            json=[
                {"path": "/query$", "kind": "status", "status": 503, "count": 2},
                {"path": "/query$", "kind": "malformed"},
            ],
        ).status_code
        == 200
    )
    for _ in range(2):
        with pytest.raises(QuickbooksException) as unavailable:
            Invoice.count(qb=qb)
        assert unavailable.value.error_code == 10000  # non-JSON body
    with pytest.raises(QuickbooksException, match="Error reading json"):
        Invoice.count(qb=qb)
    assert Invoice.count(qb=qb) == 5
    qbo.admin("POST", "/faults", json={"path": "/invoice/", "kind": "close", "method": "GET"})
    with pytest.raises(requests.ConnectionError):
        Invoice.get("1", qb=qb)
    qbo.admin("POST", "/faults", json={"path": "/term/", "kind": "timeout", "seconds": 1.0})
    with pytest.raises(requests.Timeout):
        requests.get(f"{qbo.base_url}/v3/company/{qbo.realm}/term/1", timeout=0.2)
    assert qbo.admin("GET", "/requests").json()["faults_injected"] == {
        "status": 2,
        "malformed": 1,
        "close": 1,
        "timeout": 1,
    }


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "status"},
        {"path": "(", "kind": "status"},
        {"path": "/x", "kind": "explode"},
        {"path": "/x", "count": 0},
        {"path": "/x", "colour": "red"},
    ],
)
def test_bad_fault_rules_are_refused(qbo: RunningSandbox, rule: dict[str, object]) -> None:
    answer = qbo.admin("POST", "/faults", json=rule)
    assert answer.status_code == 400 and answer.json()["error"]
    assert qbo.admin("GET", "/faults").json()["faults"] == []


@pytest.mark.parametrize(
    "limits", [{"requests_per_minute": 0}, {"speed": 3}, {"latency_ms": -1}, {"concurrent_requests": "2"}]
)
def test_bad_limits_are_refused(qbo: RunningSandbox, limits: dict[str, object]) -> None:
    before = qbo.admin("GET", "/limits").json()
    assert qbo.admin("POST", "/limits", json=limits).status_code == 400
    assert qbo.admin("GET", "/limits").json() == before


class _Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []
        self.app = Flask("receiver")
        self.app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])

    def _hook(self) -> tuple[str, int]:
        self.bodies.append((request.get_data(as_text=True), request.headers.get("intuit-signature", "")))
        return "", 200


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, str]]:
    hook = _Receiver()
    server = SandboxServer(hook.app)
    try:
        yield hook, server.start() + "/hook"
    finally:
        server.stop()


@pytest.mark.parametrize("fmt", ["cloudevents", "legacy"])
def test_webhooks_are_signed_and_verifiable(qbo: RunningSandbox, receiver: tuple[_Receiver, str], fmt: str) -> None:
    hook, url = receiver
    assert qbo.admin("POST", "/webhooks", json={"url": url, "format": fmt}).status_code == 200
    qb = qbo.client()
    invoice = Invoice.filter(DocNumber="1002", qb=qb)[0]
    qb.update_object(
        "Invoice",
        json.dumps({"Id": invoice.Id, "SyncToken": invoice.SyncToken, "sparse": True, "PrivateNote": "hooked"}),
    )
    qbo.admin("POST", f"/companies/{qbo.realm}/notify", json={"entity": "Customer", "id": "1", "operation": "Update"})
    assert qbo.admin("POST", "/webhooks/wait").json()["idle"] is True
    assert len(hook.bodies) == 2
    verifier = qbo.sandbox.config.verifier_token
    for body, signature in hook.bodies:
        assert QuickBooks().validate_webhook_signature(body, signature, verifier)
        assert not QuickBooks().validate_webhook_signature(body, signature, "wrong-token")
    first = json.loads(hook.bodies[0][0])
    if fmt == "cloudevents":
        assert first[0]["type"] == "qbo.invoice.updated.v1" and first[0]["intuitentityid"] == invoice.Id
        assert first[0]["intuitaccountid"] == qbo.realm
    else:
        entity = first["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
        assert (entity["name"], entity["id"], entity["operation"]) == ("Invoice", invoice.Id, "Update")
    deliveries = qbo.admin("GET", "/webhooks").json()["deliveries"]
    assert [d["status"] for d in deliveries] == [200, 200]


def test_notify_without_a_webhook_url_is_refused(qbo: RunningSandbox) -> None:
    answer = qbo.admin("POST", f"/companies/{qbo.realm}/notify", json={"entity": "Invoice", "id": "1"})
    assert answer.status_code == 400 and "no webhook URL" in answer.json()["error"]
