"""OAuth 2.0 for both providers: state and PKCE, code exchange, rotation-safe refresh, revoke, tokens encrypted at rest."""
