"""Settings from the environment (12-factor) with embedded defaults.

With nothing set arpilot runs embedded: SQLite under ./var, the in-process scheduler, the local
sandboxes and the local email outbox. Secrets for the embedded default are generated once into
./var; in production (ARPILOT_ENV=production) they must be given, and a missing one stops startup
with an error naming the variable.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from integration.logs import LOG_FORMATS
from oauth.intuit import QuickBooksSettings
from oauth.xero import XERO_DEFAULT_SCOPES, XeroSettings


class ConfigError(RuntimeError):
    """The environment does not describe a runnable arpilot."""


ENVIRONMENTS = ("development", "test", "production")


def embedded_quickbooks_discovery(port: int) -> str:
    return f"http://127.0.0.1:{port}/.well-known/openid_configuration"


def embedded_xero_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


# The embedded QuickBooks sandbox (`arpilot sandbox quickbooks`) and the credentials it accepts; its
# port is QUICKBOOKS_SANDBOX_PORT, so a second embedded arpilot (a test beside a demo) can run.
EMBEDDED_QUICKBOOKS_PORT = 8801
EMBEDDED_QUICKBOOKS_DISCOVERY = embedded_quickbooks_discovery(EMBEDDED_QUICKBOOKS_PORT)
EMBEDDED_QUICKBOOKS_CLIENT_ID = "ABarpilotSandboxClientIdQBO0000000000000000000000"
EMBEDDED_QUICKBOOKS_CLIENT_SECRET = "arpilotSandboxSecretQBO000000000000000"
EMBEDDED_QUICKBOOKS_WEBHOOK_VERIFIER = "arpilot-sandbox-verifier-token"

# The embedded Xero sandbox (`arpilot sandbox xero`): connectors.xero.sandbox.app.XeroSandboxConfig;
# its port is XERO_SANDBOX_PORT.
EMBEDDED_XERO_PORT = 8802
EMBEDDED_XERO_URL = embedded_xero_url(EMBEDDED_XERO_PORT)
EMBEDDED_XERO_CLIENT_ID = "ARPILOTXEROSANDBOXCLIENT00000000"
EMBEDDED_XERO_CLIENT_SECRET = "arpilot-xero-sandbox-secret-00000000000000000000"
EMBEDDED_XERO_WEBHOOK_KEY = "arpilot-xero-sandbox-webhook-key"


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    token_encryption_keys: tuple[str, ...] = field(repr=False)
    redis_url: str | None
    base_url: str
    cycle_interval: dt.timedelta
    sendgrid_api_key: str | None = field(repr=False)
    outbox_dir: Path
    sendgrid_sandbox_mode: bool = False
    sendgrid_host: str = "https://api.sendgrid.com"
    embedded_clock: bool = True
    # None: QuickBooks is not configured (production without QUICKBOOKS_CLIENT_ID).
    quickbooks: QuickBooksSettings | None = None
    # Verifies intuit-signature on /webhooks/quickbooks; None (production, unset): webhooks refused.
    quickbooks_webhook_verifier: str | None = field(default=None, repr=False)
    # None: Xero is not configured (production without XERO_CLIENT_ID).
    xero: XeroSettings | None = None
    # Signs x-xero-signature on /webhooks/xero; None (production, unset): webhooks refused.
    xero_webhook_key: str | None = field(default=None, repr=False)
    # Proxies in front of the web app (Heroku's router: 1) whose X-Forwarded-For/-Proto are believed;
    # 0 trusts none, so a client cannot choose the address the rate limits count it under.
    trusted_proxies: int = 0
    # How long a client may take to send a request's whole body before it is answered 408: a stalled
    # or trickling client holds a web thread this long at most (integration/web/body_deadline.py).
    request_body_timeout_seconds: int = 10
    # Customers' replies: the inbound address reminders' Reply-To carries a token on (plus-addressing),
    # the secret SendGrid's Inbound Parse must present (None: the webhook refuses everything), and the
    # folder of .eml files the clock reads when embedded.
    inbound_address: str = "replies@inbound.arpilot.local"
    inbound_secret: str | None = field(default=None, repr=False)
    inbox_dir: Path = Path("var/inbox")
    log_format: str = "text"  # LOG_FORMAT: text, or json (one object a line, for a log collector)
    # Where the embedded default serves its sandboxes (integration/demo/embedded.py), and so where
    # the default QuickBooks and Xero settings point.
    quickbooks_sandbox_port: int = EMBEDDED_QUICKBOOKS_PORT
    xero_sandbox_port: int = EMBEDDED_XERO_PORT
    # The customer's page (integration.customer): how long a link in a reminder opens it, and how long
    # an acceptance of the credit policy stands before the customer is asked again.
    customer_link_days: int = 60
    policy_acceptance_days: int = 365

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def _cycle_interval(environ: Mapping[str, str]) -> dt.timedelta:
    """ARPILOT_CYCLE_INTERVAL_MINUTES (default 60), or ARPILOT_CYCLE_INTERVAL_SECONDS for short
    intervals (tests, demos); never both."""
    seconds_text, minutes_text = (
        environ.get("ARPILOT_CYCLE_INTERVAL_SECONDS"),
        environ.get("ARPILOT_CYCLE_INTERVAL_MINUTES"),
    )
    if seconds_text and minutes_text:
        raise ConfigError("set ARPILOT_CYCLE_INTERVAL_SECONDS or ARPILOT_CYCLE_INTERVAL_MINUTES, not both")
    name, text, unit = (
        ("ARPILOT_CYCLE_INTERVAL_SECONDS", seconds_text, 1)
        if seconds_text
        else ("ARPILOT_CYCLE_INTERVAL_MINUTES", minutes_text or "60", 60)
    )
    try:
        count = int(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from exc
    if count < 1:
        raise ConfigError(f"{name} must be at least 1")
    return dt.timedelta(seconds=count * unit)


def _generated_secret(var_dir: Path, filename: str, make: Callable[[], str]) -> str:
    """Read a secret kept in var_dir, creating it (mode 0600) the first time."""
    path = var_dir / filename
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _normalize_database_url(url: str) -> str:
    # Heroku-style postgres:// and bare postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} must be set when ARPILOT_ENV=production")
    return value


# A SECRET_KEY signs the session cookie: a guessable one is a forged session. 32 random bytes written
# in any common alphabet (token_urlsafe(32), token_hex(32), base64) measure at least ~180 bits by
# the crude estimate below (characters x their observed Shannon entropy); 24 random bytes never
# reach 170. Twelve distinct characters at least turns away a short word repeated to length.
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 12
SECRET_KEY_MIN_BITS = 170.0
MAKE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def estimated_bits(text: str) -> float:
    """Length times the observed entropy per character: crude, but a repeated or short key scores low."""
    counts = Counter(text)
    return -sum(n * math.log2(n / len(text)) for n in counts.values())


def _strong_secret_key(secret_key: str) -> str:
    if (
        len(secret_key) < SECRET_KEY_MIN_LENGTH
        or len(set(secret_key)) < SECRET_KEY_MIN_DISTINCT
        or estimated_bits(secret_key) < SECRET_KEY_MIN_BITS
    ):
        raise ConfigError(
            "SECRET_KEY is too weak for production: it signs the session cookies, so it must be at least "
            f"32 random bytes. Make one with: {MAKE_SECRET_KEY}"
        )
    return secret_key


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    text = environ.get(name, "").strip().lower()
    if not text:
        return default
    if text not in FLAG_WORDS:
        raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off, not {text!r}")
    return FLAG_WORDS[text]


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {text!r}")
    return int(text)


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    port = _whole_number(environ, name, default)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a TCP port from 1 to 65535, not {port}")
    return port


def _http_url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip() or default
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def _quickbooks_settings(
    environ: Mapping[str, str], production: bool, base_url: str, sandbox_port: int
) -> QuickBooksSettings | None:
    client_id = environ.get("QUICKBOOKS_CLIENT_ID", "").strip()
    client_secret = environ.get("QUICKBOOKS_CLIENT_SECRET", "").strip()
    if production and not client_id:
        return None
    if client_id and not client_secret:
        raise ConfigError("QUICKBOOKS_CLIENT_SECRET must be set when QUICKBOOKS_CLIENT_ID is")
    environment = environ.get("QUICKBOOKS_ENVIRONMENT", "").strip()
    if not environment:
        environment = "production" if production else embedded_quickbooks_discovery(sandbox_port)
    if environment.lower() not in ("sandbox", "production") and not environment.startswith(("http://", "https://")):
        raise ConfigError(
            f"QUICKBOOKS_ENVIRONMENT must be sandbox, production or an OpenID discovery URL, not {environment!r}"
        )
    return QuickBooksSettings(
        client_id=client_id or EMBEDDED_QUICKBOOKS_CLIENT_ID,
        client_secret=client_secret or EMBEDDED_QUICKBOOKS_CLIENT_SECRET,
        environment=environment,
        redirect_uri=environ.get("QUICKBOOKS_REDIRECT_URI", "").strip() or f"{base_url}/connect/quickbooks/callback",
    )


def _xero_settings(
    environ: Mapping[str, str], production: bool, base_url: str, sandbox_port: int
) -> XeroSettings | None:
    client_id = environ.get("XERO_CLIENT_ID", "").strip()
    client_secret = environ.get("XERO_CLIENT_SECRET", "").strip()
    if production and not client_id:
        return None
    if client_id and not client_secret:
        raise ConfigError("XERO_CLIENT_SECRET must be set when XERO_CLIENT_ID is")
    scopes = tuple(environ.get("XERO_SCOPES", "").split()) or XERO_DEFAULT_SCOPES
    if "offline_access" not in scopes:
        raise ConfigError("XERO_SCOPES must include offline_access (arpilot refreshes tokens unattended)")
    sandbox_url = embedded_xero_url(sandbox_port)
    identity_url = _http_url(environ, "XERO_IDENTITY_URL", "https://identity.xero.com" if production else sandbox_url)
    # Xero serves the consent page from login.xero.com; the sandbox serves it on its one origin.
    authorize_default = (
        "https://login.xero.com/identity/connect/authorize"
        if identity_url == "https://identity.xero.com"
        else f"{identity_url}/identity/connect/authorize"
    )
    return XeroSettings(
        client_id=client_id or EMBEDDED_XERO_CLIENT_ID,
        client_secret=client_secret or EMBEDDED_XERO_CLIENT_SECRET,
        identity_url=identity_url,
        api_url=_http_url(environ, "XERO_API_URL", "https://api.xero.com" if production else sandbox_url),
        authorize_url=authorize_default,
        redirect_uri=environ.get("XERO_REDIRECT_URI", "").strip() or f"{base_url}/connect/xero/callback",
        scopes=scopes,
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    env = environ.get("ARPILOT_ENV", "development").strip() or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ARPILOT_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    var_dir = Path(environ.get("ARPILOT_VAR_DIR", "var")).resolve()
    production = env == "production"

    if production:
        database_url = _required(environ, "DATABASE_URL")
        secret_key = _strong_secret_key(_required(environ, "SECRET_KEY"))
        keys_text = _required(environ, "TOKEN_ENCRYPTION_KEYS")
    else:
        database_url = environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'arpilot.db'}"
        secret_key = environ.get("SECRET_KEY") or _generated_secret(
            var_dir, "secret_key", lambda: secrets.token_urlsafe(48)
        )
        keys_text = environ.get("TOKEN_ENCRYPTION_KEYS") or _generated_secret(
            var_dir, "token_encryption_keys", lambda: Fernet.generate_key().decode()
        )
    keys = tuple(k.strip() for k in keys_text.split(",") if k.strip())
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"TOKEN_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from exc
    if not keys:
        raise ConfigError("TOKEN_ENCRYPTION_KEYS holds no key")

    interval = _cycle_interval(environ)
    body_timeout = _whole_number(environ, "ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS", 10)
    if body_timeout < 1:
        raise ConfigError("ARPILOT_REQUEST_BODY_TIMEOUT_SECONDS must be at least 1")

    base_url = environ.get("ARPILOT_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    quickbooks_sandbox_port = _port(environ, "QUICKBOOKS_SANDBOX_PORT", EMBEDDED_QUICKBOOKS_PORT)
    xero_sandbox_port = _port(environ, "XERO_SANDBOX_PORT", EMBEDDED_XERO_PORT)
    return Settings(
        env=env,
        var_dir=var_dir,
        database_url=_normalize_database_url(database_url),
        secret_key=secret_key,
        token_encryption_keys=keys,
        redis_url=environ.get("REDIS_URL") or None,
        base_url=base_url,
        cycle_interval=interval,
        sendgrid_api_key=environ.get("SENDGRID_API_KEY") or None,
        outbox_dir=Path(environ.get("EMAIL_OUTBOX_DIR") or var_dir / "outbox").resolve(),
        sendgrid_sandbox_mode=_flag(environ, "SENDGRID_SANDBOX_MODE", False),
        sendgrid_host=_http_url(environ, "SENDGRID_HOST", "https://api.sendgrid.com"),
        # The web process runs the clock itself only when no separate `arpilot clock` does (not production).
        embedded_clock=_flag(environ, "ARPILOT_EMBEDDED_CLOCK", not production),
        quickbooks=_quickbooks_settings(environ, production, base_url, quickbooks_sandbox_port),
        quickbooks_webhook_verifier=environ.get("QUICKBOOKS_WEBHOOK_VERIFIER", "").strip()
        or (None if production else EMBEDDED_QUICKBOOKS_WEBHOOK_VERIFIER),
        xero=_xero_settings(environ, production, base_url, xero_sandbox_port),
        xero_webhook_key=environ.get("XERO_WEBHOOK_KEY", "").strip()
        or (None if production else EMBEDDED_XERO_WEBHOOK_KEY),
        trusted_proxies=_whole_number(environ, "ARPILOT_TRUSTED_PROXIES", 0),
        request_body_timeout_seconds=body_timeout,
        inbound_address=_inbound_address(environ),
        inbound_secret=environ.get("ARPILOT_INBOUND_SECRET", "").strip()
        or (None if production else _generated_secret(var_dir, "inbound_secret", lambda: secrets.token_urlsafe(32))),
        inbox_dir=Path(environ.get("ARPILOT_INBOX_DIR") or var_dir / "inbox").resolve(),
        log_format=_choice(environ, "LOG_FORMAT", LOG_FORMATS, "text"),
        quickbooks_sandbox_port=quickbooks_sandbox_port,
        xero_sandbox_port=xero_sandbox_port,
        customer_link_days=_days(environ, "ARPILOT_CUSTOMER_LINK_DAYS", 60),
        policy_acceptance_days=_days(environ, "ARPILOT_POLICY_ACCEPTANCE_DAYS", 365),
    )


def _days(environ: Mapping[str, str], name: str, default: int) -> int:
    days = _whole_number(environ, name, default)
    if not 1 <= days <= 3650:
        raise ConfigError(f"{name} must be a number of days from 1 to 3650, not {days}")
    return days


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _inbound_address(environ: Mapping[str, str]) -> str:
    """ARPILOT_INBOUND_ADDRESS: one plain address at the domain whose MX points to SendGrid; the reply
    token is added after a `+`, so the address itself must not hold one."""
    address = environ.get("ARPILOT_INBOUND_ADDRESS", "").strip() or "replies@inbound.arpilot.local"
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or "+" in local or any(c.isspace() or c in "<>,\"'" for c in address):
        raise ConfigError(f"ARPILOT_INBOUND_ADDRESS must be one plain address without '+', not {address!r}")
    return address.lower()
