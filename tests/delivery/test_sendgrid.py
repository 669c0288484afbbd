from __future__ import annotations

import logging
import socket
import traceback

import pytest

from reminders.delivery import (
    Attachment,
    DeliveryRateLimited,
    DeliveryRejected,
    DeliveryTransient,
    DeliveryUnauthorized,
    SendGridSender,
)
from reminders.delivery.sendgrid_sender import MESSAGE_KEY_ARG, build_request_body
from tests.delivery.fake_sendgrid import VALIDATOR, FakeSendGrid, Reply
from tests.delivery.samples import API_KEY, make_message
from tests.ports import free_port


def sender_for(server: FakeSendGrid, **kwargs) -> SendGridSender:  # type: ignore[no-untyped-def]
    return SendGridSender(API_KEY, host=server.host, **kwargs)


def everything_said(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(vars(exc))


def test_accepted_message_returns_sendgrids_message_id_and_a_valid_body(fake_sendgrid: FakeSendGrid) -> None:
    receipt = sender_for(fake_sendgrid).send(make_message())

    assert receipt.provider == "sendgrid" and receipt.message_id == "fake-sg-1"
    (seen,) = fake_sendgrid.requests
    assert seen.path == "/v3/mail/send" and seen.violations == []
    assert seen.authorization == f"Bearer {API_KEY}"
    body = seen.body
    assert body["from"] == {"email": "reminders@harborpine.example", "name": "Harbor & Pine Landscaping"}
    assert body["reply_to"] == {"email": "accounts@harborpine.example", "name": "Harbor & Pine Accounts"}
    (personalization,) = body["personalizations"]
    assert personalization["to"] == [{"email": "ap@acme.example", "name": "Acme Accounts Payable"}]
    assert personalization["cc"] == [{"email": "owner@acme.example", "name": "Dana Owner"}]
    assert personalization["custom_args"] == {"action_id": "42", "organization_id": "7", MESSAGE_KEY_ARG: "action-42"}
    assert body["categories"] == ["reminder", "reminder_1"]
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "mail_settings" not in body


def test_sandbox_mode_is_set_in_the_body(fake_sendgrid: FakeSendGrid) -> None:
    sender_for(fake_sendgrid, sandbox_mode=True).send(make_message())
    (seen,) = fake_sendgrid.requests
    assert seen.violations == []
    assert seen.body["mail_settings"] == {"sandbox_mode": {"enable": True}}


def test_text_only_message_without_cc_or_reply_to_is_valid(fake_sendgrid: FakeSendGrid) -> None:
    sender_for(fake_sendgrid).send(make_message(html=None, cc=(), reply_to=None, categories=(), custom_args={}))
    (seen,) = fake_sendgrid.requests
    assert seen.violations == []
    assert seen.body["content"] == [{"type": "text/plain", "value": make_message().text}]


def test_an_attachment_goes_as_base64_with_its_type_and_name(fake_sendgrid: FakeSendGrid) -> None:
    sender_for(fake_sendgrid).send(make_message(attachments=(Attachment("statement.pdf", b"%PDF-1.4 \x00"),)))
    (seen,) = fake_sendgrid.requests
    assert seen.violations == []
    assert seen.body["attachments"] == [
        {
            "content": "JVBERi0xLjQgAA==",
            "type": "application/pdf",
            "filename": "statement.pdf",
            "disposition": "attachment",
        }
    ]


def test_the_schema_catches_a_malformed_body() -> None:
    """The check is real: a body missing its recipients or with a misplaced setting is refused."""
    body = build_request_body(make_message(), sandbox_mode=True)
    assert list(VALIDATOR.iter_errors(body)) == []
    del body["personalizations"][0]["to"]
    body["mail_settings"]["sandbox"] = True
    messages = [e.message for e in VALIDATOR.iter_errors(body)]
    assert any("'to' is a required property" in m for m in messages)
    assert any("sandbox" in m for m in messages)


def test_400_is_a_rejection_naming_the_field(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.replies.append(
        Reply(
            400,
            {"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]},
        )
    )
    with pytest.raises(DeliveryRejected) as caught:
        sender_for(fake_sendgrid).send(make_message())
    assert not isinstance(caught.value, DeliveryTransient)
    assert caught.value.status == 400
    assert caught.value.field == "personalizations.0.to.0.email"
    assert "personalizations.0.to.0.email" in str(caught.value)
    assert "Does not contain a valid address." in str(caught.value)


def test_bad_credentials_are_an_unauthorized_rejection(fake_sendgrid: FakeSendGrid) -> None:
    wrong_key = "SG.wrong-" + "key"
    with pytest.raises(DeliveryUnauthorized) as caught:
        SendGridSender(wrong_key, host=fake_sendgrid.host).send(make_message())
    assert caught.value.status == 401
    assert wrong_key not in everything_said(caught.value)


def test_429_is_transient_with_retry_after_from_the_reset_header(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.replies.append(
        Reply(
            429,
            {"errors": [{"field": None, "message": "too many requests"}]},
            {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000045"},
        )
    )
    with pytest.raises(DeliveryRateLimited) as caught:
        sender_for(fake_sendgrid, clock=lambda: 1000000.0).send(make_message())
    assert isinstance(caught.value, DeliveryTransient)
    assert caught.value.retry_after == 45.0 and caught.value.status == 429
    assert "too many requests" in str(caught.value)


def test_429_prefers_retry_after_when_given(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.replies.append(Reply(429, None, {"Retry-After": "7", "X-RateLimit-Reset": "1000045"}))
    with pytest.raises(DeliveryRateLimited) as caught:
        sender_for(fake_sendgrid, clock=lambda: 1000000.0).send(make_message())
    assert caught.value.retry_after == 7.0


def test_500_is_transient_and_not_ambiguous(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.replies.append(Reply(500, {"errors": [{"message": "internal server error"}]}))
    with pytest.raises(DeliveryTransient) as caught:
        sender_for(fake_sendgrid).send(make_message())
    assert not isinstance(caught.value, DeliveryRateLimited)
    assert caught.value.status == 500 and caught.value.ambiguous is False
    assert "internal server error" in str(caught.value)


def test_unreachable_host_is_transient_and_safe_to_retry() -> None:
    with pytest.raises(DeliveryTransient) as caught:  # a port nothing listens on
        SendGridSender(API_KEY, host=f"http://127.0.0.1:{free_port()}").send(make_message())
    assert caught.value.ambiguous is False
    assert API_KEY not in everything_said(caught.value)


def test_a_silent_server_is_an_ambiguous_transient_failure() -> None:
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        sender = SendGridSender(API_KEY, host=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        with pytest.raises(DeliveryTransient) as caught:
            sender.send(make_message())
    assert caught.value.ambiguous is True


def test_api_key_never_in_errors_or_logs(fake_sendgrid: FakeSendGrid, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sender = sender_for(fake_sendgrid)
    sender.send(make_message(key="ok"))
    raised = []
    for reply in (Reply(400, {"errors": [{"message": "bad", "field": "from"}]}), Reply(429, None), Reply(503, None)):
        fake_sendgrid.replies.append(reply)
        with pytest.raises(Exception) as caught:
            sender.send(make_message())
        raised.append(everything_said(caught.value))

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "Bearer" in logged  # the library did log its headers at DEBUG, redacted
    assert API_KEY not in logged
    assert all(API_KEY not in text for text in raised)
    assert API_KEY not in repr(sender)


def test_an_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="API key"):
        SendGridSender("  ")
