"""Proving, again, that the person at a login is the account's owner."""

from abc import abstractmethod
from typing import Protocol

from application.common.security import Principal


class Reauthenticator(Protocol):
    """Confirms a sensitive change to one's own account (OWASP ASVS 5.0 V7.5.1: full
    re-authentication before changing what sign-in or recovery rests on), so that a
    stolen access token alone cannot make a change that outlives it.

    Raises `SessionRequiredError` for an API key or a service client,
    `InvalidCurrentPasswordError` for a wrong or missing password, and
    `ReauthenticationRequiredError` for a password-less account whose sign-in is not
    recent. Wrong passwords count towards the account's lockout."""

    @abstractmethod
    async def confirm(
        self,
        principal: Principal,
        current_password: str | None,
        *,
        recent_sign_in_suffices: bool = False,
    ) -> None:
        """`recent_sign_in_suffices`: for a change that does not move what recovery rests
        on (a username, an API key), a login session opened within the window stands in
        for the password, the way GitHub's "sudo mode" does; a password that is sent is
        still checked."""
