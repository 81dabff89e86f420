"""JWT access tokens (PyJWT) and opaque refresh tokens."""
