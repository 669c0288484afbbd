"""One inbound email as arpilot needs it, read from raw MIME or from SendGrid's parsed fields.

Reading never raises for what a sender wrote: a charset Python does not know is decoded with
replacement characters and said so in `problems`; a message with no sender at all is still
returned (and recorded as unreadable by the caller), its bytes kept.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

MAX_TEXT_CHARS = 200_000  # a body longer than this is kept whole in `raw`, and cut in `text`


class UnreadableForm(ValueError):
    """The POST is not a multipart form SendGrid could have sent."""


@dataclass(frozen=True)
class InboundMail:
    sender: str  # the From address, lower case ("" when there is none)
    recipients: tuple[str, ...]  # To, Cc and the SMTP envelope's recipients, lower case
    subject: str
    text: str
    headers: Mapping[str, str]  # lower-case name -> first value
    message_id: str | None
    raw: bytes
    problems: tuple[str, ...] = field(default=())

    @property
    def fresh_text(self) -> str:
        """What the sender wrote themselves: the text above the quoted reminder."""
        kept = []
        for line in self.text.splitlines():
            if line.startswith(">") or _QUOTE_HEADER.match(line.strip()):
                break
            kept.append(line)
        return "\n".join(kept).strip()


_QUOTE_HEADER = re.compile(r"^(on .{4,200} wrote:|-{2,} ?original message ?-{2,}|from: .+)$", re.IGNORECASE)


def parse_raw(raw: bytes) -> InboundMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    problems: list[str] = [f"MIME defect: {type(d).__name__}" for d in message.defects][:5]
    headers = _headers(message, problems)
    text = _body_text(message, problems)
    recipients = _addresses(headers.get("to", ""), headers.get("cc", ""), headers.get("delivered-to", ""))
    return _mail(headers, text, recipients, raw, problems)


def parse_sendgrid_form(body: bytes, content_type: str) -> InboundMail:
    """SendGrid's Inbound Parse POST (multipart/form-data): the parsed fields, or with "POST the raw,
    full MIME message" on, the `email` field. Each field is decoded in the charset `charsets` names."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnreadableForm(f"expected multipart/form-data, got {content_type or 'no content type'}")
    form = email.message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body, policy=email.policy.HTTP
    )
    fields: dict[str, bytes] = {}
    for part in form.iter_parts() if form.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and part.get_filename() is None:  # attachments stay in `raw`
            fields[name] = part.get_payload(decode=True) or b""
    if not fields:
        raise UnreadableForm("the form holds no fields (is it SendGrid's Inbound Parse?)")
    if "email" in fields:
        mail = parse_raw(fields["email"])
        return InboundMail(
            mail.sender,
            mail.recipients + _envelope_to(fields),
            mail.subject,
            mail.text,
            mail.headers,
            mail.message_id,
            body,
            mail.problems,
        )
    problems: list[str] = []
    charsets = _charsets(fields.get("charsets", b""), problems)

    def text_of(name: str) -> str:
        return _decode(fields.get(name, b""), charsets.get(name, "utf-8"), name, problems)

    header_block = email.message_from_string(text_of("headers") + "\n\n", policy=email.policy.default)
    headers = _headers(header_block, problems)
    headers = {
        **headers,
        "from": text_of("from") or headers.get("from", ""),
        "subject": text_of("subject") or headers.get("subject", ""),
    }
    text = text_of("text") or _html_to_text(text_of("html"))
    recipients = _addresses(text_of("to"), text_of("cc"), headers.get("to", "")) + _envelope_to(fields)
    return _mail(headers, text, recipients, body, problems)


def _mail(
    headers: Mapping[str, str], text: str, recipients: tuple[str, ...], raw: bytes, problems: list[str]
) -> InboundMail:
    # PostgreSQL text cannot hold NUL; the bytes as sent stay in `raw`.
    headers = {name: value.replace("\x00", "\ufffd") for name, value in headers.items()}
    text = text.replace("\x00", "\ufffd")
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"the text was {len(text)} characters: the first {MAX_TEXT_CHARS} are shown, all are kept")
        text = text[:MAX_TEXT_CHARS]
    return InboundMail(
        sender=parseaddr(headers.get("from", ""))[1].lower(),
        recipients=recipients,
        subject=" ".join(headers.get("subject", "").split())[:998],
        text=text.replace("\r\n", "\n").strip(),
        headers=headers,
        message_id=(headers.get("message-id") or "").strip()[:255] or None,
        raw=raw,
        problems=tuple(problems),
    )


def _headers(message: Message, problems: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in message.keys():
        key = name.lower()
        if key in found:
            continue
        try:
            found[key] = str(message[name])
        except (ValueError, LookupError) as exc:  # a header the policy cannot decode stays as sent
            problems.append(f"header {name}: {exc}")
            found[key] = str(message.get_all(name, [""])[0])
    return found


def _body_text(message: Message, problems: list[str]) -> str:
    if not isinstance(message, EmailMessage):
        return ""
    for preference in (("plain",), ("html",)):
        part = message.get_body(preferencelist=preference)
        if part is None:
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError) as exc:
            payload = part.get_payload(decode=True) or b""
            problems.append(f"body charset {part.get_content_charset()!r}: {exc}; read with replacement characters")
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        return content if preference == ("plain",) else _html_to_text(content)
    return ""


def _decode(data: bytes, charset: str, name: str, problems: list[str]) -> str:
    try:
        return data.decode(charset)
    except LookupError:
        problems.append(f"{name}: unknown charset {charset!r}; read with replacement characters")
    except UnicodeDecodeError:
        problems.append(f"{name}: not valid {charset}; read with replacement characters")
    return data.decode("utf-8", "replace")


def _charsets(data: bytes, problems: list[str]) -> dict[str, str]:
    if not data:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError:
        problems.append("charsets is not JSON; fields read as UTF-8")
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def _envelope_to(fields: Mapping[str, bytes]) -> tuple[str, ...]:
    try:
        envelope = json.loads(fields.get("envelope", b"") or b"{}")
    except ValueError:
        return ()
    to = envelope.get("to") if isinstance(envelope, dict) else None
    return tuple(str(a).lower() for a in to if isinstance(a, str)) if isinstance(to, list) else ()


def _addresses(*values: str) -> tuple[str, ...]:
    return tuple(address.lower() for _, address in getaddresses([v for v in values if v]) if address)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    """An HTML-only reply as readable text (it is shown escaped, never as HTML)."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
