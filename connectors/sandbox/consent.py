"""The consent page a person clicks through: choose an account (or several), then Connect or Cancel.

Providers pass their branding, the accounts to choose from and the authorization request's
parameters (carried as hidden fields, so the POST needs no server-side session). With `multiple`
the accounts are checkboxes (Xero: one consent may connect several organisations), each posted as
a repeated `account` field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import render_template_string

CONNECT = "connect"
CANCEL = "cancel"

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ page.provider }}: connect {{ page.app_name }}</title>
<link rel="icon" href="data:,">
<style>
 body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
 .note{background:#fff4d6;border:1px solid #e6c96b;padding:.5rem .8rem;font-size:.9rem}
 fieldset{border:1px solid #ccc;margin:1rem 0} label{display:block;margin:.3rem 0}
 button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.6rem}
</style></head>
<body>
<p class="note">Local sandbox of {{ page.provider }}: no real account is involved.</p>
<h1>Connect {{ page.app_name }} to {{ page.provider }}</h1>
<p>{{ page.app_name }} is asking to: {{ page.scopes | join(", ") }}.</p>
{% if page.error %}<p role="alert"><strong>{{ page.error }}</strong></p>{% endif %}
<form method="post" action="{{ page.action }}">
 {% for name, value in page.hidden.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
 {% if page.accounts %}
 <fieldset><legend>Choose a {{ page.account_label }}</legend>
 {% for id, label in page.accounts %}
  <label><input type="{{ 'checkbox' if page.multiple else 'radio' }}" name="account" value="{{ id }}"
   {% if loop.first %}checked{% endif %}> {{ label }}</label>
 {% endfor %}
 </fieldset>
 <button type="submit" name="decision" value="connect">{{ page.connect_label }}</button>
 {% else %}<p>There is no {{ page.account_label }} in this sandbox yet.</p>{% endif %}
 <button type="submit" name="decision" value="cancel">Cancel</button>
</form>
</body></html>"""


@dataclass(frozen=True)
class ConsentPage:
    provider: str
    app_name: str
    action: str
    accounts: Sequence[tuple[str, str]]  # (id, label)
    hidden: Mapping[str, str]
    scopes: Sequence[str]
    account_label: str = "company"
    error: str = ""
    multiple: bool = False
    connect_label: str = "Connect"

    def render(self) -> str:
        return render_template_string(_TEMPLATE, page=self)


_ERROR_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ provider }}: error</title>
<link rel="icon" href="data:,"></head>
<body><h1>{{ provider }} could not start the connection</h1><p role="alert">{{ message }}</p></body></html>"""


def render_error(provider: str, message: str) -> str:
    """The page shown instead of a redirect when the redirect itself cannot be trusted."""
    return render_template_string(_ERROR_TEMPLATE, provider=provider, message=message)


def click_through(
    authorize_url: str, *, decision: str = "connect", accounts: Sequence[str] | None = None, timeout: float = 10.0
) -> str:
    """Answer a sandbox consent page as a person would; returns the redirect it sends the browser to.

    `accounts` picks companies by id (default: the first one offered). Used by `arpilot demo` to
    connect through the real OAuth flow without a browser.
    """
    import html
    import re
    import urllib.parse

    import requests

    page = requests.get(authorize_url, timeout=timeout)
    page.raise_for_status()
    hidden = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    offered = re.findall(r'name="account" value="([^"]+)"', page.text)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    if action is None:
        raise RuntimeError("the consent page has no form")
    chosen = list(accounts) if accounts is not None else offered[:1]
    answer = requests.post(
        urllib.parse.urljoin(authorize_url, html.unescape(action.group(1))),
        data={**hidden, "account": chosen, "decision": decision},
        allow_redirects=False,
        timeout=timeout,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"the consent page answered {answer.status_code}, not a redirect")
    return answer.headers["Location"]
