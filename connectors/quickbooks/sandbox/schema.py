"""Which QuickBooks entities the sandbox serves, which fields clients may write, filter and sort.

Field kinds drive how a query literal is compared: `id` and `ref` compare as id strings (a ref
compares its `value`), `number` as Decimal, `date` as a calendar date, `datetime` as an instant,
`bool` as a boolean, `string`/`enum` as text (`email` reads `Address`).
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSACTION = "transaction"
NAME_LIST = "name_list"
SETTINGS = "settings"  # one per company, read and queried, never created or deleted

_META = {"MetaData.CreateTime": "datetime", "MetaData.LastUpdatedTime": "datetime"}


@dataclass(frozen=True)
class EntitySpec:
    name: str
    kind: str
    filterable: dict[str, str]
    writable: frozenset[str]
    # Filterable fields the sandbox computes when it renders (everything else is read off the stored
    # record, MetaData from its instants), so a query renders a row only to test these.
    derived: frozenset[str] = frozenset()


INVOICE = EntitySpec(
    "Invoice",
    TRANSACTION,
    {
        "Id": "id",
        "DocNumber": "string",
        "TxnDate": "date",
        "DueDate": "date",
        "CustomerRef": "ref",
        "Balance": "number",
        "TotalAmt": "number",
        "EmailStatus": "enum",
        **_META,
    },
    frozenset(
        {
            "DocNumber",
            "TxnDate",
            "DueDate",
            "CustomerRef",
            "SalesTermRef",
            "CurrencyRef",
            "BillEmail",
            "BillEmailCc",
            "BillEmailBcc",
            "PrivateNote",
            "CustomerMemo",
            "EmailStatus",
            "PrintStatus",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
            "AllowIPNPayment",
            "Line",
            "BillAddr",
            "ShipAddr",
            "ShipDate",
            "TrackingNum",
            "CustomField",
            "ApplyTaxAfterDiscount",
            "DepartmentRef",
        }
    ),
    frozenset({"Balance", "TotalAmt"}),
)
CUSTOMER = EntitySpec(
    "Customer",
    NAME_LIST,
    {
        "Id": "id",
        "DisplayName": "string",
        "GivenName": "string",
        "FamilyName": "string",
        "CompanyName": "string",
        "FullyQualifiedName": "string",
        "PrimaryEmailAddr": "email",
        "Balance": "number",
        "Active": "bool",
        **_META,
    },
    frozenset(
        {
            "DisplayName",
            "Title",
            "GivenName",
            "MiddleName",
            "FamilyName",
            "Suffix",
            "CompanyName",
            "PrintOnCheckName",
            "PrimaryEmailAddr",
            "PrimaryPhone",
            "Mobile",
            "Fax",
            "AlternatePhone",
            "WebAddr",
            "BillAddr",
            "ShipAddr",
            "Notes",
            "Active",
            "SalesTermRef",
            "CurrencyRef",
            "PreferredDeliveryMethod",
            "CustomerTypeRef",
            "Taxable",
            "ResaleNum",
            "PaymentMethodRef",
            "Job",
            "ParentRef",
            "BillWithParent",
        }
    ),
    frozenset({"Balance", "FullyQualifiedName", "Active"}),
)
TERM = EntitySpec(
    "Term",
    NAME_LIST,
    {"Id": "id", "Name": "string", "Active": "bool", "Type": "enum", **_META},
    frozenset(
        {
            "Name",
            "Active",
            "DueDays",
            "DiscountPercent",
            "DiscountDays",
            "DayOfMonthDue",
            "DueNextMonthDays",
            "DiscountDayOfMonth",
        }
    ),
    frozenset({"Type", "Active"}),
)
PAYMENT = EntitySpec(
    "Payment",
    TRANSACTION,
    {"Id": "id", "TxnDate": "date", "CustomerRef": "ref", "TotalAmt": "number", **_META},
    frozenset(
        {
            "CustomerRef",
            "TotalAmt",
            "TxnDate",
            "Line",
            "CurrencyRef",
            "PaymentRefNum",
            "PrivateNote",
            "PaymentMethodRef",
            "DepositToAccountRef",
        }
    ),
)

CREDIT_MEMO = EntitySpec(
    "CreditMemo",
    TRANSACTION,
    {
        "Id": "id",
        "DocNumber": "string",
        "TxnDate": "date",
        "CustomerRef": "ref",
        "Balance": "number",
        "TotalAmt": "number",
        "RemainingCredit": "number",
        **_META,
    },
    frozenset(
        {"DocNumber", "TxnDate", "CustomerRef", "CurrencyRef", "Line", "PrivateNote", "CustomerMemo", "BillEmail"}
    ),
    frozenset({"Balance", "TotalAmt", "RemainingCredit"}),
)

# Products and services (the late fee's Service item); the sandbox keeps only what a sales line needs.
ITEM = EntitySpec(
    "Item",
    NAME_LIST,
    {"Id": "id", "Name": "string", "Type": "enum", "Active": "bool", **_META},
    frozenset({"Name", "Type", "Description", "UnitPrice", "Active", "IncomeAccountRef", "Taxable"}),
    frozenset({"Active"}),
)

# The company's own record (Finance.xsd `CompanyInfo`): read at `companyinfo/<realm id>` and by
# `select * from CompanyInfo`; the sandbox takes no writes to it.
COMPANY_INFO = EntitySpec(
    "CompanyInfo",
    SETTINGS,
    {"Id": "id", "CompanyName": "string", "LegalName": "string", "Country": "string", **_META},
    frozenset(),
)

# Entities that are written, synced (CDC) and batched.
ENTITIES: dict[str, EntitySpec] = {spec.name: spec for spec in (INVOICE, CUSTOMER, TERM, PAYMENT, CREDIT_MEMO, ITEM)}
BY_PATH: dict[str, EntitySpec] = {spec.name.lower(): spec for spec in ENTITIES.values()}
# Everything the query and read endpoints serve.
READABLE: dict[str, EntitySpec] = {**ENTITIES, COMPANY_INFO.name: COMPANY_INFO}
READABLE_BY_PATH: dict[str, EntitySpec] = {spec.name.lower(): spec for spec in READABLE.values()}
