"""QuickBooks Online faults: the `Fault` envelope and the codes the reference documents.

Where the reference names no code for a condition (CDC window, batch size, malformed values) the
closest documented family is used and the choice is listed in README.md.
"""

from __future__ import annotations

from typing import Any

AUTH_FAILED = "3200"
AUTHORIZATION_FAILURE = "120"
UNSUPPORTED_OPERATION = "500"
OBJECT_NOT_FOUND = "610"
INVALID_PROPERTY = "2010"
REQUIRED_PARAM_MISSING = "2020"
INVALID_STRING_LENGTH = "2050"
INVALID_ENUMERATION = "2170"
INVALID_REFERENCE = "2500"
THROTTLED = "3001"
QUERY_PARSER_ERROR = "4000"
STALE_OBJECT = "5010"
BUSINESS_VALIDATION = "6000"
DUPLICATE_DOC_NUM = "6140"
DUPLICATE_NAME = "6240"
SYSTEM_FAILURE = "10000"


class QboFault(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        *,
        status: int = 400,
        fault_type: str = "ValidationFault",
        element: str = "",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status
        self.fault_type = fault_type
        self.element = element

    def fault(self) -> dict[str, Any]:
        return {
            "Error": [{"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}],
            "type": self.fault_type,
        }


def not_found(entity: str, entity_id: str) -> QboFault:
    return QboFault(
        OBJECT_NOT_FOUND,
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive or is not "
        f"found: {entity} {entity_id}",
    )


def stale(entity: str) -> QboFault:
    return QboFault(
        STALE_OBJECT,
        "Stale Object Error",
        f"Stale Object Error : You and sandbox-user@example.com were working on this {entity} at "
        "the same time. sandbox-user@example.com finished before you did, so your work was not saved.",
    )


def required(field_name: str) -> QboFault:
    return QboFault(
        REQUIRED_PARAM_MISSING,
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field_name} is missing in the request",
        element=field_name,
    )


def invalid(field_name: str, why: str) -> QboFault:
    return QboFault(
        INVALID_PROPERTY,
        "Request has invalid or unsupported property",
        f"Property Name:{field_name} {why}",
        element=field_name,
    )


def too_long(field_name: str, maximum: int, supplied: int) -> QboFault:
    return QboFault(
        INVALID_STRING_LENGTH,
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} "
        f"supported. Supplied length:{supplied}",
        element=field_name,
    )


def business(detail: str) -> QboFault:
    return QboFault(
        BUSINESS_VALIDATION,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def bad_reference(field_name: str, value: Any) -> QboFault:
    return QboFault(
        INVALID_REFERENCE,
        "Invalid Reference Id",
        f"Invalid Reference Id : {field_name} assigned is not found: {value}",
        element=field_name,
    )


def query_error(detail: str) -> QboFault:
    return QboFault(QUERY_PARSER_ERROR, "Error parsing query", f"QueryParserError: {detail}")


def authentication_failed(detail: str) -> QboFault:
    return QboFault(
        AUTH_FAILED,
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        status=401,
        fault_type="AUTHENTICATION",
    )


def throttled(detail: str) -> QboFault:
    return QboFault(
        THROTTLED,
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        detail,
        status=429,
        fault_type="ThrottleExceeded",
    )
