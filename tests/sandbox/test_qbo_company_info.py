"""CompanyInfo in the sandbox: the documented read, the query, and the faults around them."""

from __future__ import annotations

import pytest
import requests
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer

from tests.sandbox.conftest import RunningSandbox

COMPANY = "Harbor & Pine Landscaping"  # small_scenario's company


def _get(qbo: RunningSandbox, path: str, token: str, **params: str) -> requests.Response:
    return requests.get(
        f"{qbo.base_url}/v3/company/{path}",
        params=params,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


def test_read_by_realm_id_through_python_quickbooks(qbo: RunningSandbox) -> None:
    info = CompanyInfo.get(qbo.realm, qb=qbo.client())
    assert (info.Id, info.CompanyName, info.LegalName, info.Country) == ("1", COMPANY, COMPANY, "US")
    assert info.Email.Address == "billing@example.com"  # the scenario's default address
    assert info.CompanyAddr.Country == "US" and info.SupportedLanguages == "en"
    assert info.FiscalYearStartMonth == "January" and info.CompanyStartDate == "2026-08-25"
    assert info.MetaData.CreateTime.startswith("2026-08-25T09:00:00-06:00")


def test_raw_read_has_the_entity_envelope(qbo: RunningSandbox) -> None:
    answer = _get(qbo, f"{qbo.realm}/companyinfo/{qbo.realm}", qbo.minted()["access_token"], minorversion="75")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"CompanyInfo", "time"}
    info = body["CompanyInfo"]
    assert (info["SyncToken"], info["domain"], info["sparse"]) == ("0", "QBO", False)
    assert info["CustomerCommunicationEmailAddr"] == {"Address": "billing@example.com"}


def test_select_star_from_company_info(qbo: RunningSandbox) -> None:
    qb = qbo.client()
    assert [i.CompanyName for i in CompanyInfo.all(qb=qb)] == [COMPANY]
    token = qbo.minted()["access_token"]
    answer = _get(qbo, f"{qbo.realm}/query", token, query="select * from CompanyInfo")
    assert answer.status_code == 200
    response = answer.json()["QueryResponse"]
    assert (len(response["CompanyInfo"]), response["startPosition"], response["maxResults"]) == (1, 1, 1)
    assert response["CompanyInfo"][0] == _get(qbo, f"{qbo.realm}/companyinfo/{qbo.realm}", token).json()["CompanyInfo"]
    assert CompanyInfo.where(f"CompanyName = '{COMPANY}'", qb=qb)[0].Id == "1"
    assert CompanyInfo.where("CompanyName = 'Someone Else'", qb=qb) == []


def test_read_with_an_id_other_than_the_realm_is_610(qbo: RunningSandbox) -> None:
    with pytest.raises(ObjectNotFoundException) as missing:
        CompanyInfo.get("9999", qb=qbo.client())
    assert missing.value.error_code == 610 and "CompanyInfo 9999" in missing.value.detail


def test_another_realm_with_this_token_is_refused_403(qbo: RunningSandbox) -> None:
    added = qbo.admin("POST", "/companies", json={"demo": {"seed": 7, "as_of": "2026-11-23"}})
    assert added.status_code == 201, added.text
    other = added.json()["realm_id"]
    token = qbo.minted()["access_token"]  # granted for qbo.realm only
    answer = _get(qbo, f"{other}/companyinfo/{other}", token)
    assert answer.status_code == 403
    error = answer.json()["Fault"]["Error"][0]
    assert (answer.json()["Fault"]["type"], error["code"]) == ("AuthorizationFault", "120")


def test_company_info_cannot_be_written(qbo: RunningSandbox) -> None:
    token = qbo.minted()["access_token"]
    answer = requests.post(
        f"{qbo.base_url}/v3/company/{qbo.realm}/companyinfo",
        json={"Id": "1", "CompanyName": "x"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "500"
    with pytest.raises(QuickbooksException):
        CompanyInfo.get(qbo.realm, qb=qbo.client()).save(qb=qbo.client())
    assert CompanyInfo.get(qbo.realm, qb=qbo.client()).CompanyName == COMPANY


def test_addresses_deserialize_through_python_quickbooks(qbo: RunningSandbox) -> None:
    """The demo's addresses as QuickBooks serves them: CompanyInfo's CompanyAddr and a customer's BillAddr."""
    loaded = qbo.admin("POST", f"/companies?realm_id={qbo.realm}", json={"demo": {"seed": 7, "as_of": "2026-11-23"}})
    assert loaded.status_code == 201, loaded.text
    qb = qbo.client()
    info = CompanyInfo.get(qbo.realm, qb=qb)
    for address in (info.CompanyAddr, info.LegalAddr):
        assert (address.Line1, address.City, address.CountrySubDivisionCode, address.PostalCode) == (
            "2150 Pearl St",
            "Boulder",
            "CO",
            "80302",
        )
    customer = Customer.get(loaded.json()["ids"]["customers"]["cust-05"], qb=qb)
    bill = customer.BillAddr
    assert (bill.Line1, bill.Line2, bill.City, bill.PostalCode, bill.Country) == (
        "785 Canyon Blvd",
        "Suite 105",
        "Golden",
        "80401",
        "US",
    )
