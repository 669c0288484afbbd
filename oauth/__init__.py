"""OAuth 2.0 for both providers: state and PKCE, code exchange, rotation-safe refresh, revoke, tokens encrypted at rest.

Importing this package turns on log redaction for the whole process: every process that handles a
token (web, clock, worker, CLI) imports it, so none can log one (see oauth.redact).
"""

from oauth.redact import install_log_redaction

install_log_redaction()
