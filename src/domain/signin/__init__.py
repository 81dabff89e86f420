"""Signing people in through the browser: authorization codes and consents (OpenID
Connect provider side)."""
