"""What kind of reply it is: an automatic one (out of office, a bounce) or a person's, and
whether the person says they have already paid."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Subjects mail systems give their automatic answers (English and the commonest others).
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autosvar|auto:|"
    r"abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica|"
    r"undeliverable|delivery status notification|mail delivery failed|returned mail)",
    re.IGNORECASE,
)
_PAID = re.compile(
    r"\b(already|have|has|we've|i've|we|was|were|it's|its|been)\s+(already\s+)?(been\s+)?paid\b|"
    r"\bpaid\s+(it|this|that|the invoice|in full|on|last|yesterday|today|by)\b|"
    r"\bpayment\s+(was|has been|is)\s+(sent|made|on its way|processed)\b|"
    r"\b(sent|made|wired|mailed)\s+(the\s+|a\s+|our\s+)?(payment|check|cheque|transfer)\b|\bremittance\b",
    re.IGNORECASE,
)


def automatic_reason(headers: Mapping[str, str], subject: str, sender: str) -> str | None:
    """Why this looks sent by a machine (RFC 3834 and the common vendor headers), or None."""
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in headers:
            return f"{name} header"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if headers.get("x-auto-response-suppress") and _AUTO_SUBJECT.match(subject):
        return "automatic reply (Exchange)"
    if sender.split("@")[0] in ("mailer-daemon", "postmaster"):
        return "delivery report"
    if _AUTO_SUBJECT.match(subject):
        return f"subject {subject[:60]!r}"
    return None


def says_paid(subject: str, text: str) -> bool:
    return bool(_PAID.search(subject) or _PAID.search(text))
