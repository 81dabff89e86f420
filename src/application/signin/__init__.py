"""Signing people in through the browser: HexaHub as an OpenID Connect provider
(authorization code flow with PKCE, id_tokens, userinfo, logout, consent)."""
