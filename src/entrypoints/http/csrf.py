"""CSRF protection for the hosted pages' forms (OWASP CSRF Prevention Cheat Sheet,
"signed double-submit cookie"): a random value in a cookie, and in each form its HMAC
under a server key. A forged form cannot read the cookie, and a cookie planted by a
sibling domain has no valid HMAC. The cookie is also HttpOnly and SameSite=Lax."""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

CSRF_COOKIE = "hexahub_csrf"
_LABEL = b"hexahub csrf v1:"


class Csrf:
    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = key
        self._secure = secure

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, _LABEL + value.encode(), hashlib.sha256).hexdigest()

    def token(self, request: Request) -> tuple[str, str]:
        """(cookie value, form token) for this browser: its cookie, or a new one."""
        value = request.cookies.get(CSRF_COOKIE) or ""
        if not 20 <= len(value) <= 128:
            value = secrets.token_urlsafe(32)
        return value, self._sign(value)

    def attach(self, response: Response, value: str) -> Response:
        response.set_cookie(
            CSRF_COOKIE, value, httponly=True, secure=self._secure, samesite="lax", path="/"
        )
        return response

    def valid(self, request: Request, submitted: str | None) -> bool:
        value = request.cookies.get(CSRF_COOKIE)
        if not value or not submitted:
            return False
        return hmac.compare_digest(self._sign(value), submitted)
