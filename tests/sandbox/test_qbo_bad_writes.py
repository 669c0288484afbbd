"""Every bad write gets the documented fault, and nothing changes in the company."""

from __future__ import annotations

import json

import pytest
import requests
from quickbooks.exceptions import AuthorizationException, QuickbooksException

from tests.sandbox.conftest import RunningSandbox

LINE = [{"Amount": 10, "DetailType": "SalesItemLineDetail"}]


@pytest.mark.parametrize(
    ("entity", "body", "code"),
    [
        ("Invoice", {"Line": LINE}, 2020),  # no CustomerRef
        ("Invoice", {"CustomerRef": {"value": "999"}, "Line": LINE}, 2500),  # unknown customer
        ("Invoice", {"CustomerRef": {"value": "1"}}, 2020),  # no lines
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": [{"Amount": "lots"}]}, 2010),
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": LINE, "DocNumber": "1001"}, 6140),
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": LINE, "PrivateNote": "x" * 4001}, 2050),
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": LINE, "TxnDate": "23/11/2026"}, 2010),
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": LINE, "EmailStatus": "Sentish"}, 2170),
        ("Invoice", {"CustomerRef": {"value": "1"}, "Line": LINE, "SalesTermRef": {"value": "77"}}, 2500),
        ("Customer", {"DisplayName": "Bad: name"}, 2010),
        ("Customer", {"DisplayName": "Long notes", "Notes": "n" * 2001}, 2050),
        ("Customer", {"DisplayName": "Bad email", "PrimaryEmailAddr": {"Address": "nobody"}}, 2010),
        ("Customer", {}, 2020),
        ("Term", {"Name": "x" * 32, "DueDays": 10}, 2050),
        (
            "Term",
            {"Name": "Both", "DueDays": 10, "DayOfMonthDue": 15, "DueNextMonthDays": 5, "DiscountDayOfMonth": 0},
            6000,
        ),
        ("Term", {"Name": "Day 40", "DayOfMonthDue": 40, "DueNextMonthDays": 5, "DiscountDayOfMonth": 0}, 2010),
        ("Payment", {"CustomerRef": {"value": "1"}}, 2020),
        (
            "Payment",
            {
                "CustomerRef": {"value": "1"},
                "TotalAmt": 5,
                "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "3", "TxnType": "Invoice"}]}],
            },
            6000,
        ),  # not their invoice
        (
            "Payment",
            {
                "CustomerRef": {"value": "1"},
                "TotalAmt": 5,
                "Line": [{"Amount": 6, "LinkedTxn": [{"TxnId": "2", "TxnType": "Invoice"}]}],
            },
            6000,
        ),  # more than paid
    ],
)
def test_bad_creates(qbo: RunningSandbox, entity: str, body: dict[str, object], code: int) -> None:
    qb = qbo.client()
    before = qbo.sandbox.company(qbo.realm).entities[entity].copy()
    with pytest.raises(QuickbooksException) as fault:
        qb.create_object(entity, json.dumps(body))
    assert fault.value.error_code == code, fault.value.detail
    assert qbo.sandbox.company(qbo.realm).entities[entity] == before


def test_update_without_sync_token_and_unknown_id(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    with pytest.raises(QuickbooksException) as missing:
        qb.update_object("Invoice", json.dumps({"Id": "2", "sparse": True, "PrivateNote": "x"}))
    assert missing.value.error_code == 2020
    with pytest.raises(QuickbooksException) as unknown:
        qb.update_object("Invoice", json.dumps({"Id": "999", "SyncToken": "0", "sparse": True}))
    assert unknown.value.error_code == 610


def test_customer_with_open_balance_cannot_go_inactive(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    customer = qb.get_single_object("Customer", "2")["Customer"]
    body = {"Id": "2", "SyncToken": customer["SyncToken"], "sparse": True, "Active": False}
    with pytest.raises(QuickbooksException) as refused:
        qb.update_object("Customer", json.dumps(body))
    assert refused.value.error_code == 6000 and "Balance" in refused.value.detail


def test_name_list_entities_cannot_be_deleted(qbo: RunningSandbox) -> None:
    with pytest.raises(QuickbooksException) as refused:
        qbo.client().delete_object("Customer", json.dumps({"Id": "1", "SyncToken": "0"}))
    assert refused.value.error_code == 500


def _raw(qbo: RunningSandbox, path: str, data: str, token: str | None = None, **params: str) -> requests.Response:
    token = token or qbo.minted()["access_token"]
    return requests.post(
        f"{qbo.base_url}/v3/company/{qbo.realm}/{path}",
        data=data,
        params=params,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_malformed_json_and_bad_parameters(qbo: RunningSandbox) -> None:
    bad_json = _raw(qbo, "invoice", "{not json")
    assert bad_json.status_code == 400 and bad_json.json()["Fault"]["Error"][0]["code"] == "2010"
    assert _raw(qbo, "invoice", "{}", minorversion="latest").status_code == 400
    unsupported = _raw(qbo, "customer", json.dumps({"Id": "1", "SyncToken": "0"}), operation="void")
    assert unsupported.json()["Fault"]["Error"][0]["code"] == "500"
    unknown_entity = _raw(qbo, "vendor", "{}")
    assert unknown_entity.json()["Fault"]["Error"][0]["code"] == "500"


def test_tokens_for_another_company_or_without_accounting_scope(qbo: RunningSandbox) -> None:
    other = qbo.admin("POST", "/companies", json={"demo": {"seed": 3}}).json()["realm_id"]
    token = qbo.admin("POST", "/tokens", json={"realm_id": other}).json()["access_token"]
    answer = _raw(qbo, "query", "SELECT * FROM Term", token=token)
    assert answer.status_code == 403 and answer.json()["Fault"]["Error"][0]["code"] == "120"
    openid_only = qbo.minted(scopes=["openid"])
    with pytest.raises(AuthorizationException):
        qbo.client(openid_only["access_token"], openid_only["refresh_token"]).query("SELECT * FROM Term")
    unauthenticated = _raw(qbo, "query", "SELECT * FROM Term", token="forged")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["Fault"]["Error"][0]["Message"].startswith("message=AuthenticationFailed")
